package jwtuser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// strip_headers deletes the client's own fields on every request the
// handler sees, before anything else, whatever comes of it.
func TestStripHeaders(t *testing.T) {
	t.Parallel()
	users := mapStore{"foo": `{"name":"foo"}`}
	strict := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), StripHeaders: []string{"x-user", "X-User-Roles"}}, users)
	optional := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), StripHeaders: []string{"X-User"}, Optional: true}, users)
	good := "Bearer " + hs256(t, claimsFor("foo"))
	for _, c := range []struct {
		name, method, auth string
		h                  Handler
		reached            bool
	}{
		{"user", "GET", good, strict, true},
		{"OPTIONS", "OPTIONS", "", strict, true},
		{"anonymous, optional", "GET", "", optional, true},
		{"missing token", "GET", "", strict, false},
		{"bad token", "GET", "Bearer x.y.z", strict, false},
		{"unknown user", "GET", "Bearer " + hs256(t, claimsFor("nobody")), strict, false},
	} {
		r := httptest.NewRequest(c.method, "/", nil)
		r.Header["X-User"] = []string{"admin"}
		r.Header["X-User-Roles"] = []string{"admin"}
		r.Header.Set("X-Other", "kept")
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		caddyhttp.NewTestReplacer(r)
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
		reached := false
		next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { reached = true; return nil })
		if err := c.h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
			t.Fatal(err)
		}
		if reached != c.reached {
			t.Errorf("%s: reached %v", c.name, reached)
		}
		if r.Header.Get("X-Other") != "kept" {
			t.Errorf("%s: a field not listed was deleted", c.name)
		}
		if _, ok := r.Header["X-User"]; ok {
			t.Errorf("%s: the client's X-User is still there", c.name)
		}
		if _, ok := r.Header["X-User-Roles"]; ok != (c.h.Optional) {
			t.Errorf("%s: X-User-Roles there: %v", c.name, ok)
		}
	}
	for _, bad := range [][]string{{""}, {"X User"}, {"X-User:"}, {"{http.request.host}"}} {
		h := Handler{KeysRaw: secretKeys(testSecret), StripHeaders: bad}
		if err := provision(t, &h, users); err == nil || !strings.Contains(err.Error(), "strip_headers") {
			t.Errorf("strip_headers %q: %v", bad, err)
		}
	}
}

func TestStripHeadersCaddyfile(t *testing.T) {
	t.Parallel()
	var h Handler
	d := caddyfile.NewTestDispenser("jwt_user {\n strip_headers X-User X-Roles\n strip_headers X-Id\n}")
	if err := h.UnmarshalCaddyfile(d); err != nil || strings.Join(h.StripHeaders, " ") != "X-User X-Roles X-Id" {
		t.Fatalf("got %q %v", h.StripHeaders, err)
	}
	if err := new(Handler).UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n strip_headers\n}")); err == nil {
		t.Error("strip_headers without a field was accepted")
	}
}
