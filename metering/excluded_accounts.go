package metering

import (
	"errors"
	"strings"
)

// isExcluded matches the user's key against the exclude patterns once.
func (e *Engine) isExcluded(user uint32) bool {
	e.excluded = growTo(e.excluded, user, 0)
	if e.excluded[user] == 0 {
		e.excluded[user] = 1
		if _, excluded := e.cfg.License.ExcludedBy(e.Users.Name(user)); excluded {
			e.excluded[user] = 2
		}
	}
	return e.excluded[user] == 2
}

// globMatch matches a lower-cased pattern with * (any run) and ? (one
// character) against a key. Backslashes are literal: patterns are Windows
// accounts such as corp\svc_*.
func globMatch(pattern, key string) bool {
	star, mark := -1, 0
	p, k := 0, 0
	for k < len(key) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == key[k]):
			p++
			k++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, k
			p++
		case star >= 0:
			p = star + 1
			mark++
			k = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// checkGlob refuses an exclude pattern that cannot be what was meant: an
// empty one, or one with a character class or escape, which the matcher
// (only * and ?, backslashes literal) would take literally.
func checkGlob(pattern string) error {
	switch {
	case strings.TrimSpace(pattern) == "":
		return errors.New("empty pattern")
	case strings.ContainsAny(pattern, "[]{}"):
		return errors.New(`only * and ? are wildcards: [ ] { } would be taken literally; an account name does not contain them`)
	}
	return nil
}

// ExcludedBy returns the first exclude pattern that matches a user key, and
// whether one does: the one rule for leaving accounts out of every figure.
func (lic *License) ExcludedBy(userKey string) (string, bool) {
	if lic == nil {
		return "", false
	}
	key := strings.ToLower(userKey)
	for _, pattern := range lic.Exclude {
		if globMatch(strings.ToLower(pattern), key) {
			return pattern, true
		}
	}
	return "", false
}
