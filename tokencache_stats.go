package jwtuser

import (
	"sort"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

// TokenCacheStats is one verified-token cache in the admin API's GET
// /jwt-user/cache, under "token_caches": one per jwt_user handler, or per
// issuer block, of the configurations loaded (during a reload, the old
// one's as well, until it is cleaned up).
type TokenCacheStats struct {
	// Keys is the key source module's name: secret, public_key, jwks,
	// discovery, or a third party's.
	Keys string `json:"keys"`
	// Issuer is the issuer block's issuer; absent without blocks.
	Issuer string `json:"issuer,omitempty"`
	// Entries is the count of tokens held; MaxEntries its bound.
	Entries    int `json:"entries"`
	MaxEntries int `json:"max_entries"`
	// Bytes is what the entries are counted as taking; MaxBytes its bound.
	Bytes    int `json:"bytes"`
	MaxBytes int `json:"max_bytes"`
	// Hits counts requests whose token was found there; Misses tokens that
	// were not and then passed every check (so their signature was
	// verified); a refused token is neither. Evictions counts entries
	// removed to make room. Each since the configuration loaded.
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Evictions uint64 `json:"evictions"`
	// HitRatio is Hits/(Hits+Misses); null before the first of either.
	HitRatio *float64 `json:"hit_ratio"`
}

// tokenCaches are the caches of the provisioned handlers, for the admin
// API and the metrics. A handler adds its caches at the end of Provision
// and takes them out in Cleanup; the counts of a cache taken out stay in
// retired, so the metrics run on across reloads.
var tokenCaches = struct {
	sync.Mutex
	live    map[*tokenCache]struct{}
	retired tokenCacheCounts
}{live: map[*tokenCache]struct{}{}}

type tokenCacheCounts struct{ hits, misses, evictions uint64 }

func (a *tokenCacheCounts) add(b tokenCacheCounts) {
	a.hits += b.hits
	a.misses += b.misses
	a.evictions += b.evictions
}

func (c *tokenCache) counts() tokenCacheCounts {
	return tokenCacheCounts{c.hits.Load(), c.misses.Load(), c.evictions.Load()}
}

// tokenCacheList lists the handler's token caches: its verifier's, or one per
// issuer block. A cache that is off is nil and not listed.
func (h *Handler) tokenCacheList() []*tokenCache {
	var out []*tokenCache
	if h.verifier != nil && h.verifier.cache != nil {
		out = append(out, h.verifier.cache)
	}
	if h.issuers != nil {
		for _, v := range h.issuers.byIssuer {
			if v.cache != nil {
				out = append(out, v.cache)
			}
		}
	}
	return out
}

func (h *Handler) registerTokenCaches() {
	tokenCaches.Lock()
	defer tokenCaches.Unlock()
	for _, c := range h.tokenCacheList() {
		tokenCaches.live[c] = struct{}{}
	}
}

// releaseTokenCaches takes the handler's caches out; a second call does
// nothing.
func (h *Handler) releaseTokenCaches() {
	tokenCaches.Lock()
	defer tokenCaches.Unlock()
	for _, c := range h.tokenCacheList() {
		if _, ok := tokenCaches.live[c]; !ok {
			continue
		}
		delete(tokenCaches.live, c)
		tokenCaches.retired.add(c.counts())
	}
}

// tokenCacheTotals sums every cache's counts since the process started,
// for the metrics; never less than a previous sum.
func tokenCacheTotals() tokenCacheCounts {
	tokenCaches.Lock()
	defer tokenCaches.Unlock()
	sum := tokenCaches.retired
	for c := range tokenCaches.live {
		sum.add(c.counts())
	}
	return sum
}

func (c *tokenCache) stats() TokenCacheStats {
	entries, bytes := c.size()
	n := c.counts()
	st := TokenCacheStats{Keys: c.keys, Issuer: c.issuer, Entries: entries, MaxEntries: c.maxEntries,
		Bytes: bytes, MaxBytes: c.maxBytes, Hits: n.hits, Misses: n.misses, Evictions: n.evictions}
	if total := n.hits + n.misses; total > 0 {
		ratio := float64(n.hits) / float64(total)
		st.HitRatio = &ratio
	}
	return st
}

// tokenCacheStats lists the live token caches, in a stable order.
func tokenCacheStats() []TokenCacheStats {
	tokenCaches.Lock()
	stats := make([]TokenCacheStats, 0, len(tokenCaches.live))
	for c := range tokenCaches.live {
		stats = append(stats, c.stats())
	}
	tokenCaches.Unlock()
	sort.Slice(stats, func(i, j int) bool {
		a, b := stats[i], stats[j]
		if a.Issuer != b.Issuer {
			return a.Issuer < b.Issuer
		}
		if a.Keys != b.Keys {
			return a.Keys < b.Keys
		}
		return a.MaxEntries < b.MaxEntries
	})
	return stats
}

// keySourceName is the key source module's name, for the admin API.
func keySourceName(keys KeySource) string {
	if m, ok := keys.(caddy.Module); ok {
		return m.CaddyModule().ID.Name()
	}
	return ""
}
