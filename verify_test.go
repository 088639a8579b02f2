package jwtuser

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// newVerifier provisions h's key source and verifier as Caddy would.
func newVerifier(t testing.TB, h Handler) *verifier {
	t.Helper()
	v, err := tryVerifier(t, h)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return v
}

// tryVerifier provisions h with no store of its own (a map stands in).
func tryVerifier(t testing.TB, h Handler) (*verifier, error) {
	t.Helper()
	if err := provision(t, &h, mapStore{}); err != nil {
		return nil, err
	}
	return h.verifier, nil
}

func TestEveryAlgFamilyVerifies(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	pkcs1 := writePEM(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey))
	cases := []struct {
		name    string
		config  Handler
		alg     string
		signKey any
	}{
		{"HS256", Handler{KeysRaw: secretKeys(testSecret)}, "HS256", []byte(testSecret)},
		{"HS384", Handler{KeysRaw: secretKeys(testSecret)}, "HS384", []byte(testSecret)},
		{"HS512", Handler{KeysRaw: secretKeys(testSecret)}, "HS512", []byte(testSecret)},
		{"RS256 PKIX", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "RS256", k.rsa},
		{"RS384 PKCS#1", Handler{KeysRaw: publicKeyKeys(pkcs1)}, "RS384", k.rsa},
		{"RS512 certificate", Handler{KeysRaw: publicKeyKeys(certPEM(t, k.rsa))}, "RS512", k.rsa},
		{"PS256", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "PS256", k.rsa},
		{"PS384", Handler{KeysRaw: publicKeyKeys(pkcs1)}, "PS384", k.rsa},
		{"PS512", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "PS512", k.rsa},
		{"ES256", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p256))}, "ES256", k.p256},
		{"ES384", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p384))}, "ES384", k.p384},
		{"ES512", Handler{KeysRaw: publicKeyKeys(certPEM(t, k.p521))}, "ES512", k.p521},
		{"EdDSA", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.ed))}, "EdDSA", k.ed},
		{"EdDSA certificate", Handler{KeysRaw: publicKeyKeys(certPEM(t, k.ed))}, "EdDSA", k.ed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, c.config)
			raw := signToken(t, c.alg, c.signKey, claimsFor("foo"), nil)
			tok, f := v.verify(raw, time.Now())
			if f != nil {
				t.Fatalf("refused: %s", f.reason)
			}
			if tok.identity != "foo" {
				t.Fatalf("identity %q, want foo", tok.identity)
			}
			// One flipped signature bit must fail.
			dot := strings.LastIndexByte(raw, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(raw[dot+1:])
			sig[len(sig)/2] ^= 1
			tampered := raw[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
			if _, f := v.verify(tampered, time.Now()); f != errSignature {
				t.Fatalf("tampered signature: got %v, want %q", f, errSignature.reason)
			}
		})
	}
}

func TestRSAPSSOnlyKeyServesOnlyPS(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	// An SPKI with the RSASSA-PSS OID (RFC 4055) and absent parameters.
	spki, err := asn1MarshalPSSKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := writePEM(t, "PUBLIC KEY", spki)
	v := newVerifier(t, Handler{KeysRaw: publicKeyKeys(path)})
	if _, f := v.verify(signToken(t, "PS256", k.rsa, claimsFor("foo"), nil), time.Now()); f != nil {
		t.Fatalf("PS256 refused: %s", f.reason)
	}
	if _, f := v.verify(signToken(t, "RS256", k.rsa, claimsFor("foo"), nil), time.Now()); f != errAlgNotAllowed {
		t.Fatalf("RS256 with a PSS-only key: got %v", f)
	}
	if _, err := tryVerifier(t, Handler{KeysRaw: publicKeyKeys(path), Algorithms: []string{"RS256"}}); err == nil {
		t.Fatal("algorithms RS256 with a PSS-only key was accepted")
	}
}

