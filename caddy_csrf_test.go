package jwtuser

import (
	"fmt"
	"testing"
)

// CSRF double submit through a real Caddy. Real-Caddy tests never run in
// parallel: see caddy_helpers_test.go.

// TestCSRFDoubleSubmit: a cookie's token is checked on POST, not on GET; a
// header's token never; csrf off turns it off; csrf_header and
// csrf_methods change what is checked.
func TestCSRFDoubleSubmit(t *testing.T) {
	users := usersFile(t, seedUsers)
	cookieAndHeader := "from cookie access_token_cookie\nfrom header Authorization"
	tc := startCaddy(t, fmt.Sprintf(":%d {\n%s%s%s}", httpPort,
		userRoute("default", users, cookieAndHeader+"\non_csrf_failure 403 \"csrf: {jwt.error}\""),
		userRoute("off", users, cookieAndHeader+"\ncsrf off"),
		userRoute("custom", users, "from cookie jwt\ncsrf_header X-XSRF-Token\ncsrf_methods POST GET")))
	withCSRF := func(v any) string {
		c := claimsFor("foo")
		if v != nil {
			c["csrf"] = v
		}
		return hs256(t, c)
	}
	good, noClaim := withCSRF("s3cret-csrf"), withCSRF(nil)
	before := scrape(t)[`caddy_jwt_user_requests_total{outcome="csrf"}`]
	for _, c := range []struct {
		method, path string
		fields       []string
		status       int
		body         string
	}{
		// GET is not checked, POST is.
		{"GET", "/default", []string{"Cookie: access_token_cookie=" + good}, 200, "default foo"},
		{"GET", "/default", []string{"Cookie: access_token_cookie=" + noClaim}, 200, "default foo"},
		{"POST", "/default", []string{"Cookie: access_token_cookie=" + good, "X-CSRF-TOKEN: s3cret-csrf"}, 200, "default foo"},
		{"POST", "/default", []string{"Cookie: access_token_cookie=" + good}, 403, "csrf: Missing CSRF token"},
		{"DELETE", "/default", []string{"Cookie: access_token_cookie=" + good, "X-CSRF-TOKEN: s3cret-csrX"}, 403, "csrf: CSRF double submit tokens do not match"},
		{"PATCH", "/default", []string{"Cookie: access_token_cookie=" + noClaim, "X-CSRF-TOKEN: x"}, 401, `{"msg":"Missing claim: csrf"}`},
		// The header is missing: answered before the token is verified.
		{"PUT", "/default", []string{"Cookie: access_token_cookie=not.a.token"}, 403, "csrf: Missing CSRF token"},
		// A header's token is never checked, on any method.
		{"POST", "/default", []string{bearer(noClaim)}, 200, "default foo"},
		{"POST", "/default", []string{bearer(good), "X-CSRF-TOKEN: wrong"}, 200, "default foo"},
		// csrf off.
		{"POST", "/off", []string{"Cookie: access_token_cookie=" + noClaim}, 200, "off foo"},
		// csrf_header and csrf_methods.
		{"GET", "/custom", []string{"Cookie: jwt=" + good, "X-CSRF-TOKEN: s3cret-csrf"}, 401, `{"msg":"Missing CSRF token"}`},
		{"GET", "/custom", []string{"Cookie: jwt=" + good, "X-XSRF-Token: s3cret-csrf"}, 200, "custom foo"},
		{"DELETE", "/custom", []string{"Cookie: jwt=" + noClaim}, 200, "custom foo"},
	} {
		r := get(t, tc, c.method, c.path, c.fields...)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s %s %v: %d %q, want %d %q", c.method, c.path, c.fields, r.status, r.body, c.status, c.body)
		}
	}
	if n := scrape(t)[`caddy_jwt_user_requests_total{outcome="csrf"}`]; n != before+4 {
		t.Errorf("csrf counted %v, want 4", n-before)
	}
}
