package jwtuser

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCSRFSettings(t *testing.T) {
	t.Parallel()
	cookie := []TokenSource{{Source: "cookie", Name: "access_token_cookie"}}
	header := []TokenSource{{Source: "header", Name: "Authorization"}}
	on, off := true, false
	for _, tc := range []struct {
		h       Handler
		sources []TokenSource
		want    string // the check's methods and header, or the error
	}{
		{Handler{}, header, "off"},
		{Handler{}, cookie, "POST,PUT,PATCH,DELETE X-Csrf-Token"},
		{Handler{CSRF: &off}, cookie, "off"},
		{Handler{CSRF: &on}, header, "csrf: there is no cookie source"},
		{Handler{CSRFMethods: []string{"post", "GET"}, CSRFHeader: "x-xsrf-token"}, cookie, "POST,GET X-Xsrf-Token"},
		{Handler{CSRFMethods: []string{"PO ST"}}, cookie, "csrf_methods: "},
		{Handler{CSRFHeader: "X:Y"}, cookie, "csrf_header: "},
		{Handler{CSRFHeader: "{http.request.host}"}, cookie, "csrf_header: "},
	} {
		c, err := tc.h.newCSRFCheck(tc.sources)
		got := "off"
		switch {
		case err != nil:
			got = err.Error()
		case c != nil:
			got = strings.Join(c.methods, ",") + " " + c.header
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.h, got, tc.want)
		}
	}
}

func TestCSRFCompare(t *testing.T) {
	t.Parallel()
	c := &csrfCheck{}
	for payload, want := range map[string]string{
		`{"csrf":"abc"}`:  "",
		`{"csrf":"abd"}`:  "CSRF double submit tokens do not match",
		`{"csrf":"abcd"}`: "CSRF double submit tokens do not match",
		`{"csrf":null}`:   "CSRF double submit tokens do not match",
		`{}`:              "Missing claim: csrf",
	} {
		got := ""
		if f := c.compare(&token{payload: mustJSON(payload)}, "abc"); f != nil {
			got = f.reason
		}
		if got != want {
			t.Errorf("%s: %q, want %q", payload, got, want)
		}
	}
	// A cookie token on a covered method only.
	c = &csrfCheck{methods: defaultCSRFMethods, header: defaultCSRFHeader}
	src := []tokenSource{{kind: "cookie"}, {kind: "header"}}
	for _, m := range []string{"GET", "POST"} {
		r := httptest.NewRequest(m, "/", nil)
		if c.applies(r, &src[0]) != (m == "POST") || c.applies(r, &src[1]) {
			t.Errorf("%s: applies wrongly", m)
		}
	}
}

func TestMintTokenCSRF(t *testing.T) {
	t.Parallel()
	now := time.Now()
	raw, err := mintToken(mintOptions{secret: testSecret, sub: "foo", csrf: "c5rf", now: now})
	if err != nil {
		t.Fatal(err)
	}
	tok, f := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)}).verify(raw, now)
	if f != nil {
		t.Fatal(f)
	}
	if v, _ := stringMember(tok.payload, "csrf"); v != "c5rf" {
		t.Fatalf("csrf claim %q", v)
	}
}
