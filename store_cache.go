package jwtuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
)

// The caching layer stands in front of every store that is not in memory,
// so a store implements one method, LoadUser, and gets all of this:
//
//   - found users cached for cache_ttl (or the store's MaxAge; never with
//     NoStore), "no such user" for cache_not_found_ttl, each in its own LRU
//     bounded by cache_size, so unknown identities never evict real users;
//   - stale_if_error: while the store fails, an entry up to that long past
//     its TTL still answers;
//   - shared loads: concurrent misses for one key make one LoadUser call,
//     on the layer's own context, so a client that gives up does not fail
//     the others waiting on it;
//   - at most maxConcurrentLoads loads in flight; beyond that a request
//     fails fast with a store error instead of piling up on a slow store;
//   - the answer checked (one JSON object, no duplicate names) and
//     compacted once, so requests read it without checking again;
//   - metrics, one log line when the store starts and stops failing, and
//     the admin API's stats and purge;
//   - with shared_cache, a second level between the entries and the store
//     (shared_cache.go): asked on a local miss, written with the store's
//     answers and their TTLs, purged on every instance with a purge here.
//     Its lookups are not counted against maxConcurrentLoads, which guards
//     the store; each gives up within the backend's timeout.
//
// The entries live in storePool, keyed by the store's identity and the
// cache settings, so a caddy reload keeps them warm.

// cacheSettings are the handler's cache settings, defaults applied.
type cacheSettings struct {
	ttl, notFoundTTL, staleIfError time.Duration
	size                           int
}

// maxConcurrentLoads is how many distinct keys may be loading at once.
const maxConcurrentLoads = 256

var errStoreOverloaded = &storeFailure{kind: "overloaded"}

// sharedCache is the part of the layer that outlives a configuration.
type sharedCache struct {
	entries        *userCache // nil when cache_ttl is 0
	kind, describe string
	// cache lookups, for the admin API's hit ratio
	hits, misses, stale atomic.Int64

	// level is the shared cache behind this one, or nil; unsubscribe
	// stops its purges reaching the entries.
	level       *sharedLevel
	unsubscribe func()
	// sharedFailing is set while the shared cache fails, so an outage
	// logs once.
	sharedFailing atomic.Bool
}

// Destruct stops hearing the shared cache's purges; the entries are only
// memory.
func (c *sharedCache) Destruct() error {
	if c.unsubscribe != nil {
		c.unsubscribe()
	}
	return nil
}

func (c *sharedCache) stats() StoreStats {
	st := StoreStats{Kind: c.kind, Store: c.describe,
		Hits: c.hits.Load(), Misses: c.misses.Load(), StaleServed: c.stale.Load()}
	if c.entries != nil {
		st.Entries, st.NotFoundEntries = c.entries.len()
	}
	if total := st.Hits + st.Misses; total > 0 {
		ratio := float64(st.Hits) / float64(total)
		st.HitRatio = &ratio
	}
	return st
}

// purge forgets identity here and, through the shared cache, on every
// instance.
func (c *sharedCache) purge(identity string) int {
	n := c.purgeLocal(identity)
	c.purgeShared(identity)
	return n
}

// purgeLocal forgets identity in this instance only: what the shared
// cache's purges call.
func (c *sharedCache) purgeLocal(identity string) int {
	if c.entries == nil {
		return 0
	}
	return c.entries.purge(identity)
}

// cachedStore is the caching layer of one configuration, in front of its
// store.
type cachedStore struct {
	store    Store
	keyer    CacheKeyer // nil: entries are keyed by identity
	settings cacheSettings
	shared   *sharedCache
	ref      poolRef
	// sharedLevel is the shared cache between the entries and the store,
	// or nil.
	sharedLevel *sharedLevel

	group singleflight.Group
	// loads bounds the loads in flight.
	loads chan struct{}
	// ctx bounds every load: the configuration's own, ended when it is
	// unloaded.
	ctx    context.Context
	logger *zap.Logger
	// failing is set while the store fails, so an outage logs once.
	failing atomic.Bool
}

