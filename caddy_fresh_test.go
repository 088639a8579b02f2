package jwtuser

import (
	"fmt"
	"testing"
	"time"
)

// Fresh tokens through a real Caddy. Real-Caddy tests never run in
// parallel: see caddy_helpers_test.go.

// TestRequireFresh: only a fresh token reaches the route; a NumericDate
// fresh claim goes stale at its time, the token still cached as verified.
func TestRequireFresh(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(":%d {\n%s%s%s}", httpPort, userRoute("default", users, "require_fresh"),
		userRoute("custom", users, "require_fresh\non_fresh_required 403 \"log in again, {jwt.identity}\""),
		userRoute("any", users, "")))
	now := time.Now().Unix()
	fresh := func(v any) string {
		c := claimsFor("foo")
		if v != nil {
			c["fresh"] = v
		}
		return bearer(hs256(t, c))
	}
	before := scrape(t)[`caddy_jwt_user_requests_total{outcome="not_fresh"}`]
	for _, tok := range []string{fresh(true), fresh(now + 600)} {
		if r := get(t, tc, "GET", "/default", tok); r.status != 200 || r.body != "default foo" {
			t.Fatalf("a fresh token: %d %q", r.status, r.body)
		}
	}
	stale := []string{fresh(nil), fresh(false), fresh(now - 1), fresh("true")}
	for _, tok := range stale {
		if r := get(t, tc, "GET", "/default", tok); r.status != 401 || r.body != `{"msg":"Fresh token required"}` {
			t.Fatalf("a token that is not fresh: %d %q", r.status, r.body)
		}
		if r := get(t, tc, "GET", "/custom", tok); r.status != 403 || r.body != "log in again, foo" {
			t.Fatalf("on_fresh_required: %d %q", r.status, r.body)
		}
		if r := get(t, tc, "GET", "/any", tok); r.status != 200 {
			t.Fatalf("without require_fresh: %d %q", r.status, r.body)
		}
	}
	if n := scrape(t)[`caddy_jwt_user_requests_total{outcome="not_fresh"}`]; n != before+float64(2*len(stale)) {
		t.Fatalf("not_fresh counted %v, want %v", n-before, 2*len(stale))
	}

	// Fresh for one more second: it passes, then goes stale while valid.
	soon := fresh(float64(time.Now().Add(time.Second).UnixMilli()) / 1000)
	if r := get(t, tc, "GET", "/default", soon); r.status != 200 {
		t.Fatalf("fresh for a second: %d %q", r.status, r.body)
	}
	eventually(t, "the token to go stale", func() bool { return get(t, tc, "GET", "/default", soon).status == 401 })
}
