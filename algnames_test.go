package jwtuser

import (
	"strings"
	"testing"
	"time"
)

// RFC 9864's fully specified Ed25519 stands beside EdDSA wherever an alg is
// named: token headers, JWK Sets, `algorithms` and the token command; the
// key's type still decides.
func TestEd25519AlgName(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	edKey := publicKeyKeys(pkixPEM(t, k.ed))
	ed25519Tok := signToken(t, "Ed25519", k.ed, claimsFor("foo"), nil)
	if !strings.HasPrefix(ed25519Tok, b64(`{"alg":"Ed25519",`)) {
		t.Fatalf("the test token's header is not alg Ed25519: %s", ed25519Tok)
	}
	eddsaTok := signToken(t, "EdDSA", k.ed, claimsFor("foo"), nil)
	for _, c := range []struct {
		name  string
		h     Handler
		raw   string
		wantF *failure
	}{
		{"Ed25519 token, public_key", Handler{KeysRaw: edKey}, ed25519Tok, nil},
		{"EdDSA token, public_key", Handler{KeysRaw: edKey}, eddsaTok, nil},
		{"algorithms Ed25519", Handler{KeysRaw: edKey, Algorithms: []string{"Ed25519"}}, ed25519Tok, nil},
		{"algorithms Ed25519 refuses EdDSA", Handler{KeysRaw: edKey, Algorithms: []string{"Ed25519"}}, eddsaTok, errAlgNotAllowed},
		{"algorithms EdDSA refuses Ed25519", Handler{KeysRaw: edKey, Algorithms: []string{"EdDSA"}}, ed25519Tok, errAlgNotAllowed},
		{"Ed25519 token, RSA key", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, ed25519Tok, errAlgNotAllowed},
		{"Ed25519 token, secret", Handler{KeysRaw: secretKeys(testSecret)}, ed25519Tok, errAlgNotAllowed},
		{"Ed25519 token, other Ed25519 key", Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.otherEd))}, ed25519Tok, errSignature},
	} {
		if _, f := newVerifier(t, c.h).verify(c.raw, time.Now()); f != c.wantF {
			t.Errorf("%s: got %v, want %v", c.name, f, c.wantF)
		}
	}
	// The alg must match the key's type at load, too; RFC 9864's ESP256-512
	// are COSE names (JOSE's ES256-512 already name their curves).
	for _, c := range []struct {
		h    Handler
		want string
	}{
		{Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa)), Algorithms: []string{"Ed25519"}}, "cannot verify Ed25519"},
		{Handler{KeysRaw: secretKeys(testSecret), Algorithms: []string{"Ed25519"}}, "cannot verify Ed25519"},
		{Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p256)), Algorithms: []string{"ESP256"}}, `unknown alg "ESP256"`},
		{Handler{KeysRaw: edKey, Algorithms: []string{"Ed448"}}, `unknown alg "Ed448"`},
	} {
		if _, err := tryVerifier(t, c.h); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("algorithms %v: %v, want %q", c.h.Algorithms, err, c.want)
		}
	}
}

func TestJWKSEd25519AlgName(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	// A set whose only key says Ed25519 is usable; an RSA key claiming
	// Ed25519 is skipped, as any key whose alg is not of its type.
	_, ks, v := jwksVerifier(t, publicJWK(k.ed, "ed", "Ed25519", "sig"),
		publicJWK(k.rsa, "liar", "Ed25519", "sig"), publicJWK(k.otherEd, "old", "EdDSA", "sig"))
	set := ks.current.Load()
	if set == nil || len(set.keys) != 2 {
		t.Fatalf("usable keys: %+v", set)
	}
	for _, c := range []struct {
		alg, kid string
		key      any
		want     *failure
	}{
		{"Ed25519", "ed", k.ed, nil},
		{"EdDSA", "ed", k.ed, nil}, // one algorithm, two names
		{"Ed25519", "old", k.otherEd, nil},
		{"Ed25519", "", k.ed, nil},
		{"Ed25519", "liar", k.ed, errSignature},
		{"RS256", "liar", k.rsa, errSignature},
	} {
		raw := signToken(t, c.alg, c.key, claimsFor("foo"), map[string]any{"kid": c.kid})
		if _, f := v.verify(raw, time.Now()); f != c.want {
			t.Errorf("%s kid %q: got %v, want %v", c.alg, c.kid, f, c.want)
		}
	}
	one, err := publicJWK(k.ed, "", "Ed25519", "").MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if set, _, err := parseJWKS([]byte(`{"keys":[` + string(one) + `]}`)); err != nil || len(set.keys) != 1 {
		t.Fatalf("a set of one Ed25519 key: %v", err)
	}
}

func TestMintEd25519(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	now := time.Now()
	raw, err := mintToken(mintOptions{keyFile: privatePEM(t, k.ed), alg: "Ed25519", sub: "foo", ttl: time.Minute, now: now})
	if err != nil {
		t.Fatal(err)
	}
	tok, f := newVerifier(t, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.ed)), Algorithms: []string{"Ed25519"}}).verify(raw, now)
	if f != nil {
		t.Fatalf("minted Ed25519 token refused: %v", f)
	}
	if alg, _ := stringMember(tok.header, "alg"); alg != "Ed25519" {
		t.Errorf("header alg %q", alg)
	}
	if _, err := mintToken(mintOptions{keyFile: privatePEM(t, k.rsa), alg: "Ed25519", now: now}); err == nil {
		t.Error("--alg Ed25519 with an RSA key minted a token")
	}
}
