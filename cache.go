package jwtuser

import (
	"container/list"
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

// cacheEntry is one store answer.
type cacheEntry struct {
	key      string
	identity string
	user     rawjson.Text // compact JSON object; zero when the store said no such user
	found    bool
	// fresh until expires; usable while the store fails until staleUntil
	expires, staleUntil time.Time
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

// get returns the entry for key and whether it is fresh. A stale entry is
// returned while stale_if_error still allows serving it; older ones are
// dropped.
func (c *userCache) get(key string) (e *cacheEntry, fresh bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range []*lru{&c.found, &c.notFound} {
		e = l.get(key)
		if e == nil {
			continue
		}
		switch {
		case now.Before(e.expires):
			return e, true
		case now.Before(e.staleUntil):
			return e, false
		}
		l.remove(key)
		return nil, false
	}
	return nil, false
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
	c.found.put(&cacheEntry{key: key, identity: identity, user: user, found: true,
		expires: now.Add(ttl), staleUntil: now.Add(ttl + c.staleIfError)})
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
	c.notFound.put(&cacheEntry{key: key, identity: identity,
		expires: now.Add(ttl), staleUntil: now.Add(ttl + c.staleIfError)})
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
	return c.found.order.Len(), c.notFound.order.Len()
}

// lru is a size-bounded map whose least recently used entry goes first.
type lru struct {
	size  int
	items map[string]*list.Element
	order list.List // front: most recently used
}

func newLRU(size int) lru { return lru{size: size, items: map[string]*list.Element{}} }

func (l *lru) get(key string) *cacheEntry {
	el, ok := l.items[key]
	if !ok {
		return nil
	}
	l.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (l *lru) put(e *cacheEntry) {
	if el, ok := l.items[e.key]; ok {
		el.Value = e
		l.order.MoveToFront(el)
		return
	}
	l.items[e.key] = l.order.PushFront(e)
	for l.order.Len() > l.size {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*cacheEntry).key)
	}
}

func (l *lru) remove(key string) {
	if el, ok := l.items[key]; ok {
		l.order.Remove(el)
		delete(l.items, key)
	}
}

func (l *lru) removeIf(identity string) int {
	n := 0
	for el := l.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*cacheEntry); identity == "" || e.identity == identity {
			l.order.Remove(el)
			delete(l.items, e.key)
			n++
		}
		el = next
	}
	return n
}
