package jwtuser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// userService is a real HTTP user service for one test; it counts calls.
type userService struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	paths []string // escaped path and raw query of each call
}

func newUserService(t *testing.T, handler http.HandlerFunc) *userService {
	t.Helper()
	s := &userService{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type storeOptions struct {
	ttl, notFoundTTL, stale time.Duration
	size                    int
	timeout                 time.Duration
	maxBody                 int64
	headers                 http.Header
}

// testHTTPStore is a users_url store behind its caching layer.
type testHTTPStore struct {
	*cachedStore
	cache *userCache // nil when the TTL is 0
}

// lookup loads through the cache, as the handler does.
func (s *testHTTPStore) lookup(ctx context.Context, tok *token) (string, error) {
	u, err := s.LoadUser(ctx, Token{tok})
	return u.JSON, err
}

// newTestHTTPStore builds a users_url store and its caching layer, with a
// fake clock.
func newTestHTTPStore(t testing.TB, template string, o storeOptions) (*testHTTPStore, *fakeClock) {
	t.Helper()
	ctx := testContext(t)
	store := &UsersURL{URL: template, Timeout: caddy.Duration(o.timeout), MaxBody: o.maxBody, Headers: o.headers}
	if err := store.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Cleanup() })
	settings := cacheSettings{ttl: o.ttl, notFoundTTL: o.notFoundTTL, staleIfError: o.stale, size: o.size}
	if settings.size == 0 {
		settings.size = 100
	}
	// A distinct identity per store: tests never share entries.
	cs, err := newCachedStore(ctx, store, "http", t.Name()+template+fmt.Sprint(time.Now().UnixNano()), settings, nil, "", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.release() })
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	s := &testHTTPStore{cachedStore: cs, cache: cs.shared.entries}
	if s.cache != nil {
		s.cache.now = clock.Now
	}
	return s, clock
}

func tokenFor(identity string) *token {
	return &token{identity: identity, payload: mustJSON(`{"sub":"` + identity + `","tenant":"acme"}`)}
}

func jsonUser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{ "id" : "` + strings.TrimPrefix(r.URL.Path, "/users/") + `", "roles": ["admin"] }`))
}

// waitingForLoad counts the goroutines of the test named test that are
// parked in (*cachedStore).LoadUser, waiting for a load in flight to
// answer: short of a hook in the code, the sign that a lookup has joined
// the load. It reads every goroutine's stack.
func waitingForLoad(test string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	waiting := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, frames, _ := strings.Cut(g, "\n")
		if !strings.Contains(header, "[select") || !strings.Contains(frames, "."+test+".func") {
			continue
		}
		// The innermost frame outside the runtime is the one waiting.
		for _, line := range strings.Split(frames, "\n") {
			if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "runtime.") {
				continue
			}
			if strings.Contains(line, ".(*cachedStore).LoadUser(") {
				waiting++
			}
			break
		}
	}
	return waiting
}

func TestHTTPStoreOutcomes(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2048)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		user    string
		err     string // "" for a user; ErrUserNotFound's text; or the store failure
	}{
		{"200 object", jsonUser, `{"id":"foo","roles":["admin"]}`, ""},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "", ErrUserNotFound.Error()},
		{"410", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }, "", ErrUserNotFound.Error()},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, "", "user store answered with status 500"},
		{"401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }, "", "user store answered with status 401"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/users/admin", http.StatusFound) }, "", "user store answered with status 302"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, "", "user store: not json"},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"id":`)) }, "", "user store: not json"},
		{"array", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`[{"id":"foo"}]`)) }, "", "user store: not object"},
		{"null", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`null`)) }, "", "user store: not object"},
		{"duplicate member", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"roles":[],"roles":["admin"]}`)) }, "", "user store: not json"},
		{"too large", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"x":"` + big + `"}`)) }, "", "user store: too large"},
		{"reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		}, "", "user store: connection reset"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, "", "user store: timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			svc := newUserService(t, c.handler)
			s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{maxBody: 1024, timeout: 200 * time.Millisecond})
			user, err := s.lookup(context.Background(), tokenFor("foo"))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if user != c.user || got != c.err {
				t.Fatalf("got %q %q, want %q %q", user, got, c.user, c.err)
			}
		})
	}
}

