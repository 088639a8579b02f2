package jwtuser

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// The handler through a real Caddy: the example, the response contract,
// placeholders, matchers, and configurations refused or given as JSON.
// Real-Caddy tests never run in parallel: see caddy_helpers_test.go.

// TestCaddyfileExample runs the repository's Caddyfile.example, moved to the
// test ports, through the seed's scenario.
func TestCaddyfileExample(t *testing.T) {
	abs, _ := filepath.Abs("example-users.json")
	runExample(t, "Caddyfile.example", "users_file example-users.json", "users_file "+abs)
}

// runExample runs an example Caddyfile, moved to the test ports and with
// the given old, new replacements, through the seed's scenario.
func runExample(t *testing.T, name string, replacements ...string) *caddytest.Tester {
	t.Helper()
	example, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	secretPath, _ := filepath.Abs("example-secret.txt")
	config := strings.NewReplacer(append([]string{
		"admin localhost:2019", fmt.Sprintf("admin localhost:%d", adminPort),
		":8080 {", fmt.Sprintf(":%d {", httpPort),
		"{file.example-secret.txt}", "{file." + secretPath + "}",
	}, replacements...)...).Replace(string(example))
	tc := caddytest.NewTester(t)
	tc.InitServer(config, "caddyfile")
	secretFile, err := os.ReadFile("example-secret.txt")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(secretFile))
	token := func(sub string) string {
		out, err := mintToken(mintOptions{secret: secret, sub: sub, ttl: 15 * time.Minute, now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, c := range []struct {
		sub    string
		status int
		body   string
	}{
		{"foo", 200, `{"msg":"don't forget to drink your ovaltine"}`},
		{"bar", 403, `{"msg":"Forbidden"}`},
		{"baz", 403, `{"msg":"Forbidden"}`},
		{"nobody", 404, `{"msg":"User nobody not found"}`},
	} {
		r := get(t, tc, "GET", "/admin-only", bearer(token(c.sub)))
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s: got %d %s, want %d %s", c.sub, r.status, r.body, c.status, c.body)
		}
	}
	r := get(t, tc, "GET", "/admin-only")
	if r.status != 401 || r.body != `{"msg":"Missing Authorization Header"}` {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	r = get(t, tc, "GET", "/whoami", bearer(token("bar")))
	if r.status != 200 || r.body != `{"identity":"bar","roles":"peasant","user":{"username":"bar","roles":["peasant"]}}` {
		t.Errorf("whoami: %d %s", r.status, r.body)
	}
	// caddy adapt of the example succeeds and holds the handler.
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(example, nil)
	if err != nil || !strings.Contains(string(adapted), `"handler":"jwt_user"`) || strings.Contains(string(adapted), secret) {
		t.Errorf("adapt: %v %s", err, adapted)
	}
	return tc
}

// TestResponseTable walks every row of the contract's response and reason
// tables through a real Caddy. The route's next handler answers "REACHED":
// no failure may ever get there.
func TestResponseTable(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /default {
		jwt_user {
			secret %s
			users_file %s
			issuer https://issuer.example
			audience api
			require_claims exp
			claim type access
			max_token_size 2KiB
		}
		respond "REACHED {jwt.identity}"
	}
	route /sources {
		jwt_user {
			from header Authorization
			from cookie access_token_cookie
			from query jwt
			secret %s
			users_file %s
		}
		respond "REACHED {jwt.identity}"
	}
	route /custom {
		jwt_user {
			secret %s
			users_file %s
			on_missing_token 302 "" {
				header Location /login
			}
			on_invalid_token 400 "bad token: {jwt.error}"
			on_expired_token 401 `+"`"+`{"error":"{jwt.error}","who":"{jwt.identity}","type":"{jwt.claims.type}"}`+"`"+` {
				header WWW-Authenticate "Bearer realm=\"api\""
			}
			on_load_failure 404 `+"`"+`{"msg":"User {jwt.identity} not found"}`+"`"+`
		}
		respond "REACHED"
	}
}`, httpPort, testSecret, users, testSecret, users, testSecret, users))

	now := time.Now().Unix()
	valid := func() map[string]any {
		return map[string]any{"sub": "foo", "iss": "https://issuer.example", "aud": "api", "exp": now + 600, "type": "access"}
	}
	with := func(k string, v any) string {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return hs256(t, c)
	}
	good := hs256(t, valid())
	parts := strings.Split(good, ".")
	k := getKeys(t)
	const (
		challenge        = "Bearer"
		invalidChallenge = `Bearer error="invalid_token"`
	)
	rows := []struct {
		name      string
		path      string
		fields    []string
		status    int
		body      string
		challenge string
	}{
		{"ok", "/default", []string{bearer(good)}, 200, "REACHED foo", ""},
		{"missing", "/default", nil, 401, `{"msg":"Missing Authorization Header"}`, challenge},
		{"basic scheme", "/default", []string{"Authorization: Basic Zm9vOmJhcg=="}, 401,
			`{"msg":"Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"}`, challenge},
		{"scheme alone", "/default", []string{"Authorization: Bearer"}, 401,
			`{"msg":"Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"}`, invalidChallenge},
		{"several sources missing", "/sources", nil, 401,
			`{"msg":"Missing JWT in headers or cookies or query_string (Missing Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query parameter)"}`, challenge},
		{"cookie source", "/sources", []string{"Cookie: access_token_cookie=" + good}, 200, "REACHED foo", ""},
		{"query source", "/sources?jwt=" + good, nil, 200, "REACHED foo", ""},
		{"not enough segments", "/default", []string{bearer(parts[0] + "." + parts[1])}, 401, `{"msg":"Not enough segments"}`, invalidChallenge},
		{"header padding", "/default", []string{bearer("e30=." + parts[1] + "." + parts[2])}, 401, `{"msg":"Invalid header padding"}`, invalidChallenge},
		{"payload padding", "/default", []string{bearer(parts[0] + ".e30=." + parts[2])}, 401, `{"msg":"Invalid payload padding"}`, invalidChallenge},
		{"crypto padding", "/default", []string{bearer(good + "=")}, 401, `{"msg":"Invalid crypto padding"}`, invalidChallenge},
		{"header string", "/default", []string{bearer(b64("nope") + "." + parts[1] + "." + parts[2])}, 401, `{"msg":"Invalid header string"}`, invalidChallenge},
		{"payload string", "/default", []string{bearer(rawToken(t, `{"alg":"HS256"}`, `[1]`, []byte(testSecret)))}, 401, `{"msg":"Invalid payload string"}`, invalidChallenge},
		{"alg none", "/default", []string{bearer(b64(`{"alg":"none"}`) + "." + parts[1] + ".")}, 401, `{"msg":"The specified alg value is not allowed"}`, invalidChallenge},
		{"RS256 against a secret", "/default", []string{bearer(signToken(t, "RS256", k.rsa, valid(), nil))}, 401, `{"msg":"The specified alg value is not allowed"}`, invalidChallenge},
		{"bad signature", "/default", []string{bearer(signToken(t, "HS256", []byte("another secret of enough length!!"), valid(), nil))}, 401, `{"msg":"Signature verification failed"}`, invalidChallenge},
		{"nbf ahead", "/default", []string{bearer(with("nbf", now+300))}, 401, `{"msg":"The token is not yet valid (nbf)"}`, invalidChallenge},
		{"iat ahead", "/default", []string{bearer(with("iat", now+300))}, 401, `{"msg":"The token is not yet valid (iat)"}`, invalidChallenge},
		{"wrong iss", "/default", []string{bearer(with("iss", "https://evil.example"))}, 401, `{"msg":"Invalid issuer"}`, invalidChallenge},
		{"no iss", "/default", []string{bearer(with("iss", nil))}, 401, `{"msg":"Token is missing the \"iss\" claim"}`, invalidChallenge},
		{"wrong aud", "/default", []string{bearer(with("aud", []string{"web"}))}, 401, `{"msg":"Invalid audience"}`, invalidChallenge},
		{"no aud", "/default", []string{bearer(with("aud", nil))}, 401, `{"msg":"Token is missing the \"aud\" claim"}`, invalidChallenge},
		{"required claim absent", "/default", []string{bearer(with("exp", nil))}, 401, `{"msg":"Token is missing the \"exp\" claim"}`, invalidChallenge},
		{"claim mismatch", "/default", []string{bearer(with("type", "refresh"))}, 401, `{"msg":"Invalid claim \"type\""}`, invalidChallenge},
		{"identity absent", "/default", []string{bearer(with("sub", nil))}, 401, `{"msg":"Missing claim: sub"}`, invalidChallenge},
		{"identity unusable", "/default", []string{bearer(with("sub", map[string]any{"id": "foo"}))}, 401, `{"msg":"Invalid claim: sub"}`, invalidChallenge},
		{"crit", "/default", []string{bearer(signToken(t, "HS256", []byte(testSecret), valid(), map[string]any{"crit": []string{"exp"}}))}, 401,
			`{"msg":"Unsupported critical extension: exp"}`, invalidChallenge},
		{"too large", "/default", []string{bearer(with("pad", strings.Repeat("x", 2048)))}, 401, `{"msg":"Token is too large"}`, invalidChallenge},
		{"expired", "/default", []string{bearer(with("exp", now-10))}, 401, `{"msg":"Token has expired"}`, invalidChallenge},
		{"load failure", "/default", []string{bearer(with("sub", "nobody"))}, 401, `{"msg":"Error loading the user nobody"}`, invalidChallenge},
		{"load failure, quote in identity", "/default", []string{bearer(with("sub", `no"body`))}, 401, `{"msg":"Error loading the user no\"body"}`, invalidChallenge},
		{"custom missing", "/custom", nil, 302, "", ""},
		{"custom invalid", "/custom", []string{bearer("a.b")}, 400, "bad token: Not enough segments", ""},
		{"custom expired", "/custom", []string{bearer(with("exp", now-10))}, 401, `{"error":"Token has expired","who":"foo","type":"access"}`, `Bearer realm="api"`},
		{"custom load failure", "/custom", []string{bearer(with("sub", `x"y`))}, 404, `{"msg":"User x\"y not found"}`, ""},
		{"custom ok", "/custom", []string{bearer(good)}, 200, "REACHED", ""},
	}
	for _, row := range rows {
		r := get(t, tc, "GET", row.path, row.fields...)
		if r.status != row.status || r.body != row.body {
			t.Errorf("%s: got %d %s, want %d %s", row.name, r.status, r.body, row.status, row.body)
		}
		if strings.Contains(r.body, "REACHED") != (row.status == 200) {
			t.Errorf("%s: the next handler ran: %s", row.name, r.body)
		}
		if got := r.header.Get("WWW-Authenticate"); got != row.challenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", row.name, got, row.challenge)
		}
		if row.status != 200 && strings.HasPrefix(row.body, "{") && r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", row.name, r.header.Get("Content-Type"))
		}
		if row.status != 200 && strings.HasPrefix(row.body, "{") && !json.Valid([]byte(r.body)) {
			t.Errorf("%s: body is not JSON: %s", row.name, r.body)
		}
	}
	if r := get(t, tc, "GET", "/custom"); r.header.Get("Location") != "/login" {
		t.Errorf("custom missing: Location %q", r.header.Get("Location"))
	}
	if r := get(t, tc, "GET", "/custom", bearer("a.b")); r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("text body: Content-Type %q", r.header.Get("Content-Type"))
	}
}

// TestPlaceholdersReachTheUpstream forwards the user through request_header
// to a real upstream, which reports the header fields it received.
func TestPlaceholdersReachTheUpstream(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := map[string][]string{}
		for name, values := range r.Header {
			if strings.HasPrefix(name, "X-") {
				got[name] = values
			}
		}
		_ = json.NewEncoder(w).Encode(got)
	}))
	defer upstream.Close()
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
	}
	request_header X-User-Id {jwt.identity}
	request_header X-Auth-User {http.auth.user.id}
	request_header X-Username {jwt.user.username}
	request_header X-Roles {jwt.user.roles}
	request_header X-Level {jwt.user.level}
	request_header X-City {jwt.user.address.city}
	request_header X-Address {jwt.user.address}
	request_header X-User {jwt.user}
	request_header X-Claim-Type {jwt.claims.type}
	request_header X-Claim-Nested {jwt.claims.org.name}
	request_header X-Missing "[{jwt.user.nope}]"
	reverse_proxy %s
}`, httpPort, testSecret, users, upstream.Listener.Addr()))

	claims := claimsFor("foo")
	claims["org"] = map[string]any{"name": "Acme"}
	r := get(t, tc, "GET", "/", bearer(hs256(t, claims)), "X-User-Id: spoofed", "X-Username: spoofed")
	var got map[string][]string
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 {
		t.Fatalf("upstream reply %d %s: %v", r.status, r.body, err)
	}
	want := map[string][]string{
		"X-User-Id":      {"foo"},
		"X-Auth-User":    {"foo"},
		"X-Username":     {"foo"},
		"X-Roles":        {"admin"},
		"X-Level":        {"3"},
		"X-City":         {"Paris"},
		"X-Address":      {`{"city":"Paris"}`},
		"X-User":         {`{"username":"foo","roles":["admin"],"level":3,"address":{"city":"Paris"}}`},
		"X-Claim-Type":   {"access"},
		"X-Claim-Nested": {"Acme"},
		"X-Missing":      {"[]"},
	}
	for name, values := range want {
		if fmt.Sprint(got[name]) != fmt.Sprint(values) {
			t.Errorf("%s: upstream got %q, want %q", name, got[name], values)
		}
	}

	// A numeric identity, and a user whose fields hold CR/LF.
	r = get(t, tc, "GET", "/", bearer(hs256(t, claimsFor(42))))
	if !strings.Contains(r.body, `"X-User-Id":["42"]`) || !strings.Contains(r.body, `"X-Username":["numeric"]`) {
		t.Errorf("numeric identity: %d %s", r.status, r.body)
	}
	r = get(t, tc, "GET", "/", bearer(hs256(t, claimsFor("evil"))))
	got = nil
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 {
		t.Fatalf("evil user: %d %s", r.status, r.body)
	}
	if got["X-Injected"] != nil || got["X-Username"][0] != "evil  X-Injected: yes" || got["X-Roles"][0] != "a b" {
		t.Errorf("CR/LF reached a header: %q", got)
	}
}

