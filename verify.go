package jwtuser

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// failureKind selects which configured response answers a request.
type failureKind int

const (
	missingToken failureKind = iota
	invalidToken
	expiredToken
	loadFailure
	storeError
	numFailureKinds
)

// failure is why a request is refused; reason becomes {jwt.error}. Reasons
// follow flask-jwt-extended and PyJWT, whose wording users already know.
type failure struct {
	kind   failureKind
	reason string
}

func (f *failure) Error() string { return f.reason }

func invalid(reason string) *failure { return &failure{kind: invalidToken, reason: reason} }

// The fixed failures are allocated once.
var (
	errTooLarge          = invalid("Token is too large")
	errNotEnoughSegments = invalid("Not enough segments")
	errHeaderPadding     = invalid("Invalid header padding")
	errPayloadPadding    = invalid("Invalid payload padding")
	errCryptoPadding     = invalid("Invalid crypto padding")
	errHeaderString      = invalid("Invalid header string")
	errPayloadString     = invalid("Invalid payload string")
	errAlgNotAllowed     = invalid("The specified alg value is not allowed")
	errSignature         = invalid("Signature verification failed")
	errNotYetValidNbf    = invalid("The token is not yet valid (nbf)")
	errNotYetValidIat    = invalid("The token is not yet valid (iat)")
	errInvalidIssuer     = invalid("Invalid issuer")
	errInvalidAudience   = invalid("Invalid audience")
	errExpired           = &failure{kind: expiredToken, reason: "Token has expired"}
	errKeysUnavailable   = &failure{kind: storeError, reason: "Signing keys unavailable"}
)

// token is a token whose signature verified: its header and payload are
// checked JSON objects, safe to read with the rawjson functions.
type token struct {
	header   string
	payload  string
	identity string
	// NumericDate claims, in seconds since the epoch, when present.
	exp, nbf, iat          float64
	hasExp, hasNbf, hasIat bool
}

// claimRule is one `claim <name> <value...>` setting.
type claimRule struct {
	name   string
	values []string
}

// verifier holds everything about checking a token that is fixed at provision.
type verifier struct {
	keys          keySource
	methods       map[string]jwt.SigningMethod // the allowed algs
	issuers       []string
	audiences     []string
	leeway        time.Duration
	required      []string
	claims        []claimRule
	identityClaim string
	maxSize       int
	// cache holds tokens that fully verified; shared tokens are immutable.
	cache *tokenCache

	// per-claim failures, built once
	missingRequired map[string]*failure
	invalidClaim    map[string]*failure
	missingIdentity *failure
	invalidIdentity *failure
}

func (v *verifier) init() {
	v.missingRequired = map[string]*failure{}
	v.invalidClaim = map[string]*failure{}
	for _, name := range append(append([]string{"iss", "aud", "exp", "nbf", "iat"}, v.required...), claimNames(v.claims)...) {
		v.missingRequired[name] = invalid(`Token is missing the "` + name + `" claim`)
	}
	for _, name := range append([]string{"exp", "nbf", "iat"}, claimNames(v.claims)...) {
		v.invalidClaim[name] = invalid(`Invalid claim "` + name + `"`)
	}
	v.missingIdentity = invalid("Missing claim: " + v.identityClaim)
	v.invalidIdentity = invalid("Invalid claim: " + v.identityClaim)
}

// missingClaim and badClaim never return nil: a name init did not foresee
// still fails the check.
func (v *verifier) missingClaim(name string) *failure {
	if f := v.missingRequired[name]; f != nil {
		return f
	}
	return invalid(`Token is missing the "` + name + `" claim`)
}

func (v *verifier) badClaim(name string) *failure {
	if f := v.invalidClaim[name]; f != nil {
		return f
	}
	return invalid(`Invalid claim "` + name + `"`)
}

func claimNames(rules []claimRule) []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.name
	}
	return names
}

// verify checks raw in the contract's order: size, format, alg, signature,
// crit, exp/nbf/iat, then iss, aud, required and matched claims, identity.
// The token comes back with an expired failure (its signature verified, so a
// failure response may show its claims) and with no failure; never with any
// other failure, whose claims are not to be trusted or shown.
func (v *verifier) verify(raw string, now time.Time) (*token, *failure) {
	gen := v.keys.generation()
	if tok := v.cache.get(raw, gen); tok != nil {
		tokenCacheHitsTotal.Inc()
		f := v.checkTimes(tok, now)
		if f == errExpired {
			v.cache.drop(raw)
		}
		return trusted(tok, f)
	}
	tok, f := v.decode(raw)
	if tok == nil {
		return nil, f
	}
	// The time checks come before the claim checks, whose failure decode
	// has recorded; only a token that passes both is cached.
	if times := v.checkTimes(tok, now); times != nil {
		return trusted(tok, times)
	}
	if f != nil {
		return nil, f
	}
	v.cache.put(raw, tok, gen)
	return tok, nil
}

// trusted hands a failure's token on only when the failure is expiry.
func trusted(tok *token, f *failure) (*token, *failure) {
	if f != nil && f.kind != expiredToken {
		return nil, f
	}
	return tok, f
}