func TestKeyFamilyDecidesTheAlgNotTheToken(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	rsaPEM := pkixPEM(t, k.rsa)
	pemBytes := mustRead(t, rsaPEM)
	der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	v := newVerifier(t, Handler{KeysRaw: publicKeyKeys(rsaPEM)})
	claims := `{"sub":"admin","exp":` + itoa(time.Now().Unix()+600) + `}`
	for name, raw := range map[string]string{
		// The classic confusion: HMAC keyed with the public key's bytes.
		"HS256 keyed with the PEM": rawToken(t, `{"alg":"HS256","typ":"JWT"}`, claims, pemBytes),
		"HS256 keyed with the DER": rawToken(t, `{"alg":"HS256","typ":"JWT"}`, claims, der),
		"HS512 keyed with the PEM": rawToken(t, `{"alg":"HS512"}`, claims, pemBytes),
		"ES256 with an RSA config": signToken(t, "ES256", k.p256, claimsFor("admin"), nil),
		"EdDSA with an RSA config": signToken(t, "EdDSA", k.ed, claimsFor("admin"), nil),
	} {
		if _, f := v.verify(raw, time.Now()); f != errAlgNotAllowed {
			t.Errorf("%s: got %v, want %q", name, f, errAlgNotAllowed.reason)
		}
	}
	// An RSA key signing for another key's config fails on the signature.
	if _, f := v.verify(signToken(t, "RS256", k.otherRSA, claimsFor("admin"), nil), time.Now()); f != errSignature {
		t.Errorf("foreign RSA key: got %v", f)
	}
	// A P-256 config refuses ES384 and ES512.
	ec := newVerifier(t, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p256))})
	if _, f := ec.verify(signToken(t, "ES384", k.p384, claimsFor("a"), nil), time.Now()); f != errAlgNotAllowed {
		t.Errorf("ES384 against P-256: got %v", f)
	}
}

func TestAlgNoneIsNeverAccepted(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	payload := b64(`{"sub":"admin"}`)
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		header := b64(`{"alg":"` + alg + `","typ":"JWT"}`)
		for _, sig := range []string{"", b64("signature")} {
			if _, f := v.verify(header+"."+payload+"."+sig, time.Now()); f != errAlgNotAllowed {
				t.Errorf("alg %s sig %q: got %v", alg, sig, f)
			}
		}
	}
	for _, cfg := range [][]string{{"none"}, {"NONE"}, {"HS256", "None"}} {
		if _, err := tryVerifier(t, Handler{KeysRaw: secretKeys(testSecret), Algorithms: cfg}); err == nil || !strings.Contains(err.Error(), "never accepted") {
			t.Errorf("algorithms %v: got %v", cfg, err)
		}
	}
}

func TestAlgorithmsAllowList(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	v := newVerifier(t, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa)), Algorithms: []string{"RS256"}})
	if _, f := v.verify(signToken(t, "RS256", k.rsa, claimsFor("a"), nil), time.Now()); f != nil {
		t.Fatalf("RS256: %v", f)
	}
	for _, alg := range []string{"RS384", "PS256"} {
		if _, f := v.verify(signToken(t, alg, k.rsa, claimsFor("a"), nil), time.Now()); f != errAlgNotAllowed {
			t.Errorf("%s outside the list: got %v", alg, f)
		}
	}
	for _, bad := range []struct {
		h    Handler
		want string
	}{
		{Handler{KeysRaw: secretKeys(testSecret), Algorithms: []string{"RS256"}}, "cannot verify RS256"},
		{Handler{KeysRaw: secretKeys(testSecret), Algorithms: []string{"HS257"}}, "unknown alg"},
		{Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p256)), Algorithms: []string{"ES384"}}, "cannot verify ES384"},
		{Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.ed)), Algorithms: []string{"HS256"}}, "cannot verify HS256"},
	} {
		if _, err := tryVerifier(t, bad.h); err == nil || !strings.Contains(err.Error(), bad.want) || !strings.HasPrefix(err.Error(), "algorithms:") {
			t.Errorf("%v: got %v, want %q", bad.h.Algorithms, err, bad.want)
		}
	}
}