// newCachedStore puts the caching layer in front of store, taking its
// entries from storePool. identity names the store's resolved settings;
// level, when not nil, is the shared cache behind the entries, and levelID
// names its settings.
func newCachedStore(ctx caddy.Context, store Store, kind, identity string, settings cacheSettings, level *sharedLevel, levelID string, logger *zap.Logger) (*cachedStore, error) {
	describe := kind
	if d, ok := store.(StoreDescriber); ok {
		describe = d.Describe()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%+v|%s", kind, identity, settings, levelID)
	key := "cache:" + hex.EncodeToString(h.Sum(nil))
	s := &cachedStore{store: store, settings: settings, sharedLevel: level,
		loads: make(chan struct{}, maxConcurrentLoads), ctx: ctx, logger: logger}
	v, err := s.ref.take(storePool, key, func() (caddy.Destructor, error) {
		c := &sharedCache{kind: kind, describe: describe, level: level}
		if settings.ttl > 0 {
			c.entries = newUserCache(settings.size, settings.ttl, settings.notFoundTTL, settings.staleIfError)
		}
		if level != nil {
			c.unsubscribe = level.backend.Subscribe(func(ns, identity string) {
				if ns == "" || ns == level.ns {
					c.purgeLocal(identity)
				}
			})
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	s.shared = v.(*sharedCache)
	s.keyer, _ = store.(CacheKeyer)
	if p, ok := store.(cachePurgeTaker); ok {
		p.takeCachePurge(s.shared.purge)
	}
	return s, nil
}

// cachePurgeTaker is a store that hears from its backend when a user
// changes (the SQL store's LISTEN/NOTIFY) and so must reach the cache in
// front of it. newCachedStore hands it the purge of its entries (identity
// "" purges all); the store may call it from any goroutine until Cleanup.
// Unexported: a third party's store is kept fresh by cache_ttl and the
// admin API's purge.
type cachePurgeTaker interface {
	takeCachePurge(purge func(identity string) int)
}

// release gives the entries back to storePool.
func (s *cachedStore) release() error { return s.ref.release() }

// LoadUser answers from the cache, or loads through the store.
func (s *cachedStore) LoadUser(ctx context.Context, tok Token) (User, error) {
	key := tok.Identity()
	if s.keyer != nil {
		key = s.keyer.CacheKey(tok)
	}
	if iss := tok.Issuer(); iss != "" {
		// One issuer block's user is never another's: the key names the
		// block (issuers hold no NUL).
		key = iss + "\x00" + key
	}
	if c := s.shared.entries; c != nil {
		if e, _, fresh := c.get(key); fresh {
			s.shared.hits.Add(1)
			cacheHits.Inc()
			return e.answer()
		}
		s.shared.misses.Add(1)
		cacheMiss.Inc()
	}
	ch := s.group.DoChan(key, func() (any, error) { return s.load(key, tok) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return User{}, res.Err
		}
		return res.Val.(*cacheEntry).answer()
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
}

func (e *cacheEntry) answer() (User, error) {
	if !e.found {
		return User{}, ErrUserNotFound
	}
	return User{JSON: e.user.String(), text: e.user}, nil
}

// load asks the store and records the answer; while the store fails, a
// stale answer within stale_if_error stands in.
func (s *cachedStore) load(key string, tok Token) (*cacheEntry, error) {
	identity := tok.Identity()
	if s.sharedLevel != nil {
		if e := s.sharedGet(key, identity); e != nil {
			s.recovered()
			return e, nil
		}
	}
	var user User
	var err error
	select {
	case s.loads <- struct{}{}:
		user, err = s.ask(tok)
		<-s.loads
	default:
		err = errStoreOverloaded
	}
	c := s.shared.entries
	switch {
	case err == nil:
		s.recovered()
		ttl := s.settings.ttl
		if user.NoStore {
			ttl = 0
		} else if user.MaxAge > 0 {
			ttl = user.MaxAge
		}
		e := &cacheEntry{user: user.text, found: true}
		if c != nil {
			c.putFound(key, identity, user.text, ttl)
		}
		if s.sharedLevel != nil {
			s.sharedSet(key, identity, e, ttl)
		}
		return e, nil
	case errors.Is(err, ErrUserNotFound):
		s.recovered()
		e := &cacheEntry{}
		if c != nil {
			c.putNotFound(key, identity, c.notFoundTTL)
		}
		if s.sharedLevel != nil {
			s.sharedSet(key, identity, e, s.settings.notFoundTTL)
		}
		return e, nil
	}
	s.failed(err)
	if c != nil {
		if e, ok, _ := c.get(key); ok {
			s.shared.stale.Add(1)
			cacheStale.Inc()
			return &e, nil
		}
	}
	return nil, err
}

// ask calls the store and checks its answer.
func (s *cachedStore) ask(tok Token) (User, error) {
	start := time.Now()
	user, err := s.store.LoadUser(s.ctx, tok)
	storeRequestSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return User{}, err
	}
	return user, checkUser(&user)
}

// checkUser makes u.text from u.JSON, for a user from a store that does not
// set it: one JSON object, after at most one leading byte order mark (a
// service or a file may write one, and RFC 8259 lets a parser skip it).
func checkUser(u *User) error {
	text, err := rawjson.Check(rawjson.TrimBOM(u.JSON))
	switch {
	case err != nil:
		return &storeFailure{kind: "not_json"}
	case text.Kind() != '{':
		return &storeFailure{kind: "not_object"}
	}
	u.text = text.Compact()
	u.JSON = u.text.String()
	return nil
}

func (s *cachedStore) failed(err error) {
	kind := "other"
	var k interface{ StoreErrorKind() string }
	switch {
	case errors.As(err, &k):
		kind = k.StoreErrorKind()
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	}
	storeErrorsTotal.WithLabelValues(kind).Inc()
	if !s.failing.Swap(true) {
		s.logger.Error("user store failing; requests get a stale copy or the store-error response",
			zap.String("store", s.shared.describe), zap.Error(err))
	}
}

func (s *cachedStore) recovered() {
	if s.failing.Swap(false) {
		s.logger.Info("user store answering again", zap.String("store", s.shared.describe))
	}
}

// Interface guards
var (
	_ Store            = (*cachedStore)(nil)
	_ statsReporter    = (*sharedCache)(nil)
	_ purger           = (*sharedCache)(nil)
	_ caddy.Destructor = (*sharedCache)(nil)
)
