package jwtuser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// twoIssuers is a handler with two HMAC issuer blocks, each its own
// secret and audience.
func twoIssuers() Handler {
	return Handler{IssuerBlocks: []*IssuerBlock{
		{Issuer: "https://a.example/", KeysRaw: secretKeys(testSecret), Audiences: []string{"api-a"}},
		{Issuer: "https://b.example", KeysRaw: secretKeys(strings.Repeat("b", 64)), Audiences: []string{"api-b"}, IdentityClaim: "uid"},
	}}
}

func issuerClaims(iss, aud string) map[string]any {
	c := claimsFor("alice")
	c["iss"], c["aud"], c["uid"] = iss, aud, "bob"
	return c
}

func TestIssuerBlocksPickTheBlockByIss(t *testing.T) {
	t.Parallel()
	h := provisionedHandler(t, twoIssuers(), mapStore{"alice": `{"name":"A"}`, "bob": `{"name":"B"}`})
	secretB := []byte(strings.Repeat("b", 64))
	cases := []struct {
		name, tok, want string
	}{
		{"A with its audience", hs256(t, issuerClaims("https://a.example/", "api-a")), "reached alice A alice"},
		{"B with its audience and identity claim", signToken(t, "HS256", secretB, issuerClaims("https://b.example", "api-b"), nil), "reached bob B bob"},
		{"A with B's audience", hs256(t, issuerClaims("https://a.example/", "api-b")), `{"msg":"Invalid audience"}`},
		{"A's iss signed with B's key", signToken(t, "HS256", secretB, issuerClaims("https://a.example/", "api-a"), nil), `{"msg":"Signature verification failed"}`},
		{"trailing slash counts", hs256(t, issuerClaims("https://a.example", "api-a")), `{"msg":"Invalid issuer"}`},
		{"no iss", hs256(t, claimsFor("alice")), `{"msg":"Invalid issuer"}`},
		{"not a token", "abc", `{"msg":"Not enough segments"}`},
	}
	for _, c := range cases {
		w, seen := serve(t, []Handler{h}, "Bearer "+c.tok)
		got := seen
		if seen == "" {
			got = strings.TrimSpace(w.Body.String())
		}
		if got != c.want {
			t.Errorf("%s: got %q (status %d), want %q", c.name, got, w.Code, c.want)
		}
	}
}