func TestKeySourceErrors(t *testing.T) {
	// Serial: t.Setenv sets the process-wide environment.
	k := getKeys(t)
	garbage := writePEM(t, "PUBLIC KEY", []byte("not DER"))
	for _, c := range []struct {
		h    Handler
		want string
	}{
		{Handler{}, "no key source: give secret, public_key or jwks"},
		{Handler{KeysRaw: json.RawMessage(`{"source":"vault"}`)}, "unknown module: http.jwt_user.keys.vault"},
		{Handler{KeysRaw: publicKeyKeys("/does/not/exist.pem")}, "public_key: open /does/not/exist.pem"},
		{Handler{KeysRaw: publicKeyKeys(privatePEM(t, k.rsa))}, "holds a private key"},
		{Handler{KeysRaw: publicKeyKeys(garbage)}, "public_key: " + garbage + ": parsing PUBLIC KEY"},
		{Handler{KeysRaw: secretKeys("{env.JWT_USER_TEST_UNSET_VARIABLE}")}, "secret: the value is empty"},
	} {
		_, err := tryVerifier(t, c.h)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	t.Setenv("JWT_USER_TEST_SECRET", testSecret)
	v := newVerifier(t, Handler{KeysRaw: secretKeys("{env.JWT_USER_TEST_SECRET}")})
	if _, f := v.verify(signToken(t, "HS256", []byte(testSecret), claimsFor("a"), nil), time.Now()); f != nil {
		t.Fatalf("secret from {env.*}: %v", f)
	}
}

func TestTimeClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	sec := func(d time.Duration) string { return itoa(now.Add(d).Unix()) }
	strict := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	lenient := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), Leeway: caddyDuration(30 * time.Second)})
	cases := []struct {
		name          string
		claims        string
		strict, loose *failure
	}{
		{"valid", `{"sub":"a","exp":` + sec(time.Minute) + `}`, nil, nil},
		{"no exp", `{"sub":"a"}`, nil, nil},
		{"expired", `{"sub":"a","exp":` + sec(-10*time.Second) + `}`, errExpired, nil},
		{"expires now", `{"sub":"a","exp":` + sec(0) + `}`, errExpired, nil},
		{"expired past leeway", `{"sub":"a","exp":` + sec(-31*time.Second) + `}`, errExpired, errExpired},
		{"fractional exp just ahead", `{"sub":"a","exp":` + sec(0) + `.5}`, nil, nil},
		{"nbf ahead", `{"sub":"a","nbf":` + sec(10*time.Second) + `}`, errNotYetValidNbf, nil},
		{"nbf ahead past leeway", `{"sub":"a","nbf":` + sec(31*time.Second) + `}`, errNotYetValidNbf, errNotYetValidNbf},
		{"iat ahead", `{"sub":"a","iat":` + sec(10*time.Second) + `}`, errNotYetValidIat, nil},
		{"iat ahead past leeway", `{"sub":"a","iat":` + sec(31*time.Second) + `}`, errNotYetValidIat, errNotYetValidIat},
		{"iat past", `{"sub":"a","iat":` + sec(-time.Hour) + `}`, nil, nil},
		{"huge exp", `{"sub":"a","exp":1e400}`, nil, nil},
	}
	for _, c := range cases {
		raw := rawToken(t, `{"alg":"HS256"}`, c.claims, []byte(testSecret))
		for _, run := range []struct {
			v    *verifier
			want *failure
		}{{strict, c.strict}, {lenient, c.loose}} {
			tok, f := run.v.verify(raw, now)
			if f != run.want {
				t.Errorf("%s (leeway %v): got %v, want %v", c.name, run.v.leeway, f, run.want)
			}
			if f == errExpired && (tok == nil || tok.identity != "a") {
				t.Errorf("%s: an expired token must still carry its verified claims", c.name)
			}
			if f != nil && f != errExpired && tok != nil {
				t.Errorf("%s: a token refused with %q came back for the response to show", c.name, f.reason)
			}
		}
	}
	for _, bad := range []string{`"1800000000"`, `true`, `[1]`, `{}`} {
		for _, claim := range []string{"exp", "nbf", "iat"} {
			raw := rawToken(t, `{"alg":"HS256"}`, `{"sub":"a","`+claim+`":`+bad+`}`, []byte(testSecret))
			if _, f := strict.verify(raw, now); f == nil || f.reason != `Invalid claim "`+claim+`"` {
				t.Errorf("%s %s: got %v", claim, bad, f)
			}
		}
	}
	// require_claims exp refuses a token without one.
	req := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), RequireClaims: []string{"exp"}})
	raw := rawToken(t, `{"alg":"HS256"}`, `{"sub":"a"}`, []byte(testSecret))
	if _, f := req.verify(raw, now); f == nil || f.reason != `Token is missing the "exp" claim` {
		t.Errorf("require_claims exp: got %v", f)
	}
}

