package jwtuser

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// The fuzz targets run their seed corpus with every `go test`; run one for
// longer with e.g. `go test -run '^$' -fuzz FuzzVerify -fuzztime 5m`.

// FuzzVerify feeds arbitrary text to extraction and verification, and
// validly signed tokens with arbitrary headers and payloads: nothing may
// panic, and a token accepted must satisfy what the handler then relies on.
func FuzzVerify(f *testing.F) {
	key := []byte(testSecret)
	for _, seed := range []struct{ header, payload string }{
		{`{"alg":"HS256"}`, `{"sub":"foo","exp":1e400}`},
		{`{"alg":"HS256","crit":["x"]}`, `{"sub":"a"}`},
		{`{"alg":"none"}`, `{"sub":"a"}`},
		{`{"alg":"HS256","kid":"../../x"}`, `{"sub":{"id":1},"iat":"1"}`},
		{`{"alg":"HS256"}`, `{"sub":4.0,"aud":["api",1],"iss":"i","nbf":-1e-9223372036854775808}`},
		{`{"alg":"HS256"}`, `{"sub":"a","sub":"b"}`},
		{`{"alg":"HS256"}`, `{"sub":"a","type":["access"],"level":1e2,"exp":1.5}`},
		{`[]`, `[]`},
	} {
		f.Add(seed.header, seed.payload, "Bearer x.y.z", true)
	}
	f.Add("", "", "Bearer "+strings.Repeat(".", 100), false)
	f.Add("", "", "bearer e30.e30.", false)
	f.Add("", "", "Bearer e30=.e30.AA", false)
	v := newVerifier(f, Handler{KeysRaw: secretKeys(testSecret), Issuers: []string{"i"}, Audiences: []string{"api"},
		Claims: map[string][]string{"type": {"access"}}, Leeway: caddy.Duration(time.Second)})
	lenient := newVerifier(f, Handler{KeysRaw: secretKeys(testSecret)})
	ex, err := newExtractor([]TokenSource{{Source: "header", Name: "Authorization"}, {Source: "query", Name: "t"}})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, header, payload, authorization string, sign bool) {
		raw := ""
		if sign {
			raw = rawToken(t, header, payload, key)
		} else {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", authorization)
			var fail *failure
			if raw, fail = ex.extract(r); fail != nil {
				if raw != "" || fail.reason == "" {
					t.Fatalf("extract: %q with %v", raw, fail)
				}
				return
			}
		}
		for _, ver := range []*verifier{v, lenient, v} { // the third run may hit the cache
			tok, fail := ver.verify(raw, now)
			if fail != nil && fail.kind != expiredToken && tok != nil {
				t.Fatalf("a token refused with %q was handed on", fail.reason)
			}
			if tok == nil {
				continue
			}
			if (fail == nil && tok.identity == "") || strings.ContainsFunc(tok.identity, isHeaderUnsafe) {
				t.Fatalf("identity %q accepted", tok.identity)
			}
			for _, text := range []rawjson.Text{tok.payload, tok.header} {
				if again, err := rawjson.Check(text.String()); err != nil || again.Kind() != '{' {
					t.Fatalf("an unchecked header or payload was accepted: %q", text)
				}
			}
			st := &requestState{tok: tok}
			for _, key := range []string{"jwt.claims", "jwt.claims.sub", "jwt.claims.aud", "jwt.claims.exp", "jwt.identity"} {
				val, known := st.placeholder(key)
				if !known {
					t.Fatalf("{%s} unknown", key)
				}
				_ = caddy.ToString(val)
			}
		}
	})
}

