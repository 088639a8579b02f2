package jwtuser

import (
	"strings"
	"sync"
	"sync/atomic"
)

// tokenCache remembers tokens that fully verified, so a repeated token skips
// parsing and the signature check (tens of microseconds for RSA and ECDSA).
// The time checks still run on every request. Entries are keyed by the whole
// token, compared in full, so no other token can ever hit one; an entry is
// made only for a token that passed every check, and is dropped at its exp
// or when the key set changes.
//
// Eviction is second chance (CLOCK), an approximation of least recently
// used that keeps a hit free of any write lock: the entries form a queue in
// the order they were cached; a hit only sets the entry's used bit (an
// atomic store, and none when it is already set). To make room, the entry
// at the front goes, unless it was used since it last reached the front:
// then it loses the bit and moves to the back. So an entry hit since the
// last pass outlives every entry that was not, and among those the longest
// unused goes first. An entry verified under an older key generation goes
// whatever its bit. One pass can move every entry once; that work is paid
// for by the hits that set the bits.
//
// Our own code rather than a library's: the caches in Caddy's module graph
// do not fit. ristretto knows an entry by two hashes of its key, not the
// whole token, and admits new entries asynchronously and not always; a
// classic LRU list moves the entry under a write lock on every hit.
type tokenCache struct {
	mu    sync.RWMutex
	index map[string]*tokenEntry
	// The queue, front first; changed only under the write lock.
	front, back *tokenEntry
	bytes       int
	maxEntries  int
	maxBytes    int

	// Counted here, not in Prometheus, so a hit pays one atomic add; the
	// metrics read them (tokencache_stats.go).
	hits, misses, evictions atomic.Uint64

	// What the admin API names the cache by: the key source module's name
	// and the issuer block's issuer ("" without blocks). Set before the
	// cache is registered, never after.
	keys, issuer string
}

// tokenEntry is one cached token. Everything but used and the queue links
// is fixed when the entry is made, so a reader may use it after letting go
// of the read lock.
type tokenEntry struct {
	key  string
	tok  *token
	gen  uint64 // the key source's generation it was verified under
	size int
	used atomic.Bool // hit since it last reached the front of the queue
	// The queue links, under the write lock.
	prev, next *tokenEntry
}

// entryOverhead approximates what an entry costs beyond its token's text:
// the entry and token structs, the map slot and allocation rounding. (A
// token's placeholder memo is not counted: see memoMaxBytes.)
const entryOverhead = 240

func newTokenCache(maxEntries, maxBytes int) *tokenCache {
	return &tokenCache{index: make(map[string]*tokenEntry), maxEntries: maxEntries, maxBytes: maxBytes}
}

// A nil *tokenCache caches nothing (token_cache off).

// get returns the cached token for raw if it was verified under gen. It
// takes only the read lock, and allocates nothing.
func (c *tokenCache) get(raw string, gen uint64) *token {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	e := c.index[raw]
	c.mu.RUnlock()
	if e == nil || e.gen != gen {
		return nil
	}
	// A load first: a token in steady use writes nothing, so cores do not
	// contend for its cache line.
	if !e.used.Load() {
		e.used.Store(true)
	}
	c.hits.Add(1)
	return e.tok
}

// put caches a token that fully verified after get missed it. A token
// whose entry would take more than a sixteenth of the byte bound is not
// cached, so a few huge tokens cannot push out many ordinary ones.
func (c *tokenCache) put(raw string, tok *token, gen uint64) {
	if c == nil {
		return
	}
	c.misses.Add(1)
	size := len(raw) + len(tok.header.String()) + len(tok.payload.String()) + len(tok.identity) + entryOverhead
	if size > c.maxBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.index[raw]; old != nil {
		c.remove(old)
	}
	// Entries exist while the bounds are reached (maxEntries >= 1, and
	// size is under maxBytes), so evict always finds one.
	for len(c.index) >= c.maxEntries || c.bytes+size > c.maxBytes {
		c.evict(gen)
	}
	// Clone: raw is a slice of the request's header, which must not be kept.
	e := &tokenEntry{key: strings.Clone(raw), tok: tok, gen: gen, size: size}
	c.pushBack(e)
	c.index[e.key] = e
	c.bytes += size
}

// evict removes one entry by second chance; gen is the current key
// generation. Under the write lock.
func (c *tokenCache) evict(gen uint64) {
	for {
		e := c.front
		if e.gen == gen && e.used.Load() {
			e.used.Store(false)
			c.unlink(e)
			c.pushBack(e)
			continue
		}
		c.remove(e)
		c.evictions.Add(1)
		return
	}
}

// drop forgets raw, once it has expired.
func (c *tokenCache) drop(raw string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if e := c.index[raw]; e != nil {
		c.remove(e)
	}
	c.mu.Unlock()
}

// remove takes e out of the index and the queue. Under the write lock.
func (c *tokenCache) remove(e *tokenEntry) {
	delete(c.index, e.key)
	c.unlink(e)
	c.bytes -= e.size
}

func (c *tokenCache) pushBack(e *tokenEntry) {
	e.prev, e.next = c.back, nil
	if c.back != nil {
		c.back.next = e
	} else {
		c.front = e
	}
	c.back = e
}

func (c *tokenCache) unlink(e *tokenEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.front = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.back = e.prev
	}
	e.prev, e.next = nil, nil
}

// size reports the entries and the bytes accounted for them.
func (c *tokenCache) size() (entries, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index), c.bytes
}

func (c *tokenCache) len() int {
	n, _ := c.size()
	return n
}
