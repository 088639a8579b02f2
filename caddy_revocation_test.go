package jwtuser

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Revoked tokens through a real Caddy. Real-Caddy tests never run in
// parallel: see caddy_helpers_test.go.

// withJTI is claimsFor(sub) with a jti.
func withJTI(sub, jti string) map[string]any {
	c := claimsFor(sub)
	c["jti"] = jti
	return c
}

// TestRevokedTokensFile: a jti in the file is refused while the same user's
// other tokens pass; edits, a broken rewrite and a removal while Caddy
// runs.
func TestRevokedTokensFile(t *testing.T) {
	defer setPoll(20 * time.Millisecond)()
	dir := t.TempDir()
	revoked := filepath.Join(dir, "revoked.txt")
	writeFile(t, revoked, "\uFEFF# revoked by support\n\n  jti-a  \n")
	logPath := filepath.Join(dir, "caddy.log")
	tc := startCaddyWith(t, logOption(logPath), fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
		revoked_tokens file %s
	}
	respond "{jwt.identity}"
}`, httpPort, testSecret, usersFile(t, seedUsers), revoked))
	a, b := bearer(hs256(t, withJTI("foo", "jti-a"))), bearer(hs256(t, withJTI("foo", "jti-b")))
	noJTI := bearer(hs256(t, claimsFor("foo")))
	before := scrape(t)[`caddy_jwt_user_requests_total{outcome="revoked"}`]

	r := get(t, tc, "GET", "/", a)
	if r.status != 401 || r.body != `{"msg":"Token has been revoked"}` ||
		r.header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("revoked token: %d %q %v", r.status, r.body, r.header)
	}
	for _, tok := range []string{b, noJTI} {
		if r := get(t, tc, "GET", "/", tok); r.status != 200 || r.body != "foo" {
			t.Fatalf("the same user's other token: %d %q", r.status, r.body)
		}
	}
	if n := scrape(t)[`caddy_jwt_user_requests_total{outcome="revoked"}`]; n != before+1 {
		t.Fatalf("revoked outcome counted %v, want %v", n, before+1)
	}

	// An edit revokes b and lets a go.
	writeFile(t, revoked, "jti-b\n")
	eventually(t, "the edit", func() bool {
		return get(t, tc, "GET", "/", b).status == 401 && get(t, tc, "GET", "/", a).status == 200
	})

	// A removal keeps the last good list and logs once.
	if err := os.Remove(revoked); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the log line", func() bool {
		return fileHolds(logPath, "revoked tokens file unavailable; keeping the last good revocations")
	})
	time.Sleep(100 * time.Millisecond) // several polls
	if n := strings.Count(readString(t, logPath), "revoked tokens file unavailable"); n != 1 {
		t.Fatalf("the removal was logged %d times", n)
	}
	if r := get(t, tc, "GET", "/", b); r.status != 401 {
		t.Fatalf("after the removal, b: %d %q", r.status, r.body)
	}
	writeFile(t, revoked, "jti-a\n")
	eventually(t, "the file created again", func() bool {
		return get(t, tc, "GET", "/", a).status == 401 && get(t, tc, "GET", "/", b).status == 200
	})
	// No log line names a token or a jti.
	if log := readString(t, logPath); strings.Contains(log, "jti-a") || strings.Contains(log, "jti-b") {
		t.Fatalf("the log names a jti: %s", log)
	}
}

// TestRevokedTokensFileRefusedAtLoad: a file that cannot be read.
func TestRevokedTokensFileRefusedAtLoad(t *testing.T) {
	startCaddy(t, fmt.Sprintf(":%d\nrespond ok", httpPort))
	cfg := fmt.Sprintf(`{"admin":{"listen":"localhost:%d"},"apps":{"http":{"servers":{"s":{"listen":[":%d"],"routes":[{"handle":[
		{"handler":"jwt_user","keys":{"source":"secret","secret":%q},"store":{"source":"file","path":%q},"revoked_tokens":{"file":%q}}]}]}}}}}`,
		adminPort, httpPort, testSecret, usersFile(t, seedUsers), filepath.Join(t.TempDir(), "none.txt"))
	resp, err := http.Post(adminURL+"/load", "application/json", strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := make([]byte, 4096)
	n, _ := resp.Body.Read(body)
	if resp.StatusCode == 200 || !strings.Contains(string(body[:n]), "revoked_tokens: ") {
		t.Fatalf("a missing revoked_tokens file loaded: %d %s", resp.StatusCode, body[:n])
	}
}

// TestRevocationsAdminAPI: a revocation posted to the admin API applies at
// once to every jwt_user handler, with revoked_tokens or without, and a
// DELETE lifts it.
func TestRevocationsAdminAPI(t *testing.T) {
	users := usersFile(t, seedUsers)
	// Two handlers, neither naming revoked_tokens.
	tc := startCaddy(t, fmt.Sprintf(":%d {\n%s%s}", httpPort, userRoute("one", users, ""),
		userRoute("two", users, `on_revoked_token 403 "gone {jwt.identity}"`)))
	exp := time.Now().Unix() + 900
	c, d := bearer(hs256(t, withJTI("foo", "admin-c"))), bearer(hs256(t, withJTI("foo", "admin-d")))
	t.Cleanup(func() { adminRevocations.unrevoke("admin-c") })

	if r := get(t, tc, "GET", "/one", c); r.status != 200 {
		t.Fatalf("before: %d %q", r.status, r.body)
	}
	if status := adminPost(t, adminRevocationsPath, fmt.Sprintf(`{"jti":"admin-c","exp":%d}`, exp)); status != 200 {
		t.Fatalf("POST: %d", status)
	}
	if r := get(t, tc, "GET", "/one", c); r.status != 401 || r.body != `{"msg":"Token has been revoked"}` {
		t.Fatalf("/one right after the POST: %d %q", r.status, r.body)
	}
	if r := get(t, tc, "GET", "/two", c); r.status != 403 || r.body != "gone foo" {
		t.Fatalf("/two right after the POST: %d %q", r.status, r.body)
	}
	if r := get(t, tc, "GET", "/one", d); r.status != 200 || r.body != "one foo" {
		t.Fatalf("the same user's other token: %d %q", r.status, r.body)
	}
	var counts struct {
		Admin struct{ Entries int } `json:"admin"`
	}
	if admin(t, "GET", adminRevocationsPath, &counts) != 200 || counts.Admin.Entries != 1 {
		t.Fatalf("GET: %+v", counts)
	}

	// A reload keeps the list: it is the process's.
	startCaddy(t, fmt.Sprintf(":%d {\n\tjwt_user {\n\t\tsecret %s\n\t\tusers_file %s\n\t}\n\trespond ok\n}", httpPort, testSecret, users))
	if r := get(t, tc, "GET", "/", c); r.status != 401 {
		t.Fatalf("after a reload: %d %q", r.status, r.body)
	}

	var removed struct{ Removed int }
	if admin(t, "DELETE", adminRevocationsPath+"/admin-c", &removed) != 200 || removed.Removed != 1 {
		t.Fatalf("DELETE: %+v", removed)
	}
	if r := get(t, tc, "GET", "/", c); r.status != 200 {
		t.Fatalf("after the DELETE: %d %q", r.status, r.body)
	}

	// Refused: no exp, no jti, not JSON, a GET of one jti.
	for _, body := range []string{`{"jti":"x"}`, `{"exp":1}`, `{"jti":"","exp":1}`, `nope`, `{"jti":"x","exp":"1"}`} {
		if status := adminPost(t, adminRevocationsPath, body); status != 400 {
			t.Errorf("POST %s: %d", body, status)
		}
	}
	if status := admin(t, "GET", adminRevocationsPath+"/x", nil); status != 405 {
		t.Errorf("GET one: %d", status)
	}
}

// userRoute is a route /<name> whose jwt_user has testSecret, the users
// file and the extra subdirectives; it answers "<name> {jwt.identity}".
func userRoute(name, users, extra string) string {
	return fmt.Sprintf("route /%s {\n jwt_user {\n secret %s\n users_file %s\n %s\n }\n respond \"%s {jwt.identity}\"\n}\n",
		name, testSecret, users, extra, name)
}

func adminPost(t *testing.T, path, body string) int {
	t.Helper()
	resp, err := http.Post(adminURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRevokeIssuedBeforeUsersFileEdited: revoke_issued_before and a
// {jwt.user.*} claim value, the users file edited while Caddy runs.
func TestRevokeIssuedBeforeUsersFileEdited(t *testing.T) {
	defer setPoll(20 * time.Millisecond)()
	now := time.Now().Unix()
	users := usersFile(t, `{"foo": {"ver": 1}, "bar": {"ver": 1}}`)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
		revoke_issued_before {jwt.user.tokens_valid_after}
		claim ver {jwt.user.ver}
	}
	respond "{jwt.identity}"
}`, httpPort, testSecret, users))
	issued := func(sub string, iat int64, ver int) string {
		c := claimsFor(sub)
		c["iat"], c["ver"] = iat, ver
		return bearer(hs256(t, c))
	}
	old, atCut, bar := issued("foo", now-100, 1), issued("foo", now-50, 1), issued("bar", now-100, 1)
	for _, tok := range []string{old, atCut, bar} {
		if r := get(t, tc, "GET", "/", tok); r.status != 200 {
			t.Fatalf("before the edit: %d %q", r.status, r.body)
		}
	}

	// foo logs out everywhere at now-50: older tokens are revoked, the one
	// issued at the cut-off and bar's pass.
	writeFile(t, users, fmt.Sprintf(`{"foo": {"ver": 1, "tokens_valid_after": %d}, "bar": {"ver": 1}}`, now-50))
	eventually(t, "the cut-off", func() bool { return get(t, tc, "GET", "/", old).status == 401 })
	if r := get(t, tc, "GET", "/", old); r.body != `{"msg":"Token has been revoked"}` {
		t.Fatalf("an older token: %d %q", r.status, r.body)
	}
	for _, tok := range []string{atCut, bar} {
		if r := get(t, tc, "GET", "/", tok); r.status != 200 {
			t.Fatalf("after the cut-off: %d %q", r.status, r.body)
		}
	}

	// The same cut-off as RFC 3339, and bar's token version bumped.
	cut := time.Unix(now-50, 0).UTC().Format(time.RFC3339)
	writeFile(t, users, fmt.Sprintf(`{"foo": {"ver": 1, "tokens_valid_after": %q}, "bar": {"ver": 2}}`, cut))
	eventually(t, "the new version", func() bool { return get(t, tc, "GET", "/", bar).status == 401 })
	if r := get(t, tc, "GET", "/", bar); r.body != `{"msg":"Invalid claim \"ver\""}` {
		t.Fatalf("an old version: %d %q", r.status, r.body)
	}
	if r := get(t, tc, "GET", "/", issued("bar", now, 2)); r.status != 200 {
		t.Fatalf("the new version: %d %q", r.status, r.body)
	}
	if get(t, tc, "GET", "/", old).status != 401 || get(t, tc, "GET", "/", atCut).status != 200 {
		t.Fatal("the RFC 3339 cut-off")
	}
}
