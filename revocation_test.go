package jwtuser

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestParseRevokedTokens(t *testing.T) {
	t.Parallel()
	got := parseRevokedTokens("\uFEFFa\r\n# b\n\n  c \t\n\t#d\ne f\n")
	want := []string{"a", "c", "e f"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for _, jti := range want {
		if _, ok := got[jti]; !ok {
			t.Errorf("%q missing from %v", jti, got)
		}
	}
}

func TestMemRevocations(t *testing.T) {
	t.Parallel()
	m := newMemRevocations(2)
	now := time.Unix(1000, 0)
	if m.maybeAny() || m.revoked("a", now) {
		t.Fatal("an empty list revokes")
	}
	if err := m.revoke("a", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if !m.maybeAny() || !m.revoked("a", now) || m.revoked("b", now) {
		t.Fatal("a is not revoked, or b is")
	}
	// At exp the token has expired anyway: the entry is no longer in force.
	if m.revoked("a", now.Add(time.Minute)) || m.count(now.Add(time.Minute)) != 0 || m.maybeAny() {
		t.Fatal("an entry outlived its exp")
	}
	// An exp already past adds nothing.
	if err := m.revoke("old", now.Add(-time.Second), now); err != nil || m.count(now) != 0 {
		t.Fatalf("a past exp: %v, %d entries", err, m.count(now))
	}
	// Full: refused until an entry leaves.
	_ = m.revoke("a", now.Add(time.Minute), now)
	_ = m.revoke("b", now.Add(2*time.Minute), now)
	if err := m.revoke("c", now.Add(time.Minute), now); err == nil {
		t.Fatal("a full list took one more")
	}
	if err := m.revoke("a", now.Add(3*time.Minute), now); err != nil {
		t.Fatalf("a full list refused an update: %v", err)
	}
	if err := m.revoke("c", now.Add(5*time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Fatalf("entries that expired did not leave: %v", err)
	}
	if !m.unrevoke("c") || m.unrevoke("c") || m.revoked("c", now) {
		t.Fatal("unrevoke")
	}
}

// TestRevocationCheckFreeWhenUnused: with no file and nothing posted, the
// check allocates nothing. Not parallel: AllocsPerRun counts the whole
// process's allocations.
func TestRevocationCheckFreeWhenUnused(t *testing.T) {
	if adminRevocations.maybeAny() {
		t.Fatal("a test left a revocation on the process's list")
	}
	var rc revocationCheck
	tok := &token{payload: mustJSON(`{"sub":"foo","jti":"x"}`)}
	if n := testing.AllocsPerRun(100, func() { rc.revoked(tok, time.Now) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestRevokedTokensCaddyfile: the syntax.
func TestRevokedTokensCaddyfile(t *testing.T) {
	t.Parallel()
	parse := func(line string) error {
		var h Handler
		return h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n" + line + "\n}"))
	}
	if err := parse("revoked_tokens file /etc/revoked.txt\non_revoked_token 403 gone"); err != nil {
		t.Fatal(err)
	}
	refused := [][2]string{
		{"revoked_tokens", "wrong argument count"},
		{"revoked_tokens file", "wrong argument count"},
		{"revoked_tokens redis x", "unknown source"},
		{"revoked_tokens file a\nrevoked_tokens file b", "given more than once"},
	}
	for _, c := range refused {
		if err := parse(c[0]); err == nil || !strings.Contains(err.Error(), c[1]) {
			t.Errorf("%q: got %v, want %q", c[0], err, c[1])
		}
	}
}

func TestRevokedTokensAtLoad(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "{http.request.host}.txt"} {
		h := Handler{KeysRaw: secretKeys(testSecret), StoreRaw: fileStoreJSON(usersFile(t, `{"foo": {}}`), ""),
			RevokedTokens: &RevokedTokens{File: path}}
		if err := provision(t, &h, nil); err == nil || !strings.Contains(err.Error(), "revoked_tokens") {
			t.Errorf("%q: %v", path, err)
		}
	}
}
