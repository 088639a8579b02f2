package jwtuser

import (
	"crypto"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"
)

// jwksServer is a real JWKS endpoint whose set the test changes.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	body    atomic.Pointer[[]byte]
	status  atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.status.Store(200)
	s.serve(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// serve sets the key set the server hands out.
func (s *jwksServer) serve(t *testing.T, keys ...jose.JSONWebKey) {
	t.Helper()
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&body)
}

func (s *jwksServer) serveRaw(body string) {
	b := []byte(body)
	s.body.Store(&b)
}

// publicJWK is priv's public key as a JWK.
func publicJWK(priv crypto.Signer, kid, alg, use string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: use}
}

// startKeySet fetches from the server with a fake clock for the guard.
func startKeySet(t *testing.T, url string, refresh time.Duration) (*keySet, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	ks := newKeySet(url, refresh, zap.NewNop())
	ks.now = clock.Now
	ks.start()
	t.Cleanup(func() { _ = ks.Destruct() })
	return ks, clock
}

// verifierFor builds a verifier over an already running key source.
func verifierFor(t *testing.T, h Handler, keys KeySource) *verifier {
	t.Helper()
	v, err := tryVerifierWith(h, keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWKSAlgFamilies(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv := newJWKSServer(t,
		publicJWK(k.rsa, "rsa", "", "sig"),
		publicJWK(k.p256, "ec", "", ""),
		publicJWK(k.p384, "ec384", "ES384", "sig"),
		publicJWK(k.ed, "ed", "", "sig"),
	)
	ks, _ := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	for _, c := range []struct {
		alg, kid string
		key      any
	}{
		{"RS256", "rsa", k.rsa}, {"RS512", "rsa", k.rsa}, {"PS256", "rsa", k.rsa},
		{"ES256", "ec", k.p256}, {"ES384", "ec384", k.p384}, {"EdDSA", "ed", k.ed},
		{"EdDSA", "", k.ed}, {"RS256", "", k.rsa}, // no kid: every key of the alg is tried
	} {
		raw := signToken(t, c.alg, c.key, claimsFor("foo"), map[string]any{"kid": c.kid})
		if c.kid == "" {
			raw = signToken(t, c.alg, c.key, claimsFor("foo"), nil)
		}
		if tok, f := v.verify(raw, time.Now()); f != nil || tok.identity != "foo" {
			t.Errorf("%s kid %q: %v", c.alg, c.kid, f)
		}
	}
	if srv.fetches.Load() != 1 {
		t.Errorf("%d fetches", srv.fetches.Load())
	}
	// HMAC is never served by a key set, whatever the token says.
	if _, f := v.verify(rawToken(t, `{"alg":"HS256","kid":"rsa"}`, `{"sub":"foo"}`, []byte("x")), time.Now()); f != errAlgNotAllowed {
		t.Errorf("HS256 against a JWKS: %v", f)
	}
	if _, err := tryVerifierWith(Handler{Algorithms: []string{"HS256"}}, &JWKS{set: ks}); err == nil {
		t.Error("algorithms HS256 with jwks was accepted")
	}
}

func tryVerifierWith(h Handler, keys KeySource) (*verifier, error) {
	h.logger = zap.NewNop()
	return h.newVerifier(keys)
}

// jwksVerifier serves keys as a JWK Set and verifies against it, with the
// default settings.
func jwksVerifier(t *testing.T, keys ...jose.JSONWebKey) (*jwksServer, *keySet, *verifier) {
	srv := newJWKSServer(t, keys...)
	ks, _ := startKeySet(t, srv.URL, time.Hour)
	return srv, ks, verifierFor(t, Handler{}, &JWKS{set: ks})
}

func TestJWKSKidSelection(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv, _, v := jwksVerifier(t, publicJWK(k.rsa, "a", "RS256", "sig"),
		publicJWK(k.otherRSA, "b", "", "sig"), publicJWK(k.otherEd, "enc-key", "", "enc"))
	cases := []struct {
		name string
		raw  string
		want *failure
	}{
		{"kid a, key a", signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "a"}), nil},
		{"kid b, key b", signToken(t, "PS384", k.otherRSA, claimsFor("x"), map[string]any{"kid": "b"}), nil},
		{"kid a, key b", signToken(t, "RS256", k.otherRSA, claimsFor("x"), map[string]any{"kid": "a"}), errSignature},
		{"kid a serves only RS256", signToken(t, "PS256", k.rsa, claimsFor("x"), map[string]any{"kid": "a"}), errSignature},
		{"no kid, key b", signToken(t, "RS256", k.otherRSA, claimsFor("x"), nil), nil},
		{"encryption key ignored", signToken(t, "EdDSA", k.otherEd, claimsFor("x"), map[string]any{"kid": "enc-key"}), errSignature},
		{"unknown kid", signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "zzz"}), errSignature},
		{"kid with traversal", signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "../../a"}), errSignature},
	}
	for _, c := range cases {
		if _, f := v.verify(c.raw, time.Now()); f != c.want {
			t.Errorf("%s: got %v, want %v", c.name, f, c.want)
		}
	}
	// Unknown kids within the guard after the start-up fetch fetch nothing.
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("%d fetches; the start-up fetch counts toward the guard", n)
	}
}

func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "old", "", "sig"))
	ks, clock := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	oldToken := signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "old"})
	if _, f := v.verify(oldToken, time.Now()); f != nil {
		t.Fatal(f)
	}
	// The provider rotates: the new kid is picked up on first sight, once
	// the guard since the last fetch has passed.
	srv.serve(t, publicJWK(k.otherRSA, "new", "", "sig"))
	newToken := signToken(t, "RS256", k.otherRSA, claimsFor("x"), map[string]any{"kid": "new"})
	if _, f := v.verify(newToken, time.Now()); f != errSignature || srv.fetches.Load() != 1 {
		t.Fatalf("within the guard: %v, %d fetches", f, srv.fetches.Load())
	}
	clock.Advance(jwksRefetchGuard)
	if _, f := v.verify(newToken, time.Now()); f != nil {
		t.Fatalf("new kid after the guard: %v", f)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// The dropped key's token no longer passes, though it was cached.
	if _, f := v.verify(oldToken, time.Now()); f != errSignature {
		t.Fatalf("a token of the dropped key: %v", f)
	}
}

func TestJWKSRefetchGuardUnderLoad(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "a", "", "sig"))
	ks, clock := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "unknown-" + itoa(int64(i))})
	}
	burst := func() {
		var wg sync.WaitGroup
		for _, raw := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, f := v.verify(raw, time.Now()); f != errSignature {
					t.Errorf("unknown kid: %v", f)
				}
			}()
		}
		wg.Wait()
	}
	burst()
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("200 unknown kids within the guard: %d fetches, want the start-up one only", n)
	}
	clock.Advance(jwksRefetchGuard + time.Second)
	burst()
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("200 unknown kids after the guard: %d fetches, want exactly one more", n-1)
	}
}

func TestJWKSOutageAndMalformedSets(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "a", "", "sig"))
	ks, clock := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	good := signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "a"})
	for _, broken := range []func(){
		func() { srv.status.Store(500) },
		func() { srv.status.Store(200); srv.serveRaw(`<html>`) },
		func() { srv.serveRaw(`{"keys":[]}`) },
		func() { srv.serveRaw(`{"keys":[{"kty":"RSA","kid":"a"}]}`) },
		func() { srv.serveRaw(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]}`) },
		func() { srv.Close() },
	} {
		broken()
		clock.Advance(jwksRefetchGuard)
		before := ks.failures.Load()
		<-ks.fetch(true)
		if ks.failures.Load() != before+1 {
			t.Fatal("a broken fetch did not count as a failure")
		}
		// A fresh token (not cached) still verifies with the last good set.
		fresh := signToken(t, "RS256", k.rsa, map[string]any{"sub": "x", "n": time.Now().UnixNano()}, map[string]any{"kid": "a"})
		for _, raw := range []string{good, fresh} {
			if _, f := v.verify(raw, time.Now()); f != nil {
				t.Fatalf("after a broken fetch: %v", f)
			}
		}
	}
}

func TestJWKSUnavailableAtStart(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "a", "", "sig"))
	srv.status.Store(503)
	ks, clock := startKeySet(t, srv.URL, time.Hour)
	v := verifierFor(t, Handler{}, &JWKS{set: ks})
	raw := signToken(t, "RS256", k.rsa, claimsFor("x"), map[string]any{"kid": "a"})
	if _, f := v.verify(raw, time.Now()); f != errKeysUnavailable {
		t.Fatalf("before any set: %v", f)
	}
	srv.status.Store(200)
	clock.Advance(jwksRefetchGuard)
	if _, f := v.verify(raw, time.Now()); f != nil {
		t.Fatalf("once the provider answers: %v", f)
	}
}

func TestJWKSBackgroundRefreshAndShutdown(t *testing.T) {
	// Serial: it counts the process's goroutines, which parallel tests change.
	k := getKeys(t)
	srv := newJWKSServer(t, publicJWK(k.rsa, "a", "", "sig"))
	before := runtime.NumGoroutine()
	ks := newKeySet(srv.URL, 20*time.Millisecond, zap.NewNop())
	ks.start()
	eventually(t, "three refreshes", func() bool { return srv.fetches.Load() >= 3 })
	// An outage is retried with backoff, keeping the set.
	srv.status.Store(500)
	eventually(t, "failed refreshes", func() bool { return ks.failures.Load() >= 2 })
	if ks.current.Load() == nil {
		t.Fatal("the last good set was lost")
	}
	_ = ks.Destruct()
	srv.CloseClientConnections()
	n := srv.fetches.Load()
	// Once every goroutine the key set started has ended, nothing is left
	// that could fetch: no wait for a fetch that does not come.
	eventually(t, "the refresh goroutine to end", func() bool { return runtime.NumGoroutine() <= before })
	if srv.fetches.Load() != n {
		t.Fatal("the key set fetched after Destruct")
	}
}

// countingKeys counts how often verification needed the keys.
type countingKeys struct {
	KeySource
	calls atomic.Int64
	gen   atomic.Uint64
}

func (c *countingKeys) Keys(alg, kid string) ([]any, error) {
	c.calls.Add(1)
	return c.KeySource.Keys(alg, kid)
}

func (c *countingKeys) Generation() uint64 { return c.gen.Load() }

func TestTokenCache(t *testing.T) {
	t.Parallel()
	k := getKeys(t)
	pub := &PublicKey{Path: pkixPEM(t, k.rsa)}
	if err := pub.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{KeySource: pub}
	v := verifierFor(t, Handler{Leeway: caddyDuration(5 * time.Second)}, keys)
	now := time.Unix(1_800_000_000, 0)
	raw := signToken(t, "RS256", k.rsa, map[string]any{"sub": "foo", "exp": now.Add(time.Minute).Unix()}, nil)
	for i := 0; i < 5; i++ {
		if _, f := v.verify(raw, now); f != nil {
			t.Fatal(f)
		}
	}
	if n := keys.calls.Load(); n != 1 || v.cache.len() != 1 {
		t.Fatalf("5 verifications of one token checked the signature %d times", n)
	}
	// A hit still applies the time checks, with the leeway.
	if _, f := v.verify(raw, now.Add(time.Minute+4*time.Second)); f != nil {
		t.Fatalf("inside the leeway: %v", f)
	}
	tok, f := v.verify(raw, now.Add(time.Minute+5*time.Second))
	if f != errExpired || tok == nil || v.cache.len() != 0 {
		t.Fatalf("past exp: %v, %d entries", f, v.cache.len())
	}
	// Tokens that did not fully verify are never cached.
	expired := signToken(t, "RS256", k.rsa, map[string]any{"sub": "foo", "exp": now.Add(-time.Minute).Unix()}, nil)
	notYet := signToken(t, "RS256", k.rsa, map[string]any{"sub": "foo", "nbf": now.Add(time.Minute).Unix()}, nil)
	forged := signToken(t, "RS256", k.otherRSA, map[string]any{"sub": "foo"}, nil)
	for _, bad := range []string{expired, notYet, forged} {
		_, _ = v.verify(bad, now)
		_, _ = v.verify(bad, now)
	}
	if v.cache.len() != 0 {
		t.Fatalf("%d entries for tokens that did not verify", v.cache.len())
	}
	// A token verified before its nbf later verifies and is cached then.
	if _, f := v.verify(notYet, now.Add(2*time.Minute)); f != nil || v.cache.len() != 1 {
		t.Fatalf("after nbf: %v, %d entries", f, v.cache.len())
	}
	// A key change sends cached tokens back to the signature check.
	calls := keys.calls.Load()
	keys.gen.Add(1)
	_, _ = v.verify(notYet, now.Add(2*time.Minute))
	if keys.calls.Load() != calls+1 {
		t.Fatal("a cached token skipped the signature check after a key change")
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache(100, 1<<20)
	tok := &token{payload: mustJSON(`{"sub":"x"}`), header: mustJSON(`{"alg":"HS256"}`)}
	for i := 0; i < 1000; i++ {
		c.put("token-"+itoa(int64(i)), tok, 0)
	}
	if c.len() != 100 {
		t.Fatalf("%d entries, bound 100", c.len())
	}
	small := newTokenCache(1000, 64<<10)
	for i := 0; i < 1000; i++ {
		small.put(string(make([]byte, 1000))+itoa(int64(i)), tok, 0)
	}
	if small.bytes > 64<<10 {
		t.Fatalf("%d bytes, bound 64KiB", small.bytes)
	}
}
