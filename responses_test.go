package jwtuser

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestTemplateRendering(t *testing.T) {
	t.Parallel()
	repl := caddy.NewReplacer()
	st := &requestState{tok: &token{identity: `a"b\c` + "\n", payload: mustJSON(`{"sub":"x"}`)}, reason: "why"}
	repl.Map(st.placeholder)
	repl.Set("custom.value", `</script>&`)
	cases := []struct {
		tmpl string
		json bool
		want string
	}{
		{`{"msg":"User {jwt.identity} not found"}`, true, `{"msg":"User a\"b\\c\n not found"}`},
		{`{"msg":"{jwt.error}","unknown":"{nope.x}"}`, true, `{"msg":"why","unknown":"{nope.x}"}`},
		{`{"v":"{custom.value}"}`, true, `{"v":"</script>&"}`},
		{`[{jwt.error}]`, true, `[why]`},
		{`User {jwt.identity} not found`, false, "User a\"b\\c\n not found"},
		{`literal \{jwt.error\} and {jwt.error}`, false, `literal {jwt.error} and why`},
		{`{{jwt.error}}`, false, `{why}`},
		{`{}`, false, `{}`},
		{`no placeholders`, false, `no placeholders`},
		{`{unclosed`, false, `{unclosed`},
	}
	for _, c := range cases {
		got := parseTemplate(c.tmpl, c.json).render(repl)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.tmpl, got, c.want)
		}
	}
	// Whatever an identity holds, a JSON body stays JSON.
	for _, id := range []string{`"}`, `\`, "\x00\x01\u2028", `{"a":1}`, "é\xff"} {
		st.tok.identity = id
		out := parseTemplate(`{"msg":"User {jwt.identity} not found"}`, true).render(repl)
		var v map[string]string
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("identity %q broke the body %s: %v", id, out, err)
		}
	}
}

func TestResponseWrite(t *testing.T) {
	t.Parallel()
	repl := caddy.NewReplacer()
	st := &requestState{reason: "Token has expired"}
	repl.Map(st.placeholder)
	write := func(kind failureKind, cfg *Response) *httptest.ResponseRecorder {
		t.Helper()
		resp, err := compileResponse(kind, cfg)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		resp.write(w, repl)
		return w
	}
	w := write(expiredToken, nil)
	if w.Code != 401 || w.Body.String() != `{"msg":"Token has expired"}` ||
		w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("default expired: %d %q %v", w.Code, w.Body, w.Header())
	}
	if w := write(missingToken, nil); w.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("missing: WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
	}
	if w := write(storeError, nil); w.Code != 503 || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("store error: %d %v", w.Code, w.Header())
	}
	w = write(missingToken, &Response{StatusCode: 302, Body: strPtr(""), Headers: http.Header{"Location": {"/login?why={jwt.error}"}}})
	if w.Code != 302 || w.Body.Len() != 0 || w.Header().Get("Location") != "/login?why=Token has expired" || w.Header().Get("Content-Type") != "" {
		t.Errorf("redirect: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = write(loadFailure, &Response{StatusCode: 401, Body: strPtr("go away: {jwt.error}"), Headers: http.Header{"Www-Authenticate": {`Bearer realm="api"`}}})
	if w.Body.String() != "go away: Token has expired" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		w.Header().Values("WWW-Authenticate")[0] != `Bearer realm="api"` || len(w.Header().Values("WWW-Authenticate")) != 1 {
		t.Errorf("configured challenge: %q %v", w.Body, w.Header())
	}
	if w := write(invalidToken, &Response{StatusCode: 418}); w.Code != 418 || w.Body.String() != `{"msg":"Token has expired"}` {
		t.Errorf("status only keeps the default body: %d %q", w.Code, w.Body)
	}
	for _, status := range []int{199, 600, -1} {
		if _, err := compileResponse(missingToken, &Response{StatusCode: status}); err == nil {
			t.Errorf("status %d accepted", status)
		}
	}
}
