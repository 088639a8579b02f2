package jwtuser

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"
)

// oidcProvider is a local OpenID provider: a discovery document at
// <issuer>/.well-known/openid-configuration and a JWK Set.
type oidcProvider struct {
	*httptest.Server
	issuer   string
	named    atomic.Pointer[string] // the issuer the document names
	down     atomic.Bool
	docs     atomic.Int64
	priv     crypto.Signer
	maxAge   string
	realmDir string
}

func newOIDCProvider(t testing.TB, priv crypto.Signer, kid string) *oidcProvider {
	t.Helper()
	p := &oidcProvider{priv: priv, realmDir: "/realms/" + kid}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(priv, kid, "RS256", "sig")}})
	if err != nil {
		t.Fatal(err)
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case p.realmDir + "/.well-known/openid-configuration":
			p.docs.Add(1)
			_, _ = fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, *p.named.Load(), p.URL+p.realmDir+"/certs")
		case p.realmDir + "/certs":
			_, _ = w.Write(set)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	p.issuer = p.URL + p.realmDir
	p.named.Store(&p.issuer)
	return p
}

// token is a token of this provider, or of iss when given, for aud.
func (p *oidcProvider) token(t testing.TB, sub, aud, kid string) string {
	c := claimsFor(sub)
	c["iss"], c["aud"] = p.issuer, aud
	return signToken(t, "RS256", p.priv, c, map[string]any{"kid": kid})
}

func discoveryKeys(issuer string, refresh time.Duration) json.RawMessage {
	return caddyconfig.JSONModuleObject(&Discovery{Issuer: issuer, Refresh: caddyDuration(refresh)}, "source", "discovery", nil)
}

// twoProviders is a handler with a discovery block for each of a and b.
func twoProviders(a, b *oidcProvider) Handler {
	return Handler{IssuerBlocks: []*IssuerBlock{
		{Issuer: a.issuer, KeysRaw: discoveryKeys("", time.Second), Audiences: []string{"api-a"}},
		{Issuer: b.issuer, KeysRaw: discoveryKeys(b.issuer, time.Second), Audiences: []string{"api-b"}},
	}}
}

func bodyOrSeen(w *httptest.ResponseRecorder, seen string) string {
	if seen != "" {
		return seen
	}
	return fmt.Sprint(w.Code, " ", strings.TrimSpace(w.Body.String()))
}

func TestDiscoveryTwoProviders(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	a, b := newOIDCProvider(t, k.rsa, "a"), newOIDCProvider(t, k.otherRSA, "b")
	h := provisionedHandler(t, twoProviders(a, b), mapStore{"alice": `{"name":"A"}`})
	forged := claimsFor("alice")
	forged["iss"], forged["aud"] = a.issuer, "api-a"
	cases := []struct{ name, tok, want string }{
		{"A with its audience", a.token(t, "alice", "api-a", "a"), "reached alice A alice"},
		{"B with its audience", b.token(t, "alice", "api-b", "b"), "reached alice A alice"},
		{"A with B's audience", a.token(t, "alice", "api-b", "a"), `401 {"msg":"Invalid audience"}`},
		{"A's iss signed by B's key", signToken(t, "RS256", k.otherRSA, forged, map[string]any{"kid": "b"}), `401 {"msg":"Signature verification failed"}`},
	}
	for _, c := range cases {
		if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+c.tok)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDiscoveryProviderDownAtStart(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	a, b := newOIDCProvider(t, k.rsa, "a"), newOIDCProvider(t, k.otherRSA, "b")
	a.down.Store(true)
	h := provisionedHandler(t, twoProviders(a, b), mapStore{"alice": `{"name":"A"}`})
	if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "api-a", "a"))); got != `503 {"msg":"Signing keys unavailable"}` {
		t.Errorf("A down: got %q", got)
	}
	if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+b.token(t, "alice", "api-b", "b"))); got != "reached alice A alice" {
		t.Errorf("B while A is down: got %q", got)
	}
	a.down.Store(false)
	eventually(t, "A's keys after it comes up", func() bool {
		_, seen := serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "api-a", "a"))
		return seen == "reached alice A alice"
	})
}

