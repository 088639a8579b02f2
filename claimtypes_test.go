package jwtuser

import (
	"testing"
	"time"
)

// Every registered claim that has a type is checked for it whenever it is
// present, whatever the configuration asks of it, and null is a value of
// the wrong type, never "absent" (RFC 7519 §4.1).
func TestRegisteredClaimTypes(t *testing.T) {
	t.Parallel()
	plain := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	checked := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret),
		Issuers: []string{"idp"}, Audiences: []string{"api"}, RequireClaims: []string{"exp", "jti"}})
	now := time.Now().Unix()
	good := map[string]string{"iss": `"idp"`, "aud": `"api"`, "exp": itoa(now + 60), "nbf": itoa(now), "iat": itoa(now), "jti": `"j"`}
	wrong := map[string][]string{
		"exp": {`null`, `"1"`, `true`, `[1]`, `{}`},
		"nbf": {`null`, `"1"`, `false`},
		"iat": {`null`, `"1"`, `[]`},
		"iss": {`null`, `1`, `["idp"]`, `{}`},
		"aud": {`null`, `1`, `[null]`, `["api",1]`, `{}`, `true`},
		"jti": {`null`, `1`, `["j"]`},
		"sub": {`null`, `true`, `{}`, `[]`, `""`},
	}
	reason := map[string]string{
		"exp": `Invalid claim "exp"`, "nbf": `Invalid claim "nbf"`, "iat": `Invalid claim "iat"`,
		"iss": "Invalid issuer", "aud": "Invalid audience", "jti": `Invalid claim "jti"`, "sub": "Invalid claim: sub",
	}
	for name, values := range wrong {
		for _, value := range values {
			for vname, v := range map[string]*verifier{"no settings": plain, "settings": checked} {
				payload := `{"sub":"foo"`
				for claim, g := range good {
					if claim != name && (vname == "settings" || claim == "exp") {
						payload += `,"` + claim + `":` + g
					}
				}
				if name == "sub" {
					payload = `{"sub":` + value + payload[len(`{"sub":"foo"`):] + `}`
				} else {
					payload += `,"` + name + `":` + value + `}`
				}
				_, f := v.verify(rawToken(t, `{"alg":"HS256"}`, payload, []byte(testSecret)), time.Now())
				if f == nil || f.reason != reason[name] {
					t.Errorf("%s, %s: got %v, want %q", vname, payload, f, reason[name])
				}
			}
		}
	}
	// The field report: exp null was read as "no exp", and the token passed.
	if _, f := plain.verify(rawToken(t, `{"alg":"HS256"}`, `{"sub":"foo","exp":null}`, []byte(testSecret)), time.Now()); f == nil || f.reason != `Invalid claim "exp"` {
		t.Errorf(`exp null: got %v`, f)
	}
}

// Where a claim is only named by a setting, null reads as that setting
// says: require_claims wants a value, as PyJWT's require does, so null is
// missing; claim wants a value equal to one listed, and null equals none.
func TestNullInClaimSettings(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret),
		RequireClaims: []string{"tenant"}, Claims: map[string][]string{"type": {"access"}}})
	for payload, want := range map[string]string{
		`{"sub":"foo","tenant":"t","type":"access"}`:  "",
		`{"sub":"foo","tenant":null,"type":"access"}`: `Token is missing the "tenant" claim`,
		`{"sub":"foo","tenant":"t","type":null}`:      `Invalid claim "type"`,
		`{"sub":"foo","tenant":"t"}`:                  `Token is missing the "type" claim`,
	} {
		_, f := v.verify(rawToken(t, `{"alg":"HS256"}`, payload, []byte(testSecret)), time.Now())
		got := ""
		if f != nil {
			got = f.reason
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", payload, got, want)
		}
	}
}

// A header's kid that is not a string, null included, is not "no kid": a
// token without kid is tried against every key.
func TestKidOfTheWrongType(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	for _, header := range []string{`{"alg":"HS256","kid":null}`, `{"alg":"HS256","kid":1}`, `{"alg":"HS256","kid":["a"]}`} {
		if _, f := v.verify(rawToken(t, header, `{"sub":"foo"}`, []byte(testSecret)), time.Now()); f != errHeaderString {
			t.Errorf("%s: got %v, want %q", header, f, errHeaderString.reason)
		}
	}
	if _, f := v.verify(rawToken(t, `{"alg":"HS256","kid":"k"}`, `{"sub":"foo"}`, []byte(testSecret)), time.Now()); f != nil {
		t.Errorf("kid string: %v", f)
	}
}

// In a users file array, a key field that is null is there and is not an
// identity; one that is absent is missing.
func TestUsersKeyFieldNull(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		`[{"id":null}]`: `1:2: the user's "id" field is not a usable identity (a non-empty string or a whole number)`,
		`[{"x":1}]`:     `1:2: the user has no "id" field`,
	} {
		if _, err := parseUsers(text, "id"); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}
