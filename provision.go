package jwtuser

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
)

const (
	defaultMaxTokenSize     = 8 << 10
	maxMaxTokenSize         = 1 << 30
	defaultCacheTTL         = time.Minute
	defaultCacheNotFoundTTL = 10 * time.Second
	defaultCacheSize        = 10000
)

// Provision does all the setup, so a request pays only for its own work.
// It is the one provisioning path: Caddy calls it, and so do the CLI and
// the tests. Every semantic check of the configuration is made here (the
// Caddyfile parser checks only syntax), so a JSON configuration and a
// Caddyfile get the same limits and messages naming the setting.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.logger == nil {
		h.logger = ctx.Logger()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %v", err)
	}
	cfg, err := h.resolvedChecks()
	if err != nil {
		return err
	}
	if h.extractor, err = newExtractor(cfg.From); err != nil {
		return err
	}
	if err = h.extractor.setMaxBody(h.MaxBody, cfg.From); err != nil {
		return err
	}
	if h.csrf, err = cfg.newCSRFCheck(cfg.From); err != nil {
		return err
	}
	if h.strip, err = stripList(h.StripHeaders); err != nil {
		return err
	}
	if err := h.provisionVerifier(ctx, cfg); err != nil {
		return err
	}
	if h.userChecks, err = cfg.newUserChecks(); err != nil {
		return err
	}
	for kind, cfg := range h.responseConfigs() {
		if h.responses[kind], err = compileResponse(failureKind(kind), cfg); err != nil {
			return fmt.Errorf("%s: %v", responseDirectives[kind], err)
		}
	}
	if err := h.provisionRevocations(ctx.Logger(revokedTokensLog{})); err != nil {
		return err
	}
	if err := h.provisionStore(ctx); err != nil {
		return err
	}
	h.file, _ = h.store.(*UsersFile)
	// Last, so a failed Provision leaves none behind.
	h.registerTokenCaches()
	return nil
}

// provisionVerifier builds the verifier of the top-level key source, or
// one per issuer block. cfg is h with its global placeholders resolved.
func (h *Handler) provisionVerifier(ctx caddy.Context, cfg *Handler) error {
	if len(h.IssuerBlocks) > 0 {
		return h.provisionIssuers(ctx, cfg)
	}
	if h.KeysRaw == nil {
		return errors.New("no key source: give secret, public_key or jwks (or keys <module>), or issuer blocks")
	}
	mod, err := ctx.LoadModule(h, "KeysRaw")
	if err != nil {
		return fmt.Errorf("loading the key source: %v", err)
	}
	h.verifier, err = cfg.newVerifier(mod.(KeySource))
	return err
}

// newVerifier fixes everything about checking a token.
func (h *Handler) newVerifier(keys KeySource) (*verifier, error) {
	algs, err := allowedAlgorithms(h.Algorithms, keys)
	if err != nil {
		return nil, fmt.Errorf("algorithms: %v", err)
	}
	if s, ok := keys.(interface{ secretLength() int }); ok {
		for _, alg := range algs {
			need := signingMethods[alg].(*jwt.SigningMethodHMAC).Hash.Size()
			if n := s.secretLength(); n < need && need > 32 {
				h.logger.Warn("the HMAC secret is shorter than the hash size of an allowed alg",
					zap.String("alg", alg), zap.Int("bytes", n), zap.Int("hash_bytes", need))
			}
		}
	}
	v := &verifier{
		keys:          keys,
		methods:       map[string]jwt.SigningMethod{},
		issuers:       h.Issuers,
		audiences:     h.Audiences,
		leeway:        time.Duration(h.Leeway),
		required:      h.RequireClaims,
		identityClaim: h.IdentityClaim,
		maxSize:       h.MaxTokenSize,
	}
	if v.cache, err = h.TokenCache.newCache(); err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.keys = keySourceName(keys)
	}
	for _, alg := range algs {
		v.methods[alg] = signingMethods[alg]
	}
	if v.tokenType, err = tokenTypeSetting(h.TokenType); err != nil {
		return nil, err
	}
	if v.identityClaim == "" {
		v.identityClaim = "sub"
	}
	switch {
	case v.maxSize == 0:
		v.maxSize = defaultMaxTokenSize
	case v.maxSize < 0 || v.maxSize > maxMaxTokenSize:
		return nil, errors.New("max_token_size: must be between 1 byte and 1GiB")
	}
	if v.leeway < 0 {
		return nil, errors.New("leeway: must not be negative")
	}
	// Sorted, so the reason for a token failing two rules is always the same.
	names := []string{"iss", "aud", "exp", "nbf", "iat", "jti"}
	for _, name := range slices.Sorted(maps.Keys(h.Claims)) {
		values := h.Claims[name]
		if len(values) == 0 {
			return nil, fmt.Errorf("claim %s: give at least one value", name)
		}
		if hasUserValue(values) {
			continue // userChecks compares it once the user is loaded
		}
		v.claims = append(v.claims, claimRule{name: name, values: values})
		names = append(names, name)
	}
	v.claimFailures = newClaimFailures(append(names, v.required...)...)
	v.missingIdentity = invalid("Missing claim: " + v.identityClaim)
	v.invalidIdentity = invalid("Invalid claim: " + v.identityClaim)
	return v, nil
}

