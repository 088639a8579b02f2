package jwtuser

import (
	"crypto/ecdsa"
	"crypto/x509"
	"testing"
	"time"
)

func TestMintToken(t *testing.T) {
	k := getKeys(t)
	now := time.Now()
	cases := []struct {
		name    string
		opts    mintOptions
		verify  Handler
		wantAlg string
	}{
		{"secret", mintOptions{secret: testSecret}, Handler{Secret: testSecret}, "HS256"},
		{"secret HS512", mintOptions{secret: testSecret, alg: "HS512"}, Handler{Secret: testSecret}, "HS512"},
		{"RSA", mintOptions{keyFile: privatePEM(t, k.rsa)}, Handler{PublicKey: pkixPEM(t, k.rsa)}, "RS256"},
		{"RSA PS384", mintOptions{keyFile: privatePEM(t, k.rsa), alg: "PS384"}, Handler{PublicKey: pkixPEM(t, k.rsa)}, "PS384"},
		{"RSA PKCS#1", mintOptions{keyFile: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa))}, Handler{PublicKey: pkixPEM(t, k.rsa)}, "RS256"},
		{"P-256", mintOptions{keyFile: privatePEM(t, k.p256)}, Handler{PublicKey: pkixPEM(t, k.p256)}, "ES256"},
		{"P-384 SEC 1", mintOptions{keyFile: ecPEM(t, k.p384)}, Handler{PublicKey: pkixPEM(t, k.p384)}, "ES384"},
		{"P-521", mintOptions{keyFile: privatePEM(t, k.p521)}, Handler{PublicKey: pkixPEM(t, k.p521)}, "ES512"},
		{"Ed25519", mintOptions{keyFile: privatePEM(t, k.ed)}, Handler{PublicKey: pkixPEM(t, k.ed)}, "EdDSA"},
	}
	for _, c := range cases {
		c.opts.sub, c.opts.ttl, c.opts.now = "foo", 15*time.Minute, now
		c.opts.claims = []string{`roles=["admin"]`, "level=3", "name=Foo Bar", "nested={\"a\":1}"}
		raw, err := mintToken(c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v := newVerifier(t, c.verify)
		tok, f := v.verify(raw, now)
		if f != nil {
			t.Fatalf("%s: minted token refused: %s", c.name, f.reason)
		}
		if alg, _ := stringMember(tok.header, "alg"); alg != c.wantAlg {
			t.Errorf("%s: alg %s, want %s", c.name, alg, c.wantAlg)
		}
		for path, want := range map[string]string{
			"sub": `"foo"`, "type": `"access"`, "roles": `["admin"]`, "level": "3", "name": `"Foo Bar"`, "nested.a": "1",
			"iat": itoa(now.Unix()), "nbf": itoa(now.Unix()), "exp": itoa(now.Add(15 * time.Minute).Unix()),
		} {
			if got, _ := jsonPath(tok.payload, path); got != want {
				t.Errorf("%s: %s = %s, want %s", c.name, path, got, want)
			}
		}
		if jti, _ := stringMember(tok.payload, "jti"); len(jti) != 32 {
			t.Errorf("%s: jti %q", c.name, jti)
		}
	}
	raw, err := mintToken(mintOptions{secret: testSecret, sub: "foo", now: now})
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := newVerifier(t, Handler{Secret: testSecret}).verify(raw, now); tok.hasExp {
		t.Error("--ttl 0 still set exp")
	}
	for _, bad := range []mintOptions{
		{},
		{secret: "s", keyFile: "k"},
		{secret: "s", alg: "none"},
		{secret: "s", claims: []string{"novalue"}},
		{keyFile: pkixPEM(t, k.rsa)},
		{secret: "s", ttl: -time.Minute},
	} {
		if _, err := mintToken(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func ecPEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "EC PRIVATE KEY", der)
}
