package jwtuser

import (
	"sync"
	"time"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// userCache remembers what a remote store answered, so a user is fetched
// once per TTL rather than once per request. Found users and users the store
// said do not exist live in separate LRUs: a burst of unknown identities can
// only evict other unknown identities, never a real user.
type userCache struct {
	ttl, notFoundTTL, staleIfError time.Duration
	now                            func() time.Time

	mu       sync.Mutex
	found    lru
	notFound lru
}

// cacheEntry is one store answer. The caches hold entries by value and
// hand out copies, so an entry costs the garbage collector its strings
// only: at 100,000 cached users, an object per entry (a list element, the
// entry) doubled the marking every collection paid.
type cacheEntry struct {
	key      string
	identity string
	user     rawjson.Text // compact JSON object; zero when the store said no such user
	found    bool
	// fresh until expires; usable while the store fails until staleUntil;
	// Unix nanoseconds (a time.Time would add a pointer per entry)
	expires, staleUntil int64
}

// notFoundShare is the part of cache_size that unknown identities may hold.
const notFoundShare = 10

func newUserCache(size int, ttl, notFoundTTL, staleIfError time.Duration) *userCache {
	return &userCache{
		ttl:          ttl,
		notFoundTTL:  notFoundTTL,
		staleIfError: staleIfError,
		now:          time.Now,
		found:        newLRU(size),
		notFound:     newLRU(max(size/notFoundShare, 1)),
	}
}

// get returns a copy of the entry for key, whether there is one, and
// whether it is fresh. A stale entry is returned while stale_if_error
// still allows serving it; older ones are dropped.
func (c *userCache) get(key string) (e cacheEntry, ok, fresh bool) {
	now := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range [2]*lru{&c.found, &c.notFound} {
		p := l.get(key)
		if p == nil {
			continue
		}
		switch {
		case now < p.expires:
			return *p, true, true
		case now < p.staleUntil:
			return *p, true, false
		}
		l.remove(key)
		return cacheEntry{}, false, false
	}
	return cacheEntry{}, false, false
}

// putFound caches a user for ttl (the store's max-age when it gave one).
func (c *userCache) putFound(key, identity string, user rawjson.Text, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notFound.remove(key)
	c.found.put(cacheEntry{key: key, identity: identity, user: user, found: true,
		expires: now.Add(ttl).UnixNano(), staleUntil: now.Add(ttl + c.staleIfError).UnixNano()})
}

// putNotFound caches the store's "no such user" for ttl
// (cache_not_found_ttl, or less when it came from the shared cache).
func (c *userCache) putNotFound(key, identity string, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.found.remove(key)
	c.notFound.put(cacheEntry{key: key, identity: identity,
		expires: now.Add(ttl).UnixNano(), staleUntil: now.Add(ttl + c.staleIfError).UnixNano()})
}

// purge drops the entries of one identity, or all when identity is "".
func (c *userCache) purge(identity string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.found.removeIf(identity) + c.notFound.removeIf(identity)
}

// len reports the found and not-found entry counts.
func (c *userCache) len() (found, notFound int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.found.index), len(c.notFound.index)
}

// lru is a size-bounded map whose least recently used entry goes first.
// The entries sit in one slice, linked by index (front: most recently
// used), and a removed entry's slot is reused, so the cache is a handful
// of objects however many entries it holds.
type lru struct {
	size        int
	index       map[string]int32
	slots       []lruSlot
	free        []int32 // slots of removed entries
	front, back int32   // -1: empty
}

type lruSlot struct {
	e          cacheEntry
	prev, next int32 // -1: none
}

func newLRU(size int) lru {
	return lru{size: size, index: map[string]int32{}, front: -1, back: -1}
}

// get returns the entry for key, moved to the front; the pointer is good
// until the next change to l.
func (l *lru) get(key string) *cacheEntry {
	i, ok := l.index[key]
	if !ok {
		return nil
	}
	l.unlink(i)
	l.pushFront(i)
	return &l.slots[i].e
}

func (l *lru) put(e cacheEntry) {
	if i, ok := l.index[e.key]; ok {
		l.slots[i].e = e
		l.unlink(i)
		l.pushFront(i)
		return
	}
	if len(l.index) >= l.size {
		l.remove(l.slots[l.back].e.key)
	}
	var i int32
	if n := len(l.free); n > 0 {
		i, l.free = l.free[n-1], l.free[:n-1]
	} else {
		l.slots = append(l.slots, lruSlot{})
		i = int32(len(l.slots) - 1)
	}
	l.slots[i].e = e
	l.index[e.key] = i
	l.pushFront(i)
}

func (l *lru) remove(key string) {
	i, ok := l.index[key]
	if !ok {
		return
	}
	l.unlink(i)
	delete(l.index, key)
	l.slots[i].e = cacheEntry{} // let the strings go
	l.free = append(l.free, i)
}

func (l *lru) removeIf(identity string) int {
	n := 0
	for i := l.front; i >= 0; {
		next := l.slots[i].next
		if e := &l.slots[i].e; identity == "" || e.identity == identity {
			l.remove(e.key)
			n++
		}
		i = next
	}
	return n
}

func (l *lru) pushFront(i int32) {
	l.slots[i].prev, l.slots[i].next = -1, l.front
	if l.front >= 0 {
		l.slots[l.front].prev = i
	} else {
		l.back = i
	}
	l.front = i
}

func (l *lru) unlink(i int32) {
	s := &l.slots[i]
	if s.prev >= 0 {
		l.slots[s.prev].next = s.next
	} else {
		l.front = s.next
	}
	if s.next >= 0 {
		l.slots[s.next].prev = s.prev
	} else {
		l.back = s.prev
	}
	s.prev, s.next = -1, -1
}
