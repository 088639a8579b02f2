package jwtuser

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The collectors live as long as the process, as Caddy's reverse_proxy keeps
// its own: stores and key sets outlive any one configuration and keep
// counting, and every configuration load registers the same collectors in
// its new registry, so the counts run on across reloads.

const (
	metricsNamespace = "caddy"
	metricsSubsystem = "jwt_user"
)

// outcome is what became of a request, the label of requests_total.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeMissing
	outcomeInvalid
	outcomeExpired
	outcomeNotFound
	outcomeStoreError
	outcomeAnonymous
	outcomeRevoked
	outcomeNotFresh
	outcomeWrongType
	outcomeCSRF
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "missing", "invalid", "expired", "not_found", "store_error", "optional_anonymous", "revoked", "not_fresh", "wrong_type", "csrf"}

// outcomeOf maps a failure to its outcome.
var outcomeOf = [numFailureKinds]outcome{
	missingToken:  outcomeMissing,
	invalidToken:  outcomeInvalid,
	expiredToken:  outcomeExpired,
	loadFailure:   outcomeNotFound,
	storeError:    outcomeStoreError,
	revokedToken:  outcomeRevoked,
	freshRequired: outcomeNotFresh,
	csrfFailure:   outcomeCSRF,
	bodyTooLarge:  outcomeMissing, // no token could be read from the body
}

// counterOpts names a counter in the module's namespace.
func counterOpts(name, help string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: name, Help: help}
}

var (
	requestsTotal = prometheus.NewCounterVec(counterOpts("requests_total",
		"Requests handled by jwt_user, by outcome."), []string{"outcome"})
	userCacheTotal = prometheus.NewCounterVec(counterOpts("user_cache_total",
		"User cache lookups (every store but an in-memory one): hit, miss, or stale (a stale copy served while the store failed)."),
		[]string{"result"})
	storeRequestSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "store_request_duration_seconds",
		Help:    "Duration of user loads from stores behind the cache.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	storeErrorsTotal = prometheus.NewCounterVec(counterOpts("store_errors_total",
		"Failed user loads, by kind (timeout, dns, connection_refused, connection_reset, status, not_json, not_object, too_large, overloaded, transport; the SQL store's connection, query, too_many_rows, type; other, or a store's own)."),
		[]string{"kind"})
	jwksFetchesTotal  = prometheus.NewCounter(counterOpts("jwks_fetches_total", "JWK Set fetches."))
	jwksFailuresTotal = prometheus.NewCounter(counterOpts("jwks_fetch_failures_total",
		"JWK Set fetches that failed or returned no usable key; the last good set stayed."))
	// The token caches count for themselves (a hit pays one atomic add);
	// these read the sums of every cache, live or cleaned up.
	tokenCacheHitsTotal = prometheus.NewCounterFunc(counterOpts("token_cache_hits_total",
		"Requests whose token was found verified in the token cache."),
		func() float64 { return float64(tokenCacheTotals().hits) })
	tokenCacheMissesTotal = prometheus.NewCounterFunc(counterOpts("token_cache_misses_total",
		"Tokens not found in the token cache that then passed every check (their signature was verified); hit ratio = hits / (hits + misses)."),
		func() float64 { return float64(tokenCacheTotals().misses) })
	tokenCacheEvictionsTotal = prometheus.NewCounterFunc(counterOpts("token_cache_evictions_total",
		"Token cache entries removed to make room for another."),
		func() float64 { return float64(tokenCacheTotals().evictions) })
	sharedCacheTotal = prometheus.NewCounterVec(counterOpts("shared_cache_total",
		"Shared cache (shared_cache) lookups after a local miss: hit or miss; errors are counted apart."),
		[]string{"result"})
	sharedCacheErrorsTotal = prometheus.NewCounterVec(counterOpts("shared_cache_errors_total",
		"Shared cache operations that failed, by kind (timeout, connection, reply (the server answered with an error), garbage (a value the module did not write), other); the answer came from the local cache or the store."),
		[]string{"kind"})

	// Resolved once, so counting a request is one atomic add.
	requestsBy [numOutcomes]prometheus.Counter
	cacheHits  = userCacheTotal.WithLabelValues("hit")
	cacheMiss  = userCacheTotal.WithLabelValues("miss")
	cacheStale = userCacheTotal.WithLabelValues("stale")

	sharedCacheHit  = sharedCacheTotal.WithLabelValues("hit")
	sharedCacheMiss = sharedCacheTotal.WithLabelValues("miss")
)

func init() {
	for o, name := range outcomeNames {
		requestsBy[o] = requestsTotal.WithLabelValues(name)
	}
}

// registerMetrics adds the collectors to a configuration's registry; a
// second jwt_user in the same configuration finds them there already.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{requestsTotal, userCacheTotal, storeRequestSeconds,
		storeErrorsTotal, jwksFetchesTotal, jwksFailuresTotal,
		tokenCacheHitsTotal, tokenCacheMissesTotal, tokenCacheEvictionsTotal,
		sharedCacheTotal, sharedCacheErrorsTotal} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}
