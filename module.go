package jwtuser

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler verifies the request's JWT, loads the user its identity names and
// exposes both to the rest of the configuration, or answers with the
// configured response when it cannot.
//
// Placeholders, set for the handlers that follow and for failure responses:
//
//	{jwt.identity}        the token's identity
//	{jwt.claims}          the verified claims, as compact JSON
//	{jwt.claims.<path>}   a claim; <path> walks nested objects with dots
//	{jwt.user}            the loaded user, as compact JSON
//	{jwt.user.<path>}     a field of the loaded user
//	{jwt.error}           in a failure response: why
//	{http.auth.user.id}   the identity, as every Caddy auth module sets it
//
// Arrays are lists to the `expression` matcher and `a,b` as text; numbers
// are plain decimal; an absent value is empty (an empty list to CEL).
type Handler struct {
	// Where the token is read, in order; the first source holding a token
	// is used. Default: the Authorization header with the Bearer scheme.
	From []TokenSource `json:"from,omitempty"`

	// An HMAC secret (HS256/384/512). Placeholders such as {env.JWT_SECRET}
	// and {file./run/secrets/jwt} are resolved at load.
	Secret string `json:"secret,omitempty"`
	// Path of a PEM file holding the public key (RSA, ECDSA, Ed25519; PKIX or
	// PKCS#1) or an X.509 certificate.
	PublicKey string `json:"public_key,omitempty"`
	// A JWK Set fetched from a URL and kept fresh, as identity providers
	// publish their keys.
	JWKS *JWKS `json:"jwks,omitempty"`

	// Algs a token may use. Default: every alg the key can serve. "none" is
	// never accepted.
	Algorithms []string `json:"algorithms,omitempty"`
	// The token's iss must equal one of these.
	Issuers []string `json:"issuer,omitempty"`
	// The token's aud (a string or an array) must contain one of these.
	Audiences []string `json:"audience,omitempty"`
	// Clock skew allowed for exp, nbf and iat.
	Leeway caddy.Duration `json:"leeway,omitempty"`
	// Claims a token must carry, e.g. exp.
	RequireClaims []string `json:"require_claims,omitempty"`
	// Claims that must equal one of the listed values (an array claim must
	// contain one), e.g. {"type": ["access"]}.
	Claims map[string][]string `json:"claims,omitempty"`
	// The claim that names the user. Default: sub.
	IdentityClaim string `json:"identity_claim,omitempty"`
	// Longest token accepted, in bytes. Default: 8192.
	MaxTokenSize int `json:"max_token_size,omitempty"`

	// Users from a JSON file, reloaded when it changes.
	UsersFile *UsersFile `json:"users_file,omitempty"`
	// Users from an HTTP endpoint, one request per identity, cached.
	UsersURL *UsersURL `json:"users_url,omitempty"`
	// How long a user from users_url is cached. Default: 1m; 0 turns the
	// cache off. A Cache-Control max-age from the store wins.
	CacheTTL *caddy.Duration `json:"cache_ttl,omitempty"`
	// How long the store's "no such user" is cached. Default: 10s.
	CacheNotFoundTTL *caddy.Duration `json:"cache_not_found_ttl,omitempty"`
	// How long past its TTL a cached answer may still serve while the store
	// fails. Default: 0.
	StaleIfError caddy.Duration `json:"stale_if_error,omitempty"`
	// How many users the cache holds; the least recently used goes first.
	// Default: 10000.
	CacheSize int `json:"cache_size,omitempty"`

	// With no token, pass the request on without a user. A bad token is
	// still refused.
	Optional bool `json:"optional,omitempty"`

	// Responses to failures. Defaults: 401 with {"msg":"<reason>"}; 503 for
	// a store error.
	OnMissingToken *Response `json:"on_missing_token,omitempty"`
	OnInvalidToken *Response `json:"on_invalid_token,omitempty"`
	OnExpiredToken *Response `json:"on_expired_token,omitempty"`
	OnLoadFailure  *Response `json:"on_load_failure,omitempty"`
	OnStoreError   *Response `json:"on_store_error,omitempty"`

	extractor *extractor
	verifier  *verifier
	store     userStore
	storeKey  string // the store's key in storePool, once taken
	keySetKey string // the key set's key in keySetPool, once taken
	responses [numFailureKinds]*response
	logger    *zap.Logger
	// now is the clock; a seam for tests.
	now func() time.Time
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.jwt_user",
		New: func() caddy.Module { return new(Handler) },
	}
}

const defaultMaxTokenSize = 8 << 10

// Provision does all the setup, so a request pays only for its own work.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %v", err)
	}
	if err := h.provisionRequestPath(); err != nil {
		return err
	}
	return h.provisionStore()
}

// provisionRequestPath builds everything but the store: token sources, key
// source, verifier and responses.
func (h *Handler) provisionRequestPath() error {
	if h.now == nil {
		h.now = time.Now
	}
	var err error
	if h.extractor, err = newExtractor(h.From); err != nil {
		return err
	}
	keys, err := h.provisionKeys()
	if err != nil {
		return err
	}
	if err := h.provisionVerifier(keys); err != nil {
		return err
	}
	for kind, cfg := range h.responseConfigs() {
		if h.responses[kind], err = compileResponse(failureKind(kind), cfg); err != nil {
			return fmt.Errorf("%s: %v", responseDirectives[kind], err)
		}
	}
	return nil
}

