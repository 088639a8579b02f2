package jwtuser

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func TestPlaceholderValues(t *testing.T) {
	t.Parallel()
	user := `{"username":"foo","roles":["admin","editor"],"age":42,"score":4.5,"big":12345678901234567890123,` +
		`"exp":4.2e+01,"active":true,"banned":false,"nothing":null,"address":{"city":"Paris","zip":"75001"},` +
		`"matrix":[[1,2],[3]],"mixed":["a",1,true,null,{"k":"v"}],"evil":"line\r\nX-Injected: 1\u0000","ctl":"a\u0001b\u007fc\td","quote":"say \"hi\"",` +
		`"https://example.com/roles":["ns"],"empty":[]}`
	payload := `{"sub":"foo", "realm" : {"roles":["staff"]}, "n":1e3}`
	st := &requestState{tok: &token{payload: mustJSON(payload), identity: "foo"}, user: mustJSON(user), reason: "why"}
	repl := caddy.NewReplacer()
	repl.Map(st.placeholder)

	text := map[string]string{
		"jwt.identity":                       "foo",
		"jwt.error":                          "why",
		"jwt.user":                           user,
		"jwt.user.username":                  "foo",
		"jwt.user.roles":                     "admin,editor",
		"jwt.user.age":                       "42",
		"jwt.user.score":                     "4.5",
		"jwt.user.big":                       "12345678901234567890123",
		"jwt.user.exp":                       "42",
		"jwt.user.active":                    "true",
		"jwt.user.banned":                    "false",
		"jwt.user.nothing":                   "",
		"jwt.user.missing":                   "",
		"jwt.user.address":                   `{"city":"Paris","zip":"75001"}`,
		"jwt.user.address.city":              "Paris",
		"jwt.user.address.country":           "",
		"jwt.user.username.first":            "",
		"jwt.user.matrix":                    "[1,2],[3]",
		"jwt.user.mixed":                     `a,1,true,,{"k":"v"}`,
		"jwt.user.evil":                      "line  X-Injected: 1 ",
		"jwt.user.quote":                     `say "hi"`,
		"jwt.user.ctl":                       "a b c\td",
		"jwt.user.https://example.com/roles": "ns",
		"jwt.user.empty":                     "",
		"jwt.claims":                         `{"sub":"foo","realm":{"roles":["staff"]},"n":1e3}`,
		"jwt.claims.sub":                     "foo",
		"jwt.claims.realm.roles":             "staff",
		"jwt.claims.n":                       "1000",
		"jwt.claims.absent":                  "",
	}
	// Three passes: computed, then (the token reused) remembered on the
	// token as far as its memo holds, then read back from the memo.
	for pass := range 3 {
		if pass == 1 {
			st.tok.markReused()
		}
		for key, want := range text {
			got, known := repl.GetString(key)
			if !known || got != want {
				t.Errorf("pass %d: {%s}: got %q (known %v), want %q", pass, key, got, known, want)
			}
		}
	}
	if st.tok.memo.Load() == nil {
		t.Fatal("a reused token remembered no placeholder value")
	}
	// Kinds, as the expression matcher receives them.
	kinds := map[string]any{
		"jwt.user.roles":   stringList{"admin", "editor"},
		"jwt.user.age":     int64(42),
		"jwt.user.score":   4.5,
		"jwt.user.active":  true,
		"jwt.user.missing": valueList{},
		"jwt.user.nothing": valueList{},
		"jwt.user.empty":   valueList{},
		"jwt.user.mixed":   valueList{"a", int64(1), true, nil, `{"k":"v"}`},
		"jwt.user.matrix":  valueList{"[1,2]", "[3]"},
	}
	for key, want := range kinds {
		got, _ := repl.Get(key)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("{%s}: got %#v, want %#v", key, got, want)
		}
	}
	if _, known := repl.Get("jwt.nope"); known {
		t.Error("{jwt.nope} is known")
	}
	if _, known := repl.Get("http.request.uri"); known {
		t.Error("the jwt provider answers for other namespaces")
	}
}

func TestPlaceholdersWithoutUser(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	repl := caddyhttp.NewTestReplacer(r)
	st := attachState(r, repl)
	_ = st
	for _, key := range []string{"jwt.identity", "jwt.user", "jwt.user.roles", "jwt.claims", "jwt.claims.sub", "jwt.error"} {
		v, known := repl.GetString(key)
		if !known || v != "" {
			t.Errorf("{%s} without a user: got %q known %v, want known and empty", key, v, known)
		}
	}
	if v, _ := repl.Get("jwt.user.roles"); !reflect.DeepEqual(v, valueList{}) {
		t.Errorf("{jwt.user.roles} without a user is %#v, want an empty list", v)
	}
	// The state hides from anything that prints it.
	if s, _ := repl.GetString("http.vars." + stateVar); s != "" {
		t.Errorf("{http.vars.%s} prints as %q", stateVar, s)
	}
	if again := attachState(r, repl); again != st {
		t.Error("a second handler on the request made a second state")
	}
}
