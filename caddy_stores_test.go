package jwtuser

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Stores and key sets through a real Caddy: reloads of a users file, a
// users_url store behind its cache, a store's lifetime across reloads, and
// a JWKS endpoint. Real-Caddy tests never run in parallel: see
// caddy_helpers_test.go.

// TestUsersFileReloadUnderCaddy rewrites the users file while Caddy serves.
func TestUsersFileReloadUnderCaddy(t *testing.T) {
	defer setPoll(20 * time.Millisecond)()
	users := usersFile(t, `{"foo": {"roles": ["admin"]}}`)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	tc := startCaddyWith(t, logOption(logFile), fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
	}
	respond "{jwt.user.roles}"
}`, httpPort, testSecret, users))
	foo := bearer(hs256(t, claimsFor("foo")))
	bar := bearer(hs256(t, claimsFor("bar")))
	// Three times: from the second request the token's memo remembers
	// "admin", which the rewrite must replace.
	for range 3 {
		if r := get(t, tc, "GET", "/", foo); r.body != "admin" {
			t.Fatalf("before: %d %s", r.status, r.body)
		}
	}
	writeFile(t, users, `{"foo": {"roles": ["peasant"]}, "bar": {"roles": ["new"]}}`)
	eventually(t, "the rewrite to be served", func() bool {
		return get(t, tc, "GET", "/", foo).body == "peasant" && get(t, tc, "GET", "/", bar).body == "new"
	})
	// And on the requests after: a memo of the old user, or one stamped
	// with the new load, would show there.
	for range 2 {
		if r := get(t, tc, "GET", "/", foo); r.body != "peasant" {
			t.Fatalf("after the rewrite: %d %s", r.status, r.body)
		}
	}
	writeFile(t, users, `{"foo": `)
	// The watcher's error line proves it read the broken rewrite.
	eventually(t, "the broken rewrite to be refused", func() bool { return fileHolds(logFile, "users file did not load") })
	if r := get(t, tc, "GET", "/", bar); r.status != 200 || r.body != "new" {
		t.Fatalf("a broken rewrite lost the last good users: %d %s", r.status, r.body)
	}
}

// TestUsersURLThroughCaddy serves users from a real user service, through
// the cache, with the store's failures mapped to the contract's responses.
func TestUsersURLThroughCaddy(t *testing.T) {
	var failing atomic.Bool
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case failing.Load():
			w.WriteHeader(http.StatusInternalServerError)
		case r.URL.Path == "/users/nobody":
			http.NotFound(w, r)
		case r.Header.Get("Authorization") != "Bearer service-token":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			_, _ = fmt.Fprintf(w, `{"id":%q,"roles":["admin","staff"]}`, strings.TrimPrefix(r.URL.Path, "/users/"))
		}
	})
	t.Setenv("JWT_USER_TEST_SERVICE_TOKEN", "service-token")
	config := func(reply string) string {
		return fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_url %s/users/{jwt.identity} {
			header Authorization "Bearer {env.JWT_USER_TEST_SERVICE_TOKEN}"
			timeout 2s
		}
		cache_ttl 1h
		cache_not_found_ttl 1h
	}
	respond "%s {jwt.identity} {jwt.user.roles}"
}`, httpPort, testSecret, svc.URL, reply)
	}
	tc := startCaddy(t, config("v1"))
	foo := bearer(hs256(t, claimsFor("foo")))
	for i := 0; i < 5; i++ {
		if r := get(t, tc, "GET", "/", foo); r.status != 200 || r.body != "v1 foo admin,staff" {
			t.Fatalf("foo: %d %q", r.status, r.body)
		}
	}
	if n := svc.calls.Load(); n != 1 {
		t.Fatalf("5 requests made %d store calls", n)
	}
	nobody := bearer(hs256(t, claimsFor("nobody")))
	for i := 0; i < 3; i++ {
		if r := get(t, tc, "GET", "/", nobody); r.status != 401 || r.body != `{"msg":"Error loading the user nobody"}` {
			t.Fatalf("nobody: %d %q", r.status, r.body)
		}
	}
	if n := svc.calls.Load(); n != 2 {
		t.Fatalf("not-found was not cached: %d calls", n)
	}

	// A reload with the same store settings keeps the cache warm.
	startCaddy(t, config("v2"))
	if r := get(t, tc, "GET", "/", foo); r.status != 200 || r.body != "v2 foo admin,staff" {
		t.Fatalf("after reload: %d %q", r.status, r.body)
	}
	if n := svc.calls.Load(); n != 2 {
		t.Fatalf("the reload emptied the cache: %d calls", n)
	}

	// A store that fails, with nothing cached for the identity: 503.
	failing.Store(true)
	r := get(t, tc, "GET", "/", bearer(hs256(t, claimsFor("bar"))))
	if r.status != 503 || r.body != `{"msg":"User store unavailable"}` || strings.Contains(r.body, "v2") {
		t.Fatalf("store error: %d %q", r.status, r.body)
	}
}

