package jwtuser

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The JSON body source through a real Caddy. Real-Caddy tests never run in
// parallel: see caddy_helpers_test.go.

// TestJSONBodySource: a body of exactly max_body passes and reaches the
// upstream intact; one byte more is 413; invalid UTF-8, another content
// type and a missing key are refused with flask-jwt-extended's reasons.
func TestJSONBodySource(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		fmt.Fprintf(w, "%d %s", len(body), hex.EncodeToString(sum[:]))
	}))
	defer upstream.Close()
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
		from json
		from header Authorization
	}
	reverse_proxy %s
}`, httpPort, testSecret, usersFile(t, seedUsers), strings.TrimPrefix(upstream.URL, "http://")))
	tok := hs256(t, claimsFor("foo"))
	const max = 65536
	// A body of exactly max bytes: the token, then padding, with bytes a
	// transformation would touch (CRLF, a BOM-like sequence, escapes).
	head := `{"access_token":"` + tok + `","pad":"\r\n\u00e9` + "\xef\xbb\xbf"
	exact := head + strings.Repeat("x", max-len(head)-2) + `"}`
	if len(exact) != max {
		t.Fatalf("the body is %d bytes", len(exact))
	}
	post := func(contentType, body string) reply {
		t.Helper()
		req, _ := http.NewRequest("POST", siteURL+"/", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", contentType)
		resp, err := tc.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, string(b), resp.Header}
	}
	sum := sha256.Sum256([]byte(exact))
	if r := post("application/json; charset=utf-8", exact); r.status != 200 || r.body != fmt.Sprintf("%d %s", max, hex.EncodeToString(sum[:])) {
		t.Fatalf("a body of exactly max_body: %d %q", r.status, r.body)
	}
	over := exact[:len(exact)-2] + `x"}`
	if r := post("application/json", over); r.status != 413 || r.body != `{"msg":"Request body too large"}` {
		t.Fatalf("one byte more: %d %q", r.status, r.body)
	}
	for _, c := range []struct {
		contentType, body string
		status            int
		msg               string
	}{
		{"application/json", "{\"access_token\":\"" + tok + "\xff\"}", 401, `Bad \"access_token\" key in json data.`},
		{"application/json", `{"token":"` + tok + `"}`, 401, `Missing JWT in json or headers (Missing \"access_token\" key in json data.; Missing Authorization Header)`},
		{"text/plain", `{"access_token":"` + tok + `"}`, 401, `Missing JWT in json or headers (Invalid content-type. Must be application/json.; Missing Authorization Header)`},
	} {
		if r := post(c.contentType, c.body); r.status != c.status || r.body != `{"msg":"`+c.msg+`"}` {
			t.Errorf("%s %.40q: %d %q, want %q", c.contentType, c.body, r.status, r.body, c.msg)
		}
	}
	// A header token, with a body that is not JSON: the body still goes on.
	req, _ := http.NewRequest("POST", siteURL+"/", strings.NewReader("plain body"))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := tc.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "10 ") {
		t.Fatalf("a header token: %d %q", resp.StatusCode, b)
	}
}