// provisionStore loads the store and, unless it is in memory, puts the
// caching layer in front of it.
func (h *Handler) provisionStore(ctx caddy.Context) error {
	if h.StoreRaw == nil && h.store != nil {
		return nil // a test's store, set in place of a module
	}
	if h.StoreRaw == nil {
		return errors.New("no user store: give users_file, users_url or users_sql (or store <module>)")
	}
	// The raw JSON identifies a store that does not name its settings;
	// LoadModule lets go of it.
	digest := sha256.Sum256(h.StoreRaw)
	mod, err := ctx.LoadModule(h, "StoreRaw")
	if err != nil {
		return fmt.Errorf("loading the user store: %v", err)
	}
	store := mod.(Store)
	if _, ok := store.(InMemoryStore); ok {
		if h.SharedCacheRaw != nil {
			return errors.New("shared_cache applies to users_url and other remote stores: this store is already in memory")
		}
		if h.CacheTTL != nil || h.CacheNotFoundTTL != nil || h.StaleIfError != 0 || h.CacheSize != 0 {
			return errors.New("cache_ttl, cache_not_found_ttl, stale_if_error and cache_size apply to users_url and other remote stores: this store is already in memory")
		}
		h.store = store
		return nil
	}
	settings := cacheSettings{
		ttl:          durationOr(h.CacheTTL, defaultCacheTTL),
		notFoundTTL:  durationOr(h.CacheNotFoundTTL, defaultCacheNotFoundTTL),
		staleIfError: time.Duration(h.StaleIfError),
		size:         h.CacheSize,
	}
	if settings.size == 0 {
		settings.size = defaultCacheSize
	}
	switch {
	case settings.ttl < 0:
		return errors.New("cache_ttl: must not be negative")
	case settings.notFoundTTL < 0:
		return errors.New("cache_not_found_ttl: must not be negative")
	case settings.staleIfError < 0:
		return errors.New("stale_if_error: must not be negative")
	case settings.size < 0:
		return errors.New("cache_size: must be positive")
	}
	kind := mod.(caddy.Module).CaddyModule().ID.Name()
	identity := hex.EncodeToString(digest[:])
	if id, ok := store.(StoreIdentifier); ok {
		identity = id.StoreIdentity()
	}
	level, levelID, err := h.provisionSharedCache(ctx, settings, kind, identity)
	if err != nil {
		return err
	}
	if h.cache, err = newCachedStore(ctx, store, kind, identity, settings, level, levelID, h.logger); err != nil {
		return fmt.Errorf("cache: %v", err)
	}
	h.store = h.cache
	return nil
}

// provisionSharedCache loads the shared cache, if one is configured, and
// names its settings.
func (h *Handler) provisionSharedCache(ctx caddy.Context, settings cacheSettings, kind, identity string) (*sharedLevel, string, error) {
	if h.SharedCacheRaw == nil {
		return nil, "", nil
	}
	if settings.ttl == 0 {
		return nil, "", errors.New("shared_cache: needs the local cache; cache_ttl is 0")
	}
	digest := sha256.Sum256(h.SharedCacheRaw)
	mod, err := ctx.LoadModule(h, "SharedCacheRaw")
	if err != nil {
		return nil, "", fmt.Errorf("loading the shared cache: %v", err)
	}
	level := &sharedLevel{backend: mod.(SharedCache), ns: sharedNamespace(kind, identity), logger: h.logger}
	return level, hex.EncodeToString(digest[:]), nil
}

func durationOr(d *caddy.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// Cleanup takes the token caches out of the admin API's list, gives the
// cache entries back to storePool and the revoked-tokens file back to
// revocationPool. Caddy cleans up the
// key source and the store itself.
func (h *Handler) Cleanup() error {
	h.releaseTokenCaches()
	err := h.revocations.ref.release()
	if h.cache == nil {
		return err
	}
	err = errors.Join(err, h.cache.release())
	h.cache = nil
	return err
}

func (h *Handler) responseConfigs() [numFailureKinds]*Response {
	var out [numFailureKinds]*Response
	for kind, field := range h.responseFields() {
		if field != nil {
			out[kind] = *field
		}
	}
	return out
}

// responseField is the field of the on_* subdirective name; nil for any
// other name.
func (h *Handler) responseField(name string) **Response {
	for kind, directive := range responseDirectives {
		if directive == name {
			return h.responseFields()[kind] // nil for a fixed response
		}
	}
	return nil
}

// responseFields are the on_* fields, by kind.
func (h *Handler) responseFields() [numFailureKinds]**Response {
	return [numFailureKinds]**Response{
		missingToken:  &h.OnMissingToken,
		invalidToken:  &h.OnInvalidToken,
		expiredToken:  &h.OnExpiredToken,
		loadFailure:   &h.OnLoadFailure,
		storeError:    &h.OnStoreError,
		revokedToken:  &h.OnRevokedToken,
		freshRequired: &h.OnFreshRequired,
		csrfFailure:   &h.OnCSRFFailure,
	}
}
