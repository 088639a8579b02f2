package jwtuser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIssuerBlocksThroughCaddy runs two local OpenID providers behind one
// jwt_user: each provider's tokens pass with its own audience and load
// their own user, and neither provider's tokens pass under the other's
// rules. A's discovery is down when the configuration loads, then comes
// up; later its document names another issuer and its tokens are refused
// (503, never 200) while B's go on.
func TestIssuerBlocksThroughCaddy(t *testing.T) {
	k := getKeys(t)
	a, b := newOIDCProvider(t, k.rsa, "a"), newOIDCProvider(t, k.otherRSA, "b")
	a.down.Store(true)
	users := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"name":%q}`, filepath.Base(filepath.Dir(r.URL.Path)))
	}))
	t.Cleanup(users.Close)
	log := filepath.Join(t.TempDir(), "jwt.log")
	tc := startCaddyWith(t, logOption(log), fmt.Sprintf(`:%d {
	jwt_user {
		issuer %s {
			discovery 1s
			audience api-a
		}
		issuer %s {
			discovery 1s
			audience api-b
		}
		users_url %s/users/{jwt.claims.iss}/{jwt.identity}
	}
	respond "{jwt.issuer} {jwt.identity} {jwt.user.name}"
}`, httpPort, a.issuer, b.issuer, users.URL))

	want := func(what string, tok string, status int, body string) {
		t.Helper()
		if got := get(t, tc, "GET", "/", bearer(tok)); got.status != status || got.body != body {
			t.Errorf("%s: got %d %q, want %d %q", what, got.status, got.body, status, body)
		}
	}
	tokA, tokB := a.token(t, "alice", "api-a", "a"), b.token(t, "alice", "api-b", "b")
	want("A down at start", tokA, 503, `{"msg":"Signing keys unavailable"}`)
	want("B while A is down", tokB, 200, b.issuer+" alice b")

	a.down.Store(false)
	eventually(t, "A's keys once it is up", func() bool {
		return get(t, tc, "GET", "/", bearer(tokA)).status == 200
	})
	// The same sub in both issuers: two users.
	want("A with its audience", tokA, 200, a.issuer+" alice a")
	want("B with its audience", tokB, 200, b.issuer+" alice b")
	want("A with B's audience", a.token(t, "alice", "api-b", "a"), 401, `{"msg":"Invalid audience"}`)
	forged := claimsFor("alice")
	forged["iss"], forged["aud"] = a.issuer, "api-a"
	want("A's iss signed by B's key", signToken(t, "RS256", k.otherRSA, forged, map[string]any{"kid": "b"}), 401, `{"msg":"Signature verification failed"}`)
	forged["iss"] = a.issuer + "/"
	want("an iss no block names", signToken(t, "RS256", k.rsa, forged, map[string]any{"kid": "a"}), 401, `{"msg":"Invalid issuer"}`)

	other := a.issuer + "/"
	a.named.Store(&other)
	eventually(t, "A refused once its document names another issuer", func() bool {
		return get(t, tc, "GET", "/", bearer(tokA)).status == 503
	})
	want("B next to a refused A", tokB, 200, b.issuer+" alice b")
	eventually(t, "the log saying why", func() bool { return fileHolds(log, "names the issuer") })
	// Refetched every second, refused every time, said once.
	time.Sleep(2500 * time.Millisecond)
	if b, _ := os.ReadFile(log); strings.Count(string(b), "names the issuer") != 1 {
		t.Errorf("the mismatch logged %d times, want once", strings.Count(string(b), "names the issuer"))
	}
}
