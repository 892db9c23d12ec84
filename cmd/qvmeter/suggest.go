package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// closest returns up to n of the candidates nearest to word by edit
// distance, ignoring case: those within a third of the longer one's length
// (at least 2 edits), or that start with word, nearest first.
func closest(word string, candidates []string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	lower := strings.ToLower(word)
	var near []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(lower, lc)
		limit := max(2, max(utf8.RuneCountInString(lower), utf8.RuneCountInString(lc))/3)
		if d <= limit || (lower != "" && strings.HasPrefix(lc, lower)) {
			near = append(near, scored{c, d})
		}
	}
	slices.SortFunc(near, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name)) })
	out := make([]string, 0, min(n, len(near)))
	for _, s := range near[:min(n, len(near))] {
		out = append(out, s.name)
	}
	return out
}

// didYouMean is " (did you mean X?)" for the candidate nearest to word, or
// "" when none is near.
func didYouMean(word string, candidates []string) string {
	if near := closest(word, candidates, 1); len(near) == 1 {
		return fmt.Sprintf(" (did you mean %s?)", near[0])
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// oneOf matches value against the allowed values of an enumeration, case
// insensitively, and returns the allowed spelling; otherwise a usage error
// that lists them and suggests the nearest.
func oneOf(flag, value string, allowed []string) (string, error) {
	for _, a := range allowed {
		if strings.EqualFold(a, value) {
			return a, nil
		}
	}
	return "", &usageError{fmt.Errorf("--%s %q: want one of %s%s", flag, value, strings.Join(allowed, ", "), didYouMean(value, allowed))}
}
