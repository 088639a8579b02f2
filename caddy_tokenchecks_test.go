package jwtuser

import (
	"fmt"
	"testing"
	"time"
)

// Fresh tokens and token types through a real Caddy. Real-Caddy tests never run in
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

// TestTokenType: access routes refuse refresh tokens, refresh routes every
// other token, through on_invalid_token; counted as wrong_type.
func TestTokenType(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(":%d {\n%s%s%s}", httpPort, userRoute("access", users, "token_type access"),
		userRoute("refresh", users, "token_type refresh"), userRoute("either", users, "")))
	typed := func(typ any) string {
		c := claimsFor("foo")
		delete(c, "type")
		if typ != nil {
			c["type"] = typ
		}
		return bearer(hs256(t, c))
	}
	access, refresh, untyped := typed("access"), typed("refresh"), typed(nil)
	before := scrape(t)[`caddy_jwt_user_requests_total{outcome="wrong_type"}`]
	for _, c := range []struct {
		path, tok string
		status    int
		body      string
	}{
		{"/access", access, 200, "access foo"},
		{"/access", untyped, 200, "access foo"},
		{"/access", refresh, 401, `{"msg":"Only non-refresh tokens are allowed"}`},
		{"/refresh", refresh, 200, "refresh foo"},
		{"/refresh", access, 401, `{"msg":"Only refresh tokens are allowed"}`},
		{"/refresh", untyped, 401, `{"msg":"Only refresh tokens are allowed"}`},
		{"/either", refresh, 200, "either foo"},
		{"/either", access, 200, "either foo"},
	} {
		r := get(t, tc, "GET", c.path, c.tok)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.path, r.status, r.body, c.status, c.body)
		}
		if r.status == 401 && r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("%s: challenge %q", c.path, r.header.Get("WWW-Authenticate"))
		}
	}
	if n := scrape(t)[`caddy_jwt_user_requests_total{outcome="wrong_type"}`]; n != before+3 {
		t.Fatalf("wrong_type counted %v, want 3", n-before)
	}
}