// TestExpressionMatcherSeesLists checks the seed's role check and the edge
// the contract promises: a user without roles is refused, not an error.
func TestExpressionMatcherSeesLists(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route {
		jwt_user {
			secret %s
			users_file %s
		}
		@admin expression `+"`'admin' in {jwt.user.roles}`"+`
		respond @admin "admin"
		@named expression `+"`{jwt.user.username} == 'bar'`"+`
		respond @named "bar by name"
		respond "other"
	}
	route /level {
		jwt_user {
			secret %s
			users_file %s
		}
		@senior expression `+"`{jwt.user.level} >= 2`"+`
		respond @senior "senior"
		respond "junior"
	}
}`, httpPort, testSecret, users, testSecret, users))
	// Each token three times: computed, remembered on the reused token,
	// read back from its memo; the matcher must see the same list.
	for sub, want := range map[string]string{"foo": "senior", "bar": "junior"} {
		auth := bearer(hs256(t, claimsFor(sub)))
		for i := range 3 {
			r := get(t, tc, "GET", "/level", auth)
			if r.status != 200 || r.body != want {
				t.Errorf("level of %s, request %d: got %d %q, want %q", sub, i+1, r.status, r.body, want)
			}
		}
	}
	for sub, want := range map[string]string{"foo": "admin", "bar": "bar by name", "baz": "other", "norole": "other"} {
		auth := bearer(hs256(t, claimsFor(sub)))
		for i := range 3 {
			r := get(t, tc, "GET", "/", auth)
			if r.status != 200 || r.body != want {
				t.Errorf("%s, request %d: got %d %q, want %q", sub, i+1, r.status, r.body, want)
			}
		}
	}
}

// TestExpressionMatcherSeesRememberedLists reads a two-role list through
// the token's memo, whose lists keep their text past their end: the
// expression matcher must see exactly the list, and the text exactly its
// join, on every request.
func TestExpressionMatcherSeesRememberedLists(t *testing.T) {
	users := usersFile(t, `{"foo": {"roles": ["admin", "editor"]}}`)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
	}
	@exact expression `+"`size({jwt.user.roles}) == 2 && {jwt.user.roles} == ['admin', 'editor']`"+`
	respond @exact "exact {jwt.user.roles}"
	respond "other {jwt.user.roles}"
}`, httpPort, testSecret, users))
	auth := bearer(hs256(t, claimsFor("foo")))
	for i := range 4 {
		if r := get(t, tc, "GET", "/", auth); r.status != 200 || r.body != "exact admin,editor" {
			t.Errorf("request %d: got %d %q, want \"exact admin,editor\"", i+1, r.status, r.body)
		}
	}
}