func TestDiscoveryIssuerMismatchRefused(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	a, b := newOIDCProvider(t, k.rsa, "a"), newOIDCProvider(t, k.otherRSA, "b")
	other := a.issuer + "/" // a trailing slash counts
	a.named.Store(&other)
	h := provisionedHandler(t, twoProviders(a, b), mapStore{"alice": `{"name":"A"}`})
	if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "api-a", "a"))); got != `503 {"msg":"Signing keys unavailable"}` {
		t.Errorf("A naming another issuer: got %q", got)
	}
	if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+b.token(t, "alice", "api-b", "b"))); got != "reached alice A alice" {
		t.Errorf("B next to a refused A: got %q", got)
	}
	// A good document, then one naming another issuer: unusable again.
	a.named.Store(&a.issuer)
	eventually(t, "A after its document is fixed", func() bool {
		_, seen := serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "api-a", "a"))
		return seen == "reached alice A alice"
	})
	a.named.Store(&other)
	eventually(t, "A refused again", func() bool {
		w, _ := serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "api-a", "a"))
		return w.Code == http.StatusServiceUnavailable
	})
}

func TestDiscoveryRefusedAtLoad(t *testing.T) {
	t.Parallel()
	cases := map[string]Handler{
		"no issuer":     {KeysRaw: discoveryKeys("", 0)},
		"not a URL":     {KeysRaw: discoveryKeys("login.example.com", 0)},
		"short refresh": {KeysRaw: discoveryKeys("https://login.example.com", time.Millisecond)},
		"another issuer than the block's": {IssuerBlocks: []*IssuerBlock{
			{Issuer: "https://a.example", KeysRaw: discoveryKeys("https://b.example", 0)}}},
	}
	for name, h := range cases {
		if err := provision(t, &h, mapStore{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClampMaxAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]time.Duration{
		time.Second: time.Minute, time.Hour: time.Hour, 48 * time.Hour: 24 * time.Hour,
	} {
		if got := clampMaxAge(in); got != want {
			t.Errorf("clampMaxAge(%v) = %v, want %v", in, got, want)
		}
	}
	if got := maxAgeOf(http.Header{"Cache-Control": {"public, max-age=120"}}); got != 2*time.Minute {
		t.Errorf("maxAgeOf = %v", got)
	}
}

// TestDiscoveryAtTheTopLevel: discovery <issuer> as a handler's one key
// source, from the Caddyfile.
func TestDiscoveryAtTheTopLevel(t *testing.T) {
	t.Parallel()
	a := newOIDCProvider(t, getKeys(t).rsa, "a")
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(fmt.Sprintf(`jwt_user {
		discovery %s 5m
		issuer %s
	}`, a.issuer, a.issuer)))
	if err != nil {
		t.Fatal(err)
	}
	h = provisionedHandler(t, h, mapStore{"alice": `{"name":"A"}`})
	if got := bodyOrSeen(serve(t, []Handler{h}, "Bearer "+a.token(t, "alice", "x", "a"))); got != "reached alice A alice" {
		t.Errorf("got %q", got)
	}
	if err := (&Handler{}).UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n\tdiscovery https://a.example 5m 6m\n}")); err == nil {
		t.Error("two intervals accepted")
	}
}

// TestDiscoveryUnusableDocuments: another issuer, no issuer, or a jwks_uri
// that is not http(s) leave the source without keys; a failed fetch does
// not count as unusable (the last good document stays).
func TestDiscoveryUnusableDocuments(t *testing.T) {
	t.Parallel()
	var doc atomic.Pointer[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := doc.Load(); d != nil {
			_, _ = w.Write([]byte(*d))
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	p := newDiscovered(srv.URL, time.Minute, zap.NewNop())
	for _, body := range []string{
		fmt.Sprintf(`{"issuer":%q,"jwks_uri":"ftp://x/keys"}`, srv.URL),
		fmt.Sprintf(`{"issuer":%q,"jwks_uri":"https://x/keys"}`, srv.URL+"/"),
		`{"jwks_uri":"https://x/keys"}`,
	} {
		doc.Store(&body)
		var unusable unusableDocument
		if _, _, err := p.fetchDocument(); !errors.As(err, &unusable) {
			t.Errorf("%s: %v", body, err)
		}
	}
	doc.Store(nil)
	var unusable unusableDocument
	if _, _, err := p.fetchDocument(); err == nil || errors.As(err, &unusable) {
		t.Errorf("a 502: %v", err)
	}
}