// provisionKeys builds the one key source the configuration names.
func (h *Handler) provisionKeys() (keySource, error) {
	repl := caddy.NewReplacer()
	given := 0
	for _, set := range []bool{h.Secret != "", h.PublicKey != "", h.JWKS != nil} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, errors.New("secret, public_key and jwks: give exactly one key source")
	case h.Secret != "":
		secret := repl.ReplaceKnown(h.Secret, "")
		if secret == "" {
			return nil, errors.New("secret: the value is empty")
		}
		if len(secret) < 32 {
			h.logger.Warn("the HMAC secret is shorter than 32 bytes, the least HS256 needs to be safe against guessing",
				zap.Int("bytes", len(secret)))
		}
		return newSecretKey(secret), nil
	case h.PublicKey != "":
		key, err := loadPublicKey(repl.ReplaceKnown(h.PublicKey, ""))
		if err != nil {
			return nil, fmt.Errorf("public_key: %v", err)
		}
		return key, nil
	case h.JWKS != nil:
		return h.provisionKeySet(repl)
	}
	return nil, errors.New("no key source: give secret, public_key or jwks")
}

// keySetPool shares fetched JWK Sets across configurations with the same URL
// and refresh interval, so a reload neither refetches nor waits.
var keySetPool = caddy.NewUsagePool()

func (h *Handler) provisionKeySet(repl *caddy.Replacer) (keySource, error) {
	u := repl.ReplaceKnown(h.JWKS.URL, "")
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
		return nil, fmt.Errorf("jwks: %q is not an http or https URL", u)
	}
	refresh := time.Duration(h.JWKS.Refresh)
	if refresh == 0 {
		refresh = defaultJWKSRefresh
	}
	if refresh < time.Second {
		return nil, errors.New("jwks: the refresh interval must be at least 1s")
	}
	key := fmt.Sprintf("jwks:%s|%v", u, refresh)
	v, _, err := keySetPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		ks := newKeySet(u, refresh, h.logger)
		ks.start()
		return ks, nil
	})
	if err != nil {
		return nil, fmt.Errorf("jwks: %v", err)
	}
	h.keySetKey = key
	ks := v.(*keySet)
	ks.setLogger(h.logger)
	return ks, nil
}

