package jwtuser

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every setting read when the configuration loads resolves the global
// placeholders and refuses any other, naming the setting and the
// placeholder: a per-request one has no value at load and would be used as
// its literal text (the field report: a users_url header sent
// "{http.request.header.X-Tenant-ID}" to the service).
func TestPerRequestPlaceholdersRefusedAtLoad(t *testing.T) {
	t.Parallel()
	users := usersFile(t, `{"foo": {}}`)
	k := getKeys(t)
	pem := pkixPEM(t, k.rsa)
	const ph = "{http.request.host}"
	base := func() Handler {
		return Handler{KeysRaw: secretKeys(testSecret), StoreRaw: fileStoreJSON(users, "")}
	}
	scheme := "Bearer" + ph
	cases := []struct {
		name string
		edit func(h *Handler)
		want string // in the error, beside the placeholder
	}{
		{"secret", func(h *Handler) { h.KeysRaw = secretKeys(testSecret + ph) }, "secret: "},
		{"public_key", func(h *Handler) { h.KeysRaw = publicKeyKeys(pem + ph) }, "public_key: "},
		{"jwks", func(h *Handler) { h.KeysRaw = jwksKeys("https://"+ph+"/keys", 0) }, "jwks: "},
		{"users_file", func(h *Handler) { h.StoreRaw = fileStoreJSON(users+ph, "") }, "users_file: "},
		{"users_file key field", func(h *Handler) { h.StoreRaw = fileStoreJSON(users, "id"+ph) }, "users_file: "},
		{"users_url", func(h *Handler) {
			h.StoreRaw = urlStoreJSON(&UsersURL{URL: "https://users.internal/" + ph})
		}, "users_url: "},
		{"users_url header", func(h *Handler) {
			h.StoreRaw = urlStoreJSON(&UsersURL{URL: "https://users.internal/{jwt.identity}",
				Headers: http.Header{"X-Tenant-Id": {"{http.request.header.X-Tenant-ID}"}}})
		}, "users_url: header X-Tenant-Id: unrecognized placeholder {http.request.header.X-Tenant-ID}"},
		{"users_url header name", func(h *Handler) {
			h.StoreRaw = urlStoreJSON(&UsersURL{URL: "https://users.internal/{jwt.identity}",
				Headers: http.Header{"X-" + ph: {"v"}}})
		}, "users_url: header: "},
		{"algorithms", func(h *Handler) { h.Algorithms = []string{ph} }, "algorithms: "},
		{"issuer", func(h *Handler) { h.Issuers = []string{"https://" + ph} }, "issuer: "},
		{"audience", func(h *Handler) { h.Audiences = []string{ph} }, "audience: "},
		{"require_claims", func(h *Handler) { h.RequireClaims = []string{ph} }, "require_claims: "},
		{"claim name", func(h *Handler) { h.Claims = map[string][]string{ph: {"x"}} }, "claim: "},
		{"claim value", func(h *Handler) { h.Claims = map[string][]string{"type": {ph}} }, "claim type: "},
		{"identity_claim", func(h *Handler) { h.IdentityClaim = ph }, "identity_claim: "},
		{"from name", func(h *Handler) { h.From = []TokenSource{{Source: "cookie", Name: ph}} }, "from cookie: "},
		{"response header name", func(h *Handler) {
			h.OnMissingToken = &Response{StatusCode: 302, Headers: http.Header{"X-" + ph: {"/login"}}}
		}, "on_missing_token: header: "},
		{"from scheme", func(h *Handler) { h.From = []TokenSource{{Source: "header", Name: "Authorization", Scheme: &scheme}} }, "from header: "},
	}
	for _, c := range cases {
		h := base()
		c.edit(&h)
		err := provision(t, &h, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "{http.request.") {
			t.Errorf("%s: got %v, want it to name %q and the placeholder", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: the error shows the secret", c.name)
		}
	}
}

// Global placeholders are resolved at load in the same settings; `\{`
// stands for a literal brace.
func TestGlobalPlaceholdersResolvedAtLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	writeFile(t, users, `[{"uid": "foo"}]`)
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return "{file." + p + "}"
	}
	h := Handler{
		KeysRaw:       secretKeys(file("secret", testSecret)),
		StoreRaw:      fileStoreJSON(file("path", users), file("keyfield", "uid")),
		Issuers:       []string{file("iss", "https://idp")},
		Audiences:     []string{`\{api\}`},
		IdentityClaim: file("idclaim", "user"),
		Claims:        map[string][]string{file("claimname", "type"): {file("claimvalue", "access")}},
	}
	if err := provision(t, &h, nil); err != nil {
		t.Fatal(err)
	}
	raw := rawToken(t, `{"alg":"HS256"}`, `{"user":"foo","iss":"https://idp","aud":"{api}","type":"access"}`, []byte(testSecret))
	if _, f := h.verifier.verify(raw, time.Now()); f != nil {
		t.Fatalf("a token for the resolved settings: %v", f)
	}
	if h.Issuers[0] != file("iss", "https://idp") {
		t.Errorf("the configuration itself changed: %q", h.Issuers)
	}
	headers := http.Header{"Authorization": {"Bearer " + file("token", "t0ken")}}
	s := &UsersURL{URL: "https://users.internal/{jwt.identity}", Headers: headers}
	if err := s.resolve(); err != nil || s.headers.Get("Authorization") != "Bearer t0ken" {
		t.Errorf("users_url header: %v %q", err, s.headers.Get("Authorization"))
	}
}
