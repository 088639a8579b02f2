package jwtuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
)

// SharedCache is a second cache level that several Caddy instances share,
// such as a Redis (http.jwt_user.shared_caches.redis). Backends are guest
// modules in the namespace http.jwt_user.shared_caches, configured with
// `shared_cache <backend> ...` inside jwt_user.
//
// The caching layer asks it only after its own, per-instance cache missed,
// and before the store; what the store answers is written to it. A key is
// named by ns (the store's identity: module name and resolved settings, as
// a digest, so two stores never share entries), identity (the token's) and
// key (the local cache key, the CacheKey of a CacheKeyer); a backend lays
// them out as it likes but must let Purge find every key of one identity.
//
// Every method must give up within the backend's own timeout and be safe
// for concurrent use. An error means the backend is broken or slow: the
// caching layer counts it, logs when trouble starts and ends, and goes on
// with its local cache and the store, so an error never changes the answer
// a request gets. An error with a method SharedCacheErrorKind() string is
// counted under that kind in caddy_jwt_user_shared_cache_errors_total.
type SharedCache interface {
	// Get returns the value stored under the key and how long it has
	// left to live, or ErrSharedCacheMiss.
	Get(ctx context.Context, ns, identity, key string) (value []byte, ttl time.Duration, err error)
	// Set stores value under the key for ttl (positive).
	Set(ctx context.Context, ns, identity, key string, value []byte, ttl time.Duration) error
	// Purge deletes every key of identity in ns (every key of ns when
	// identity is "") and tells every instance, through Subscribe.
	Purge(ctx context.Context, ns, identity string) error
	// Subscribe calls fn for every purge any instance makes (its own
	// included), from one goroutine, until cancel is called. When the
	// backend may have missed purges (its connection was lost and came
	// back), it calls fn(ns, "") for every ns it has seen, or fn("", "")
	// meaning every ns.
	Subscribe(fn func(ns, identity string)) (cancel func())
}

// ErrSharedCacheMiss is what SharedCache.Get returns when it holds no
// value for the key: a "no", not a failure.
var ErrSharedCacheMiss = errors.New("shared cache miss")

// sharedLevel is one configuration's use of a SharedCache: the backend
// and the namespace of its store.
type sharedLevel struct {
	backend SharedCache
	ns      string
	logger  *zap.Logger
}

// sharedNamespace names a store in the shared cache: a digest of its
// module name and identity.
func sharedNamespace(kind, identity string) string {
	sum := sha256.Sum256([]byte(kind + "|" + identity))
	return hex.EncodeToString(sum[:16])
}

// The values are "1f" and the user's compact JSON object, or "1n" for
// "no such user".
const (
	sharedFound    = "1f"
	sharedNotFound = "1n"
)

var errSharedGarbage = &sharedFailure{kind: "garbage"}

// sharedFailure is a shared cache error of a known kind.
type sharedFailure struct{ kind string }

func (e *sharedFailure) Error() string                { return "shared cache: " + e.kind }
func (e *sharedFailure) SharedCacheErrorKind() string { return e.kind }

// get looks key up in the shared level: an entry, or nil on a miss or an
// error (counted and logged by s).
func (s *cachedStore) sharedGet(key, identity string) *cacheEntry {
	l := s.sharedLevel
	value, ttl, err := l.backend.Get(s.ctx, l.ns, identity, key)
	if errors.Is(err, ErrSharedCacheMiss) {
		s.sharedOK()
		sharedCacheMiss.Inc()
		return nil
	}
	var e *cacheEntry
	if err == nil {
		e, err = decodeShared(value)
	}
	if err != nil || ttl <= 0 {
		if err == nil {
			err = errSharedGarbage
		}
		s.sharedFailed(err)
		return nil
	}
	s.sharedOK()
	sharedCacheHit.Inc()
	if c := s.shared.entries; c != nil {
		if e.found {
			c.putFound(key, identity, e.user, ttl)
		} else {
			c.putNotFound(key, identity, min(ttl, c.notFoundTTL))
		}
	}
	return e
}

// sharedSet writes a store's answer to the shared level for ttl.
func (s *cachedStore) sharedSet(key, identity string, e *cacheEntry, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	value := sharedNotFound
	if e.found {
		value = sharedFound + e.user.String()
	}
	l := s.sharedLevel
	if err := l.backend.Set(s.ctx, l.ns, identity, key, []byte(value), ttl); err != nil {
		s.sharedFailed(err)
		return
	}
	s.sharedOK()
}

// decodeShared checks a value read from the shared cache again: anything
// but what sharedSet writes is garbage, a backend error, never a user.
func decodeShared(value []byte) (*cacheEntry, error) {
	text := string(value)
	if text == sharedNotFound {
		return &cacheEntry{}, nil
	}
	body, ok := strings.CutPrefix(text, sharedFound)
	if !ok {
		return nil, errSharedGarbage
	}
	user, err := rawjson.Check(body)
	if err != nil || user.Kind() != '{' {
		return nil, errSharedGarbage
	}
	return &cacheEntry{user: user.Compact(), found: true}, nil
}

// sharedErrorKind is err's kind: the backend's own, or timeout, or other.
// Only the kind is logged: a backend's error may name its address.
func sharedErrorKind(err error) string {
	var k interface{ SharedCacheErrorKind() string }
	switch {
	case errors.As(err, &k):
		return k.SharedCacheErrorKind()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "other"
}

func (s *cachedStore) sharedFailed(err error) {
	kind := sharedErrorKind(err)
	sharedCacheErrorsTotal.WithLabelValues(kind).Inc()
	if !s.shared.sharedFailing.Swap(true) {
		s.logger.Error("shared cache failing; going on with the local cache and the store",
			zap.String("store", s.shared.describe), zap.String("kind", kind))
	}
}

func (s *cachedStore) sharedOK() {
	if s.shared.sharedFailing.Swap(false) {
		s.logger.Info("shared cache answering again", zap.String("store", s.shared.describe))
	}
}

// purgeShared deletes identity's entries from the shared level and tells
// every instance; trouble there is counted and logged, and the local purge
// stands.
func (c *sharedCache) purgeShared(identity string) {
	l := c.level
	if l == nil {
		return
	}
	if err := l.backend.Purge(context.Background(), l.ns, identity); err != nil {
		kind := sharedErrorKind(err)
		sharedCacheErrorsTotal.WithLabelValues(kind).Inc()
		l.logger.Error("shared cache: purge not sent; other instances keep their copies until the TTL",
			zap.String("store", c.describe), zap.String("kind", kind))
	}
}