func (h *Handler) provisionVerifier(keys keySource) error {
	algs, err := allowedAlgorithms(h.Algorithms, keys)
	if err != nil {
		return fmt.Errorf("algorithms: %v", err)
	}
	if s, ok := keys.(staticKey); ok && slices.Equal(s.algs, hmacAlgs) {
		secret := s.list[0].([]byte)
		for _, alg := range algs {
			if need := signingMethods[alg].(*jwt.SigningMethodHMAC).Hash.Size(); len(secret) < need && need > 32 {
				h.logger.Warn("the HMAC secret is shorter than the hash size of an allowed alg",
					zap.String("alg", alg), zap.Int("bytes", len(secret)), zap.Int("hash_bytes", need))
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
		cache:         newTokenCache(tokenCacheEntries, tokenCacheBytes),
	}
	for _, alg := range algs {
		v.methods[alg] = signingMethods[alg]
	}
	if v.identityClaim == "" {
		v.identityClaim = "sub"
	}
	if v.maxSize == 0 {
		v.maxSize = defaultMaxTokenSize
	}
	if v.maxSize < 0 {
		return errors.New("max_token_size: must be positive")
	}
	if v.leeway < 0 {
		return errors.New("leeway: must not be negative")
	}
	// Sorted, so the reason for a token failing two rules is always the same.
	for _, name := range slices.Sorted(maps.Keys(h.Claims)) {
		values := h.Claims[name]
		if len(values) == 0 {
			return fmt.Errorf("claim %s: give at least one value", name)
		}
		v.claims = append(v.claims, claimRule{name: name, values: values})
	}
	v.init()
	h.verifier = v
	return nil
}

const (
	defaultCacheTTL         = time.Minute
	defaultCacheNotFoundTTL = 10 * time.Second
	defaultCacheSize        = 10000
)

// provisionStore takes the configured store from storePool, creating it
// when no configuration with the same settings holds one: a reload keeps
// the users loaded and the cache warm.
func (h *Handler) provisionStore() error {
	var (
		key       string
		construct caddy.Constructor
		directive string
	)
	switch {
	case h.UsersFile != nil && h.UsersURL != nil:
		return errors.New("users_file and users_url are both set: give exactly one store")
	case h.UsersFile != nil:
		directive = "users_file"
		if h.CacheTTL != nil || h.CacheNotFoundTTL != nil || h.StaleIfError != 0 || h.CacheSize != 0 {
			return errors.New("cache_ttl, cache_not_found_ttl, stale_if_error and cache_size apply to users_url: a users_file is already in memory")
		}
		path := caddy.NewReplacer().ReplaceKnown(h.UsersFile.Path, "")
		if path == "" {
			return errors.New("users_file: the path is empty")
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		keyField := h.UsersFile.KeyField
		key = "users_file:" + path + "\x00" + keyField
		construct = func() (caddy.Destructor, error) { return newFileStore(path, keyField, h.logger) }
	case h.UsersURL != nil:
		directive = "users_url"
		settings, err := resolveHTTPStoreSettings(h.UsersURL)
		if err != nil {
			return fmt.Errorf("users_url: %v", err)
		}
		settings.ttl = durationOr(h.CacheTTL, defaultCacheTTL)
		settings.notFoundTTL = durationOr(h.CacheNotFoundTTL, defaultCacheNotFoundTTL)
		settings.staleIfError = time.Duration(h.StaleIfError)
		settings.cacheSize = h.CacheSize
		if settings.cacheSize == 0 {
			settings.cacheSize = defaultCacheSize
		}
		switch {
		case settings.ttl < 0:
			return errors.New("cache_ttl: must not be negative")
		case settings.notFoundTTL < 0:
			return errors.New("cache_not_found_ttl: must not be negative")
		case settings.staleIfError < 0:
			return errors.New("stale_if_error: must not be negative")
		case settings.cacheSize < 0:
			return errors.New("cache_size: must be positive")
		}
		key = settings.poolKey()
		construct = func() (caddy.Destructor, error) { return newHTTPStore(settings), nil }
	default:
		return errors.New("no user store: give users_file or users_url")
	}
	v, _, err := storePool.LoadOrNew(key, construct)
	if err != nil {
		return fmt.Errorf("%s: %v", directive, err)
	}
	h.storeKey = key
	store := v.(pooledStore)
	store.setLogger(h.logger)
	h.store = store
	return nil
}

func durationOr(d *caddy.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// Cleanup gives the store back to storePool; the last configuration using
// it stops its watcher or its fetches.
func (h *Handler) Cleanup() error {
	var errs []error
	if h.storeKey != "" {
		_, err := storePool.Delete(h.storeKey)
		errs = append(errs, err)
		h.storeKey = ""
	}
	if h.keySetKey != "" {
		_, err := keySetPool.Delete(h.keySetKey)
		errs = append(errs, err)
		h.keySetKey = ""
	}
	return errors.Join(errs...)
}

var responseDirectives = [numFailureKinds]string{
	missingToken: "on_missing_token",
	invalidToken: "on_invalid_token",
	expiredToken: "on_expired_token",
	loadFailure:  "on_load_failure",
	storeError:   "on_store_error",
}

func (h *Handler) responseConfigs() [numFailureKinds]*Response {
	return [numFailureKinds]*Response{
		missingToken: h.OnMissingToken,
		invalidToken: h.OnInvalidToken,
		expiredToken: h.OnExpiredToken,
		loadFailure:  h.OnLoadFailure,
		storeError:   h.OnStoreError,
	}
}

var errStoreUnavailable = &failure{kind: storeError, reason: "User store unavailable"}

// ServeHTTP runs one request through extract → verify → load → placeholders →
// next handler. The first failure answers and stops the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	st := attachState(r, repl)

	// CORS pre-flight requests carry no credentials.
	if r.Method == http.MethodOptions {
		return next.ServeHTTP(w, r) // no user: every jwt.* placeholder is known and empty
	}

	raw, f := h.extractor.extract(r)
	if f != nil {
		if f.kind == missingToken && h.Optional {
			requestsBy[outcomeAnonymous].Inc()
			return next.ServeHTTP(w, r) // no user: every jwt.* placeholder is known and empty
		}
		return h.refuse(w, r, repl, st, f)
	}

	tok, f := h.verifier.verify(raw, h.now())
	// Set for a good or an expired token only: its claims may be shown.
	st.tok = tok
	if f != nil {
		return h.refuse(w, r, repl, st, f)
	}

	user, err := h.store.lookup(r.Context(), tok)
	if err != nil {
		if errors.Is(err, errUserNotFound) {
			return h.refuse(w, r, repl, st, &failure{kind: loadFailure, reason: "Error loading the user " + tok.identity})
		}
		return h.refuse(w, r, repl, st, errStoreUnavailable)
	}
	st.user = user // now {http.auth.user.id} is the identity
	requestsBy[outcomeOK].Inc()
	if c := h.logger.Check(zap.DebugLevel, "user loaded"); c != nil {
		c.Write(zap.String("identity", tok.identity))
	}
	return next.ServeHTTP(w, r)
}

// refuse answers with the response configured for f; nothing reaches the
// next handler.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, st *requestState, f *failure) error {
	st.reason = f.reason
	requestsBy[outcomeOf[f.kind]].Inc()
	if c := h.logger.Check(zap.DebugLevel, "request refused"); c != nil {
		c.Write(zap.String("kind", responseDirectives[f.kind]), zap.String("reason", f.reason),
			zap.String("remote_ip", r.RemoteAddr))
	}
	h.responses[f.kind].write(w, repl)
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
