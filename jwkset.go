package jwtuser

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-jose/go-jose/v4"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
)

const (
	defaultJWKSRefresh = 10 * time.Minute
	// jwksRefetchGuard spaces fetches made for unknown kids, whatever the
	// traffic: a flood of tokens with made-up kids costs the provider one
	// request per guard interval.
	jwksRefetchGuard = 30 * time.Second
	jwksFetchTimeout = 10 * time.Second
	jwksMaxBody      = 1 << 20
	jwksMaxBackoff   = 5 * time.Minute
)

// asymmetricAlgs are what a JWK Set may serve: HMAC never.
var asymmetricAlgs = slices.Concat(rsaAlgs, []string{"ES256", "ES384", "ES512"}, ed25519Algs)

// jwk is one usable key of a set.
type jwk struct {
	kid  string
	key  any
	algs []string
}

// jwkSet is one fetched JWK Set, immutable once built.
type jwkSet struct {
	keys   []jwk
	digest [32]byte // of the usable keys, to tell a change from a refetch
}

// candidates are the keys that may verify a token: those with its kid (all
// keys when it has none) that serve its alg.
func (s *jwkSet) candidates(alg, kid string) (keys []any, kidKnown bool) {
	for _, k := range s.keys {
		if kid != "" && k.kid != kid {
			continue
		}
		kidKnown = true
		if slices.Contains(k.algs, alg) {
			keys = append(keys, k.key)
		}
	}
	return keys, kidKnown
}

// parseJWKS reads a JWK Set, keeping the keys this module can use: RSA, EC
// P-256/384/521 and Ed25519 keys that are not for encryption. A key's own
// alg narrows what it serves. A key this module cannot read is skipped, so
// one exotic key does not hide the others.
//
// A leading byte order mark is skipped. A set that is not JSON is reported
// with rawjson's words, which name a misplaced byte order mark or a
// non-ASCII character whole, rather than encoding/json's single byte.
func parseJWKS(body []byte) (*jwkSet, int, error) {
	body = bytes.TrimPrefix(body, []byte(rawjson.BOM))
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		var se *rawjson.SyntaxError
		if _, cerr := rawjson.Check(string(body)); errors.As(cerr, &se) {
			return nil, 0, fmt.Errorf("not a JWK Set: %s at %s", se.Msg, se.Position(string(body)))
		}
		return nil, 0, fmt.Errorf("not a JWK Set: %v", err)
	}
	set := &jwkSet{}
	skipped := 0
	h := sha256.New()
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || k.Use == "enc" {
			skipped++
			continue
		}
		if !k.IsPublic() {
			k = k.Public() // a set should never publish private parts; use only the public one
		}
		algs := algsForKey(k.Key)
		switch {
		case k.Algorithm == "":
		case !slices.Contains(algs, k.Algorithm):
			skipped++ // an alg of another key type
			continue
		case !slices.Equal(algs, ed25519Algs):
			// The key's own alg narrows it; for an Ed25519 key EdDSA and
			// Ed25519 name one algorithm (RFC 9864), so either serves both.
			algs = []string{k.Algorithm}
		}
		if len(algs) == 0 {
			skipped++ // symmetric or unsupported curve
			continue
		}
		set.keys = append(set.keys, jwk{kid: k.KeyID, key: k.Key, algs: algs})
		h.Write(raw)
	}
	if len(set.keys) == 0 {
		return nil, skipped, errors.New("the set holds no usable signing key")
	}
	h.Sum(set.digest[:0])
	return set, skipped, nil
}

// keySet keeps a JWK Set fresh: fetched at start, refreshed every interval,
// refetched (within the guard) when a token names an unknown kid. A failed
// or malformed fetch keeps the last good set. It is shared by every
// configuration with the same URL and interval, and lives until the last of
// them lets go.
type keySet struct {
	url     string
	refresh time.Duration
	client  *http.Client
	now     func() time.Time
	// honourMaxAge: the answers' Cache-Control max-age, within
	// clampMaxAge's bounds, replaces refresh (the discovery source's sets).
	honourMaxAge bool
	maxAge       atomic.Int64 // the last good answer's max-age; 0: none

	current atomic.Pointer[jwkSet]
	// gen counts changes of the set; a cached token verified under an
	// older generation is verified again.
	gen atomic.Uint64

	mu        sync.Mutex
	lastFetch time.Time     // when the last fetch started
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	lastOK    bool

	fetches, failures atomic.Int64
	logger            atomic.Pointer[zap.Logger]
	ctx               context.Context
	cancel            context.CancelFunc
	done              chan struct{}
}

func newKeySet(url string, refresh time.Duration, logger *zap.Logger) *keySet {
	k := &keySet{
		url:     url,
		refresh: refresh,
		client:  &http.Client{Timeout: jwksFetchTimeout},
		now:     time.Now,
		done:    make(chan struct{}),
	}
	k.logger.Store(logger)
	// The set outlives the configuration that made it, so its fetches have
	// their own lifetime, ended by Destruct.
	k.ctx, k.cancel = context.WithCancel(context.Background())
	return k
}

