package jwtuser_test

// This file is what a third party writes: a store module of its own,
// registered in http.jwt_user.stores from outside the jwtuser package and
// configured with `store <name>` in a Caddyfile. Run through a real Caddy,
// it gets the caching layer without writing any of it: cached users,
// cached "no such user" answers, stale copies while it fails, metrics and
// the admin API's purge.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/golang-jwt/jwt/v5"

	jwtuser "github.com/jwtuser/caddy-jwt-user"
)

func init() {
	caddy.RegisterModule(DirectoryStore{})
}

// DirectoryStore is the third party's store, http.jwt_user.stores.directory:
// users of a named in-process directory (a stand-in for a directory
// service). Caddyfile: `store directory <name>`.
type DirectoryStore struct {
	// Directory names the directory to read.
	Directory string `json:"directory"`

	dir *directory
}

// CaddyModule returns the Caddy module information.
func (DirectoryStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.stores.directory",
		New: func() caddy.Module { return new(DirectoryStore) },
	}
}

// Provision finds the directory.
func (s *DirectoryStore) Provision(caddy.Context) error {
	v, ok := directories.Load(s.Directory)
	if !ok {
		return fmt.Errorf("directory: no directory %q", s.Directory)
	}
	s.dir = v.(*directory)
	return nil
}

// LoadUser is the one method a store must have.
func (s *DirectoryStore) LoadUser(_ context.Context, tok jwtuser.Token) (jwtuser.User, error) {
	s.dir.calls.Add(1)
	if s.dir.down.Load() {
		return jwtuser.User{}, errDirectoryDown
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	user, ok := s.dir.users[tok.Identity()]
	if !ok {
		return jwtuser.User{}, jwtuser.ErrUserNotFound
	}
	return user, nil
}

// Describe names the directory for the admin API.
func (s *DirectoryStore) Describe() string { return "directory " + s.Directory }

// UnmarshalCaddyfile reads `directory <name>`.
func (s *DirectoryStore) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directory
	if !d.NextArg() {
		return d.ArgErr()
	}
	s.Directory = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// directoryError is a store error with a kind of its own for the metrics.
type directoryError struct{}

func (directoryError) Error() string          { return "the directory is down" }
func (directoryError) StoreErrorKind() string { return "directory_down" }

var errDirectoryDown error = directoryError{}

// directory is the backend: users, a call counter and an outage switch.
type directory struct {
	mu    sync.Mutex
	users map[string]jwtuser.User
	calls atomic.Int64
	down  atomic.Bool
}

var directories sync.Map // name → *directory

var (
	_ jwtuser.Store          = (*DirectoryStore)(nil)
	_ jwtuser.StoreDescriber = (*DirectoryStore)(nil)
	_ caddy.Provisioner      = (*DirectoryStore)(nil)
	_ caddyfile.Unmarshaler  = (*DirectoryStore)(nil)
)

// The real Caddy of this test process: its admin endpoint and site.
var (
	thirdPartyAdmin = fmt.Sprintf("http://localhost:%d", jwtuser.TestAdminPort)
	thirdPartySite  = fmt.Sprintf("http://localhost:%d", jwtuser.TestHTTPPort)
)

const thirdPartyKey = "third-party-store-test-secret-of-32+bytes"

func TestThirdPartyStoreGetsTheCachingLayer(t *testing.T) {
	dir := &directory{users: map[string]jwtuser.User{
		"foo":      {JSON: `{"username": "foo", "roles": ["admin"]}`},
		"fleeting": {JSON: `{"username": "fleeting"}`, MaxAge: time.Nanosecond}, // stale at once
	}}
	directories.Store("staff", dir)
	tc := caddytest.NewTester(t)
	tc.InitServer(fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	skip_install_trust
}
:%d {
	jwt_user {
		secret %s
		store directory staff
		cache_ttl 1h
		cache_not_found_ttl 1h
		stale_if_error 1h
	}
	respond "{jwt.user.username} {jwt.user.roles}"
}`, jwtuser.TestAdminPort, jwtuser.TestHTTPPort, jwtuser.TestHTTPSPort, jwtuser.TestHTTPPort, thirdPartyKey), "caddyfile")

	send := func(sub string) (int, string) {
		t.Helper()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": sub, "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString([]byte(thirdPartyKey))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", thirdPartySite+"/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := tc.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	expect := func(sub string, status int, body string, calls int64) {
		t.Helper()
		if got, b := send(sub); got != status || b != body {
			t.Fatalf("%s: got %d %q, want %d %q", sub, got, b, status, body)
		}
		if n := dir.calls.Load(); n != calls {
			t.Fatalf("%s: the store was asked %d times, want %d", sub, n, calls)
		}
	}

	// Found users are cached: the store is asked once.
	for range 3 {
		expect("foo", 200, "foo admin", 1)
	}
	// So is "no such user".
	for range 3 {
		expect("nobody", 401, `{"msg":"Error loading the user nobody"}`, 2)
	}
	// The admin API purges one identity: the next request asks again.
	var purged struct{ Purged int }
	if code := jwtuser.AdminCall(t, "DELETE", "/jwt-user/cache/foo", &purged); code != 200 || purged.Purged != 1 {
		t.Fatalf("DELETE foo: %d %+v", code, purged)
	}
	expect("foo", 200, "foo admin", 3)
	expect("foo", 200, "foo admin", 3)

	// stale_if_error: an entry past its TTL (the store's MaxAge hint) still
	// answers while the store fails; with nothing cached, 503.
	expect("fleeting", 200, "fleeting ", 4)
	dir.down.Store(true)
	expect("fleeting", 200, "fleeting ", 5)
	expect("stranger", 503, `{"msg":"User store unavailable"}`, 6)

	// The admin API lists the store under its own name and description.
	var listing struct{ Stores []jwtuser.StoreStats }
	if code := jwtuser.AdminCall(t, "GET", "/jwt-user/cache", &listing); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	found := false
	for _, s := range listing.Stores {
		if s.Kind == "directory" && s.Store == "directory staff" {
			found = s.Entries == 2 && s.NotFoundEntries == 1 && s.StaleServed == 1
			if !found {
				t.Fatalf("directory stats: %+v", s)
			}
		}
	}
	if !found {
		t.Fatalf("the store is not listed: %+v", listing.Stores)
	}

	// Metrics count the cache and the store's own error kind.
	metrics := adminText(t, "/metrics")
	for _, want := range []string{
		`caddy_jwt_user_user_cache_total{result="hit"}`,
		`caddy_jwt_user_user_cache_total{result="stale"}`,
		`caddy_jwt_user_store_errors_total{kind="directory_down"} 2`,
		`caddy_jwt_user_requests_total{outcome="not_found"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func adminText(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(thirdPartyAdmin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(body)
}
