package jwtuser

import (
	"context"
	"errors"
	"time"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// Store loads the user a verified token names. Stores are guest modules in
// the namespace http.jwt_user.stores (the file store is
// http.jwt_user.stores.file, the HTTP store http.jwt_user.stores.http); a
// third party adds one by registering a module there that implements Store.
//
// LoadUser is called on a request whose token verified, after the cache in
// front of the store missed: at most once per identity (or CacheKey), issuer
// block (Token.Issuer: one block's cache entry never answers another's) and
// cache TTL, with concurrent requests for the same identity sharing one
// call. It may block on the network; ctx carries the store's deadline and
// is cancelled when the configuration that loaded the store is unloaded, so
// a well-behaved store returns soon after ctx is done. It must be safe for
// concurrent use.
//
// The answer:
//   - a User whose JSON is one JSON object: the user; the caching layer
//     checks and compacts it, and refuses anything else as a store error;
//   - an error matching ErrUserNotFound (errors.Is): the store knows no
//     such user; the request gets the load-failure response
//     (flask-jwt-extended's user_lookup_error_loader), and the answer is
//     cached for cache_not_found_ttl;
//   - any other error: the store is broken or unreachable; the request is
//     served a stale copy within stale_if_error, or gets the store-error
//     response (503). Such an error never reaches the client or a log line
//     verbatim unless it is safe to show: it must not hold a secret, a DSN
//     or a user body. An error with a method StoreErrorKind() string is
//     counted under that kind in caddy_jwt_user_store_errors_total.
type Store interface {
	LoadUser(ctx context.Context, tok Token) (User, error)
}

// ErrUserNotFound is what a Store returns (or wraps) when it has no user
// for the token's identity: a "no", not a failure.
var ErrUserNotFound = errors.New("user not found")

// User is a store's answer for one identity.
type User struct {
	// JSON is the user as one JSON object, e.g. {"id":"foo","roles":["admin"]},
	// after at most one leading byte order mark, which is skipped.
	// It becomes {jwt.user}; its fields {jwt.user.<path>}.
	JSON string
	// MaxAge, when positive, is how long the caching layer keeps this user
	// instead of cache_ttl: the HTTP store sets it from the answer's
	// Cache-Control: max-age. Zero means cache_ttl.
	MaxAge time.Duration
	// NoStore keeps the answer out of the cache (Cache-Control: no-store,
	// no-cache or max-age=0 from the HTTP store).
	NoStore bool

	// text, when not zero, is JSON as checked, compact JSON object text (the
	// file store's users, the cache's entries); a User without it is
	// checked before use.
	text rawjson.Text
}

// hasText reports whether u comes with its checked text: set, and still
// what JSON holds (a store may change JSON in a User it took from another
// store, such as the file store, that sets text).
func (u *User) hasText() bool { return !u.text.IsZero() && u.text.String() == u.JSON }

// InMemoryStore is a Store that already holds every user in memory and
// answers as fast as a cache hit, such as the file store. The handler calls
// it directly, with no caching layer in front, so a change the store makes
// is visible at once; the cache settings (cache_ttl and the rest) are
// refused at load with such a store. Its LoadUser must not block.
type InMemoryStore interface {
	Store
	// InMemory marks the store; it is never called.
	InMemory()
}

// CacheKeyer is a Store whose answer depends on more of the token than its
// identity, such as an HTTP store whose URL holds {jwt.claims.tenant}. The
// caching layer keys entries, and shares concurrent loads, by CacheKey
// instead of the identity. It is called on every request that reaches the
// cache, so it must be fast and must not block.
type CacheKeyer interface {
	CacheKey(tok Token) string
}

// StoreIdentifier is a Store that names its resolved settings (URL, headers,
// query, with every {env.*} resolved): configurations whose stores name the
// same settings, with the same cache settings, share one cache across a
// caddy reload. A store without it is identified by its module name and its
// JSON configuration. The text may be a digest; it is never logged.
type StoreIdentifier interface {
	StoreIdentity() string
}

// StoreDescriber is a Store that tells an operator which backend it is:
// the HTTP store's origin (scheme://host), the file store's path. It is
// shown by the admin API and in logs, so it must not hold a secret or an
// identity. A store without it is described by its module name.
type StoreDescriber interface {
	Describe() string
}

// StoreStats is one store in the admin API's GET /jwt-user/cache.
type StoreStats struct {
	// Kind is the store module's name: file, http, or a third party's.
	Kind string `json:"kind"`
	// Store describes the backend (StoreDescriber).
	Store string `json:"store"`
	// Entries is the count of cached users; for an in-memory store, of the
	// users it holds.
	Entries int `json:"entries"`
	// NotFoundEntries is the count of cached "no such user" answers.
	NotFoundEntries int `json:"not_found_entries"`
	// Hits counts lookups answered from the cache since it was created.
	Hits int64 `json:"hits"`
	// Misses counts lookups that went to the store.
	Misses int64 `json:"misses"`
	// StaleServed counts copies past their TTL served while the store
	// failed (stale_if_error).
	StaleServed int64 `json:"stale_served"`
	// HitRatio is Hits/(Hits+Misses); null before the first lookup and for
	// an in-memory store.
	HitRatio *float64 `json:"hit_ratio"`
}

// statsReporter is what the admin API lists: the caching layer, and the
// file store's shared users.
type statsReporter interface {
	stats() StoreStats
}

// purger is what the admin API purges: the caching layer. An in-memory
// store has nothing to purge.
type purger interface {
	// purge forgets identity (every entry when identity is "") and reports
	// how many entries went.
	purge(identity string) int
}