func TestIssuerBlocksRefusedAtLoad(t *testing.T) {
	t.Parallel()
	cases := map[string]func(h *Handler){
		"a key source at the top level": func(h *Handler) { h.KeysRaw = secretKeys(testSecret) },
		"audience at the top level":     func(h *Handler) { h.Audiences = []string{"x"} },
		"repeated issuer":               func(h *Handler) { h.IssuerBlocks[1].Issuer = "https://a.example/" },
		"block without keys":            func(h *Handler) { h.IssuerBlocks[1].KeysRaw = nil },
		"user claim in a block": func(h *Handler) {
			h.IssuerBlocks[0].Claims = map[string][]string{"ver": {"{jwt.user.v}"}}
		},
		"bad alg in a block": func(h *Handler) { h.IssuerBlocks[0].Algorithms = []string{"RS256"} },
	}
	for name, mutate := range cases {
		h := twoIssuers()
		mutate(&h)
		if err := provision(t, &h, mapStore{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	h := twoIssuers()
	h.Claims = map[string][]string{"ver": {"{jwt.user.v}"}}
	if err := provision(t, &h, mapStore{}); err != nil {
		t.Errorf("a {jwt.user.*} claim at the top level: %v", err)
	}
}

func TestIssuerBlockCaddyfile(t *testing.T) {
	t.Parallel()
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`jwt_user {
		issuer https://a.example/ {
			secret abc
			audience api-a
			identity_claim uid
		}
		issuer https://b.example {
			jwks https://b.example/jwks.json
			algorithms RS256
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.IssuerBlocks) != 2 || h.IssuerBlocks[0].IdentityClaim != "uid" || h.IssuerBlocks[1].Algorithms[0] != "RS256" || len(h.Issuers) != 0 {
		t.Fatalf("got %+v", h.IssuerBlocks)
	}
	err = (&Handler{}).UnmarshalCaddyfile(caddyfile.NewTestDispenser(`jwt_user {
		issuer https://a.example/ {
			users_file x.json
		}
	}`))
	if err == nil || !strings.Contains(err.Error(), "not allowed in an issuer block") {
		t.Fatalf("users_file in a block: %v", err)
	}
}

// TestIssuerBlocksKeepUsersApart: the same sub from two blocks is two
// users, loaded twice and cached apart, whether or not the store's URL names
// the issuer.
func TestIssuerBlocksKeepUsersApart(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []string{"/users/{jwt.claims.iss}/{jwt.identity}", "/users/{jwt.identity}"} {
		var loads atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			loads.Add(1)
			_, _ = fmt.Fprintf(w, `{"name":%q}`, r.URL.EscapedPath())
		}))
		t.Cleanup(srv.Close)
		h := twoIssuers()
		h.IssuerBlocks[1].IdentityClaim = ""
		h.StoreRaw = urlStoreJSON(&UsersURL{URL: srv.URL + tmpl})
		if err := provision(t, &h, nil); err != nil {
			t.Fatal(err)
		}
		tokA := hs256(t, issuerClaims("https://a.example/", "api-a"))
		tokB := signToken(t, "HS256", []byte(strings.Repeat("b", 64)), issuerClaims("https://b.example", "api-b"), nil)
		var seen []string
		for _, tok := range []string{tokA, tokB, tokA, tokB} {
			_, got := serve(t, []Handler{h}, "Bearer "+tok)
			seen = append(seen, got)
		}
		if n := loads.Load(); n != 2 {
			t.Errorf("%s: %d loads for two users asked twice each, want 2", tmpl, n)
		}
		if seen[0] != seen[2] || seen[1] != seen[3] {
			t.Errorf("%s: a cached answer differs: %q", tmpl, seen)
		}
		if strings.Contains(tmpl, "iss") && seen[0] == seen[1] {
			t.Errorf("%s: the same sub from two issuers loaded one user: %q", tmpl, seen)
		}
	}
}

func TestIssuerPlaceholder(t *testing.T) {
	t.Parallel()
	h := provisionedHandler(t, twoIssuers(), mapStore{"alice": `{"name":"A"}`})
	tok, f, iss := h.verifyWithIssuer(hs256(t, issuerClaims("https://a.example/", "api-a")), time.Now())
	if f != nil || iss != "https://a.example/" {
		t.Fatalf("verify: %v %q", f, iss)
	}
	st := &requestState{tok: tok}
	if v, ok := st.placeholder("jwt.issuer"); !ok || v != "https://a.example/" {
		t.Errorf("{jwt.issuer} = %v, %v", v, ok)
	}
	if v, ok := (&requestState{}).placeholder("jwt.issuer"); !ok || v != "" {
		t.Errorf("{jwt.issuer} without a token = %v, %v", v, ok)
	}
	single := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret)}, mapStore{})
	tok, _, iss = single.verifyWithIssuer(hs256(t, claimsFor("alice")), time.Now())
	if v, _ := (&requestState{tok: tok}).placeholder("jwt.issuer"); v != "" || iss != "" {
		t.Errorf("{jwt.issuer} without blocks = %q, %q", v, iss)
	}
}

// TestVerifyCommandNamesTheBlock: jwt-user verify says which issuer block
// accepted a token, or why none did.
func TestVerifyCommandNamesTheBlock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	config := filepath.Join(dir, "Caddyfile")
	writeFile(t, config, fmt.Sprintf(":8080 {\n\tjwt_user {\n\t\tissuer https://a.example/ {\n\t\t\tsecret %s\n\t\t}\n\t\tissuer https://b.example {\n\t\t\tsecret %s\n\t\t}\n\t\tusers_file %s\n\t}\n}\n",
		testSecret, strings.Repeat("b", 64), usersFile(t, `{"alice": {}}`)))
	withIss := func(iss string) string {
		c := claimsFor("alice")
		c["iss"] = iss
		return hs256(t, c)
	}
	for _, c := range []struct {
		token string
		code  int
		want  string // in the output
	}{
		{withIss("https://a.example/"), 0, "issuer block: https://a.example/\n"},
		{withIss("https://b.example"), 1, "issuer block: https://b.example\n"},
		{withIss("https://c.example"), 1, `issuer block: none (the token's iss "https://c.example" is not one of: https://a.example/, https://b.example)`},
		{hs256(t, claimsFor("alice")), 1, "issuer block: none (the token has no iss"},
		{"a.b", 1, "issuer block: none (the token is malformed)"},
	} {
		out, code := runCLI(t, "", "verify", "-c", config, c.token)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%d %q, want %d ...%q", code, out, c.code, c.want)
		}
	}
}
