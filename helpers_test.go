package jwtuser

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
)

// testKeys are generated once per test binary: RSA generation is slow under
// the race detector.
type testKeys struct {
	rsa              *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
	otherRSA         *rsa.PrivateKey
	otherEd          ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		var err error
		keys.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		keys.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		keys.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		keys.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		keys.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(err)
		_, keys.ed, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		_, keys.otherEd, err = ed25519.GenerateKey(rand.Reader)
		must(err)
	})
	return keys
}

// writePEM writes blocks of the given type to a new file and returns its path.
func writePEM(t testing.TB, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pkixPEM writes the PKIX public key of priv.
func pkixPEM(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "PUBLIC KEY", der)
}

// privatePEM writes priv as PKCS#8.
func privatePEM(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "PRIVATE KEY", der)
}

// certPEM writes a self-signed certificate for priv.
func certPEM(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jwt signer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "CERTIFICATE", der)
}

// signToken signs claims with golang-jwt, adding the given header fields.
func signToken(t testing.TB, alg string, key any, claims map[string]any, header map[string]any) string {
	t.Helper()
	method := signingMethods[alg] // Ed25519 is this module's, not golang-jwt's
	if method == nil {
		method = jwt.GetSigningMethod(alg)
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// b64 is base64url without padding, as JWS segments are.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawToken builds a token from literal header and payload JSON, signed with
// HMAC key under alg (HS256/384/512) so hostile shapes can still verify.
func rawToken(t testing.TB, headerJSON, payloadJSON string, key []byte) string {
	t.Helper()
	var h struct{ Alg string }
	_ = json.Unmarshal([]byte(headerJSON), &h)
	signing := b64(headerJSON) + "." + b64(payloadJSON)
	method, ok := signingMethods[h.Alg].(*jwt.SigningMethodHMAC)
	if !ok {
		method = jwt.SigningMethodHS256
	}
	sig, err := method.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// testSecret is long enough for every HS alg.
const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// claimsFor is a fresh, valid set of claims for sub.
func claimsFor(sub any) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"sub": sub, "iat": now, "nbf": now, "exp": now + 900, "type": "access"}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// hs256 signs claims with testSecret.
func hs256(t testing.TB, claims map[string]any) string {
	return signToken(t, "HS256", []byte(testSecret), claims, nil)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// eventually waits up to 5s for cond, polling.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		// Real time, unless the caller runs in a synctest bubble: cond
		// waits on goroutines, sockets or files, which no clock seam moves.
		time.Sleep(5 * time.Millisecond)
	}
}

// mustJSON is the tests' way to make a rawjson.Text from a literal, as the
// request path does: through rawjson.Check. It panics on text Check refuses.
func mustJSON(s string) rawjson.Text {
	text, err := rawjson.Check(s)
	if err != nil {
		panic(fmt.Sprintf("test error: %q is not checked JSON: %v", s, err))
	}
	return text
}

func caddyDuration(d time.Duration) caddy.Duration { return caddy.Duration(d) }

var osReadFile = os.ReadFile

// asn1MarshalPSSKey builds an SPKI carrying the RSASSA-PSS OID, as
// `openssl genpkey -algorithm RSA-PSS` writes, which Go's x509 cannot parse.
func asn1MarshalPSSKey(pub *rsa.PublicKey) ([]byte, error) {
	return asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSASSAPSS},
		PublicKey: asn1.BitString{Bytes: x509.MarshalPKCS1PublicKey(pub), BitLength: 8 * len(x509.MarshalPKCS1PublicKey(pub))},
	})
}

// secretKeys, publicKeyKeys and jwksKeys are the key sources' JSON, as the
// Caddyfile shortcuts build it.
func secretKeys(secret string) json.RawMessage {
	return caddyconfig.JSONModuleObject(&SecretKey{Secret: secret}, "source", "secret", nil)
}

func publicKeyKeys(path string) json.RawMessage {
	return caddyconfig.JSONModuleObject(&PublicKey{Path: path}, "source", "public_key", nil)
}

func jwksKeys(url string, refresh time.Duration) json.RawMessage {
	return caddyconfig.JSONModuleObject(&JWKS{URL: url, Refresh: caddy.Duration(refresh)}, "source", "jwks", nil)
}

// fileStore and urlStore are the stores' JSON.
func fileStoreJSON(path, keyField string) json.RawMessage {
	return caddyconfig.JSONModuleObject(&UsersFile{Path: path, KeyField: keyField}, "source", "file", nil)
}

func urlStoreJSON(u *UsersURL) json.RawMessage {
	return caddyconfig.JSONModuleObject(u, "source", "http", nil)
}

// testContext is a Caddy context for provisioning outside a running Caddy;
// the test's end cancels it, which cleans up the guest modules it loaded.
func testContext(t testing.TB) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// provisionedUsersFile is a users file store over a new file holding
// text, provisioned, and cleaned up with the test.
func provisionedUsersFile(t testing.TB, text string) *UsersFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	writeFile(t, path, text)
	file := &UsersFile{Path: path}
	if err := file.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = file.Cleanup() })
	return file
}

// mustUsers parses a users file's text into the file store's users.
func mustUsers(t testing.TB, text string) *rawjson.Index {
	t.Helper()
	users, err := parseUsers(text, "id")
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// provision runs the one provisioning path with a silent log; store, when
// not nil, stands in for a store module.
func provision(t testing.TB, h *Handler, store Store) error {
	t.Helper()
	h.logger = zap.NewNop()
	if store != nil {
		h.store = store
	}
	if err := h.Provision(testContext(t)); err != nil {
		return err
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return nil
}
