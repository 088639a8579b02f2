package jwtuser_test

// Every Caddyfile in README.md runs here through a real Caddy, so the README
// never shows one that does not load. Fragments run inside a site; the
// names they use (files, services, identity providers, secrets) are pointed
// at real local ones made by the test.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"

	jwtuser "github.com/jwtuser/caddy-jwt-user"
)

func TestREADMECaddyfilesRun(t *testing.T) {
	blocks := jwtuser.ReadmeCaddyfiles(t)
	if len(blocks) < 10 {
		t.Fatalf("found %d Caddyfile blocks in README.md", len(blocks))
	}
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	if err := os.WriteFile(users, []byte(`{"foo": {"roles": ["admin"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A JWK Set with no usable key is fine here: loading must not need one.
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer idp.Close()
	userService := httptest.NewServer(http.NotFoundHandler())
	defer userService.Close()
	t.Setenv("JWT_SECRET", thirdPartyKey)
	t.Setenv("USERS_API_TOKEN", "readme-service-token")
	// The SQL servers are down (a closed port): a configuration loads all
	// the same. The SQLite file is the example's.
	t.Setenv("USERS_DSN", "postgres://caddy_users:pw@127.0.0.1:1/app?sslmode=disable")
	t.Setenv("MYSQL_USERS_DSN", "caddy_users:pw@tcp(127.0.0.1:1)/app")
	revoked := filepath.Join(dir, "revoked.txt")
	if err := os.WriteFile(revoked, []byte("# none yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	directories.Store("staff", &directory{})
	local := strings.NewReplacer(
		"/etc/caddy/users.json", users,
		"/etc/caddy/revoked.txt", revoked,
		"example-users.json", users,
		"https://users.internal", userService.URL,
		"https://login.example.com", idp.URL,
		"/var/lib/caddy/users.db", jwtuser.MakeExampleSQLite(t),
	)
	for i, block := range blocks {
		if strings.Contains(block, "[<") {
			continue // the grammar, not a configuration
		}
		body := local.Replace(block)
		if strings.HasPrefix(body, "on_") {
			// A fragment of jwt_user itself.
			body = "jwt_user {\n\tsecret {env.JWT_SECRET}\n\tusers_file " + users + "\n" + body + "\n}"
		}
		config := fmt.Sprintf("{\n\tadmin localhost:%d\n\thttp_port %d\n\thttps_port %d\n\tgrace_period 1ns\n\tskip_install_trust\n}\n:%d {\n%s\n\trespond \"reached\"\n}\n",
			jwtuser.TestAdminPort, jwtuser.TestHTTPPort, jwtuser.TestHTTPSPort, jwtuser.TestHTTPPort, body)
		t.Run(fmt.Sprint("block", i+1), func(t *testing.T) {
			tc := caddytest.NewTester(t)
			tc.InitServer(config, "caddyfile")
			if !strings.Contains(body, "jwt_user") || strings.Contains(body, "optional") {
				return
			}
			// Loaded and in the way: a request without a token, to a path
			// the block's route covers, is refused (a redirect counts).
			path := "/"
			if m := regexp.MustCompile(`route (\S+)`).FindStringSubmatch(body); m != nil {
				path = strings.ReplaceAll(m[1], "*", "x")
			}
			client := *tc.Client
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := client.Get(fmt.Sprintf("http://localhost:%d%s", jwtuser.TestHTTPPort, path))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("a request without a token got 200 through:\n%s", config)
			}
		})
	}
}
