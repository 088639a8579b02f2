package jwtuser

import (
	"strings"
	"testing"
)

func TestUserPlaceholder(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]string{
		"{jwt.user.tokens_valid_after}": "tokens_valid_after",
		"{jwt.user.a.b}":                "a.b",
		"{jwt.user.}":                   "",
		"x{jwt.user.a}":                 "",
		"{jwt.user.a}x":                 "",
		"{jwt.claims.a}":                "",
		"{jwt.user.a}{jwt.user.b}":      "",
	} {
		if got, _ := userPlaceholder(v); got != want {
			t.Errorf("%q: %q, want %q", v, got, want)
		}
	}
}

// TestUserChecks: revoke_issued_before and {jwt.user.*} claim values,
// against a token issued at 1000.
func TestUserChecks(t *testing.T) {
	t.Parallel()
	h := Handler{RevokeIssuedBefore: "{jwt.user.valid_after}",
		Claims: map[string][]string{"ver": {"{jwt.user.version}", "legacy"}}}
	c, err := h.newUserChecks()
	if err != nil || c == nil {
		t.Fatal(err)
	}
	tok := &token{payload: mustJSON(`{"sub":"foo","iat":1000,"ver":3}`), iat: 1000, hasIat: true}
	noIat := &token{payload: mustJSON(`{"sub":"foo","ver":3}`)}
	for _, tc := range []struct {
		tok  *token
		user string
		want string // the reason, "" for none
	}{
		{tok, `{"version":3}`, ""},
		{tok, `{"version":3,"valid_after":null}`, ""},
		{tok, `{"version":3,"valid_after":999.5}`, ""},
		{tok, `{"version":3,"valid_after":1000}`, ""},
		{tok, `{"version":3,"valid_after":1000.001}`, "Token has been revoked"},
		{tok, `{"version":3,"valid_after":"1970-01-01T00:16:40Z"}`, ""},
		{tok, `{"version":3,"valid_after":"1970-01-01T00:16:41Z"}`, "Token has been revoked"},
		{tok, `{"version":3,"valid_after":"1970-01-01T01:16:39+01:00"}`, ""},
		{tok, `{"version":3,"valid_after":"yesterday"}`, "Token has been revoked"},
		{tok, `{"version":3,"valid_after":true}`, "Token has been revoked"},
		{noIat, `{"version":3}`, ""},
		{noIat, `{"version":3,"valid_after":1}`, "Token has been revoked"},
		{tok, `{"version":"3"}`, ""},
		{tok, `{"version":4}`, `Invalid claim "ver"`},
		{tok, `{}`, `Invalid claim "ver"`},
		{tok, `{"version":[3]}`, `Invalid claim "ver"`},
		{&token{payload: mustJSON(`{"sub":"foo","ver":"legacy"}`)}, `{}`, ""},
		{&token{payload: mustJSON(`{"sub":"foo"}`)}, `{"version":3}`, `Token is missing the "ver" claim`},
	} {
		got := ""
		if f := c.check(tc.tok, mustJSON(tc.user)); f != nil {
			got = f.reason
		}
		if got != tc.want {
			t.Errorf("%s with %s: %q, want %q", tc.tok.payload, tc.user, got, tc.want)
		}
	}
	if c, err := (&Handler{Claims: map[string][]string{"a": {"b"}}}).newUserChecks(); c != nil || err != nil {
		t.Fatalf("a configuration without user checks got %v, %v", c, err)
	}
}

func TestUserChecksRefusedAtLoad(t *testing.T) {
	t.Parallel()
	users := usersFile(t, `{"foo": {}}`)
	for _, tc := range []struct {
		edit func(h *Handler)
		want string
	}{
		{func(h *Handler) { h.RevokeIssuedBefore = "1767225600" }, "revoke_issued_before: give one {jwt.user.<path>}"},
		{func(h *Handler) { h.RevokeIssuedBefore = "{jwt.claims.iat}" }, "revoke_issued_before: "},
		{func(h *Handler) { h.Claims = map[string][]string{"ver": {"v{jwt.user.version}"}} }, "claim ver: "},
		{func(h *Handler) { h.Claims = map[string][]string{"ver": {"{http.request.host}"}} }, "claim ver: "},
	} {
		h := Handler{KeysRaw: secretKeys(testSecret), StoreRaw: fileStoreJSON(users, "")}
		tc.edit(&h)
		if err := provision(t, &h, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
