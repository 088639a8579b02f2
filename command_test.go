package jwtuser

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func TestMintToken(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	now := time.Now()
	cases := []struct {
		name    string
		opts    mintOptions
		verify  Handler
		wantAlg string
	}{
		{"secret", mintOptions{secret: testSecret}, Handler{KeysRaw: secretKeys(testSecret)}, "HS256"},
		{"secret HS512", mintOptions{secret: testSecret, alg: "HS512"}, Handler{KeysRaw: secretKeys(testSecret)}, "HS512"},
		{"RSA", mintOptions{keyFile: privatePEM(t, k.rsa)}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "RS256"},
		{"RSA PS384", mintOptions{keyFile: privatePEM(t, k.rsa), alg: "PS384"}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "PS384"},
		{"RSA PKCS#1", mintOptions{keyFile: writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa))}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.rsa))}, "RS256"},
		{"P-256", mintOptions{keyFile: privatePEM(t, k.p256)}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p256))}, "ES256"},
		{"P-384 SEC 1", mintOptions{keyFile: ecPEM(t, k.p384)}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p384))}, "ES384"},
		{"P-521", mintOptions{keyFile: privatePEM(t, k.p521)}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.p521))}, "ES512"},
		{"Ed25519", mintOptions{keyFile: privatePEM(t, k.ed)}, Handler{KeysRaw: publicKeyKeys(pkixPEM(t, k.ed))}, "EdDSA"},
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
			if got, _ := tok.payload.Path(path); got.String() != want {
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
	if tok, _ := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)}).verify(raw, now); tok.hasExp {
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

// runCLI runs `caddy jwt-user <args>` as the caddy command would, returning
// its output and exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	cmdDef, ok := caddycmd.Commands()["jwt-user"]
	if !ok {
		t.Fatal("jwt-user is not a registered caddy command")
	}
	root := &cobra.Command{Use: "jwt-user"}
	cmdDef.CobraFunc(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	code := 0
	ctx := context.WithValue(context.Background(), exitKey{}, func(c int) { code = c })
	if err := root.ExecuteContext(ctx); err != nil {
		return out.String() + err.Error(), -1
	}
	return out.String(), code
}

func TestVerifyAndLookupCommands(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/users/foo":
			_, _ = w.Write([]byte(`{"id":"foo","roles":["admin"]}`))
		case "/users/down":
			w.WriteHeader(500)
		default:
			http.NotFound(w, r)
		}
	})
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	writeFile(t, users, `{"foo": {"roles": ["admin"]}}`)
	fileConfig := filepath.Join(dir, "Caddyfile")
	writeFile(t, fileConfig, fmt.Sprintf(`:8080 {
	route /other {
		respond hi
	}
	route {
		jwt_user {
			secret %s
			issuer good
			users_file %s
		}
		respond ok
	}
}
`, testSecret, users))
	urlConfig := filepath.Join(dir, "url.caddyfile")
	writeFile(t, urlConfig, fmt.Sprintf(":8080 {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_url %s/users/{jwt.identity}\n\t}\n}\n", testSecret, svc.URL))
	db := sqliteFixture(t)
	sqlConfig := filepath.Join(dir, "sql.caddyfile")
	writeFile(t, sqlConfig, fmt.Sprintf(":8080 {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_sql sqlite %s {\n\t\t\tquery `%s`\n\t\t}\n\t}\n}\n", testSecret, db.dsn, db.jsonQuery()))
	sqlDown := filepath.Join(dir, "sqldown.caddyfile")
	writeFile(t, sqlDown, fmt.Sprintf(":8080 {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_sql postgres postgres://u:hunter2@127.0.0.1:1/db {\n\t\t\tquery `SELECT to_jsonb(u) FROM users u WHERE id = {jwt.identity}`\n\t\t}\n\t}\n}\n", testSecret))

	good := hs256(t, map[string]any{"sub": "foo", "iss": "good", "exp": time.Now().Add(time.Hour).Unix()})
	out, code := runCLI(t, "", "verify", "--config", fileConfig, "--adapter", "caddyfile", good)
	if code != 0 || !strings.Contains(out, `"sub": "foo"`) || !strings.Contains(out, `"alg": "HS256"`) || !strings.HasSuffix(out, "valid\n") {
		t.Fatalf("good token: %d\n%s", code, out)
	}
	if sig := good[strings.LastIndexByte(good, '.')+1:]; strings.Contains(out, sig) || strings.Contains(out, testSecret) {
		t.Fatal("verify printed the signature or the secret")
	}
	// From stdin, with the scheme.
	out, code = runCLI(t, "Bearer "+good+"\n", "verify", "-c", fileConfig)
	if code != 0 || !strings.HasSuffix(out, "valid\n") {
		t.Fatalf("stdin: %d %s", code, out)
	}
	for _, c := range []struct{ token, reason string }{
		{hs256(t, map[string]any{"sub": "foo", "iss": "bad"}), "Invalid issuer"},
		{hs256(t, map[string]any{"sub": "foo", "iss": "good", "exp": 1}), "Token has expired"},
		{"a.b", "Not enough segments"},
		{signToken(t, "HS256", []byte("some other secret of enough length"), map[string]any{"sub": "foo"}, nil), "Signature verification failed"},
	} {
		out, code := runCLI(t, "", "verify", "-c", fileConfig, c.token)
		if code != 1 || !strings.HasSuffix(out, c.reason+"\n") {
			t.Errorf("%s: %d %q", c.reason, code, out)
		}
		if c.reason == "Invalid issuer" && strings.Contains(out, "claims") {
			t.Errorf("claims of an invalid token printed: %s", out)
		}
	}

	for _, c := range []struct {
		config, identity string
		code             int
		want             string
	}{
		{fileConfig, "foo", 0, "\"roles\": [\n    \"admin\"\n  ]"},
		{fileConfig, "nobody", 1, "Error loading the user nobody"},
		{urlConfig, "foo", 0, `"id": "foo"`},
		{urlConfig, "ghost", 1, "Error loading the user ghost"},
		{urlConfig, "down", 2, "User store unavailable: user store answered with status 500"},
		{sqlConfig, "foo", 0, "\"roles\": [\n    \"admin\"\n  ]"},
		{sqlConfig, "nobody", 1, "Error loading the user nobody"},
		{sqlDown, "foo", 2, "User store unavailable: user store: connection"},
	} {
		out, code := runCLI(t, "", "lookup", "-c", c.config, c.identity)
		if code != c.code || !strings.Contains(out, c.want) || strings.Contains(out, "hunter2") {
			t.Errorf("lookup %s: %d %q", c.identity, code, out)
		}
	}
	noHandler := filepath.Join(dir, "plain.caddyfile")
	writeFile(t, noHandler, ":8080 {\n\trespond ok\n}\n")
	if out, code := runCLI(t, "", "lookup", "-c", noHandler, "foo"); code != -1 || !strings.Contains(out, "no jwt_user handler") {
		t.Errorf("no handler: %d %q", code, out)
	}
}

