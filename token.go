package jwtuser

import (
	"slices"
	"strings"
)

// token is a token whose signature verified: its header and payload are
// checked JSON objects, safe to read with the scanner's fast readers.
type token struct {
	header   string
	payload  string
	identity string
	// NumericDate claims, in seconds since the epoch, when present.
	exp, nbf, iat          float64
	hasExp, hasNbf, hasIat bool
}

// Token is a read-only view of a verified token, as a Store sees it: the
// signature and every configured check passed before a store is asked.
// The zero Token has no identity and no claims.
type Token struct{ t *token }

// Identity is the token's identity (the identity_claim, default sub): a
// non-empty string without control characters, or a whole number written
// in plain decimal ("42").
func (t Token) Identity() string {
	if t.t == nil {
		return ""
	}
	return t.t.identity
}

// Claim returns the JSON text of the claim at a dotted path ("tenant",
// "address.city"; at each level the longest run of segments naming a member
// wins, so "https://example.com/roles" is found whole), and whether the
// token has it. A string comes back quoted, as JSON: "\"acme\"".
func (t Token) Claim(path string) (string, bool) {
	if t.t == nil {
		return "", false
	}
	return jsonPath(t.t.payload, path)
}

// Claims is the token's whole payload, as JSON text.
func (t Token) Claims() string {
	if t.t == nil {
		return "{}"
	}
	return t.t.payload
}

// presentPath finds a claim by path; null counts as absent.
func presentPath(doc, path string) (string, bool) {
	raw, ok := jsonPath(doc, path)
	if !ok || raw == "null" {
		return "", false
	}
	return raw, true
}

func matchesAudience(aud string, accepted []string) bool {
	switch aud[0] {
	case '"':
		return slices.Contains(accepted, jsonUnquote(aud))
	case '[':
		found, wellFormed := false, true
		jsonElements(aud, func(el string) bool {
			if el[0] != '"' {
				wellFormed = false
				return false
			}
			if slices.Contains(accepted, jsonUnquote(el)) {
				found = true
			}
			return true
		})
		return found && wellFormed
	}
	return false
}

// claimMatches reports whether a claim equals one of values, or, for an array
// claim, holds one of them. Values compare as placeholder text.
func claimMatches(raw string, values []string) bool {
	if raw[0] == '[' {
		found := false
		jsonElements(raw, func(el string) bool {
			text, ok := scalarText(el)
			found = ok && slices.Contains(values, text)
			return !found
		})
		return found
	}
	text, ok := scalarText(raw)
	return ok && slices.Contains(values, text)
}

// scalarText is the text of a JSON string, number or boolean.
func scalarText(raw string) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		return jsonUnquote(raw), true
	case c == 't' || c == 'f':
		return raw, true
	case c == '-' || (c >= '0' && c <= '9'):
		return plainNumber(raw), true
	}
	return "", false
}

// identityFromJSON accepts a non-empty string without control characters, or
// a whole number within ±2^53 written in plain decimal.
func identityFromJSON(raw string) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		id := jsonUnquote(raw)
		if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", false
		}
		return id, true
	case c == '-' || (c >= '0' && c <= '9'):
		return identityFromNumber(raw)
	}
	return "", false
}

func stringMember(obj, name string) (string, bool) {
	raw, ok := jsonMember(obj, name)
	if !ok || raw[0] != '"' {
		return "", false
	}
	return jsonUnquote(raw), true
}

func isJSONObject(s string) bool { return checkJSON(s) == nil && s[skipJSONSpace(s, 0)] == '{' }

func isJSONNumber(raw string) bool { return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') }
