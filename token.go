package jwtuser

import (
	"slices"
	"strings"
	"sync/atomic"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// token is a token whose signature verified: its header and payload are
// checked JSON objects, as rawjson.Check accepted them.
type token struct {
	header   rawjson.Text
	payload  rawjson.Text
	identity string
	// identityValue is identity boxed once, when the token verifies, so
	// {jwt.identity} and {http.auth.user.id} cost no allocation on the
	// requests that reuse a cached token. Nil in tokens made elsewhere.
	identityValue any
	// NumericDate claims, in seconds since the epoch, when present.
	exp, nbf, iat          float64
	hasExp, hasNbf, hasIat bool
	// fromBlock: an issuer block accepted the token, so its iss claim is
	// that block's issuer exactly (a bool, where the padding has room).
	fromBlock bool
	// reused: a request found the token in the verified-token cache, so
	// its placeholder values are worth remembering (placeholderMemo).
	reused atomic.Bool
	memo   atomic.Pointer[placeholderMemo]
}

// markReused records that a request reused the token; after the first
// time it only reads, so requests sharing the token do not all write to
// the same memory.
func (t *token) markReused() {
	if !t.reused.Load() {
		t.reused.Store(true)
	}
}

// identityAny is the identity as a placeholder value.
func (t *token) identityAny() any {
	if t.identityValue != nil {
		return t.identityValue
	}
	return t.identity
}

// issuer is the issuer of the block that accepted the token: its iss
// claim, which that block checked equal; "" without blocks.
func (t *token) issuer() string {
	if !t.fromBlock {
		return ""
	}
	iss, _ := t.payload.Member("iss")
	return iss.Unquote()
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

// Issuer is the issuer of the issuer block that accepted the token (the
// handler's "issuers" list), exactly as configured with its global
// placeholders resolved; "" for a handler without issuer blocks.
func (t Token) Issuer() string {
	if t.t == nil {
		return ""
	}
	return t.t.issuer()
}

// Claim returns the JSON text of the claim at a dotted path ("tenant",
// "address.city"; at each level the longest run of segments naming a member
// wins, so "https://example.com/roles" is found whole), and whether the
// token has it. A string comes back quoted, as JSON: "\"acme\"".
func (t Token) Claim(path string) (string, bool) {
	if t.t == nil {
		return "", false
	}
	v, ok := t.t.payload.Path(path)
	return v.String(), ok
}

// Claims is the token's whole payload, as JSON text.
func (t Token) Claims() string {
	if t.t == nil {
		return "{}"
	}
	return t.t.payload.String()
}

// noClaims is the payload of a token the module makes up itself: the URL
// template's probe, the command line's user lookup.
var noClaims, _ = rawjson.Check("{}")

// presentPath finds a claim by path; null counts as absent. Only
// require_claims reads claims this way: everywhere else null is a value.
func presentPath(doc rawjson.Text, path string) (rawjson.Text, bool) {
	raw, ok := doc.Path(path)
	if !ok || raw.Kind() == 'n' {
		return rawjson.Text{}, false
	}
	return raw, true
}

// matchesAudience reports whether aud, a string or an array of strings,
// holds one of accepted; with typeOnly, only whether it has that shape.
func matchesAudience(aud rawjson.Text, accepted []string, typeOnly bool) bool {
	switch aud.Kind() {
	case '"':
		return typeOnly || slices.Contains(accepted, aud.Unquote())
	case '[':
		found, wellFormed := typeOnly, true
		aud.Elements(func(el rawjson.Text) bool {
			if el.Kind() != '"' {
				wellFormed = false
				return false
			}
			if !found && slices.Contains(accepted, el.Unquote()) {
				found = true
			}
			return true
		})
		return found && wellFormed
	}
	return false
}

// hasMember reports whether obj names a member, whatever its value.
func hasMember(obj rawjson.Text, name string) bool {
	_, ok := obj.Member(name)
	return ok
}

// claimMatches reports whether a claim equals one of values, or, for an array
// claim, holds one of them. Values compare as placeholder text.
func claimMatches(raw rawjson.Text, values []string) bool {
	if raw.Kind() == '[' {
		found := false
		raw.Elements(func(el rawjson.Text) bool {
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
func scalarText(raw rawjson.Text) (string, bool) {
	switch c := raw.Kind(); {
	case c == '"':
		return raw.Unquote(), true
	case c == 't' || c == 'f':
		return raw.String(), true
	case raw.IsNumber():
		return raw.PlainNumber(), true
	}
	return "", false
}

// identityFromJSON accepts a non-empty string without control characters, or
// a whole number within ±2^53 written in plain decimal.
func identityFromJSON(raw rawjson.Text) (string, bool) {
	if raw.Kind() == '"' {
		id := raw.Unquote()
		if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", false
		}
		return id, true
	}
	return raw.IdentityNumber() // "", false when not a number
}

func stringMember(obj rawjson.Text, name string) (string, bool) {
	raw, ok := obj.Member(name)
	if !ok || raw.Kind() != '"' {
		return "", false
	}
	return raw.Unquote(), true
}
