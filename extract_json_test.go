package jwtuser

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadJSONBody(t *testing.T) {
	t.Parallel()
	e, err := newExtractor([]TokenSource{{Source: "json"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.setMaxBody(40, []TokenSource{{Source: "json"}}); err != nil {
		t.Fatal(err)
	}
	exact := `{"access_token":"a.b.c","pad":"` + strings.Repeat("x", 40-len(`{"access_token":"a.b.c","pad":""}`)) + `"}`
	for _, c := range []struct {
		contentType, body string
		token, reason     string
	}{
		{"application/json", `{"access_token":"a.b.c"}`, "a.b.c", ""},
		{"Application/JSON; charset=utf-8", `{"access_token":"a.b.c"}`, "a.b.c", ""},
		{"application/json", exact, "a.b.c", ""},
		{"application/json", exact + " ", "", "Request body too large"},
		{"application/json", `{"other":"a.b.c"}`, "", `Missing "access_token" key in json data.`},
		{"application/json", `{"access_token":""}`, "", `Missing "access_token" key in json data.`},
		{"application/json", ``, "", `Missing "access_token" key in json data.`},
		{"application/json", `{"access_token":7}`, "", `Bad "access_token" key in json data.`},
		{"application/json", "{\"access_token\":\"a.b\xff\"}", "", `Bad "access_token" key in json data.`},
		{"application/json", `[1]`, "", `Bad "access_token" key in json data.`},
		{"text/plain", `{"access_token":"a.b.c"}`, "", "Invalid content-type. Must be application/json."},
		{"", `{"access_token":"a.b.c"}`, "", "Invalid content-type. Must be application/json."},
		{"application/jsonx", `{"access_token":"a.b.c"}`, "", "Invalid content-type. Must be application/json."},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		tok, f := e.extract(r)
		reason := ""
		if f != nil {
			reason = f.reason
		}
		if tok != c.token || reason != c.reason {
			t.Errorf("%s %q: %q %q, want %q %q", c.contentType, c.body, tok, reason, c.token, c.reason)
		}
		// The body goes on unchanged, whatever came of it.
		if rest, _ := io.ReadAll(r.Body); string(rest) != c.body {
			t.Errorf("%q: the body went on as %q", c.body, rest)
		}
	}
	for _, bad := range []int{-1, 2 << 30} {
		if err := e.setMaxBody(bad, []TokenSource{{Source: "json"}}); err == nil {
			t.Errorf("max_body %d accepted", bad)
		}
	}
	if err := e.setMaxBody(10, []TokenSource{{Source: "header", Name: "Authorization"}}); err == nil || !strings.HasPrefix(err.Error(), "max_body: ") {
		t.Errorf("max_body without a json source: %v", err)
	}
}