func TestHTTPStoreUnreachable(t *testing.T) {
	t.Parallel()
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, _ := newTestHTTPStore(t, "http://"+addr+"/users/{jwt.identity}", storeOptions{timeout: time.Second})
	if _, err := s.lookup(context.Background(), tokenFor("foo")); err == nil || err.Error() != "user store: connection refused" {
		t.Errorf("refused: %v", err)
	}
	s, _ = newTestHTTPStore(t, "http://users.invalid/users/{jwt.identity}", storeOptions{timeout: 3 * time.Second})
	_, err = s.lookup(context.Background(), tokenFor("foo"))
	var sf *storeFailure
	if !errors.As(err, &sf) || (sf.kind != "dns" && sf.kind != "timeout") {
		t.Errorf("DNS failure: %v", err)
	}
	if strings.Contains(err.Error(), "foo") {
		t.Errorf("the error names the identity: %v", err)
	}
}

func TestHTTPStoreEscapesIdentities(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, jsonUser)
	received := make(chan *url.URL, 1)
	svc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received <- r.URL
		_, _ = w.Write([]byte(`{}`))
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}/profile?tenant={jwt.claims.tenant}&id={jwt.identity}", storeOptions{})
	for _, id := range []string{"../admin", "..", ".", "a/b", "x?y=1", "%2e%2e", "é", "a b", "a\nb", "a#b", "a&tenant=evil", "a;b", `a"b`, "a+b"} {
		if _, err := s.lookup(context.Background(), &token{identity: id, payload: mustJSON(`{"tenant":"t&x=1"}`)}); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		u := <-received
		segments := strings.Split(u.EscapedPath(), "/")
		if len(segments) != 4 || segments[1] != "users" || segments[3] != "profile" {
			t.Errorf("%q: the service got path %q", id, u.EscapedPath())
			continue
		}
		if seg, err := url.PathUnescape(segments[2]); err != nil || seg != id {
			t.Errorf("%q: the segment %q decodes to %q", id, segments[2], seg)
		}
		if segments[2] == "." || segments[2] == ".." {
			t.Errorf("%q: a dot segment reached the service", id)
		}
		q := u.Query()
		if len(q) != 2 || q.Get("id") != id || q.Get("tenant") != "t&x=1" {
			t.Errorf("%q: the service got query %q", id, u.RawQuery)
		}
	}
}

func TestHTTPStoreRequest(t *testing.T) {
	// Serial: t.Setenv sets the process-wide environment.
	t.Setenv("JWT_USER_TEST_TOKEN", "s3cret")
	got := make(chan http.Header, 1)
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		_, _ = w.Write([]byte(`{}`))
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/u/{jwt.identity}", storeOptions{headers: http.Header{
		"Authorization": {"Bearer {env.JWT_USER_TEST_TOKEN}"},
		"X-Tenant":      {"acme"},
	}})
	if _, err := s.lookup(context.Background(), tokenFor("foo")); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.Get("Accept") != "application/json" || h.Get("Authorization") != "Bearer s3cret" || h.Get("X-Tenant") != "acme" ||
		!strings.Contains(h.Get("User-Agent"), "caddy-jwt-user") {
		t.Errorf("request header fields: %v", h)
	}
}

func TestURLTemplateErrors(t *testing.T) {
	// Serial: t.Setenv sets the process-wide environment.
	for _, c := range []struct{ tmpl, want string }{
		{"", "the URL is empty"},
		{"ftp://x/{jwt.identity}", "not an http or https URL"},
		{"/users/{jwt.identity}", "not an http or https URL"},
		{"http://{jwt.identity}.example.com/", "stands in the host"},
		{"http://example.com{jwt.identity}", "stands in the host"},
		{"http://example.com/{jwt.user.id}", "not known before the user is loaded"},
		{"http://example.com/{jwt.error}", "not known before the user is loaded"},
		{"http://example.com/{nope.x}", "unknown placeholder {nope.x}"},
		{"http://example.com/{jwt.identity}#frag", "fragment"},
	} {
		_, err := parseURLTemplate(c.tmpl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.tmpl, err, c.want)
		}
	}
	t.Setenv("JWT_USER_TEST_HOST", "users.internal:8080")
	tmpl, err := parseURLTemplate("https://{env.JWT_USER_TEST_HOST}/v1/users/{jwt.identity}")
	if err != nil || tmpl.render(tokenFor("foo")) != "https://users.internal:8080/v1/users/foo" {
		t.Errorf("global placeholder in the host: %v %q", err, tmpl.render(tokenFor("foo")))
	}
}