// start fetches the set once, waiting for the answer so a configuration
// loaded while the provider is up serves at once, then keeps it fresh in
// the background. A failure here is logged and retried, never fatal.
func (k *keySet) start() {
	if ch := k.fetch(true); ch != nil {
		<-ch
	}
	go k.run()
}

func (k *keySet) setLogger(l *zap.Logger) { k.logger.Store(l) }

// Destruct stops the refresh loop and any fetch in flight.
func (k *keySet) Destruct() error {
	k.cancel()
	<-k.done
	k.mu.Lock()
	inflight := k.inflight
	k.mu.Unlock()
	if inflight != nil {
		<-inflight
	}
	k.client.CloseIdleConnections()
	return nil
}

// keys picks the keys for a token. An unknown kid (or no set at all)
// triggers a refetch, at most once per guard interval, and waits for it.
func (k *keySet) keys(alg, kid string) ([]any, error) {
	if set := k.current.Load(); set != nil {
		keys, kidKnown := set.candidates(alg, kid)
		if kidKnown || kid == "" {
			return keys, nil
		}
	}
	if ch := k.fetch(false); ch != nil {
		select {
		case <-ch:
		case <-time.After(jwksFetchTimeout):
		}
	}
	set := k.current.Load()
	if set == nil {
		return nil, ErrKeysUnavailable
	}
	keys, _ := set.candidates(alg, kid)
	return keys, nil
}

// fetch starts a fetch unless one runs (then it returns that one's channel)
// or, unless forced, one started within the guard interval (then nil).
func (k *keySet) fetch(force bool) <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inflight != nil {
		return k.inflight
	}
	now := k.now()
	if !force && !k.lastFetch.IsZero() && now.Sub(k.lastFetch) < jwksRefetchGuard {
		return nil
	}
	k.lastFetch = now
	ch := make(chan struct{})
	k.inflight = ch
	go func() {
		ok := k.fetchOnce()
		k.mu.Lock()
		k.inflight = nil
		k.lastOK = ok
		k.mu.Unlock()
		close(ch)
	}()
	return ch
}

// fetchOnce fetches and installs the set; it reports success.
func (k *keySet) fetchOnce() bool {
	k.fetches.Add(1)
	jwksFetchesTotal.Inc()
	set, skipped, err := k.download()
	logger := k.logger.Load()
	if err != nil {
		k.failures.Add(1)
		jwksFailuresTotal.Inc()
		logger.Error("JWKS fetch failed; keeping the last good key set",
			zap.String("url", k.url), zap.Error(err))
		return false
	}
	if skipped > 0 {
		logger.Debug("JWKS keys skipped", zap.String("url", k.url), zap.Int("skipped", skipped))
	}
	if old := k.current.Load(); old == nil || old.digest != set.digest {
		k.current.Store(set)
		k.gen.Add(1)
		logger.Info("JWKS key set loaded", zap.String("url", k.url), zap.Int("keys", len(set.keys)))
	}
	return true
}

func (k *keySet) download() (*jwkSet, int, error) {
	ctx, cancel := context.WithTimeout(k.ctx, jwksFetchTimeout)
	defer cancel()
	ans, err := boundedGet(ctx, k.client, k.url, jwksRequestHeader, jwksMaxBody)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, 0, errors.New("the key set is larger than 1MiB")
	case err != nil:
		return nil, 0, err
	case ans.status != http.StatusOK:
		return nil, 0, fmt.Errorf("status %d", ans.status)
	}
	if k.honourMaxAge {
		k.maxAge.Store(int64(maxAgeOf(ans.header)))
	}
	return parseJWKS(ans.body)
}

var jwksRequestHeader = http.Header{"Accept": {"application/jwk-set+json, application/json"}}

// run refreshes the set every interval, and retries with backoff after a
// failure, until Destruct.
func (k *keySet) run() {
	defer close(k.done)
	backoff := time.Second
	for {
		k.mu.Lock()
		ok := k.lastOK
		k.mu.Unlock()
		wait := k.refresh
		if ma := time.Duration(k.maxAge.Load()); ma > 0 {
			wait = clampMaxAge(ma)
		}
		if !ok {
			wait = min(backoff, k.refresh)
			backoff = min(2*backoff, jwksMaxBackoff)
		} else {
			backoff = time.Second
		}
		timer := time.NewTimer(wait)
		select {
		case <-k.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if ch := k.fetch(true); ch != nil {
			select {
			case <-ch:
			case <-k.ctx.Done():
				return
			}
		}
	}
}

// Interface guard
var _ caddy.Destructor = (*keySet)(nil)
