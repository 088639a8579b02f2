package jwtuser

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// failingStore is a user store that cannot answer, as a store that is down.
type failingStore struct{ calls int }

func (s *failingStore) LoadUser(context.Context, Token) (User, error) {
	s.calls++
	return User{}, errors.New("connection refused")
}

// mapStore serves users from a map.
type mapStore map[string]string

func (m mapStore) LoadUser(_ context.Context, tok Token) (User, error) {
	if u, ok := m[tok.Identity()]; ok {
		return User{JSON: u}, nil
	}
	return User{}, ErrUserNotFound
}

// provisionedHandler builds a handler as Provision would, with store in
// place of the configured one.
func provisionedHandler(t testing.TB, h Handler, store Store) Handler {
	t.Helper()
	if err := provision(t, &h, store); err != nil {
		t.Fatal(err)
	}
	return h
}

// serve runs one request through the handler chain; next records whether it
// ran and what the placeholders held there.
func serve(t *testing.T, handlers []Handler, header string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	repl := caddyhttp.NewTestReplacer(r)
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	r = r.WithContext(ctx)
	w := httptest.NewRecorder()
	seen := ""
	var chain caddyhttp.Handler = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		seen = repl.ReplaceAll("reached {jwt.identity} {jwt.user.name} {http.auth.user.id}", "")
		return nil
	})
	for i := len(handlers) - 1; i >= 0; i-- {
		h, next := handlers[i], chain
		chain = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return h.ServeHTTP(w, r, next) })
	}
	if err := chain.ServeHTTP(w, r); err != nil {
		t.Fatalf("handler error: %v", err)
	}
	return w, seen
}

func TestStoreErrorNeverPassesTheRequest(t *testing.T) {
	t.Parallel()
	store := &failingStore{}
	h := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret)}, store)
	w, seen := serve(t, []Handler{h}, "Bearer "+hs256(t, claimsFor("foo")))
	if w.Code != 503 || w.Body.String() != `{"msg":"User store unavailable"}` || seen != "" || store.calls != 1 {
		t.Fatalf("got %d %q, next saw %q, %d calls", w.Code, w.Body, seen, store.calls)
	}
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("a 503 carries WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
	}
	// Optional mode does not soften a store error.
	h = provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), Optional: true, OnStoreError: &Response{
		StatusCode: 502, Body: strPtr(`{"msg":"{jwt.error}","who":"{jwt.identity}"}`), Headers: http.Header{"Retry-After": {"5"}},
	}}, store)
	w, seen = serve(t, []Handler{h}, "Bearer "+hs256(t, claimsFor("foo")))
	if w.Code != 502 || w.Body.String() != `{"msg":"User store unavailable","who":"foo"}` || w.Header().Get("Retry-After") != "5" || seen != "" {
		t.Fatalf("configured: got %d %q %v, next saw %q", w.Code, w.Body, w.Header(), seen)
	}
}

func TestSecondHandlerUpdatesPlaceholders(t *testing.T) {
	t.Parallel()
	users := mapStore{"foo": `{"name":"Foo"}`, "bar": `{"name":"Bar"}`}
	outer := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), Optional: true}, users)
	inner := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), From: []TokenSource{{Source: "header", Name: "Authorization"}}}, users)
	_, seen := serve(t, []Handler{outer, inner}, "Bearer "+hs256(t, claimsFor("bar")))
	if seen != "reached bar Bar bar" {
		t.Fatalf("next saw %q", seen)
	}
	// A refusal after an earlier success shows no stale user.
	refuser := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), Issuers: []string{"x"},
		OnInvalidToken: &Response{StatusCode: 401, Body: strPtr("-[{jwt.identity}][{jwt.user.name}][{http.auth.user.id}]")}}, users)
	w, seen := serve(t, []Handler{outer, refuser}, "Bearer "+hs256(t, claimsFor("foo")))
	if w.Code != 401 || w.Body.String() != `-[][][]` || seen != "" {
		t.Fatalf("got %d %q, next saw %q", w.Code, w.Body, seen)
	}
}

func TestInvalidTokenShowsNoClaims(t *testing.T) {
	t.Parallel()
	h := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret), Audiences: []string{"api"},
		OnInvalidToken: &Response{StatusCode: 401, Body: strPtr("-[{jwt.identity}][{jwt.claims.sub}][{jwt.claims}][{jwt.error}]")}}, mapStore{})
	w, _ := serve(t, []Handler{h}, "Bearer "+hs256(t, claimsFor("admin")))
	if w.Body.String() != "-[][][][Token is missing the \"aud\" claim]" {
		t.Fatalf("got %q", w.Body)
	}
	forged := signToken(t, "HS256", []byte(strings.Repeat("k", 40)), claimsFor("admin"), nil)
	w, _ = serve(t, []Handler{h}, "Bearer "+forged)
	if w.Body.String() != "-[][][][Signature verification failed]" {
		t.Fatalf("forged: got %q", w.Body)
	}
}

// A user that comes without its checked text is checked and compacted
// before use; one whose JSON a store changed after taking it from the file
// store no longer counts as checked.
func TestCheckUser(t *testing.T) {
	t.Parallel()
	u := User{JSON: " {\"name\": \"foo\", \"roles\": [ \"admin\" ]}\n"}
	if u.hasText() {
		t.Fatal("a store's User counts as checked")
	}
	if err := checkUser(&u); err != nil || u.JSON != `{"name":"foo","roles":["admin"]}` || !u.hasText() {
		t.Fatalf("checkUser: %v, JSON %q, text %q", err, u.JSON, u.text)
	}
	for bad, kind := range map[string]string{``: "not_json", `{`: "not_json", `[]`: "not_object", `"foo"`: "not_object",
		`{"a":1,"a":2}`: "not_json", "{\"a\":\"\xff\"}": "not_json", "\ufeff\ufeff{}": "not_json", " \ufeff{}": "not_json"} {
		u := User{JSON: bad}
		var sf *storeFailure
		if err := checkUser(&u); !errors.As(err, &sf) || sf.kind != kind || !u.text.IsZero() {
			t.Errorf("%q: got %v, text %q, want %s", bad, err, u.text, kind)
		}
	}
	// A service or a file may put one byte order mark first (RFC 8259 §8.1).
	u = User{JSON: "\ufeff{\"name\": \"foo\"}"}
	if err := checkUser(&u); err != nil || u.JSON != `{"name":"foo"}` {
		t.Errorf("leading byte order mark: %v, JSON %q", err, u.JSON)
	}
	users, err := parseUsers(`{"foo": {"name": "foo"}}`, "id")
	if err != nil {
		t.Fatal(err)
	}
	foo, _ := users.Lookup("foo")
	u = User{JSON: foo.String(), text: foo}
	if !u.hasText() {
		t.Fatal("the file store's user does not count as checked")
	}
	u.JSON = `{"name":"bar"}`
	if u.hasText() {
		t.Fatal("a user whose JSON changed still counts as checked")
	}
}
