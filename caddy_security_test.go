package jwtuser

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Attacks and leaks through a real Caddy: hostile tokens, identity
// smuggling, secrets in logs, goroutines left by reloads. Real-Caddy tests
// never run in parallel: see caddy_helpers_test.go.

// TestHostileTokens sends the JWT attack literature's tokens through a real
// Caddy. Each gets the contract's status and reason; none gets a 5xx, and
// none reaches the next handler unless it is a good token.
func TestHostileTokens(t *testing.T) {
	k := getKeys(t)
	// An attacker's key server: the module must never call it.
	var attackerHits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{publicJWK(k.otherRSA, "evil", "", "sig")}})
	}))
	defer attacker.Close()

	users := usersFile(t, seedUsers)
	pub := pkixPEM(t, k.rsa)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /pk {
		jwt_user {
			public_key %s
			users_file %s
		}
		respond "REACHED {jwt.identity}"
	}
	route /rs256 {
		jwt_user {
			public_key %s
			algorithms RS256
			users_file %s
		}
		respond "REACHED {jwt.identity}"
	}
	route /hs {
		jwt_user {
			secret %s
			leeway 10s
			users_file %s
		}
		respond "REACHED {jwt.identity}"
	}
}`, httpPort, pub, users, pub, users, testSecret, users))

	now := time.Now()
	unix := func(d time.Duration) float64 { return float64(now.Add(d).UnixNano()) / 1e9 }
	pemBytes, _ := os.ReadFile(pub)
	der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	rs := func(claims map[string]any, header map[string]any) string {
		return signToken(t, "RS256", k.rsa, claims, header)
	}
	hs := func(payload string) string {
		return rawToken(t, `{"alg":"HS256","typ":"JWT"}`, payload, []byte(testSecret))
	}
	good := claimsFor("foo")
	goodRS := rs(good, nil)
	parts := strings.Split(goodRS, ".")
	evilHeaders := map[string]any{
		"jku": attacker.URL + "/jwks.json",
		"x5u": attacker.URL + "/cert.pem",
		"jwk": publicJWK(k.otherRSA, "evil", "", "sig"),
	}

	type row struct {
		name, path, token string
		status            int
		reason            string // the body's msg; for 200, the identity
	}
	rows := []row{
		{"good RS256", "/pk", goodRS, 200, "foo"},
		{"good HS256", "/hs", hs(`{"sub":"bar"}`), 200, "bar"},
	}
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		header := b64(`{"alg":"` + alg + `","typ":"JWT"}`)
		rows = append(rows,
			row{"alg " + alg + " unsigned", "/pk", header + "." + parts[1] + ".", 401, "The specified alg value is not allowed"},
			row{"alg " + alg + " with a signature", "/hs", header + "." + parts[1] + "." + parts[2], 401, "The specified alg value is not allowed"})
	}
	rows = append(rows,
		row{"HS256 keyed with the RSA PEM", "/pk", rawToken(t, `{"alg":"HS256"}`, `{"sub":"foo"}`, pemBytes), 401, "The specified alg value is not allowed"},
		row{"HS256 keyed with the RSA DER", "/pk", rawToken(t, `{"alg":"HS256"}`, `{"sub":"foo"}`, der), 401, "The specified alg value is not allowed"},
		row{"alg outside algorithms", "/rs256", signToken(t, "PS256", k.rsa, good, nil), 401, "The specified alg value is not allowed"},
		row{"RS256 at an HMAC route", "/hs", goodRS, 401, "The specified alg value is not allowed"},
		row{"kid traversal, real key", "/pk", rs(good, map[string]any{"kid": "../../../../etc/passwd"}), 200, "foo"},
		row{"kid SQL, real key", "/pk", rs(good, map[string]any{"kid": "' OR '1'='1' --"}), 200, "foo"},
		row{"kid traversal, forged", "/pk", signToken(t, "RS256", k.otherRSA, good, map[string]any{"kid": "../../dev/null"}), 401, "Signature verification failed"},
		row{"jku/x5u/jwk, attacker-signed", "/pk", signToken(t, "RS256", k.otherRSA, good, evilHeaders), 401, "Signature verification failed"},
		row{"jku/x5u/jwk, real key", "/pk", rs(good, evilHeaders), 200, "foo"},
		row{"many dots", "/hs", strings.Repeat(".", 4000), 401, "Invalid header string"},
		row{"thousands of segments", "/hs", strings.Repeat("e30.", 3000) + "e30", 401, "Token is too large"},
		row{"hundreds of segments", "/hs", strings.Repeat("e30.", 300) + "e30", 401, "Invalid payload padding"},
		row{"oversized", "/hs", hs(`{"sub":"foo","pad":"` + strings.Repeat("x", 9000) + `"}`), 401, "Token is too large"},
		row{"non-base64url header", "/hs", "e30*." + parts[1] + "." + parts[2], 401, "Invalid header padding"},
		row{"standard base64 payload", "/hs", parts[0] + "." + strings.ReplaceAll(parts[1], "_", "/") + "+/." + parts[2], 401, "Invalid payload padding"},
		row{"padded signature", "/pk", goodRS + "==", 401, "Invalid crypto padding"},
		row{"payload array", "/hs", hs(`["sub","foo"]`), 401, "Invalid payload string"},
		row{"payload number", "/hs", hs(`42`), 401, "Invalid payload string"},
		row{"payload string", "/hs", hs(`"foo"`), 401, "Invalid payload string"},
		row{"duplicate sub", "/hs", hs(`{"sub":"foo","sub":"bar"}`), 401, "Invalid payload string"},
		row{"escaped duplicate sub", "/hs", hs(`{"sub":"foo","\u0073ub":"bar"}`), 401, "Invalid payload string"},
		row{"non-UTF-8 payload", "/hs", hs("{\"sub\":\"f\xc0o\"}"), 401, "Invalid payload string"},
		row{"sub object", "/hs", hs(`{"sub":{"id":"foo"}}`), 401, "Invalid claim: sub"},
		row{"sub empty", "/hs", hs(`{"sub":""}`), 401, "Invalid claim: sub"},
		row{"sub huge number", "/hs", hs(`{"sub":123456789012345678901234567890}`), 401, "Invalid claim: sub"},
		row{"sub float", "/hs", hs(`{"sub":42.5}`), 401, "Invalid claim: sub"},
		row{"sub whole float", "/hs", hs(`{"sub":42.0}`), 200, "42"},
		row{"exp string", "/hs", hs(`{"sub":"foo","exp":"9999999999"}`), 401, `Invalid claim "exp"`},
		row{"nbf string", "/hs", hs(`{"sub":"foo","nbf":"0"}`), 401, `Invalid claim "nbf"`},
		row{"iat bool", "/hs", hs(`{"sub":"foo","iat":true}`), 401, `Invalid claim "iat"`},
		row{"exp inside the leeway", "/hs", hs(fmt.Sprintf(`{"sub":"foo","exp":%.3f}`, unix(-7*time.Second))), 200, "foo"},
		row{"exp past the leeway", "/hs", hs(fmt.Sprintf(`{"sub":"foo","exp":%.3f}`, unix(-13*time.Second))), 401, "Token has expired"},
		row{"nbf inside the leeway", "/hs", hs(fmt.Sprintf(`{"sub":"foo","nbf":%.3f}`, unix(7*time.Second))), 200, "foo"},
		row{"nbf past the leeway", "/hs", hs(fmt.Sprintf(`{"sub":"foo","nbf":%.3f}`, unix(13*time.Second))), 401, "The token is not yet valid (nbf)"},
		row{"iat past the leeway", "/hs", hs(fmt.Sprintf(`{"sub":"foo","iat":%.3f}`, unix(13*time.Second))), 401, "The token is not yet valid (iat)"},
		row{"exp in exponent form", "/hs", hs(`{"sub":"foo","exp":1e300}`), 200, "foo"},
	)
	for _, crit := range []string{`["exp"]`, `["b64"]`, `[]`, `"exp"`, `[1]`, `{"a":1}`, `null`, `[""]`} {
		rows = append(rows, row{"crit " + crit, "/hs", rawToken(t, `{"alg":"HS256","crit":`+crit+`}`, `{"sub":"foo"}`, []byte(testSecret)), 401, ""})
	}

	for _, r := range rows {
		got := get(t, tc, "GET", r.path, bearer(r.token))
		if got.status >= 500 {
			t.Errorf("%s: %d %s", r.name, got.status, got.body)
			continue
		}
		if r.status == 200 {
			if got.status != 200 || got.body != "REACHED "+r.reason {
				t.Errorf("%s: got %d %q, want the next handler for %s", r.name, got.status, got.body, r.reason)
			}
			continue
		}
		var body struct{ Msg string }
		_ = json.Unmarshal([]byte(got.body), &body)
		if got.status != r.status || strings.Contains(got.body, "REACHED") || (r.reason != "" && body.Msg != r.reason) {
			t.Errorf("%s: got %d %q, want %d %q", r.name, got.status, got.body, r.status, r.reason)
		}
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("the module fetched a key from a URL a token named (%d requests)", n)
	}
}

// TestIdentitySmuggling tries to change whose user is loaded or forwarded.
func TestIdentitySmuggling(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"x_user": r.Header.Values("X-User"), "x_roles": r.Header.Values("X-Roles")})
	}))
	defer upstream.Close()
	users := usersFile(t, seedUsers)
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /sources {
		jwt_user {
			from header Authorization
			from cookie access_token_cookie
			secret %s
			users_file %s
		}
		respond "{jwt.identity}"
	}
	route /forward {
		jwt_user {
			secret %s
			users_file %s
			optional
		}
		request_header X-User {jwt.user.username}
		reverse_proxy %s
	}
	route /forward-strict {
		jwt_user {
			secret %s
			users_file %s
			optional
		}
		request_header -X-User
		@user expression `+"`{jwt.identity} != ''`"+`
		request_header @user X-User {jwt.user.username}
		request_header X-Roles {jwt.user.roles}
		reverse_proxy %s
	}
}`, httpPort, testSecret, users, testSecret, users, upstream.Listener.Addr(), testSecret, users, upstream.Listener.Addr()))
	foo, bar := hs256(t, claimsFor("foo")), hs256(t, claimsFor("bar"))

	for _, c := range []struct {
		name   string
		fields []string
		status int
		body   string
	}{
		{"two Authorization fields", []string{bearer(foo), bearer(bar)}, 401, `{"msg":"Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"}`},
		{"header and cookie: the header wins", []string{bearer(foo), "Cookie: access_token_cookie=" + bar}, 200, "foo"},
		{"bad header, good cookie: only the header counts", []string{bearer("x.y"), "Cookie: access_token_cookie=" + bar}, 401, `{"msg":"Not enough segments"}`},
		{"cookie alone", []string{"Cookie: access_token_cookie=" + bar}, 200, "bar"},
		{"two cookies: the first", []string{"Cookie: access_token_cookie=" + foo + "; access_token_cookie=" + bar}, 200, "foo"},
	} {
		r := get(t, tc, "GET", "/sources", c.fields...)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%s: got %d %q, want %d %q", c.name, r.status, r.body, c.status, c.body)
		}
	}

	forwarded := func(path string, fields ...string) map[string][]string {
		t.Helper()
		r := get(t, tc, "GET", path, fields...)
		var got map[string][]string
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return got
	}
	if got := forwarded("/forward", bearer(bar), "X-User: foo"); fmt.Sprint(got["x_user"]) != "[bar]" {
		t.Errorf("a client's X-User survived: %v", got)
	}
	// Optional, no token: the client's value never passes; plain
	// request_header leaves the field empty, the recipe removes it.
	if got := forwarded("/forward", "X-User: foo"); len(got["x_user"]) > 1 || (len(got["x_user"]) == 1 && got["x_user"][0] != "") {
		t.Errorf("anonymous: a client's X-User reached the upstream: %v", got)
	}
	if got := forwarded("/forward-strict", "X-User: foo", "X-User: admin"); got["x_user"] != nil {
		t.Errorf("anonymous, strict recipe: X-User %v reached the upstream", got["x_user"])
	}
	if got := forwarded("/forward-strict", bearer(foo), "X-User: admin"); fmt.Sprint(got["x_user"]) != "[foo]" || fmt.Sprint(got["x_roles"]) != "[admin]" {
		t.Errorf("strict recipe with a user: %v", got)
	}
	// Control characters in user fields never reach a header.
	got := forwarded("/forward", bearer(hs256(t, claimsFor("evil"))))
	if len(got["x_user"]) != 1 || strings.ContainsAny(got["x_user"][0], "\r\n\x00") {
		t.Errorf("evil user forwarded as %q", got["x_user"])
	}
}

