package jwtuser

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Operations through a real Caddy: metrics and the admin API's cache
// endpoints. Real-Caddy tests never run in parallel: see
// caddy_helpers_test.go.

// TestMetrics sends real traffic through every outcome and cache path and
// reads the counts back from the admin endpoint's /metrics.
func TestMetrics(t *testing.T) {
	var down atomic.Bool
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		jsonUser(w, r)
	})
	badJWKS := newJWKSServer(t)
	badJWKS.status.Store(500)
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /file {
		jwt_user {
			secret %s
			users_file %s
		}
		respond ok
	}
	route /url {
		jwt_user {
			secret %s
			users_url %s/users/{jwt.identity}
			cache_ttl 100ms
			stale_if_error 1h
		}
		respond ok
	}
	route /optional {
		jwt_user {
			secret %s
			users_file %s
			optional
		}
		respond ok
	}
	route /jwks {
		jwt_user {
			jwks %s
			users_file %s
		}
		respond ok
	}
}`, httpPort, testSecret, users, testSecret, svc.URL, testSecret, users, badJWKS.URL, users))
	before := scrape(t)
	// The key set was fetched (and failed) while the configuration loaded,
	// before the scrape.
	before["caddy_jwt_user_jwks_fetches_total"]--
	before["caddy_jwt_user_jwks_fetch_failures_total"]--

	foo := bearer(hs256(t, claimsFor("foo")))
	u1 := bearer(hs256(t, claimsFor("u1")))
	for _, c := range []struct {
		path   string
		fields []string
		status int
	}{
		{"/file", []string{foo}, 200},
		{"/file", []string{foo}, 200}, // a token cache hit
		{"/file", nil, 401},
		{"/file", []string{bearer("a.b.c")}, 401},
		{"/file", []string{bearer(hs256(t, map[string]any{"sub": "foo", "exp": 1}))}, 401},
		{"/file", []string{bearer(hs256(t, claimsFor("nobody")))}, 401},
		{"/optional", nil, 200},
		{"/jwks", []string{bearer(signToken(t, "RS256", getKeys(t).rsa, claimsFor("foo"), nil))}, 503},
		{"/url", []string{u1}, 200}, // miss
		{"/url", []string{u1}, 200}, // hit
	} {
		if r := get(t, tc, "GET", c.path, c.fields...); r.status != c.status {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
	}
	// Real time: the real Caddy's user cache runs on the real clock, and
	// nothing but its 100ms cache_ttl passing makes u1 stale.
	time.Sleep(150 * time.Millisecond)
	down.Store(true)
	if r := get(t, tc, "GET", "/url", u1); r.status != 200 {
		t.Fatalf("stale u1: %d %s", r.status, r.body)
	}
	if r := get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor("u2")))); r.status != 503 {
		t.Fatalf("u2 while down: %d %s", r.status, r.body)
	}

	after := scrape(t)
	delta := func(series string) float64 { return after[series] - before[series] }
	for series, want := range map[string]float64{
		`caddy_jwt_user_requests_total{outcome="ok"}`:                 5,
		`caddy_jwt_user_requests_total{outcome="missing"}`:            1,
		`caddy_jwt_user_requests_total{outcome="invalid"}`:            1,
		`caddy_jwt_user_requests_total{outcome="expired"}`:            1,
		`caddy_jwt_user_requests_total{outcome="not_found"}`:          1,
		`caddy_jwt_user_requests_total{outcome="store_error"}`:        2,
		`caddy_jwt_user_requests_total{outcome="optional_anonymous"}`: 1,
		`caddy_jwt_user_user_cache_total{result="hit"}`:               1,
		`caddy_jwt_user_user_cache_total{result="miss"}`:              3,
		`caddy_jwt_user_user_cache_total{result="stale"}`:             1,
		`caddy_jwt_user_store_errors_total{kind="status"}`:            2,
		`caddy_jwt_user_store_request_duration_seconds_count`:         3,
		`caddy_jwt_user_token_cache_hits_total`:                       3,
		`caddy_jwt_user_jwks_fetches_total`:                           1,
		`caddy_jwt_user_jwks_fetch_failures_total`:                    1,
	} {
		if got := delta(series); got != want {
			t.Errorf("%s: %v, want %v", series, got, want)
		}
	}
	for series := range after {
		if strings.Contains(series, "foo") || strings.Contains(series, "u1") || strings.Contains(series, testSecret[:16]) {
			t.Errorf("a label holds a user or a token: %s", series)
		}
	}
}

// TestAdminCacheAPI lists and purges user caches through the admin endpoint.
func TestAdminCacheAPI(t *testing.T) {
	svc := newUserService(t, jsonUser)
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /url {
		jwt_user {
			secret %s
			users_url %s/users/{jwt.identity}
			cache_ttl 1h
		}
		respond "{jwt.user.id}"
	}
	route /file {
		jwt_user {
			secret %s
			users_file %s
		}
		respond ok
	}
}`, httpPort, testSecret, svc.URL, testSecret, users))
	for _, id := range []string{"u1", "u2", "a/b", "u1", "u1"} {
		if r := get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor(id)))); r.status != 200 {
			t.Fatalf("%s: %d %s", id, r.status, r.body)
		}
	}
	var listing struct{ Stores []StoreStats }
	if code := admin(t, "GET", "/jwt-user/cache", &listing); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	var url, file *StoreStats
	for i, s := range listing.Stores {
		switch {
		case s.Kind == "http" && s.Store == svc.URL:
			url = &listing.Stores[i]
		case s.Kind == "file" && s.Store == users:
			file = &listing.Stores[i]
		}
	}
	if url == nil || url.Entries != 3 || url.Hits != 2 || url.Misses != 3 || url.HitRatio == nil || *url.HitRatio != 0.4 {
		t.Fatalf("users_url store: %+v in %+v", url, listing.Stores)
	}
	if file == nil || file.Entries != 7 {
		t.Fatalf("users_file store: %+v", file)
	}

	calls := svc.calls.Load()
	var purged struct{ Purged int }
	if code := admin(t, "DELETE", "/jwt-user/cache/a%2Fb", &purged); code != 200 || purged.Purged != 1 {
		t.Fatalf("DELETE a/b: %d %+v", code, purged)
	}
	get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor("u1"))))
	get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor("a/b"))))
	if n := svc.calls.Load() - calls; n != 1 {
		t.Fatalf("after purging a/b: %d store calls, want 1 (a/b only)", n)
	}
	if code := admin(t, "DELETE", "/jwt-user/cache", &purged); code != 200 || purged.Purged != 3 {
		t.Fatalf("DELETE all: %d %+v", code, purged)
	}
	get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor("u1"))))
	if n := svc.calls.Load() - calls; n != 2 {
		t.Fatalf("after purging all: %d store calls", n)
	}
	if code := admin(t, "POST", "/jwt-user/cache", nil); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", code)
	}
}