func TestUserCacheTTL(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/nobody") {
			http.NotFound(w, r)
			return
		}
		jsonUser(w, r)
	})
	s, clock := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, notFoundTTL: 10 * time.Second})
	ctx := context.Background()
	lookup := func(id string) error { _, err := s.lookup(ctx, tokenFor(id)); return err }
	for i := 0; i < 5; i++ {
		if err := lookup("foo"); err != nil {
			t.Fatal(err)
		}
	}
	if n := svc.calls.Load(); n != 1 {
		t.Fatalf("5 lookups within the TTL made %d store calls", n)
	}
	clock.Advance(59 * time.Second)
	_ = lookup("foo")
	if n := svc.calls.Load(); n != 1 {
		t.Fatalf("a lookup just inside the TTL called the store (%d calls)", n)
	}
	clock.Advance(time.Second)
	_ = lookup("foo")
	if n := svc.calls.Load(); n != 2 {
		t.Fatalf("a lookup at the TTL did not refresh (%d calls)", n)
	}
	// Not found is cached for its own TTL.
	for i := 0; i < 3; i++ {
		if err := lookup("nobody"); err != ErrUserNotFound {
			t.Fatalf("nobody: %v", err)
		}
	}
	if n := svc.calls.Load(); n != 3 {
		t.Fatalf("not-found was not cached (%d calls)", n)
	}
	clock.Advance(10 * time.Second)
	_ = lookup("nobody")
	if n := svc.calls.Load(); n != 4 {
		t.Fatalf("not-found outlived its TTL (%d calls)", n)
	}
}

func TestUserCacheOffAndBounded(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, jsonUser)
	off, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: 0, notFoundTTL: time.Minute})
	for i := 0; i < 3; i++ {
		_, _ = off.lookup(context.Background(), tokenFor("foo"))
	}
	if n := svc.calls.Load(); n != 3 || off.cache != nil {
		t.Fatalf("cache_ttl 0: %d calls", n)
	}
	svc.calls.Store(0)
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Hour, size: 3})
	for _, id := range []string{"a", "b", "c", "a", "d"} { // d evicts b, the least recently used
		_, _ = s.lookup(context.Background(), tokenFor(id))
	}
	if found, _ := s.cache.len(); found != 3 {
		t.Fatalf("cache holds %d entries, bound 3", found)
	}
	before := svc.calls.Load()
	for _, id := range []string{"a", "c", "d"} {
		_, _ = s.lookup(context.Background(), tokenFor(id))
	}
	if svc.calls.Load() != before {
		t.Fatal("a recently used entry was evicted")
	}
	_, _ = s.lookup(context.Background(), tokenFor("b"))
	if svc.calls.Load() != before+1 {
		t.Fatal("the least recently used entry was not the one evicted")
	}
}

func TestUnknownIdentitiesCannotEvictUsers(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/users/ghost") {
			http.NotFound(w, r)
			return
		}
		jsonUser(w, r)
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Hour, notFoundTTL: time.Hour, size: 100})
	_, _ = s.lookup(context.Background(), tokenFor("foo"))
	for i := 0; i < 1000; i++ {
		_, _ = s.lookup(context.Background(), tokenFor("ghost"+itoa(int64(i))))
	}
	found, notFound := s.cache.len()
	if found != 1 || notFound != 100/notFoundShare {
		t.Fatalf("after 1000 unknown identities: %d found, %d not-found entries", found, notFound)
	}
	calls := svc.calls.Load()
	_, _ = s.lookup(context.Background(), tokenFor("foo"))
	if svc.calls.Load() != calls {
		t.Fatal("unknown identities evicted a real user")
	}
}

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		jsonUser(w, r)
	})
	s, clock := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, notFoundTTL: time.Minute, stale: 5 * time.Minute})
	ctx := context.Background()
	if _, err := s.lookup(ctx, tokenFor("foo")); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	clock.Advance(2 * time.Minute) // stale, inside stale_if_error
	user, err := s.lookup(ctx, tokenFor("foo"))
	if err != nil || user != `{"id":"foo","roles":["admin"]}` {
		t.Fatalf("stale copy while failing: %q %v", user, err)
	}
	if n := svc.calls.Load(); n != 2 {
		t.Fatalf("the stale entry was served without asking the store (%d calls)", n)
	}
	clock.Advance(4 * time.Minute) // past ttl + stale_if_error
	if _, err := s.lookup(ctx, tokenFor("foo")); err == nil || err.Error() != "user store answered with status 502" {
		t.Fatalf("past stale_if_error: %v", err)
	}
	// Never a stale copy for an identity never loaded.
	if _, err := s.lookup(ctx, tokenFor("bar")); err == nil || errors.Is(err, ErrUserNotFound) {
		t.Fatalf("bar while failing: %v", err)
	}
	// Without stale_if_error an expired entry is not used.
	failing.Store(false)
	strict, clock2 := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute})
	_, _ = strict.lookup(ctx, tokenFor("foo"))
	failing.Store(true)
	clock2.Advance(time.Minute)
	if _, err := strict.lookup(ctx, tokenFor("foo")); err == nil {
		t.Fatal("an expired entry served without stale_if_error")
	}
}