// TestCheckOrder follows the contract: signature, crit, exp/nbf/iat, then
// iss, aud, required and matched claims, then the identity.
func TestCheckOrder(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), Issuers: []string{"good"}, Audiences: []string{"api"},
		RequireClaims: []string{"jti"}, Claims: map[string][]string{"b": {"1"}, "a": {"1"}}})
	now := time.Now()
	past, future := itoa(now.Add(-time.Hour).Unix()), itoa(now.Add(time.Hour).Unix())
	for _, c := range []struct {
		claims, header string
		key            string
		want           string
		trusted        bool
	}{
		{`{"sub":"x","exp":` + past + `,"iss":"bad"}`, `{"alg":"HS256"}`, testSecret, "Token has expired", true},
		{`{"exp":` + past + `}`, `{"alg":"HS256"}`, testSecret, "Token has expired", true},
		{`{"sub":"x","nbf":` + future + `,"iss":"bad"}`, `{"alg":"HS256"}`, testSecret, "The token is not yet valid (nbf)", false},
		{`{"sub":"x","iss":"bad","aud":"web"}`, `{"alg":"HS256"}`, testSecret, "Invalid issuer", false},
		{`{"sub":"x","iss":"good","aud":"web"}`, `{"alg":"HS256"}`, testSecret, "Invalid audience", false},
		{`{"sub":"x","iss":"good","aud":"api","a":"2","b":"2"}`, `{"alg":"HS256"}`, testSecret, `Token is missing the "jti" claim`, false},
		{`{"sub":"x","iss":"good","aud":"api","jti":"1","a":"2","b":"2"}`, `{"alg":"HS256"}`, testSecret, `Invalid claim "a"`, false},
		{`{"iss":"good","aud":"api","jti":"1","a":"1","b":"1"}`, `{"alg":"HS256"}`, testSecret, "Missing claim: sub", false},
		// crit after the signature: an unsigned token's header text is never echoed.
		{`{"sub":"x"}`, `{"alg":"HS256","crit":["<script>"]}`, "wrong key of some length....", "Signature verification failed", false},
		{`{"sub":"x"}`, `{"alg":"HS256","crit":["ext"]}`, testSecret, "Unsupported critical extension: ext", false},
	} {
		for round := 0; round < 2; round++ { // the second round may come from the cache
			tok, f := v.verify(rawToken(t, c.header, c.claims, []byte(c.key)), now)
			if f == nil || f.reason != c.want || (tok != nil) != c.trusted {
				t.Errorf("%s %s: got %v (token %v), want %q", c.header, c.claims, f, tok != nil, c.want)
			}
		}
	}
}

