package jwtuser

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// claimRule is one `claim <name> <value...>` setting.
type claimRule struct {
	name   string
	values []string
}

// verifier holds everything about checking a token that is fixed at provision.
type verifier struct {
	keys          KeySource
	methods       map[string]jwt.SigningMethod // the allowed algs
	issuers       []string
	audiences     []string
	leeway        time.Duration
	required      []string
	claims        []claimRule
	identityClaim string
	tokenType     string // token_type: "", access or refresh
	fromBlock     bool   // an issuer block's verifier
	maxSize       int
	// cache holds tokens that fully verified; shared tokens are immutable.
	// nil when token_cache is off.
	cache *tokenCache
	// failures naming a claim, built once
	claimFailures
	missingIdentity, invalidIdentity *failure
}

// verify checks raw in the contract's order: size and format, alg,
// signature, crit, exp/nbf/iat, iss, aud, required and matched claims,
// type, identity. The first failing check answers. The token comes back with no
// failure, or with the expired failure (its signature verified, so a
// failure response may show its claims); never with any other failure,
// whose claims are not to be trusted or shown.
func (v *verifier) verify(raw string, now time.Time) (*token, *failure) {
	gen := v.keys.Generation()
	if tok := v.cache.get(raw, gen); tok != nil {
		tok.markReused()
		// Every check but the time checks passed when it was cached.
		switch f := v.checkTimes(tok, now); f {
		case nil:
			return tok, nil
		case errExpired:
			v.cache.drop(raw)
			return tok, f
		default:
			return nil, f
		}
	}

	// Size and format.
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
	header, err := rawjson.Check(headerJSON)
	if err != nil || header.Kind() != '{' {
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

	// Alg: from the allow-list, which provision narrowed to the key
	// source's family; the token's own alg never picks a key family.
	alg, ok := stringMember(header, "alg")
	method := v.methods[alg]
	if !ok || method == nil {
		return nil, errAlgNotAllowed
	}

	// Signature.
	kid, ok := stringMember(header, "kid")
	if !ok && hasMember(header, "kid") {
		return nil, errHeaderString // a kid of another type (null too) is not "no kid"
	}
	keys, err := v.keys.Keys(alg, kid)
	if err != nil {
		return nil, errKeysUnavailable
	}
	if !verifiesWithOneOf(method, raw[:last], sig, keys) {
		return nil, errSignature
	}

	// Crit: RFC 7515 §4.1.11.
	if f := checkCrit(header); f != nil {
		return nil, f
	}

	// Only now is the payload worth reading.
	payload, err := rawjson.Check(payloadJSON)
	if err != nil || payload.Kind() != '{' {
		return nil, errPayloadString
	}
	tok := &token{header: header, payload: payload, fromBlock: v.fromBlock}
	var f *failure
	if tok.exp, tok.hasExp, f = v.numericDate(payload, "exp"); f != nil {
		return nil, f
	}
	if tok.nbf, tok.hasNbf, f = v.numericDate(payload, "nbf"); f != nil {
		return nil, f
	}
	if tok.iat, tok.hasIat, f = v.numericDate(payload, "iat"); f != nil {
		return nil, f
	}
	// The identity is read before the time checks, so an expired token's
	// response can name it; its own failure comes last.
	idFailure := v.missingIdentity
	if id, ok := payload.Path(v.identityClaim); ok { // null is present, and invalid
		if tok.identity, ok = identityFromJSON(id); ok {
			tok.identityValue = tok.identity
			idFailure = nil
		} else {
			idFailure = v.invalidIdentity
		}
	}

	// Times: exp, nbf, iat with the leeway.
	if f := v.checkTimes(tok, now); f == errExpired {
		return tok, f
	} else if f != nil {
		return nil, f
	}

	// iss, aud, required and matched claims.
	if f := v.checkClaims(payload); f != nil {
		return nil, f
	}

	// Type, then identity.
	if f := v.checkType(tok); f != nil {
		return nil, f
	}
	if idFailure != nil {
		return nil, idFailure
	}
	v.cache.put(raw, tok, gen)
	return tok, nil
}

func verifiesWithOneOf(method jwt.SigningMethod, signed string, sig []byte, keys []any) bool {
	for _, key := range keys {
		if method.Verify(signed, sig, key) == nil {
			return true
		}
	}
	return false
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

// checkClaims checks iss, aud, then the required and the matched claims of a
// verified payload. A registered claim that is present must have its RFC
// 7519 type whether or not a setting names it: null is a value of the wrong
// type, never "absent".
func (v *verifier) checkClaims(p rawjson.Text) *failure {
	iss, hasIss := p.Member("iss")
	switch {
	case hasIss && iss.Kind() != '"':
		return errInvalidIssuer
	case len(v.issuers) == 0:
	case !hasIss:
		return v.missingClaim("iss")
	case !slices.Contains(v.issuers, iss.Unquote()):
		return errInvalidIssuer
	}
	aud, hasAud := p.Member("aud")
	switch {
	case hasAud && !matchesAudience(aud, nil, true):
		return errInvalidAudience
	case len(v.audiences) == 0:
	case !hasAud:
		return v.missingClaim("aud")
	case !matchesAudience(aud, v.audiences, false):
		return errInvalidAudience
	}
	if jti, ok := p.Member("jti"); ok && jti.Kind() != '"' {
		return v.badClaim("jti")
	}
	// A required claim must have a value: null counts as absent, as PyJWT's
	// `require` reads it.
	for _, name := range v.required {
		if _, ok := presentPath(p, name); !ok {
			return v.missingClaim(name)
		}
	}
	// A matched claim that is null is present and equals no value.
	for _, rule := range v.claims {
		value, ok := p.Path(rule.name)
		if !ok {
			return v.missingClaim(rule.name)
		}
		if !claimMatches(value, rule.values) {
			return v.badClaim(rule.name)
		}
	}
	return nil
}

// numericDate reads a NumericDate claim: a JSON number of seconds. Present
// and anything else, null included, is an invalid claim (RFC 7519 §4.1.4).
func (v *verifier) numericDate(payload rawjson.Text, name string) (float64, bool, *failure) {
	raw, ok := payload.Member(name)
	if !ok {
		return 0, false, nil
	}
	if !raw.IsNumber() {
		return 0, false, v.badClaim(name)
	}
	// Out-of-range literals saturate to ±Inf, which compares as it should.
	f, _ := strconv.ParseFloat(raw.String(), 64)
	return f, true, nil
}

// checkCrit refuses any critical extension: the module implements none, and
// RFC 7515 says a token naming one it does not understand must be rejected.
func checkCrit(header rawjson.Text) *failure {
	crit, ok := header.Member("crit")
	if !ok {
		return nil
	}
	name := ""
	crit.Elements(func(el rawjson.Text) bool {
		if el.Kind() == '"' {
			name = el.Unquote()
		}
		return false
	})
	if crit.Kind() != '[' || name == "" {
		return errHeaderString
	}
	return invalid("Unsupported critical extension: " + headerSafe(name))
}

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
