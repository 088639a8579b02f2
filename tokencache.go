package jwtuser

import (
	"strings"
	"sync"
)

// tokenCache remembers tokens that fully verified, so a repeated token skips
// parsing and the signature check (tens of microseconds for RSA and ECDSA).
// The time checks still run on every request. Entries are keyed by the whole
// token, compared in full, so no other token can ever hit one; an entry is
// made only for a token that passed every check, and is dropped at its exp
// or when the key set changes.
type tokenCache struct {
	mu         sync.RWMutex
	entries    map[string]tokenEntry
	bytes      int
	maxEntries int
	maxBytes   int
}

type tokenEntry struct {
	tok  *token
	gen  uint64 // the key source's generation it was verified under
	size int
}

const (
	tokenCacheEntries = 10000
	tokenCacheBytes   = 16 << 20
	// entryOverhead approximates the map slot and token struct per entry.
	entryOverhead = 160
)

func newTokenCache(maxEntries, maxBytes int) *tokenCache {
	return &tokenCache{entries: make(map[string]tokenEntry), maxEntries: maxEntries, maxBytes: maxBytes}
}

// A nil *tokenCache caches nothing.

// get returns the cached token for raw if it was verified under gen.
func (c *tokenCache) get(raw string, gen uint64) *token {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	e, ok := c.entries[raw]
	c.mu.RUnlock()
	if !ok || e.gen != gen {
		return nil
	}
	return e.tok
}

// put caches a fully verified token; when full, arbitrary entries make room
// (Go's map order is randomised, so no client can pick what is evicted).
func (c *tokenCache) put(raw string, tok *token, gen uint64) {
	if c == nil {
		return
	}
	size := len(raw) + len(tok.header.String()) + len(tok.payload.String()) + len(tok.identity) + entryOverhead
	if size > c.maxBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[raw]; ok {
		c.bytes -= old.size
		delete(c.entries, raw)
	}
	for key, e := range c.entries {
		if len(c.entries) < c.maxEntries && c.bytes+size <= c.maxBytes {
			break
		}
		delete(c.entries, key)
		c.bytes -= e.size
	}
	// Clone: raw is a slice of the request's header, which must not be kept.
	c.entries[strings.Clone(raw)] = tokenEntry{tok: tok, gen: gen, size: size}
	c.bytes += size
}

// drop forgets raw, once it has expired.
func (c *tokenCache) drop(raw string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if e, ok := c.entries[raw]; ok {
		delete(c.entries, raw)
		c.bytes -= e.size
	}
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