// decode does every check that does not depend on the time. A token whose
// signature verified comes back with the first failing claim check, if any,
// so the time checks can take precedence over it.
func (v *verifier) decode(raw string) (*token, *failure) {
	if len(raw) > v.maxSize {
		return nil, errTooLarge
	}
	first, last := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.')
	if first < 0 || first == last {
		return nil, errNotEnoughSegments
	}
	headerJSON, ok := decodeSegment(raw[:first])
	if !ok {
		return nil, errHeaderPadding
	}
	if !isJSONObject(headerJSON) {
		return nil, errHeaderString
	}
	payloadJSON, ok := decodeSegment(raw[first+1 : last])
	if !ok {
		return nil, errPayloadPadding
	}
	sig, ok := decodeSegmentBytes(raw[last+1:])
	if !ok {
		return nil, errCryptoPadding
	}

	alg, ok := stringMember(headerJSON, "alg")
	method := v.methods[alg]
	if !ok || method == nil {
		return nil, errAlgNotAllowed
	}
	kid, _ := stringMember(headerJSON, "kid")
	keys, err := v.keys.keys(alg, kid)
	if err != nil {
		return nil, errKeysUnavailable
	}
	signed := raw[:last]
	verified := false
	for _, key := range keys {
		if method.Verify(signed, sig, key) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errSignature
	}
	if f := checkCrit(headerJSON); f != nil {
		return nil, f
	}

	// Only now is the payload worth reading.
	if !isJSONObject(payloadJSON) {
		return nil, errPayloadString
	}
	tok := &token{header: headerJSON, payload: payloadJSON}
	var f *failure
	if tok.exp, tok.hasExp, f = v.numericDate(payloadJSON, "exp"); f != nil {
		return nil, f
	}
	if tok.nbf, tok.hasNbf, f = v.numericDate(payloadJSON, "nbf"); f != nil {
		return nil, f
	}
	if tok.iat, tok.hasIat, f = v.numericDate(payloadJSON, "iat"); f != nil {
		return nil, f
	}
	return tok, v.checkClaims(tok)
}

// checkClaims checks iss, aud, the required and matched claims, and reads
// the identity.
func (v *verifier) checkClaims(tok *token) *failure {
	p := tok.payload
	// The identity is read first, so an expired token's response can name
	// it even when a claim check fails too; its own failure comes last.
	idFailure := v.missingIdentity
	if id, ok := presentPath(p, v.identityClaim); ok {
		if tok.identity, ok = identityFromJSON(id); ok {
			idFailure = nil
		} else {
			idFailure = v.invalidIdentity
		}
	}
	if len(v.issuers) > 0 {
		iss, ok := presentPath(p, "iss")
		if !ok {
			return v.missingClaim("iss")
		}
		if iss[0] != '"' || !slices.Contains(v.issuers, jsonUnquote(iss)) {
			return errInvalidIssuer
		}
	}
	if len(v.audiences) > 0 {
		aud, ok := presentPath(p, "aud")
		if !ok {
			return v.missingClaim("aud")
		}
		if !matchesAudience(aud, v.audiences) {
			return errInvalidAudience
		}
	}
	for _, name := range v.required {
		if _, ok := presentPath(p, name); !ok {
			return v.missingClaim(name)
		}
	}
	for _, rule := range v.claims {
		value, ok := presentPath(p, rule.name)
		if !ok {
			return v.missingClaim(rule.name)
		}
		if !claimMatches(value, rule.values) {
			return v.badClaim(rule.name)
		}
	}
	return idFailure
}

// checkTimes applies exp, nbf and iat with the leeway. A token without exp
// is accepted unless `require_claims exp` says otherwise.
func (v *verifier) checkTimes(tok *token, now time.Time) *failure {
	nowSec := float64(now.UnixNano()) / 1e9
	leeway := v.leeway.Seconds()
	switch {
	case tok.hasIat && tok.iat > nowSec+leeway:
		return errNotYetValidIat
	case tok.hasNbf && tok.nbf > nowSec+leeway:
		return errNotYetValidNbf
	case tok.hasExp && tok.exp <= nowSec-leeway:
		return errExpired
	}
	return nil
}

// numericDate reads a NumericDate claim: a JSON number of seconds.
func (v *verifier) numericDate(payload, name string) (float64, bool, *failure) {
	raw, ok := presentPath(payload, name)
	if !ok {
		return 0, false, nil
	}
	if !isJSONNumber(raw) {
		return 0, false, v.badClaim(name)
	}
	// Out-of-range literals saturate to ±Inf, which compares as it should.
	f, _ := strconv.ParseFloat(raw, 64)
	return f, true, nil
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

// checkCrit refuses any critical extension: the module implements none, and
// RFC 7515 says a token naming one it does not understand must be rejected.
func checkCrit(header string) *failure {
	crit, ok := jsonMember(header, "crit")
	if !ok {
		return nil
	}
	name := ""
	jsonElements(crit, func(el string) bool {
		if el[0] == '"' {
			name = jsonUnquote(el)
		}
		return false
	})
	if crit[0] != '[' || name == "" {
		return errHeaderString
	}
	return invalid("Unsupported critical extension: " + headerSafe(name))
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

var segmentEncoding = base64.RawURLEncoding.Strict()

// decodeSegment decodes unpadded base64url. Go's decoder skips CR and LF; a
// token carrying them, '=' padding or any other byte outside the alphabet is
// refused instead.
func decodeSegment(seg string) (string, bool) {
	b, ok := decodeSegmentBytes(seg)
	return string(b), ok
}

func decodeSegmentBytes(seg string) ([]byte, bool) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	b, err := segmentEncoding.DecodeString(seg)
	if err != nil {
		return nil, false
	}
	return b, true
}
