package jwtuser

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	t.Parallel()
	d := caddyfile.NewTestDispenser(`jwt_user {
		from header Authorization Bearer
		from header X-Token ""
		from cookie access_token_cookie
		from query jwt
		secret {env.JWT_SECRET}
		algorithms HS256 HS512
		issuer https://issuer.example other
		audience api
		audience web
		leeway 30s
		require_claims exp
		require_claims jti
		claim type access
		claim roles admin editor
		identity_claim uid
		max_token_size 4KiB
		users_file /etc/users.json email
		optional
		on_missing_token 302 "" {
			header Location /login
		}
		on_invalid_token 401
		on_expired_token 401 "expired: {jwt.error}"
		on_load_failure 404 ` + "`" + `{"msg":"User {jwt.identity} not found"}` + "`" + `
		on_store_error 503 {
			header Retry-After 5
		}
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := Handler{
		From: []TokenSource{
			{Source: "header", Name: "Authorization", Scheme: strPtr("Bearer")},
			{Source: "header", Name: "X-Token", Scheme: strPtr("")},
			{Source: "cookie", Name: "access_token_cookie"},
			{Source: "query", Name: "jwt"},
		},
		KeysRaw:        secretKeys("{env.JWT_SECRET}"),
		Algorithms:     []string{"HS256", "HS512"},
		Issuers:        []string{"https://issuer.example", "other"},
		Audiences:      []string{"api", "web"},
		Leeway:         caddy.Duration(30 * time.Second),
		RequireClaims:  []string{"exp", "jti"},
		Claims:         map[string][]string{"type": {"access"}, "roles": {"admin", "editor"}},
		IdentityClaim:  "uid",
		MaxTokenSize:   4096,
		StoreRaw:       fileStoreJSON("/etc/users.json", "email"),
		Optional:       true,
		OnMissingToken: &Response{StatusCode: 302, Body: strPtr(""), Headers: http.Header{"Location": {"/login"}}},
		OnInvalidToken: &Response{StatusCode: 401},
		OnExpiredToken: &Response{StatusCode: 401, Body: strPtr("expired: {jwt.error}")},
		OnLoadFailure:  &Response{StatusCode: 404, Body: strPtr(`{"msg":"User {jwt.identity} not found"}`)},
		OnStoreError:   &Response{StatusCode: 503, Headers: http.Header{"Retry-After": {"5"}}},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", h, want)
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ input, want string }{
		{"jwt_user extra {\n}", "wrong argument count"},
		{"jwt_user {\n bogus 1\n}", `unknown subdirective "bogus"`},
		{"jwt_user {\n secret a\n secret b\n}", "secret: a key source is already given"},
		{"jwt_user {\n secret a\n jwks http://x/\n}", "jwks: a key source is already given"},
		{"jwt_user {\n secret a\n keys secret b\n}", "keys: a key source is already given"},
		{"jwt_user {\n keys\n}", "wrong argument count"},
		{"jwt_user {\n keys vault x\n}", "http.jwt_user.keys.vault"},
		{"jwt_user {\n users_file a\n users_file b\n}", "users_file: a store is already given"},
		{"jwt_user {\n users_file a\n store http http://x/\n}", "store: a store is already given"},
		{"jwt_user {\n store\n}", "wrong argument count"},
		{"jwt_user {\n store ldap x\n}", "http.jwt_user.stores.ldap"},
		{"jwt_user {\n users_file a {\n  x\n }\n}", "users_file: takes no block"},
		{"jwt_user {\n secret\n}", "wrong argument count"},
		{"jwt_user {\n secret a b\n}", "wrong argument count"},
		{"jwt_user {\n from body x\n}", `unknown source "body"`},
		{"jwt_user {\n from cookie\n}", "wrong argument count"},
		{"jwt_user {\n from cookie a b\n}", "wrong argument count"},
		{"jwt_user {\n leeway soon\n}", "leeway:"},
		{"jwt_user {\n max_token_size lots\n}", "max_token_size:"},
		{"jwt_user {\n claim type\n}", "wrong argument count"},
		{"jwt_user {\n optional yes\n}", "wrong argument count"},
		{"jwt_user {\n users_file a b c\n}", "wrong argument count"},
		{"jwt_user {\n on_missing_token\n}", "wrong argument count"},
		{"jwt_user {\n on_load_failure abc\n}", `on_load_failure: status "abc"`},
		{"jwt_user {\n on_load_failure 404 a b\n}", "wrong argument count"},
		{"jwt_user {\n on_load_failure 404 {\n  body x\n }\n}", `on_load_failure: unknown subdirective "body"`},
		{"jwt_user {\n on_load_failure 404 {\n  header Location\n }\n}", "wrong argument count"},
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.input, err, c.want)
		}
		// Every error names its place in the Caddyfile.
		if err != nil && !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: error without a position: %v", c.input, err)
		}
	}
}

func TestUnmarshalUsersURL(t *testing.T) {
	t.Parallel()
	d := caddyfile.NewTestDispenser(`jwt_user {
		secret s
		users_url https://users.internal/v1/users/{jwt.identity} {
			header Authorization "Bearer {env.USERS_API_TOKEN}"
			header X-Tenant acme
			timeout 2s
			max_body 64KiB
		}
		cache_ttl 5m
		cache_not_found_ttl 0
		stale_if_error 1h
		cache_size 500
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	ttl, nf := caddy.Duration(5*time.Minute), caddy.Duration(0)
	want := Handler{
		KeysRaw: secretKeys("s"),
		StoreRaw: urlStoreJSON(&UsersURL{
			URL:     "https://users.internal/v1/users/{jwt.identity}",
			Headers: http.Header{"Authorization": {"Bearer {env.USERS_API_TOKEN}"}, "X-Tenant": {"acme"}},
			Timeout: caddy.Duration(2 * time.Second),
			MaxBody: 64 << 10,
		}),
		CacheTTL:         &ttl,
		CacheNotFoundTTL: &nf,
		StaleIfError:     caddy.Duration(time.Hour),
		CacheSize:        500,
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", h, want)
	}
	for _, c := range []struct{ input, want string }{
		{"jwt_user {\n users_url\n}", "wrong argument count"},
		{"jwt_user {\n users_url http://x/{jwt.identity} {\n  retries 3\n }\n}", `unknown subdirective "retries"`},
		{"jwt_user {\n users_url http://x/{jwt.identity} {\n  timeout 1s\n  timeout 2s\n }\n}", "timeout given more than once"},
		{"jwt_user {\n cache_size many\n}", "cache_size"},
		{"jwt_user {\n cache_ttl forever\n}", "cache_ttl"},
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.input, err, c.want)
		}
	}
}