func TestIssuerAudienceAndClaims(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{
		KeysRaw:       secretKeys(testSecret),
		Issuers:       []string{"https://issuer.example", "other"},
		Audiences:     []string{"api"},
		RequireClaims: []string{"jti"},
		Claims:        map[string][]string{"type": {"access"}, "realm_access.roles": {"staff"}, "level": {"3"}},
	})
	base := `"sub":"a","jti":"1","type":"access","realm_access":{"roles":["x","staff"]},"level":3`
	cases := []struct {
		claims string
		want   string // "" for accepted
	}{
		{`{` + base + `,"iss":"https://issuer.example","aud":"api"}`, ""},
		{`{` + base + `,"iss":"other","aud":["web","api"]}`, ""},
		{`{` + base + `,"aud":"api"}`, `Token is missing the "iss" claim`},
		{`{` + base + `,"iss":null,"aud":"api"}`, "Invalid issuer"},
		{`{` + base + `,"iss":"evil","aud":"api"}`, "Invalid issuer"},
		{`{` + base + `,"iss":["other"],"aud":"api"}`, "Invalid issuer"},
		{`{` + base + `,"iss":"other"}`, `Token is missing the "aud" claim`},
		{`{` + base + `,"iss":"other","aud":"web"}`, "Invalid audience"},
		{`{` + base + `,"iss":"other","aud":["web"]}`, "Invalid audience"},
		{`{` + base + `,"iss":"other","aud":["api",1]}`, "Invalid audience"},
		{`{` + base + `,"iss":"other","aud":{"api":1}}`, "Invalid audience"},
		{`{"sub":"a","type":"access","realm_access":{"roles":["staff"]},"level":3,"iss":"other","aud":"api"}`, `Token is missing the "jti" claim`},
		{`{"sub":"a","jti":"1","type":"refresh","realm_access":{"roles":["staff"]},"level":3,"iss":"other","aud":"api"}`, `Invalid claim "type"`},
		{`{"sub":"a","jti":"1","realm_access":{"roles":["staff"]},"level":3,"iss":"other","aud":"api"}`, `Token is missing the "type" claim`},
		{`{"sub":"a","jti":"1","type":"access","realm_access":{"roles":["x"]},"level":3,"iss":"other","aud":"api"}`, `Invalid claim "realm_access.roles"`},
		{`{"sub":"a","jti":"1","type":"access","realm_access":{"roles":["staff"]},"level":3.0,"iss":"other","aud":"api"}`, ""},
		{`{"sub":"a","jti":"1","type":"access","realm_access":{"roles":["staff"]},"level":"4","iss":"other","aud":"api"}`, `Invalid claim "level"`},
	}
	for _, c := range cases {
		raw := rawToken(t, `{"alg":"HS256"}`, c.claims, []byte(testSecret))
		_, f := v.verify(raw, time.Now())
		got := ""
		if f != nil {
			got = f.reason
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.claims, got, c.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	cases := []struct {
		sub  string // JSON, or "" for absent
		want string // identity, or the reason
		ok   bool
	}{
		{`"foo"`, "foo", true},
		{`"é ü"`, "é ü", true},
		{`42`, "42", true},
		{`-5`, "-5", true},
		{`4.0`, "4", true},
		{`1e3`, "1000", true},
		{`9007199254740992`, "9007199254740992", true},
		{`9007199254740993`, "Invalid claim: sub", false},
		{`4.5`, "Invalid claim: sub", false},
		{`""`, "Invalid claim: sub", false},
		{`"a\nb"`, "Invalid claim: sub", false},
		{`{"id":"foo"}`, "Invalid claim: sub", false},
		{`["foo"]`, "Invalid claim: sub", false},
		{`true`, "Invalid claim: sub", false},
		{`null`, "Invalid claim: sub", false}, // present, of the wrong type
		{``, "Missing claim: sub", false},
	}
	for _, c := range cases {
		payload := `{"sub":` + c.sub + `}`
		if c.sub == "" {
			payload = `{"name":"x"}`
		}
		tok, f := v.verify(rawToken(t, `{"alg":"HS256"}`, payload, []byte(testSecret)), time.Now())
		switch {
		case c.ok && (f != nil || tok.identity != c.want):
			t.Errorf("sub %s: got %v %v, want identity %q", c.sub, tok, f, c.want)
		case !c.ok && (f == nil || f.reason != c.want):
			t.Errorf("sub %s: got %v, want %q", c.sub, f, c.want)
		}
	}
	custom := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), IdentityClaim: "user.email"})
	tok, f := custom.verify(rawToken(t, `{"alg":"HS256"}`, `{"sub":"x","user":{"email":"a@b.c"}}`, []byte(testSecret)), time.Now())
	if f != nil || tok.identity != "a@b.c" {
		t.Errorf("identity_claim user.email: got %v %v", tok, f)
	}
	if _, f := custom.verify(rawToken(t, `{"alg":"HS256"}`, `{"sub":"x"}`, []byte(testSecret)), time.Now()); f == nil || f.reason != "Missing claim: user.email" {
		t.Errorf("identity_claim absent: got %v", f)
	}
}