// TestVerifyCommandRevokedAndFresh: jwt-user verify reports freshness and
// refuses a token in the revoked_tokens file or one require_fresh refuses.
func TestVerifyCommandRevokedAndFresh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	revoked := filepath.Join(dir, "revoked.txt")
	writeFile(t, revoked, "gone\n")
	config := filepath.Join(dir, "Caddyfile")
	writeFile(t, config, fmt.Sprintf(":8080 {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_file %s\n\t\trevoked_tokens file %s\n\t\trequire_fresh\n\t}\n}\n",
		testSecret, usersFile(t, `{"foo": {}}`), revoked))
	claims := func(jti string, fresh bool) string {
		c := withJTI("foo", jti)
		c["fresh"] = fresh
		return hs256(t, c)
	}
	for _, c := range []struct {
		token string
		code  int
		tail  string
	}{
		{claims("kept", true), 0, "fresh: true\nvalid\n"},
		{claims("gone", true), 1, "fresh: true\nToken has been revoked\n"},
		{claims("kept", false), 1, "fresh: false\nFresh token required\n"},
	} {
		out, code := runCLI(t, "", "verify", "-c", config, c.token)
		if code != c.code || !strings.HasSuffix(out, c.tail) {
			t.Errorf("%d %q, want %d ...%q", code, out, c.code, c.tail)
		}
	}
}