// TestNoSecretsInLogs runs a Caddy at debug level through every kind of
// failure and searches its log for tokens, secrets, key material and user
// bodies; identities may appear at debug level only.
func TestNoSecretsInLogs(t *testing.T) {
	defer setPoll(20 * time.Millisecond)()
	k := getKeys(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	const userMarker = "user-body-marker-7c1e"
	const serviceToken = "service-token-marker-93fa"
	users := usersFile(t, `{"alice-id-marker": {"secret_note": "`+userMarker+`", "roles": ["admin"]}}`)
	var storeDown atomic.Bool
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		if storeDown.Load() {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"leak":"` + userMarker + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"note":"` + userMarker + `"}`))
	})
	jwksSrv := newJWKSServer(t, publicJWK(k.rsa, "kid-1", "", "sig"))
	jwksSrv.status.Store(500)
	t.Setenv("JWT_USER_TEST_SERVICE_TOKEN", serviceToken)
	tc := startCaddyWith(t, fmt.Sprintf(`
	log jwtuser {
		output file %s
		level DEBUG
		include http.handlers.jwt_user http.jwt_user
	}`, logFile), fmt.Sprintf(`
:%d {
	route /file {
		jwt_user {
			secret %s
			users_file %s
		}
		respond ok
	}
	route /url {
		jwt_user {
			secret %s
			users_url %s/users/{jwt.identity} {
				header Authorization "Bearer {env.JWT_USER_TEST_SERVICE_TOKEN}"
			}
			cache_ttl 0
		}
		respond ok
	}
	route /jwks {
		jwt_user {
			jwks %s
			users_file %s
		}
		respond ok
	}
}`, httpPort, testSecret, users, testSecret, svc.URL, jwksSrv.URL, users))

	var tokens []string
	send := func(path, tok string) {
		tokens = append(tokens, tok)
		get(t, tc, "GET", path, bearer(tok))
	}
	send("/file", hs256(t, claimsFor("alice-id-marker")))
	send("/file", hs256(t, claimsFor("nobody-id-marker")))
	send("/file", hs256(t, map[string]any{"sub": "alice-id-marker", "exp": 1}))
	send("/file", signToken(t, "HS256", []byte("a wrong secret of some good length"), claimsFor("alice-id-marker"), nil))
	send("/file", "not.a.token")
	send("/url", hs256(t, claimsFor("alice-id-marker")))
	storeDown.Store(true)
	send("/url", hs256(t, claimsFor("bob-id-marker")))
	send("/jwks", signToken(t, "RS256", k.rsa, claimsFor("alice-id-marker"), map[string]any{"kid": "kid-1"}))
	writeFile(t, users, `{"alice-id-marker": {"secret_note": "`+userMarker+`"`) // a broken rewrite
	eventually(t, "the broken rewrite to be logged", func() bool { return fileHolds(logFile, "users file did not load") })

	raw, err := os.ReadFile(logFile)
	if os.Getenv("JWT_USER_SHOW_LOG") != "" {
		t.Log(string(raw))
	}
	if err != nil {
		t.Fatal(err)
	}
	logText := string(raw)
	if !strings.Contains(logText, "request refused") || !strings.Contains(logText, "users file did not load") ||
		!strings.Contains(logText, "user store failing") || !strings.Contains(logText, "JWKS fetch failed") {
		t.Fatalf("the log misses the failures it should hold:\n%s", logText)
	}
	pemBody, _ := os.ReadFile(pkixPEM(t, k.rsa))
	forbidden := []string{testSecret, userMarker, serviceToken, string(pemBody[30:90])}
	for _, tok := range tokens {
		forbidden = append(forbidden, tok)
		for _, part := range strings.Split(tok, ".") {
			if len(part) > 16 {
				forbidden = append(forbidden, part)
			}
		}
	}
	for _, s := range forbidden {
		if strings.Contains(logText, s) {
			t.Errorf("the log holds %q", s)
		}
	}
	// Identities only at debug level.
	for _, line := range strings.Split(logText, "\n") {
		if strings.Contains(line, "-id-marker") && !strings.Contains(line, `"level":"debug"`) {
			t.Errorf("an identity above debug level: %s", line)
		}
	}
}

