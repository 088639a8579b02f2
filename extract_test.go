package jwtuser

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func strPtr(s string) *string { return &s }

func TestExtract(t *testing.T) {
	t.Parallel()
	bearerMissing := `Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'`
	bad := `Bad Authorization header. Expected 'Authorization: Bearer <JWT>'`
	cookieAndHeader := []TokenSource{{Source: "header", Name: "Authorization"}, {Source: "cookie", Name: "access_token_cookie"}}
	cases := []struct {
		name    string
		sources []TokenSource
		setup   func(r *http.Request)
		token   string
		kind    failureKind // when token is ""
		reason  string
	}{
		{"bearer", nil, hdr("Authorization", "Bearer abc.def.ghi"), "abc.def.ghi", 0, ""},
		{"scheme case-insensitive", nil, hdr("Authorization", "bEaReR abc.def.ghi"), "abc.def.ghi", 0, ""},
		{"extra spaces", nil, hdr("Authorization", "  Bearer   abc.def.ghi  "), "abc.def.ghi", 0, ""},
		{"no header", nil, nil, "", missingToken, "Missing Authorization Header"},
		{"empty header", nil, hdr("Authorization", ""), "", missingToken, "Missing Authorization Header"},
		{"basic", nil, hdr("Authorization", "Basic Zm9vOmJhcg=="), "", missingToken, bearerMissing},
		{"bare token", nil, hdr("Authorization", "abc.def.ghi"), "", missingToken, bearerMissing},
		{"scheme only", nil, hdr("Authorization", "Bearer"), "", invalidToken, bad},
		{"scheme and space", nil, hdr("Authorization", "Bearer   "), "", invalidToken, bad},
		{"two tokens", nil, hdr("Authorization", "Bearer a.b.c d.e.f"), "", invalidToken, bad},
		{"header twice", nil, func(r *http.Request) {
			r.Header.Add("Authorization", "Bearer a.b.c")
			r.Header.Add("Authorization", "Bearer d.e.f")
		}, "", invalidToken, bad},
		{"custom header whole value", []TokenSource{{Source: "header", Name: "X-Token"}}, hdr("X-Token", "a.b.c"), "a.b.c", 0, ""},
		{"custom header missing", []TokenSource{{Source: "header", Name: "x-token"}}, nil, "", missingToken, "Missing X-Token Header"},
		{"custom scheme", []TokenSource{{Source: "header", Name: "X-Auth", Scheme: strPtr("JWT")}}, hdr("X-Auth", "jwt a.b.c"), "a.b.c", 0, ""},
		{"authorization without scheme", []TokenSource{{Source: "header", Name: "Authorization", Scheme: strPtr("")}}, hdr("Authorization", "a.b.c"), "a.b.c", 0, ""},
		{"cookie", []TokenSource{{Source: "cookie", Name: "jwt"}}, cookie("jwt", "a.b.c"), "a.b.c", 0, ""},
		{"cookie missing", []TokenSource{{Source: "cookie", Name: "jwt"}}, cookie("other", "a.b.c"), "", missingToken, `Missing cookie "jwt"`},
		{"cookie twice, first wins", []TokenSource{{Source: "cookie", Name: "jwt"}}, rawCookie("jwt=a.b.c; jwt=d.e.f"), "a.b.c", 0, ""},
		{"empty cookie before a filled one", []TokenSource{{Source: "cookie", Name: "jwt"}, {Source: "query", Name: "t"}},
			both(rawCookie("jwt=; jwt=d.e.f"), query("t=q.q.q")), "", invalidToken, `Bad cookie "jwt"`},
		{"empty cookie alone", []TokenSource{{Source: "cookie", Name: "jwt"}}, rawCookie("jwt="), "", missingToken, `Missing cookie "jwt"`},
		{"query", []TokenSource{{Source: "query", Name: "jwt"}}, query("jwt=a.b.c&x=1"), "a.b.c", 0, ""},
		{"query missing", []TokenSource{{Source: "query", Name: "jwt"}}, query("x=1"), "", missingToken, "Missing 'jwt' query parameter"},
		{"query twice", []TokenSource{{Source: "query", Name: "jwt"}}, query("jwt=a.b.c&jwt=d.e.f"), "", invalidToken, "Bad 'jwt' query parameter"},
		{"first source holding a token wins", cookieAndHeader, both(hdr("Authorization", "Bearer from.the.header"), cookie("access_token_cookie", "from.the.cookie")), "from.the.header", 0, ""},
		{"falls through to the cookie", cookieAndHeader, cookie("access_token_cookie", "from.the.cookie"), "from.the.cookie", 0, ""},
		{"basic header then cookie", cookieAndHeader, both(hdr("Authorization", "Basic xyz"), cookie("access_token_cookie", "c.c.c")), "c.c.c", 0, ""},
		{"bad header stops the search", cookieAndHeader, both(hdr("Authorization", "Bearer"), cookie("access_token_cookie", "c.c.c")), "", invalidToken, bad},
		{"several sources missing", cookieAndHeader, nil, "", missingToken,
			`Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")`},
		{"several sources, wrong scheme", cookieAndHeader, hdr("Authorization", "Basic xyz"), "", missingToken,
			`Missing JWT in headers or cookies (` + bearerMissing + `; Missing cookie "access_token_cookie")`},
		{"three kinds", []TokenSource{{Source: "header", Name: "Authorization"}, {Source: "header", Name: "X-Token"}, {Source: "query", Name: "jwt"}}, nil, "", missingToken,
			`Missing JWT in headers or query_string (Missing Authorization Header; Missing X-Token Header; Missing 'jwt' query parameter)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, err := newExtractor(c.sources)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			if c.setup != nil {
				c.setup(r)
			}
			tok, f := e.extract(r)
			if c.token != "" {
				if f != nil || tok != c.token {
					t.Fatalf("got %q %v, want %q", tok, f, c.token)
				}
				return
			}
			if f == nil || f.kind != c.kind || f.reason != c.reason {
				t.Fatalf("got %q %+v, want kind %d %q", tok, f, c.kind, c.reason)
			}
		})
	}
}

func TestExtractorConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sources []TokenSource
		want    string
	}{
		{[]TokenSource{{Source: "body", Name: "x"}}, "unknown source"},
		{[]TokenSource{{Source: "header"}}, "a name is required"},
		{[]TokenSource{{Source: "cookie", Name: "c", Scheme: strPtr("Bearer")}}, "only a header has a scheme"},
		{[]TokenSource{{Source: "header", Name: "X", Scheme: strPtr("a b")}}, "white space"},
	} {
		if _, err := newExtractor(c.sources); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.sources, err, c.want)
		}
	}
}

func hdr(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func cookie(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

func query(q string) func(*http.Request) {
	return func(r *http.Request) { r.URL.RawQuery = q }
}

func both(fs ...func(*http.Request)) func(*http.Request) {
	return func(r *http.Request) {
		for _, f := range fs {
			f(r)
		}
	}
}

func rawCookie(header string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Cookie", header) }
}