func TestUnmarshalJWKS(t *testing.T) {
	t.Parallel()
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n jwks https://idp.example/jwks.json 5m\n}")); err != nil {
		t.Fatal(err)
	}
	if want := jwksKeys("https://idp.example/jwks.json", 5*time.Minute); !reflect.DeepEqual(h.KeysRaw, want) {
		t.Fatalf("got %s, want %s", h.KeysRaw, want)
	}
	for _, c := range []struct{ input, want string }{
		{"jwt_user {\n jwks\n}", "wrong argument count"},
		{"jwt_user {\n jwks https://x/ soon\n}", `jwks: "soon" is not a refresh interval`},
		{"jwt_user {\n jwks https://x/ 1m extra\n}", "wrong argument count"},
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.input, err, c.want)
		}
	}
}

// TestRefusedAtProvision: the Caddyfile parser checks syntax only; the
// limits are Provision's, so a JSON config meets the same ones, and each
// message names the setting.
func TestRefusedAtProvision(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{"leeway -5s", "leeway: must not be negative"},
		{"on_missing_token 700", "on_missing_token: status 700 is outside 200-599"},
		{"max_token_size 2GiB", "max_token_size: must be between 1 byte and 1GiB"},
		{"users_url http://127.0.0.1:1/{jwt.identity} {\n timeout -1s\n}", "users_url: timeout must be positive"},
		{"users_url http://127.0.0.1:1/{jwt.identity}\nstale_if_error -1s", "stale_if_error: must not be negative"},
		{"users_url http://127.0.0.1:1/{jwt.identity}\ncache_ttl -1s", "cache_ttl: must not be negative"},
		{"users_url http://127.0.0.1:1/{jwt.identity}\ncache_size -3", "cache_size: must be positive"},
		{"jwks http://127.0.0.1:1/keys -1s", "jwks: the refresh interval must be at least 1s"},
	} {
		body := c.body
		if !strings.Contains(body, "users_") {
			body += "\nusers_url http://127.0.0.1:1/{jwt.identity}"
		}
		if !strings.Contains(body, "jwks") {
			body += "\nsecret " + testSecret
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n" + body + "\n}")); err != nil {
			t.Errorf("%q: the parser refused it: %v", c.body, err)
			continue
		}
		if err := provision(t, &h, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.body, err, c.want)
		}
	}
}