func TestOptionalAndPreflight(t *testing.T) {
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /optional {
		jwt_user {
			secret %s
			users_file %s
			optional
		}
		@admin expression `+"`'admin' in {jwt.user.roles}`"+`
		respond @admin "admin {jwt.identity}"
		respond "[{jwt.identity}][{jwt.user}][{jwt.user.roles}][{jwt.claims.sub}][{http.auth.user.id}]"
	}
	route /strict {
		jwt_user {
			secret %s
			users_file %s
		}
		respond "{method} [{jwt.identity}]"
	}
}`, httpPort, testSecret, users, testSecret, users))

	for _, c := range []struct {
		name, method, path string
		fields             []string
		status             int
		body               string
	}{
		{"anonymous", "GET", "/optional", nil, 200, "[][][][][]"},
		{"anonymous with basic auth", "GET", "/optional", []string{"Authorization: Basic Zm9v"}, 200, "[][][][][]"},
		{"user", "GET", "/optional", []string{bearer(hs256(t, claimsFor("foo")))}, 200, "admin foo"},
		{"bad token still refused", "GET", "/optional", []string{bearer("x.y.z")}, 401, `{"msg":"Invalid header padding"}`},
		{"expired still refused", "GET", "/optional", []string{bearer(hs256(t, map[string]any{"sub": "foo", "exp": 1}))}, 401, `{"msg":"Token has expired"}`},
		{"unknown user still refused", "GET", "/optional", []string{bearer(hs256(t, claimsFor("nobody")))}, 401, `{"msg":"Error loading the user nobody"}`},
		{"preflight passes", "OPTIONS", "/strict", nil, 200, "OPTIONS []"},
		{"strict without token", "GET", "/strict", nil, 401, `{"msg":"Missing Authorization Header"}`},
	} {
		r := get(t, tc, c.method, c.path, c.fields...)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s: got %d %q, want %d %q", c.name, r.status, r.body, c.status, c.body)
		}
	}
}

// TestRefusedConfigs loads configurations that cannot work; each is refused
// with a message naming the directive, and the running config stays.
func TestRefusedConfigs(t *testing.T) {
	users := usersFile(t, seedUsers)
	broken := usersFile(t, "{\n  \"foo\": {\"roles\": [\"admin\"]\n}")
	k := getKeys(t)
	pub := pkixPEM(t, k.rsa)
	site := func(body string) string {
		return globalOptions + fmt.Sprintf(":%d {\n\tjwt_user {\n%s\n\t}\n\trespond ok\n}", httpPort, body)
	}
	for _, c := range []struct{ body, want string }{
		{"users_file " + users, "no key source: give secret, public_key or jwks"},
		{"secret " + testSecret + "\npublic_key " + pub + "\nusers_file " + users, "secret, public_key, jwks and keys name exactly one"},
		{"secret " + testSecret, "no user store: give users_file, users_url or users_sql"},
		{"secret " + testSecret + "\nusers_file " + users + "\nusers_url http://127.0.0.1:1/{jwt.identity}", "users_file, users_url, users_sql and store name exactly one"},
		{"secret " + testSecret + "\nusers_sql sqlite /nonexistent.db {\n\tquery \"SELECT 1 AS one WHERE 1 = {http.request.uri}\"\n}", "{http.request.uri} is not allowed"},
		{"secret " + testSecret + "\nusers_file " + users + "\ncache_ttl 5m", "cache_ttl, cache_not_found_ttl, stale_if_error and cache_size apply to users_url"},
		{"secret " + testSecret + "\nusers_url http://{jwt.identity}/x", "users_url: {jwt.identity} stands in the host"},
		{"secret " + testSecret + "\nusers_url http://127.0.0.1:1/{jwt.user.id}", "users_url: {jwt.user.id} is not known before the user is loaded"},
		{"secret " + testSecret + "\nusers_file /no/such/users.json", "users_file: stat /no/such/users.json: no such file or directory"},
		{"secret " + testSecret + "\nusers_file " + broken, "users_file: " + broken + ":3:2: unexpected end of JSON"},
		{"public_key /no/such/key.pem\nusers_file " + users, "public_key: open /no/such/key.pem"},
		{"jwks ftp://idp.example/keys\nusers_file " + users, `jwks: \"ftp://idp.example/keys\" is not an http or https URL`},
		{"jwks http://127.0.0.1:1/keys\nsecret " + testSecret + "\nusers_file " + users, "secret, public_key, jwks and keys name exactly one"},
		{"secret " + testSecret + "\nalgorithms RS256\nusers_file " + users, "algorithms: the key cannot verify RS256"},
		{"public_key " + pub + "\nalgorithms HS256\nusers_file " + users, "algorithms: the key cannot verify HS256"},
		{"secret " + testSecret + "\nalgorithms HS999\nusers_file " + users, `algorithms: unknown alg \"HS999\"`},
		{"secret " + testSecret + "\nalgorithms none\nusers_file " + users, `algorithms: alg \"none\" is never accepted`},
		{"secret " + testSecret + "\nusers_file " + users + "\non_load_failure 99", `on_load_failure: status 99 is outside 200-599`},
		{"secret " + testSecret + "\nusers_file " + users + "\nfrom body token", `from: unknown source \"body\"`},
	} {
		caddytest.AssertLoadError(t, site(c.body), "caddyfile", c.want)
	}
	// A bad status given as JSON is refused at provision, naming the field.
	jsonConfig := fmt.Sprintf(`{"admin":{"listen":"localhost:%d"},"apps":{"http":{"servers":{"s":{"listen":[":%d"],"routes":[{"handle":[
		{"handler":"jwt_user","keys":{"source":"secret","secret":%q},"store":{"source":"file","path":%q},"on_store_error":{"status_code":600}}]}]}}}}}`,
		adminPort, httpPort, testSecret, users)
	caddytest.AssertLoadError(t, jsonConfig, "json", "on_store_error: status 600 is outside 200-599")
}

