package jwtuser

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Revocations across the Caddy processes of TestSharedCacheAcrossProcesses.

// askToken sends the token to p: the user's version, or the status.
func (p *caddyProc) askToken(t *testing.T, tok string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://localhost:%d/", p.http), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	return p.do(t, req)
}

// revocationReaches posts (or, when exp is 0, deletes) jti's revocation
// through from's admin API and waits until every one of others answers want
// for tok: how long that took, at most 2s (the SPEC's bound with the tests'
// slack).
func revocationReaches(t *testing.T, from *caddyProc, jti string, exp int64, tok, want string, others ...*caddyProc) time.Duration {
	t.Helper()
	url := fmt.Sprintf("http://localhost:%d%s", from.admin, adminRevocationsPath)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"jti":%q,"exp":%d}`, jti, exp)))
	if exp == 0 {
		req, _ = http.NewRequest(http.MethodDelete, url+"/"+jti, nil)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Shared map[string]int `json:"shared_caches"`
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || answer.Shared["written"] != 1 || answer.Shared["failed"] != 0 {
		t.Fatalf("%s on %d: %d %+v %v", req.Method, from.admin, resp.StatusCode, answer, err)
	}
	sent := time.Now()
	var latency time.Duration
	for _, p := range others {
		for p.askToken(t, tok) != want {
			if time.Since(sent) > 2*time.Second {
				t.Fatalf("the %s of %s did not reach %d within 2s", req.Method, jti, p.http)
			}
			time.Sleep(5 * time.Millisecond)
		}
		latency = max(latency, time.Since(sent))
	}
	return latency
}

// revokedEverywhere checks that every one of procs refuses tok.
func revokedEverywhere(t *testing.T, tok, when string, procs ...*caddyProc) {
	t.Helper()
	for _, p := range procs {
		if got := p.askToken(t, tok); got != "401" {
			t.Fatalf("%s, the revoked token on %d: %s", when, p.http, got)
		}
	}
}

// namesJTI reports whether a line of log other than Caddy's own record of
// an admin request (whose URI a DELETE's jti is part of) holds jti.
func namesJTI(log, jti string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, jti) && !strings.Contains(line, `"logger":"admin.api"`) {
			return true
		}
	}
	return false
}