// TestTokenCacheAPI: configured token caches show in the admin API's
// cache listing, per handler and per issuer block, with the hits, misses
// and evictions of the requests sent, and the metrics count the same.
func TestTokenCacheAPI(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /one {
		jwt_user {
			secret %s
			users_file %s
			token_cache 2 64KiB
		}
		respond ok
	}
	route /blocks {
		jwt_user {
			token_cache off
			issuer https://a.example {
				secret %s
				token_cache 3
			}
			issuer https://b.example {
				secret %s
			}
			users_file %s
		}
		respond ok
	}
}`, httpPort, testSecret, users, testSecret, testSecret, users))
	before := scrape(t)
	tokenWith := func(iss string, jti int) string {
		c := claimsFor("foo")
		c["jti"] = itoa(int64(jti))
		if iss != "" {
			c["iss"] = iss
		}
		return bearer(hs256(t, c))
	}
	for _, c := range []struct{ path, token string }{
		// A cache of two: 1 misses, hits; 2 and 3 miss, and 3 evicts 2,
		// not 1, which was used since it came; 1 still hits.
		{"/one", tokenWith("", 1)}, {"/one", tokenWith("", 1)}, {"/one", tokenWith("", 2)},
		{"/one", tokenWith("", 3)}, {"/one", tokenWith("", 1)},
		{"/blocks", tokenWith("https://a.example", 1)}, {"/blocks", tokenWith("https://a.example", 1)},
		{"/blocks", tokenWith("https://b.example", 1)}, {"/blocks", tokenWith("https://b.example", 1)},
	} {
		if r := get(t, tc, "GET", c.path, c.token); r.status != 200 {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
	}
	var listing struct {
		Stores      []StoreStats
		TokenCaches []TokenCacheStats `json:"token_caches"`
	}
	if code := admin(t, "GET", "/jwt-user/cache", &listing); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	if len(listing.Stores) == 0 {
		t.Fatal("the stores are no longer listed")
	}
	if len(listing.TokenCaches) != 2 {
		t.Fatalf("token caches: %+v, want /one's and block a's (b's is off)", listing.TokenCaches)
	}
	ratio := func(r float64) *float64 { return &r }
	for i, want := range []TokenCacheStats{
		{Keys: "secret", Entries: 2, MaxEntries: 2, MaxBytes: 64 << 10, Hits: 2, Misses: 3, Evictions: 1, HitRatio: ratio(0.4)},
		{Keys: "secret", Issuer: "https://a.example", Entries: 1, MaxEntries: 3, MaxBytes: 16 << 20, Hits: 1, Misses: 1, HitRatio: ratio(0.5)},
	} {
		got := listing.TokenCaches[i]
		if got.HitRatio == nil || *got.HitRatio != *want.HitRatio || got.Bytes <= 0 || got.Bytes > got.MaxBytes {
			t.Errorf("token cache %d: %+v", i, got)
		}
		got.HitRatio, got.Bytes = want.HitRatio, 0
		if got != want {
			t.Errorf("token cache %d: %+v, want %+v", i, got, want)
		}
	}
	after := scrape(t)
	for series, want := range map[string]float64{
		"caddy_jwt_user_token_cache_hits_total":      3,
		"caddy_jwt_user_token_cache_misses_total":    3 + 1,
		"caddy_jwt_user_token_cache_evictions_total": 1,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s: %v, want %v", series, got, want)
		}
	}
}
