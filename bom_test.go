package jwtuser

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Every JSON document an operator or a service writes takes one leading
// UTF-8 byte order mark (RFC 8259 §8.1): users files, JWK Sets and user
// service answers. A misplaced one is named as such, never as a mangled
// character.
const bom = "\xEF\xBB\xBF"

func TestUsersFileByteOrderMark(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users.json")
	writeFile(t, path, bom+`{"foo": {"roles": ["admin"]}}`)
	s, err := newFileStore(path, "", zap.NewNop())
	if err != nil {
		t.Fatalf("a users file with a byte order mark: %v", err)
	}
	t.Cleanup(func() { _ = s.Destruct() })
	if u, _ := s.users.Load().users.Lookup("foo"); u.String() != `{"roles":["admin"]}` {
		t.Fatalf("foo: %q", u)
	}
	for text, want := range map[string]string{
		bom + "[" + bom + `{"id":"a"}]`: "1:2: unexpected byte order mark (U+FEFF)",
		bom + bom + `{}`:                "1:1: unexpected byte order mark (U+FEFF)",
		" " + bom + `{}`:                "1:2: unexpected byte order mark (U+FEFF)",
		`{"foo": {"name": é}}`:          "1:18: invalid character 'é' (U+00E9)",
		"{\"foo\": \xC3}":               "1:9: invalid byte 0xC3 (not UTF-8)",
		bom + "\n{\"foo\": x}":          "2:9: invalid character 'x'",
	} {
		if _, err := parseUsers(text, "id"); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

func TestJWKSByteOrderMark(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	jwk, err := publicJWK(k.ed, "ed", "", "sig").MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if set, _, err := parseJWKS([]byte(bom + `{"keys":[` + string(jwk) + `]}`)); err != nil || len(set.keys) != 1 {
		t.Fatalf("a JWK Set with a byte order mark: %v", err)
	}
	for body, want := range map[string]string{
		bom + bom + `{"keys":[]}`: "not a JWK Set: unexpected byte order mark (U+FEFF) at 1:1",
		`{"keys":[é]}`:            "not a JWK Set: invalid character 'é' (U+00E9) at 1:10",
	} {
		if _, _, err := parseJWKS([]byte(body)); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
	// Through a fetch, as a provider would serve it.
	srv := newJWKSServer(t)
	srv.serveRaw(bom + `{"keys":[` + string(jwk) + `]}`)
	ks, _ := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	if _, f := v.verify(signToken(t, "EdDSA", k.ed, claimsFor("foo"), map[string]any{"kid": "ed"}), time.Now()); f != nil {
		t.Errorf("a token against a fetched set with a byte order mark: %v", f)
	}
}

func TestUserServiceByteOrderMark(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		bom + `{"id":"foo"}`:       `{"id":"foo"}`,
		bom + bom + `{"id":"foo"}`: "user store: not json",
		`{"id":"foo"}` + bom:       "user store: not json",
	} {
		svc := newUserService(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
		s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{})
		user, err := s.lookup(context.Background(), tokenFor("foo"))
		got := user
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", body, got, want)
		}
	}
}