// TestStoreReleasedWhenUnused checks that a store no configuration uses is
// destroyed, and that one in use survives a reload.
func TestStoreReleasedWhenUnused(t *testing.T) {
	users := usersFile(t, seedUsers)
	startCaddy(t, fmt.Sprintf(":%d {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_file %s\n\t}\n\trespond a\n}", httpPort, testSecret, users))
	key := "users_file:" + users + "\x00"
	if n, ok := storePool.References(key); !ok || n != 1 {
		t.Fatalf("store references after load: %d %v", n, ok)
	}
	startCaddy(t, fmt.Sprintf(":%d {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_file %s\n\t}\n\trespond b\n}", httpPort, testSecret, users))
	if n, ok := storePool.References(key); !ok || n != 1 {
		t.Fatalf("store references after reload: %d %v", n, ok)
	}
	startCaddy(t, fmt.Sprintf(":%d {\n\trespond c\n}", httpPort))
	if _, ok := storePool.References(key); ok {
		t.Fatal("the store outlived every configuration that used it")
	}
}

// TestJWKSThroughCaddy verifies tokens against a real JWKS endpoint, keeps
// the set across a reload and answers 503 while no set was ever fetched.
func TestJWKSThroughCaddy(t *testing.T) {
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "rsa-1", "RS256", "sig"), publicJWK(k.p256, "ec-1", "", "sig"))
	users := usersFile(t, seedUsers)
	config := func(reply string) string {
		return fmt.Sprintf(`
:%d {
	jwt_user {
		jwks %s 1h
		issuer https://issuer.example
		users_file %s
	}
	respond "%s {jwt.identity}"
}`, httpPort, srv.URL, users, reply)
	}
	tc := startCaddy(t, config("v1"))
	claims := claimsFor("foo")
	claims["iss"] = "https://issuer.example"
	for _, raw := range []string{
		signToken(t, "RS256", k.rsa, claims, map[string]any{"kid": "rsa-1"}),
		signToken(t, "ES256", k.p256, claims, map[string]any{"kid": "ec-1"}),
	} {
		if r := get(t, tc, "GET", "/", bearer(raw)); r.status != 200 || r.body != "v1 foo" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	}
	if r := get(t, tc, "GET", "/", bearer(signToken(t, "RS256", k.otherRSA, claims, map[string]any{"kid": "rsa-1"}))); r.status != 401 ||
		r.body != `{"msg":"Signature verification failed"}` {
		t.Fatalf("foreign key: %d %q", r.status, r.body)
	}
	startCaddy(t, config("v2"))
	if r := get(t, tc, "GET", "/", bearer(signToken(t, "RS256", k.rsa, claims, map[string]any{"kid": "rsa-1"}))); r.body != "v2 foo" {
		t.Fatalf("after reload: %d %q", r.status, r.body)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches across a reload, want 1", n)
	}

	down := newJWKSServer(t)
	down.status.Store(503)
	tc = startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		jwks %s
		users_file %s
	}
	respond "reached"
}`, httpPort, down.URL, users))
	r := get(t, tc, "GET", "/", bearer(signToken(t, "RS256", k.rsa, claims, map[string]any{"kid": "rsa-1"})))
	if r.status != 503 || r.body != `{"msg":"Signing keys unavailable"}` {
		t.Fatalf("no key set yet: %d %q", r.status, r.body)
	}
}