// TestReloadsLeaveNoGoroutines loads 50 configurations, each with its own
// users file, users_url store and JWK Set, then one without jwt_user, and
// counts goroutines against the count before.
func TestReloadsLeaveNoGoroutines(t *testing.T) {
	k := getKeys(t)
	svc := newUserService(t, jsonUser)
	jwksSrv := newJWKSServer(t, publicJWK(k.rsa, "a", "", "sig"))
	users := usersFile(t, seedUsers)
	plain := fmt.Sprintf(":%d {\n\trespond plain\n}", httpPort)
	tc := startCaddy(t, plain)
	get(t, tc, "GET", "/")
	settle := func() int {
		tc.Client.CloseIdleConnections()
		svc.CloseClientConnections()
		jwksSrv.CloseClientConnections()
		// Real time: the real Caddy's and the servers' connection
		// goroutines end on their own once their sockets close.
		time.Sleep(100 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()
	for i := 0; i < 50; i++ {
		tc := startCaddy(t, fmt.Sprintf(`
:%d {
	route /file {
		jwt_user {
			secret %s
			users_file %s
		}
		respond ok
	}
	route /url {
		jwt_user {
			secret %s
			users_url %s/users/{jwt.identity}
			cache_ttl %ds
		}
		respond ok
	}
	route /jwks {
		jwt_user {
			jwks %s %ds
			users_file %s
		}
		respond ok
	}
}`, httpPort, testSecret, users, testSecret, svc.URL, 60+i, jwksSrv.URL, 60+i, users))
		get(t, tc, "GET", "/url", bearer(hs256(t, claimsFor("u"+itoa(int64(i))))))
		get(t, tc, "GET", "/jwks", bearer(signToken(t, "RS256", k.rsa, claimsFor("foo"), map[string]any{"kid": "a"})))
	}
	if n := jwksSrv.fetches.Load(); n != 50 {
		t.Errorf("%d JWKS fetches for 50 distinct sets", n)
	}
	startCaddy(t, plain)
	var after int
	deadline := time.Now().Add(5 * time.Second)
	for after = settle(); after > before && time.Now().Before(deadline); after = settle() {
	}
	t.Logf("goroutines: %d before, %d after 50 reloads", before, after)
	if after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left behind by 50 reloads:\n%s", after-before, buf[:runtime.Stack(buf, true)])
	}
}
