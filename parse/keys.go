package parse

import (
	"bytes"
	"unicode/utf8"
)

// The identity rules of docs/session-log.md ("Derived columns":
// user_key, user, document_key), in one place: the decoder derives the user_key, user and
// document_key columns with them, and every other package that needs a key
// for a value it did not read from a record (a licence file's document, a
// test's user) calls the exported functions below.

// User source fields, in the order the user key is taken from them.
const (
	userFromAuthenticated = iota // Authenticated User
	userFromIdentifying          // Identifying User
	userFromClient               // Client Machine Identification: anonymous
)

// UserKey returns the key that identifies a session's user: the first of
// Authenticated User and Identifying User that is not blank (empty or only
// spaces), else the Client Machine Identification (an anonymous session),
// trimmed of spaces and lower-cased, because Windows accounts compare
// case-insensitively.
func UserKey(authenticatedUser, identifyingUser, clientMachineID string) string {
	src := userSource([]byte(authenticatedUser), []byte(identifyingUser), []byte(clientMachineID))
	return string(appendUserKey(nil, src))
}

// UserDisplay returns the name to show for a session's user: the same field
// UserKey takes the key from, trimmed of spaces, in its original spelling.
func UserDisplay(authenticatedUser, identifyingUser, clientMachineID string) string {
	src := userSource([]byte(authenticatedUser), []byte(identifyingUser), []byte(clientMachineID))
	return string(trimSpaces(src))
}

// DocumentKey returns the key that identifies a document: its path with
// '\' turned into '/', lower-cased, so that C:\Docs\Sales.qvw and
// c:/docs/sales.qvw are one document.
func DocumentKey(path string) string { return string(appendDocumentKey(nil, []byte(path))) }

// userSource returns the field the user key comes from.
func userSource(authenticated, identifying, client []byte) []byte {
	switch userField(authenticated, identifying) {
	case userFromAuthenticated:
		return authenticated
	case userFromIdentifying:
		return identifying
	}
	return client
}

// userField tells which field gives the user key.
func userField(authenticated, identifying []byte) int {
	switch {
	case !blank(authenticated):
		return userFromAuthenticated
	case !blank(identifying):
		return userFromIdentifying
	}
	return userFromClient
}

// blank tells whether a field is empty or only spaces: an absent user.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

func trimSpaces(b []byte) []byte { return bytes.Trim(b, " ") }

// appendUserKey appends the key of a user field.
func appendUserKey(dst, src []byte) []byte { return appendLower(dst, trimSpaces(src)) }

// appendDocumentKey appends the key of a document path.
func appendDocumentKey(dst, src []byte) []byte {
	start := len(dst)
	dst = appendLower(dst, src)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\\' {
			dst[i] = '/'
		}
	}
	return dst
}

// appendLower appends src lower-cased: byte by byte for ASCII, by
// bytes.ToLower (Unicode) otherwise.
func appendLower(dst, src []byte) []byte {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			return append(dst, bytes.ToLower(src)...)
		}
	}
	for _, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