func TestMalformedTokens(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), MaxTokenSize: 2048})
	key := []byte(testSecret)
	good := rawToken(t, `{"alg":"HS256"}`, `{"sub":"a"}`, key)
	parts := strings.Split(good, ".")
	cases := []struct {
		name, raw string
		want      *failure
	}{
		{"empty", "", errNotEnoughSegments},
		{"one segment", "abc", errNotEnoughSegments},
		{"two segments", parts[0] + "." + parts[1], errNotEnoughSegments},
		{"four segments", parts[0] + "." + parts[1] + "." + parts[2] + ".x", errPayloadPadding},
		{"thousands of dots", strings.Repeat(".", 1500), errHeaderString},
		{"thousands of segments", strings.Repeat("QQ.", 600) + "QQ", errHeaderString},
		{"oversized", good + strings.Repeat("A", 2048), errTooLarge},
		{"header padding", parts[0] + "=." + parts[1] + "." + parts[2], errHeaderPadding},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], errHeaderPadding},
		{"header with newline", parts[0][:2] + "\n" + parts[0][2:] + "." + parts[1] + "." + parts[2], errHeaderPadding},
		{"payload padding", parts[0] + "." + parts[1] + "==." + parts[2], errPayloadPadding},
		{"payload standard base64", parts[0] + "." + strings.ReplaceAll(b64(`{"sub":"a?>"}`), "_", "/") + "+." + parts[2], errPayloadPadding},
		{"signature padding", good + "=", errCryptoPadding},
		{"signature garbage", parts[0] + "." + parts[1] + ".$$", errCryptoPadding},
		{"header not JSON", b64(`alg=HS256`) + "." + parts[1] + "." + parts[2], errHeaderString},
		{"header array", b64(`["HS256"]`) + "." + parts[1] + "." + parts[2], errHeaderString},
		{"header duplicate alg", rawToken(t, `{"alg":"HS256","alg":"none"}`, `{"sub":"a"}`, key), errHeaderString},
		{"alg missing", rawToken(t, `{"typ":"JWT"}`, `{"sub":"a"}`, key), errAlgNotAllowed},
		{"alg not a string", b64(`{"alg":["HS256"]}`) + "." + parts[1] + "." + parts[2], errAlgNotAllowed},
		{"payload array", rawToken(t, `{"alg":"HS256"}`, `["sub","a"]`, key), errPayloadString},
		{"payload number", rawToken(t, `{"alg":"HS256"}`, `42`, key), errPayloadString},
		{"payload not JSON", rawToken(t, `{"alg":"HS256"}`, `{"sub":a}`, key), errPayloadString},
		{"payload duplicate sub", rawToken(t, `{"alg":"HS256"}`, `{"sub":"admin","sub":"a"}`, key), errPayloadString},
		{"payload escaped duplicate", rawToken(t, `{"alg":"HS256"}`, `{"sub":"admin","s\u0075b":"a"}`, key), errPayloadString},
		{"payload not UTF-8", rawToken(t, `{"alg":"HS256"}`, "{\"sub\":\"a\xff\"}", key), errPayloadString},
		{"bad signature", parts[0] + "." + b64(`{"sub":"admin"}`) + "." + parts[2], errSignature},
	}
	for _, c := range cases {
		tok, f := v.verify(c.raw, time.Now())
		if f != c.want {
			t.Errorf("%s: got %v, want %q", c.name, f, c.want.reason)
		}
		if tok != nil {
			t.Errorf("%s: an untrusted token was returned", c.name)
		}
	}
}

func TestCritAndKeyURLHeaders(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	v := newVerifier(t, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))})
	claims := claimsFor("foo")
	for _, crit := range []any{[]string{"exp"}, []string{"b64"}, []string{"http://example.com/ext"}, []any{}, "exp", []any{1}, map[string]any{"x": 1}, nil} {
		raw := signToken(t, "RS256", k.rsa, claims, map[string]any{"crit": crit})
		_, f := v.verify(raw, time.Now())
		if f == nil {
			t.Errorf("crit %v accepted", crit)
		} else if names, ok := crit.([]string); ok && f.reason != "Unsupported critical extension: "+names[0] {
			t.Errorf("crit %v: got %q", crit, f.reason)
		}
	}
	// jku, x5u and an embedded jwk naming an attacker's key are ignored:
	// signed by the attacker, refused; signed by the real key, accepted.
	hostile := map[string]any{
		"jku": "http://127.0.0.1:1/keys.json",
		"x5u": "http://127.0.0.1:1/cert.pem",
		"jwk": map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"},
		"kid": "../../../../etc/passwd' OR '1'='1",
	}
	if _, f := v.verify(signToken(t, "RS256", k.otherRSA, claims, hostile), time.Now()); f != errSignature {
		t.Errorf("attacker-signed with key URLs: got %v", f)
	}
	if _, f := v.verify(signToken(t, "RS256", k.rsa, claims, hostile), time.Now()); f != nil {
		t.Errorf("real key with ignored headers: got %v", f)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := osReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