// FuzzUnmarshalCaddyfile feeds arbitrary Caddyfile text to the directive's
// parser: it may refuse, never panic, and what it accepts provisions or is
// refused with an error.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"jwt_user {\n from header Authorization Bearer\n from cookie c\n secret s\n users_file /x\n}",
		"jwt_user {\n users_url http://x/{jwt.identity} {\n  header A b\n  timeout 1s\n  max_body 1KiB\n }\n cache_ttl 0\n}",
		"jwt_user {\n on_missing_token 302 \"\" {\n  header Location /login\n }\n claim type access refresh\n}",
		"jwt_user {\n jwks https://x/ 5m\n algorithms RS256 ES256\n leeway 1s\n max_token_size 4KiB\n optional\n}",
		"jwt_user {\n on_load_failure 404 `{\"msg\":\"{jwt.identity}\"}`\n}",
		"jwt_user {\n}\n}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		tokens, err := caddyfile.Tokenize([]byte(input), "Fuzzfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			return
		}
		// Whatever parsed must also round-trip through JSON, as caddy adapt does.
		b, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var back Handler
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	})
}

// FuzzParseUsers feeds arbitrary text to the users file parser: every user
// it accepts is a checked, compact JSON object under a usable identity.
func FuzzParseUsers(f *testing.F) {
	for _, seed := range []string{
		`{"foo":{"roles":["admin"]},"b\u0061r":{}}`,
		`[{"id":"foo"},{"id":42},{"id":4.0}]`,
		`[{"id":"a"},{"id":"a"}]`,
		"{\n \"foo\": {\"roles\": [\"admin\"],}\n}",
		`{"foo":{"x":1,"x":2}}`,
		`[{"id":""}]`,
		`"users"`,
	} {
		f.Add(seed, "id")
	}
	f.Fuzz(func(t *testing.T, text, keyField string) {
		users, err := parseUsers(text, keyField)
		if err != nil {
			var ue *usersError
			if !errors.As(err, &ue) || !strings.Contains(ue.pos, ":") {
				t.Fatalf("an error without a position: %v", err)
			}
			return
		}
		users.Each(func(id string, user rawjson.Text) bool {
			if _, err := rawjson.Check(user.String()); err != nil || user.Kind() != '{' || user.Compact() != user {
				t.Fatalf("user %q is not a compact object: %q", id, user)
			}
			if found, ok := users.Lookup(id); !ok || found != user {
				t.Fatalf("user %q is not found by its identity", id)
			}
			return true
		})
	})
}

// FuzzPlaceholders renders any field of any user into a JSON failure body:
// the body must stay valid JSON, and header text must hold no line break.
func FuzzPlaceholders(f *testing.F) {
	for _, seed := range []struct{ user, path string }{
		{`{"roles":["admin","x"],"n":1e3}`, "roles"},
		{`{"a":{"b":"line\r\nX: y"}}`, "a.b"},
		{`{"q":"say \"hi\" \\ \u2028"}`, "q"},
		{`{"big":-12345678901234567890123e-30}`, "big"},
		{`{"m":[[1],{"k":null},true]}`, "m"},
		{`{"x.y":{"z":1}}`, "x.y.z"},
	} {
		f.Add(seed.user, seed.path)
	}
	body := parseTemplate(`{"msg":"{jwt.user.f}","all":"{jwt.user}","id":"{jwt.identity}"}`, true)
	f.Fuzz(func(t *testing.T, user, path string) {
		doc, err := rawjson.Check(user)
		if err != nil || doc.Kind() != '{' || strings.ContainsAny(path, "{}") {
			return
		}
		doc = doc.Compact()
		st := &requestState{user: doc, tok: &token{identity: path, payload: doc}}
		repl := caddy.NewEmptyReplacer()
		repl.Map(st.placeholder)
		text, known := repl.GetString("jwt.user." + path)
		if !known {
			t.Fatal("a user path is unknown")
		}
		if strings.ContainsFunc(text, isHeaderUnsafe) {
			t.Fatalf("%q reached placeholder text", text)
		}
		repl.Set("jwt.user.f", text)
		b := body.render(repl)
		if !json.Valid([]byte(b)) {
			t.Fatalf("the body is not JSON: %s", b)
		}
	})
}

// isHeaderUnsafe is the oracle for headerSafe, written over runes as the
// rule reads: a control character other than tab, or DEL.
func isHeaderUnsafe(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }
