package jwtuser

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

var cachedTok = &token{payload: mustJSON(`{"sub":"x"}`), header: mustJSON(`{"alg":"HS256"}`)}

// holds reports which of keys the cache holds, as "a b -c" (-: not held).
func holds(c *tokenCache, gen uint64, keys ...string) string {
	var out []string
	for _, k := range keys {
		c.mu.RLock()
		e := c.index[k]
		c.mu.RUnlock()
		if e != nil && e.gen == gen {
			out = append(out, k)
		} else {
			out = append(out, "-"+k)
		}
	}
	return strings.Join(out, " ")
}

func TestTokenCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newTokenCache(3, 1<<20)
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, cachedTok, 0)
	}
	if c.get("a", 0) == nil {
		t.Fatal("a: not cached")
	}
	// Used last: c at 3, a at 4 (the hit), so b goes, then c.
	c.put("d", cachedTok, 0)
	if got := holds(c, 0, "a", "b", "c", "d"); got != "a -b c d" {
		t.Fatalf("after d: %s, want b gone", got)
	}
	c.put("e", cachedTok, 0)
	if got := holds(c, 0, "a", "c", "d", "e"); got != "a -c d e" {
		t.Fatalf("after e: %s, want c gone", got)
	}
	// Now a (hit before d came) is the least recently used: d is hit.
	c.get("d", 0)
	c.put("f", cachedTok, 0)
	if got := holds(c, 0, "a", "d", "e", "f"); got != "-a d e f" {
		t.Fatalf("after f: %s, want a gone", got)
	}
	if n := c.evictions.Load(); n != 3 {
		t.Fatalf("%d evictions, want 3", n)
	}
}

// TestTokenCacheHitsProtect: tokens in use survive a flood of new ones,
// and are not kept once their use stops.
func TestTokenCacheHitsProtect(t *testing.T) {
	t.Parallel()
	c := newTokenCache(100, 1<<20)
	for i := range 100 {
		c.put(fmt.Sprint("old-", i), cachedTok, 0)
	}
	hot := []string{"old-0", "old-7", "old-50", "old-99"}
	for round := range 20 {
		for _, k := range hot {
			if c.get(k, 0) == nil {
				t.Fatalf("round %d: %s evicted while in use", round, k)
			}
		}
		for i := range 50 { // half the cache, each round
			c.put(fmt.Sprint("new-", round, "-", i), cachedTok, 0)
		}
	}
	if got := holds(c, 0, "old-1", "old-98"); got != "-old-1 -old-98" {
		t.Fatalf("unused entries kept: %s", got)
	}
	for range 2 { // two passes: the first clears the used bits
		for i := range 100 {
			c.put(fmt.Sprint("later-", i), cachedTok, 0)
		}
	}
	if got := holds(c, 0, hot...); got != "-old-0 -old-7 -old-50 -old-99" {
		t.Fatalf("entries no longer used are kept: %s", got)
	}
}

// TestTokenCacheBounds: neither the entries nor the bytes pass their
// bounds, whatever the sizes and however many distinct tokens come, with
// readers hitting all the while; a token over a sixteenth of the bytes is
// never cached.
func TestTokenCacheBounds(t *testing.T) {
	t.Parallel()
	const maxEntries, maxBytes = 500, 256 << 10
	c := newTokenCache(maxEntries, maxBytes)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c.get(fmt.Sprint(i%5000, "-", strings.Repeat("x", i%5000%1000)), 0)
			}
		}()
	}
	for i := range 20000 {
		// entryOverhead + 0..999 bytes of token, and the 27 of header and payload.
		c.put(fmt.Sprint(i%5000, "-", strings.Repeat("x", i%5000%1000)), cachedTok, 0)
		if n, b := c.size(); n > maxEntries || b > maxBytes {
			close(stop)
			t.Fatalf("after %d puts: %d entries, %d bytes; bounds %d, %d", i+1, n, b, maxEntries, maxBytes)
		}
	}
	close(stop)
	wg.Wait()
	n, b := c.size()
	if n < maxEntries/4 || b < maxBytes/2 {
		t.Fatalf("%d entries, %d bytes: the bounds were not used", n, b)
	}
	// The bytes counted are the entries'.
	sum := 0
	for e := c.front; e != nil; e = e.next {
		sum += e.size
	}
	if sum != b || len(c.index) != n {
		t.Fatalf("queue holds %d bytes, counted %d", sum, b)
	}
	huge := strings.Repeat("h", maxBytes/16)
	c.put(huge, cachedTok, 0)
	if c.get(huge, 0) != nil {
		t.Fatal("a token over a sixteenth of max_bytes was cached")
	}
}

// TestTokenCacheGeneration: an entry made under older keys is never
// returned, and goes first when room is needed, even if it was used.
func TestTokenCacheGeneration(t *testing.T) {
	t.Parallel()
	c := newTokenCache(2, 1<<20)
	c.put("a", cachedTok, 1)
	c.get("a", 1)
	if c.get("a", 2) != nil {
		t.Fatal("an entry of generation 1 answered under 2")
	}
	c.put("b", cachedTok, 2)
	c.get("b", 2)
	c.put("c", cachedTok, 2)
	if got := holds(c, 2, "b", "c"); got != "b c" || c.len() != 2 {
		t.Fatalf("%s, %d entries: want the old generation's a gone", got, c.len())
	}
	// Verified again under the new keys, the token replaces its old entry.
	c.put("b", cachedTok, 3)
	if n, b := c.size(); n != 2 || b != 2*c.front.size {
		t.Fatalf("%d entries, %d bytes after replacing b", n, b)
	}
}

func TestTokenCacheDropAndCounts(t *testing.T) {
	t.Parallel()
	c := newTokenCache(10, 1<<20)
	c.put("a", cachedTok, 0)
	c.put("b", cachedTok, 0)
	c.get("a", 0)
	c.get("a", 0)
	c.get("zzz", 0) // neither: a token not cached counts as a miss only once it verifies
	c.drop("a")
	if n, b := c.size(); n != 1 || b != c.front.size || c.get("a", 0) != nil {
		t.Fatalf("after drop: %d entries, %d bytes", n, b)
	}
	st := c.stats()
	if st.Hits != 2 || st.Misses != 2 || st.Evictions != 0 || st.HitRatio == nil || *st.HitRatio != 0.5 ||
		st.MaxEntries != 10 || st.MaxBytes != 1<<20 {
		t.Fatalf("stats: %+v", st)
	}
	var off *tokenCache
	off.put("a", cachedTok, 0)
	if off.get("a", 0) != nil {
		t.Fatal("a nil cache answered")
	}
}

func TestParseTokenCache(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		input            string
		entries, maxByte int64 // maxByte -1: not given
	}{
		{"token_cache 100000 64MiB", 100000, 64 << 20},
		{"token_cache 500", 500, -1},
		{"token_cache 500 1048576", 500, 1 << 20},
		{"token_cache off", 0, -1},
		{"token_cache 0", 0, -1},
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n" + c.input + "\n}")); err != nil {
			t.Errorf("%q: %v", c.input, err)
			continue
		}
		tc := h.TokenCache
		if tc == nil || tc.Entries == nil || int64(*tc.Entries) != c.entries ||
			(c.maxByte < 0) != (tc.MaxBytes == nil) || tc.MaxBytes != nil && *tc.MaxBytes != c.maxByte {
			t.Errorf("%q: %+v", c.input, tc)
		}
	}
	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n token_cache 7\n issuer a {\n  secret x\n  token_cache 9 1MiB\n }\n}")); err != nil {
		t.Fatal(err)
	}
	if b := h.IssuerBlocks[0].TokenCache; *h.TokenCache.Entries != 7 || b == nil || *b.Entries != 9 || *b.MaxBytes != 1<<20 {
		t.Fatalf("in an issuer block: %+v", h.IssuerBlocks[0])
	}
	for _, c := range []struct{ input, want string }{
		{"token_cache", "wrong argument count"},
		{"token_cache 1 2 3", "wrong argument count"},
		{"token_cache lots", `token_cache: "lots" is not a number of entries`},
		{"token_cache 1e3", `token_cache: "1e3" is not a number of entries`},
		{"token_cache 99999999999999999999", "token_cache:"},
		{"token_cache 100 lots", `token_cache: "lots" is not a size in bytes`},
		{"token_cache 100 -1MiB", `token_cache: "-1MiB" is not a size in bytes`},
		{"token_cache off 1MiB", "token_cache: off takes no size"},
		{"token_cache 1\n token_cache 2", "token_cache: given more than once"},
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n " + c.input + "\n}"))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: got %v, want %q", c.input, err, c.want)
		}
	}
}

// TestTokenCacheSettings: the sizes reach the caches, with issuer blocks
// too, and off means every request verifies.
func TestTokenCacheSettings(t *testing.T) {
	t.Parallel()
	ints := func(n int) *int { return &n }
	bytes := func(n int64) *int64 { return &n }

	v := newVerifier(t, Handler{KeysRaw: secretKeys(testSecret)})
	if v.cache == nil || v.cache.maxEntries != 10000 || v.cache.maxBytes != 16<<20 || v.cache.keys != "secret" {
		t.Fatalf("defaults: %+v", v.cache)
	}
	v = newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), TokenCache: &TokenCache{Entries: ints(100000), MaxBytes: bytes(1 << 30)}})
	if v.cache.maxEntries != 100000 || v.cache.maxBytes != 1<<30 {
		t.Fatalf("set: %+v", v.cache)
	}
	// Entries alone: room for them, not the 16MiB of 10000.
	v = newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), TokenCache: &TokenCache{Entries: ints(100000)}})
	if v.cache.maxEntries != 100000 || v.cache.maxBytes != 160_000_000 {
		t.Fatalf("entries alone: %d, %d bytes", v.cache.maxEntries, v.cache.maxBytes)
	}
	v = newVerifier(t, Handler{KeysRaw: secretKeys(testSecret), TokenCache: &TokenCache{Entries: ints(10_000_000)}})
	if v.cache.maxBytes != 16_000_000_000 {
		t.Fatalf("10M entries alone: %d bytes", v.cache.maxBytes)
	}
	k := getKeys(t)
	pub := &PublicKey{Path: pkixPEM(t, k.rsa)}
	if err := pub.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{KeySource: pub}
	v = verifierFor(t, Handler{TokenCache: &TokenCache{Entries: ints(0)}}, keys)
	if v.cache != nil {
		t.Fatal("entries 0 left a cache")
	}
	raw := signToken(t, "RS256", k.rsa, claimsFor("foo"), nil)
	for range 3 {
		if _, f := v.verify(raw, time.Now().Add(time.Second)); f != nil {
			t.Fatal(f)
		}
	}
	if n := keys.calls.Load(); n != 3 {
		t.Fatalf("off: 3 requests checked the signature %d times", n)
	}

	var h Handler
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n token_cache 300\n issuer a {\n  secret " + testSecret + "\n }\n issuer b {\n  secret " + testSecret + "\n  token_cache 40 128KiB\n }\n}")); err != nil {
		t.Fatal(err)
	}
	if err := provision(t, &h, mapStore{}); err != nil {
		t.Fatal(err)
	}
	a, b := h.issuers.byIssuer["a"].cache, h.issuers.byIssuer["b"].cache
	if a.maxEntries != 300 || a.maxBytes != 16<<20 || a.issuer != "a" || b.maxEntries != 40 || b.maxBytes != 128<<10 || b.issuer != "b" {
		t.Fatalf("issuer blocks: a %d/%d %q, b %d/%d %q", a.maxEntries, a.maxBytes, a.issuer, b.maxEntries, b.maxBytes, b.issuer)
	}
}

// TestTokenCacheRefusedAtLoad: JSON gets the limits the Caddyfile gets,
// each message naming token_cache.
func TestTokenCacheRefusedAtLoad(t *testing.T) {
	t.Parallel()
	ints := func(n int) *int { return &n }
	bytes := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		setting *TokenCache
		want    string
	}{
		{&TokenCache{Entries: ints(-1)}, "token_cache: -1 entries: give 0 (off) to 10000000"},
		{&TokenCache{Entries: ints(10_000_001)}, "token_cache: 10000001 entries"},
		{&TokenCache{MaxBytes: bytes(0)}, "token_cache: max_bytes 0: give 64KiB to 16GiB"},
		{&TokenCache{MaxBytes: bytes(-5)}, "token_cache: max_bytes -5"},
		{&TokenCache{MaxBytes: bytes(64<<10 - 1)}, "token_cache: max_bytes 65535"},
		{&TokenCache{Entries: ints(10), MaxBytes: bytes(16<<30 + 1)}, "token_cache: max_bytes 17179869185"},
	} {
		if _, err := tryVerifier(t, Handler{KeysRaw: secretKeys(testSecret), TokenCache: c.setting}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.setting, err, c.want)
		}
	}
	h := Handler{IssuerBlocks: []*IssuerBlock{{Issuer: "a", KeysRaw: secretKeys(testSecret), TokenCache: &TokenCache{Entries: ints(-3)}}}}
	if err := provision(t, &h, mapStore{}); err == nil || !strings.Contains(err.Error(), "issuer a: token_cache: -3 entries") {
		t.Errorf("in a block: %v", err)
	}
}

// TestTokenCacheRegistry: a provisioned handler's caches are listed until
// Cleanup, and their counts stay in the totals after it.
func TestTokenCacheRegistry(t *testing.T) {
	t.Parallel()
	ints := func(n int) *int { return &n }
	h := Handler{KeysRaw: secretKeys(testSecret), TokenCache: &TokenCache{Entries: ints(4321)}}
	if err := provision(t, &h, mapStore{}); err != nil {
		t.Fatal(err)
	}
	listed := func() bool {
		tokenCaches.Lock()
		defer tokenCaches.Unlock()
		_, ok := tokenCaches.live[h.verifier.cache]
		return ok
	}
	if !listed() {
		t.Fatal("not listed after Provision")
	}
	raw := hs256(t, claimsFor("foo"))
	before := tokenCacheTotals()
	h.verifier.verify(raw, time.Now().Add(time.Second))
	h.verifier.verify(raw, time.Now().Add(time.Second))
	if err := h.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if listed() {
		t.Fatal("listed after Cleanup")
	}
	// Other tests count concurrently: at least this one's, never less.
	after := tokenCacheTotals()
	if after.hits < before.hits+1 || after.misses < before.misses+1 {
		t.Fatalf("totals went from %+v to %+v", before, after)
	}
}