// TestJSONConfig runs the handler from Caddy's native JSON.
func TestJSONConfig(t *testing.T) {
	users := usersFile(t, `[{"email": "a@example.com", "roles": ["admin"]}]`)
	tc := caddytest.NewTester(t)
	tc.InitServer(fmt.Sprintf(`{"admin":{"listen":"localhost:%d"},"apps":{"http":{"servers":{"s":{"listen":[":%d"],"routes":[{"handle":[
		{"handler":"jwt_user","from":[{"source":"header","name":"X-Token","scheme":""}],"keys":{"source":"secret","secret":%q},
		 "identity_claim":"email","store":{"source":"file","path":%q,"key_field":"email"},
		 "on_load_failure":{"status_code":403,"body":"no"}},
		{"handler":"static_response","body":"{jwt.identity} {jwt.user.roles}"}]}]}}}}}`,
		adminPort, httpPort, testSecret, users), "json")
	r := get(t, tc, "GET", "/", "X-Token: "+hs256(t, map[string]any{"email": "a@example.com"}))
	if r.status != 200 || r.body != "a@example.com admin" {
		t.Errorf("got %d %q", r.status, r.body)
	}
	r = get(t, tc, "GET", "/", "X-Token: "+hs256(t, map[string]any{"email": "b@example.com"}))
	if r.status != 403 || r.body != "no" {
		t.Errorf("unknown user: got %d %q", r.status, r.body)
	}
}