func TestCacheControl(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/short"):
			w.Header().Set("Cache-Control", "private, max-age=5")
		case strings.HasSuffix(r.URL.Path, "/long"):
			w.Header().Set("Cache-Control", "max-age=600")
		case strings.HasSuffix(r.URL.Path, "/never"):
			w.Header().Set("Cache-Control", "no-store")
		case strings.HasSuffix(r.URL.Path, "/revalidate"):
			w.Header().Set("Cache-Control", "no-cache")
		}
		jsonUser(w, r)
	})
	s, clock := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute})
	ctx := context.Background()
	calls := func(id string, times int) int64 {
		before := svc.calls.Load()
		for i := 0; i < times; i++ {
			if _, err := s.lookup(ctx, tokenFor(id)); err != nil {
				t.Fatal(err)
			}
		}
		return svc.calls.Load() - before
	}
	if n := calls("never", 3); n != 3 {
		t.Errorf("no-store: %d calls for 3 lookups", n)
	}
	if n := calls("revalidate", 3); n != 3 {
		t.Errorf("no-cache: %d calls for 3 lookups", n)
	}
	calls("short", 1)
	calls("long", 1)
	clock.Advance(6 * time.Second)
	if n := calls("short", 1); n != 1 {
		t.Errorf("max-age=5 still cached after 6s")
	}
	clock.Advance(5 * time.Minute)
	if n := calls("long", 1); n != 0 {
		t.Errorf("max-age=600 expired after 5m")
	}
}

func TestConcurrentLoadsShareOneRequest(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		jsonUser(w, r)
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, timeout: 10 * time.Second})
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			user, err := s.lookup(context.Background(), tokenFor("foo"))
			if err == nil && user != `{"id":"foo","roles":["admin"]}` {
				err = errors.New("wrong user " + user)
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		<-started
	}
	eventually(t, "the first call to reach the store", func() bool { return svc.calls.Load() == 1 })
	eventually(t, "every lookup to join the load in flight", func() bool { return waitingForLoad(t.Name()) == n })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := svc.calls.Load(); c != 1 {
		t.Fatalf("%d concurrent first lookups made %d store calls", n, c)
	}
}

func TestCancelledWaiterDoesNotCancelTheLoad(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		jsonUser(w, r)
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, timeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := s.lookup(ctx, tokenFor("foo")); first <- err }()
	eventually(t, "the load to start", func() bool { return svc.calls.Load() == 1 })
	second := make(chan string, 1)
	go func() { u, _ := s.lookup(context.Background(), tokenFor("foo")); second <- u }()
	eventually(t, "the second lookup to join the load", func() bool { return waitingForLoad(t.Name()) == 2 })
	cancel() // the first client goes away
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(release)
	if u := <-second; u != `{"id":"foo","roles":["admin"]}` {
		t.Fatalf("the other waiter got %q", u)
	}
	if c := svc.calls.Load(); c != 1 {
		t.Fatalf("%d store calls", c)
	}
}

func TestHTTPStoreLeavesNoGoroutines(t *testing.T) {
	// Serial: it counts the process's goroutines, which parallel tests change.
	svc := newUserService(t, jsonUser)
	before := runtime.NumGoroutine()
	for round := 0; round < 5; round++ {
		t.Run("round", func(t *testing.T) {
			s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, size: 10})
			for i := 0; i < 20; i++ {
				_, _ = s.lookup(context.Background(), tokenFor("u"+itoa(int64(i))))
			}
		})
	}
	svc.CloseClientConnections()
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
