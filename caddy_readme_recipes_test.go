package jwtuser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeRequest is one request a README recipe describes, and what it must
// get: the status, text the body holds, and the Location of a redirect.
type readmeRequest struct {
	path     string
	fields   []string
	status   int
	body     string
	location string
}

// readmeRecipe names a README Caddyfile by text only it holds, and the
// requests its prose promises.
type readmeRecipe struct {
	name, marker string
	requests     []readmeRequest
}

// TestREADMERecipesDoWhatTheySay sends the requests the README describes
// through a real Caddy running each recipe, with a real upstream standing at
// localhost:9000 that echoes the user fields it receives.
func TestREADMERecipesDoWhatTheySay(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream X-User=%q X-User-Id=%q X-User-Roles=%q", r.Header["X-User"], r.Header["X-User-Id"], r.Header["X-User-Roles"])
	}))
	defer upstream.Close()
	users := filepath.Join(t.TempDir(), "users.json")
	writeFile(t, users, `{"foo": {"username": "foo", "roles": ["admin"]}, "bar": {"username": "bar", "roles": ["peasant"]}}`)
	t.Setenv("JWT_SECRET", testSecret)
	now := time.Now().Unix()
	foo, bar, nobody := bearer(hs256(t, claimsFor("foo"))), bearer(hs256(t, claimsFor("bar"))), bearer(hs256(t, claimsFor("nobody")))
	expired := hs256(t, map[string]any{"sub": "bar", "exp": now - 10})
	forwarded := `X-User-Id=["bar"] X-User-Roles=["peasant"]`
	recipes := []readmeRecipe{
		{"the seed's admin-only route", "route /admin-only {", []readmeRequest{
			{"/admin-only", []string{foo}, 200, `{"msg":"don't forget to drink your ovaltine"}`, ""},
			{"/admin-only", []string{bar}, 403, `{"msg":"Forbidden"}`, ""},
			{"/admin-only", []string{nobody}, 404, `{"msg":"User nobody not found"}`, ""},
			{"/admin-only", nil, 401, `{"msg":"Missing Authorization Header"}`, ""},
		}},
		{"role check", "route /admin/* {", []readmeRequest{
			{"/admin/x", []string{foo}, 200, "upstream", ""},
			{"/admin/x", []string{bar}, 403, `{"msg":"Forbidden"}`, ""},
			{"/admin/x", nil, 401, `{"msg":"Missing Authorization Header"}`, ""},
		}},
		{"forwarding the user", "request_header X-User-Id {jwt.identity}", []readmeRequest{
			{"/", []string{bar, "X-User-Id: admin", "X-User-Roles: admin"}, 200, forwarded, ""},
			{"/", []string{"X-User-Id: admin"}, 401, `{"msg":"Missing Authorization Header"}`, ""},
		}},
		{"forwarding the whole user", "request_header X-User {jwt.user}", []readmeRequest{
			{"/", []string{bar, "X-User: admin"}, 200, `X-User=["{\"username\":\"bar\",\"roles\":[\"peasant\"]}"]`, ""},
		}},
		{"optional authentication", "request_header @user X-User {jwt.identity}", []readmeRequest{
			{"/", []string{bar, "X-User: admin"}, 200, `X-User=["bar"]`, ""},
			{"/", []string{"X-User: admin"}, 200, `X-User=[]`, ""},
			{"/", []string{"X-User: admin", "x-user: root"}, 200, `X-User=[]`, ""},
			{"/", []string{"Authorization: Bearer x.y.z", "X-User: admin"}, 401, `{"msg":`, ""},
		}},
		{"a login redirect", "from cookie access_token_cookie", []readmeRequest{
			{"/page", nil, 302, "", "/login?next=/page"},
			{"/page", []string{"Cookie: access_token_cookie=" + expired}, 302, "", "/login?expired=1&next=/page"},
			{"/page", []string{"Cookie: access_token_cookie=" + hs256(t, claimsFor("bar"))}, 200, "reached", ""},
		}},
		{"the redirect fragment", "on_missing_token 302 \"\" {\n\theader Location /login\n}", []readmeRequest{
			{"/x", nil, 302, "", "/login"},
		}},
	}
	local := strings.NewReplacer("/etc/caddy/users.json", users, "example-users.json", users,
		"localhost:9000", strings.TrimPrefix(upstream.URL, "http://"))
	ran := map[string]int{}
	for i, block := range readmeCaddyfiles(t) {
		for _, recipe := range recipes {
			if !strings.Contains(block, recipe.marker) {
				continue
			}
			ran[recipe.name]++
			body := local.Replace(block)
			if strings.HasPrefix(body, "on_") {
				body = "jwt_user {\n\tsecret {env.JWT_SECRET}\n\tusers_file " + users + "\n" + body + "\n}"
			}
			if !strings.Contains(body, "reverse_proxy") {
				body += "\nrespond \"reached\"" // respond runs before reverse_proxy: only where there is none
			}
			tc := startCaddy(t, fmt.Sprintf(":%d {\n%s\n}\n", httpPort, body))
			for _, req := range recipe.requests {
				got := get(t, tc, "GET", req.path, req.fields...)
				if got.status != req.status || !strings.Contains(got.body, req.body) || got.header.Get("Location") != req.location {
					t.Errorf("README block %d (%s), GET %s %q: got %d %q Location %q, want %d %q Location %q",
						i+1, recipe.name, req.path, req.fields, got.status, got.body, got.header.Get("Location"), req.status, req.body, req.location)
				}
			}
		}
	}
	for _, recipe := range recipes {
		if ran[recipe.name] == 0 {
			t.Errorf("README has no Caddyfile holding %q (%s)", recipe.marker, recipe.name)
		}
	}
}
