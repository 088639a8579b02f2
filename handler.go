package jwtuser

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler is the HTTP handler http.handlers.jwt_user (Caddyfile directive
// jwt_user): it verifies the request's JWT, loads the user the token's
// identity names and exposes both to the rest of the configuration, or
// answers with the configured response when it cannot. It brings
// flask-jwt-extended's user_lookup_loader and current_user to the edge.
//
// Placeholders, set for the handlers that follow and for failure responses:
//
//	{jwt.identity}        the token's identity
//	{jwt.issuer}          the issuer block that accepted the token, as
//	                      configured; empty without issuer blocks
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
	// is used, and only it. Default: the Authorization header with the
	// Bearer scheme (RFC 6750 §2.1).
	From []TokenSource `json:"from,omitempty"`

	// The key source: a guest module in http.jwt_user.keys (secret,
	// public_key, jwks, discovery, or a third party's), named by its
	// "source" field. Required, unless IssuerBlocks are given (then
	// refused: each block has its own).
	KeysRaw json.RawMessage `json:"keys,omitempty" caddy:"namespace=http.jwt_user.keys inline_key=source"`
	// Algs a token may use (RFC 7518 names). Default: every alg the key
	// source serves.
	//
	// This and the token-check settings below (issuer, audience,
	// require_claims, claims, identity_claim) and the From names resolve
	// Caddy's global placeholders ({env.*}, {file.*}) when the
	// configuration loads; a per-request placeholder is refused there, as
	// it has no value yet and would be compared as literal text. Refused at load: "none", an unknown alg, or one the
	// key source cannot serve (an HMAC secret with RS256).
	Algorithms []string `json:"algorithms,omitempty"`
	// The token's iss (RFC 7519 §4.1.1) must equal one of these.
	Issuers []string `json:"issuer,omitempty"`
	// Several identity providers, each with its own key source and token
	// checks (see IssuerBlock); the token's iss picks one. With blocks the
	// top-level key source, algorithms, issuer, audience, leeway,
	// require_claims, identity_claim and claims other than {jwt.user.*}
	// ones are refused at load.
	IssuerBlocks []*IssuerBlock `json:"issuers,omitempty"`
	// The token's aud (RFC 7519 §4.1.3, a string or an array) must contain
	// one of these.
	Audiences []string `json:"audience,omitempty"`
	// Clock skew allowed for exp, nbf and iat, as a Caddy duration.
	// Default: 0. Refused at load: negative.
	Leeway caddy.Duration `json:"leeway,omitempty"`
	// Claims a token must carry, e.g. exp (a token without exp is otherwise
	// accepted, as flask-jwt-extended does). A claim that is null counts as
	// missing, as PyJWT's require reads it; a registered claim of the wrong
	// type (exp null included) fails its own type check first.
	RequireClaims []string `json:"require_claims,omitempty"`
	// Claims that must equal one of the listed values (an array claim must
	// contain one), e.g. {"type": ["access"]} refuses flask-jwt-extended's
	// refresh tokens. A null claim is present and equals no value: Invalid
	// claim "<name>". Refused at load: a claim with no values.
	//
	// A value that is one whole {jwt.user.<path>} placeholder is the loaded
	// user's field, e.g. {"ver": ["{jwt.user.token_version}"]}: that claim's
	// rule is checked after the user loads (strings, numbers and booleans
	// compare as text; a user without the field matches nothing, so the
	// token is refused with Invalid claim "<name>").
	Claims map[string][]string `json:"claims,omitempty"`
	// The claim that names the user (flask-jwt-extended's
	// JWT_IDENTITY_CLAIM): a non-empty string or a whole number; absent is
	// "Missing claim: <name>", any other value, null included, "Invalid
	// claim: <name>". Default: sub.
	IdentityClaim string `json:"identity_claim,omitempty"`
	// Revoked token IDs read from a file (see RevokedTokens). Revocations
	// posted to the admin API (POST /jwt-user/revocations) apply to every
	// jwt_user handler, with this setting or without.
	RevokedTokens *RevokedTokens `json:"revoked_tokens,omitempty"`
	// Revokes every token of a user issued before a time the loaded user
	// holds: one {jwt.user.<path>} placeholder naming a field that is a
	// NumericDate (seconds since the epoch) or an RFC 3339 time, e.g.
	// {jwt.user.tokens_valid_after}, set when the user logs out everywhere
	// or changes a password. A token whose iat is earlier gets the
	// on_revoked_token response; one issued exactly at the cut-off passes.
	// A user without the field (or with null) is not affected; a field of
	// another type, or a token without iat while the field is set, is
	// refused as revoked (failing closed). Checked after the user loads.
	// Refused at load: anything but one whole {jwt.user.*} placeholder.
	RevokeIssuedBefore string `json:"revoke_issued_before,omitempty"`
	// Only fresh tokens pass, as flask-jwt-extended's
	// jwt_required(fresh=True): the fresh claim must be true, or a
	// NumericDate still in the future. A token without it, or with false,
	// null or another value, gets the on_fresh_required response. Checked
	// on every request after revocation and before the user loads.
	RequireFresh bool `json:"require_fresh,omitempty"`
	// The kind of token accepted, flask-jwt-extended's type claim: access
	// (jwt_required()) refuses a token whose type is "refresh" with the
	// invalid-token reason "Only non-refresh tokens are allowed", a token
	// without type counting as access; refresh (jwt_required(refresh=True))
	// refuses every token whose type is not "refresh": "Only refresh tokens
	// are allowed". Default: either kind passes. Refused at load: any other
	// value.
	TokenType string `json:"token_type,omitempty"`
	// CSRF double submit for a token read from a cookie, as
	// flask-jwt-extended's JWT_COOKIE_CSRF_PROTECT: on requests of
	// CSRFMethods, the CSRFHeader field must equal the token's csrf claim
	// (compared in constant time). Missing field: on_csrf_failure with
	// "Missing CSRF token", answered before the token is verified; another
	// value: "CSRF double submit tokens do not match"; a cookie token
	// without csrf: the invalid token "Missing claim: csrf". A token from a
	// header or the query is never checked. Default: on when a cookie
	// source is configured. Refused at load: true with no cookie source.
	CSRF *bool `json:"csrf,omitempty"`
	// The methods CSRF covers, upper-cased. Default: POST, PUT, PATCH,
	// DELETE. Global placeholders are resolved at load; any other is
	// refused.
	CSRFMethods []string `json:"csrf_methods,omitempty"`
	// The header field carrying the CSRF value. Default: X-CSRF-TOKEN.
	// Global placeholders are resolved at load; any other is refused.
	CSRFHeader string `json:"csrf_header,omitempty"`
	// The most bytes of a request body the JSON body source (from json)
	// reads. Default: 65536 (64KiB; a body of exactly that many passes). A
	// longer application/json body is answered 413 {"msg":"Request body too
	// large"}, a fixed response, before any token is read. Refused at load:
	// set without a json source, negative, or over 1GiB.
	MaxBody int `json:"max_body,omitempty"`
	// Longest token accepted, in bytes; a longer one is an invalid token.
	// Default: 8192. Refused at load: negative or over 1GiB.
	MaxTokenSize int `json:"max_token_size,omitempty"`
	// The verified-token cache's size (see TokenCache), e.g. {"entries":
	// 100000, "max_bytes": 134217728}; {"entries": 0} turns it off.
	// Default: 10000 entries and 16MiB (max_bytes: 1600 bytes per entry, at
	// least 16MiB, when only entries is given). With issuer blocks, each
	// block has a cache of this size unless the block gives its own.
	TokenCache *TokenCache `json:"token_cache,omitempty"`

	// The user store: a guest module in http.jwt_user.stores (file, http,
	// or a third party's), named by its "source" field. Required.
	StoreRaw json.RawMessage `json:"store,omitempty" caddy:"namespace=http.jwt_user.stores inline_key=source"`
	// How long a found user is cached, as a Caddy duration. Default: 1m; 0
	// turns the cache off. A store's MaxAge (the HTTP store's Cache-Control
	// max-age) wins. The cache settings apply to stores that are not in
	// memory; with an in-memory store (the file store) they are refused.
	CacheTTL *caddy.Duration `json:"cache_ttl,omitempty"`
	// How long the store's "no such user" is cached. Default: 10s.
	CacheNotFoundTTL *caddy.Duration `json:"cache_not_found_ttl,omitempty"`
	// How long past its TTL a cached answer may still serve while the store
	// fails (RFC 5861's stale-if-error). Default: 0.
	StaleIfError caddy.Duration `json:"stale_if_error,omitempty"`
	// How many found users the cache holds, least recently used evicted
	// first; "no such user" answers get a tenth of it on their own.
	// Default: 10000.
	CacheSize int `json:"cache_size,omitempty"`
	// A second cache level shared by Caddy instances: a guest module in
	// http.jwt_user.shared_caches (redis, or a third party's), named by its
	// "backend" field. Optional. Asked after a local miss and before the
	// store; the store's answers are written to it with the local TTLs,
	// and purges reach every instance through it. Refused at load with an
	// in-memory store or cache_ttl 0. Its trouble never changes an answer.
	SharedCacheRaw json.RawMessage `json:"shared_cache,omitempty" caddy:"namespace=http.jwt_user.shared_caches inline_key=backend"`

	// With no token, pass the request on without a user (every jwt.*
	// placeholder known and empty), as flask-jwt-extended's
	// jwt_required(optional=True). A bad token is still refused.
	Optional bool `json:"optional,omitempty"`

	// Request header fields deleted from every request this handler sees,
	// before anything else: OPTIONS requests, requests without a token
	// (optional or not) and refused ones included. For the fields the
	// Caddyfile sets from the user (X-User), so an upstream never sees one
	// a client sent: `request_header X-User {jwt.identity}` alone sets an
	// empty field for an anonymous request, and with a matcher it runs in
	// an order Caddy picks. Names are matched case-insensitively; global
	// placeholders are resolved at load, any other is refused.
	StripHeaders []string `json:"strip_headers,omitempty"`

	// When no source holds a token. Default: 401 {"msg":"<reason>"}, e.g.
	// "Missing Authorization Header", with WWW-Authenticate: Bearer.
	OnMissingToken *Response `json:"on_missing_token,omitempty"`
	// When the token is malformed, badly signed, or fails a claim check.
	// Default: 401 {"msg":"<reason>"}, e.g. "Signature verification
	// failed", with WWW-Authenticate: Bearer error="invalid_token".
	OnInvalidToken *Response `json:"on_invalid_token,omitempty"`
	// When the token's exp has passed (with the leeway). Default: 401
	// {"msg":"Token has expired"}. {jwt.identity} and {jwt.claims.*} are
	// set: the signature was good.
	OnExpiredToken *Response `json:"on_expired_token,omitempty"`
	// When the store has no user for the identity (flask-jwt-extended's
	// user_lookup_error_loader). Default: 401 {"msg":"Error loading the
	// user <identity>"}.
	OnLoadFailure *Response `json:"on_load_failure,omitempty"`
	// When the store fails with no usable stale copy, or the key source has
	// no keys yet. Default: 503 {"msg":"User store unavailable"} or
	// {"msg":"Signing keys unavailable"}.
	OnStoreError *Response `json:"on_store_error,omitempty"`

	// When the token is revoked: its jti is in the revoked_tokens file or
	// was posted to the admin API (flask-jwt-extended's
	// revoked_token_loader). Default: 401 {"msg":"Token has been revoked"},
	// with WWW-Authenticate: Bearer error="invalid_token". {jwt.identity}
	// and {jwt.claims.*} are set: the signature was good.
	OnRevokedToken *Response `json:"on_revoked_token,omitempty"`

	// When require_fresh is set and the token is not fresh. Default: 401
	// {"msg":"Fresh token required"}, with WWW-Authenticate: Bearer
	// error="invalid_token". {jwt.identity} and {jwt.claims.*} are set.
	OnFreshRequired *Response `json:"on_fresh_required,omitempty"`

	// When the CSRF check fails (see CSRF): Default: 401 {"msg":"Missing
	// CSRF token"} or {"msg":"CSRF double submit tokens do not match"},
	// with WWW-Authenticate: Bearer error="invalid_token".
	OnCSRFFailure *Response `json:"on_csrf_failure,omitempty"`

	// strip is StripHeaders in canonical form, deleted per request.
	strip     []string
	extractor *extractor
	verifier  *verifier  // nil with issuer blocks
	issuers   *issuerSet // nil without
	// store answers ServeHTTP: the in-memory store itself, or the caching
	// layer in front of a remote one (then also kept in cache).
	store       Store
	cache       *cachedStore
	file        *UsersFile // the store, when it is the users file
	responses   [numFailureKinds]*response
	revocations revocationCheck
	userChecks  *userChecks // nil when no check compares with the user
	csrf        *csrfCheck  // nil when off
	logger      *zap.Logger
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

// ServeHTTP runs one request, in the contract's order: strip_headers →
// extract → CSRF header → verify → identity → CSRF claim → revoked →
// fresh → load → placeholders → next
// handler. The first failure answers and stops the request; nothing refused
// reaches the next handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	st := attachState(r, repl)

	// Client-sent fields the configuration reserves for the user, whatever
	// comes of the request.
	for _, name := range h.strip {
		delete(r.Header, name)
	}

	// CORS pre-flight requests carry no credentials.
	if r.Method == http.MethodOptions {
		return next.ServeHTTP(w, r) // no user: every jwt.* placeholder is known and empty
	}

	// Extract.
	raw, src, f := h.extractor.extractFrom(r)
	if f != nil {
		if f.kind == missingToken && h.Optional {
			requestsBy[outcomeAnonymous].Inc()
			return next.ServeHTTP(w, r) // no user: every jwt.* placeholder is known and empty
		}
		return h.refuse(w, r, repl, st, f)
	}

	// CSRF, for a cookie's token: the header first, as flask-jwt-extended.
	csrfSent := ""
	if h.csrf.applies(r, src) {
		if csrfSent, f = h.csrf.headerValue(r); f != nil {
			return h.refuse(w, r, repl, st, f)
		}
	}

	// Verify, identity included.
	var tok *token
	if h.issuers == nil {
		tok, f = h.verifier.verify(raw, h.now())
	} else {
		tok, f, _ = h.issuers.verify(raw, h.now())
	}
	st.tok = tok // a good or an expired token only: its claims may be shown
	if f != nil {
		return h.refuse(w, r, repl, st, f)
	}

	// CSRF: the verified token's csrf claim must equal the header.
	if csrfSent != "" {
		if f := h.csrf.compare(tok, csrfSent); f != nil {
			return h.refuse(w, r, repl, st, f)
		}
	}

	// Revoked: before the store is asked, as flask-jwt-extended checks
	// its blocklist before loading the user.
	if h.revocations.revoked(tok, h.now) {
		return h.refuse(w, r, repl, st, errRevoked)
	}

	// Fresh: after revocation, before the load, as flask-jwt-extended.
	if h.RequireFresh && !isFresh(tok, h.now()) {
		return h.refuse(w, r, repl, st, errNotFresh)
	}

	// Load. The users file is asked with the token itself, so that a
	// token whose memo holds its user from the file's current load needs
	// no lookup (UsersFile.loadUser).
	var user User
	var err error
	if h.file != nil {
		user, st.load, err = h.file.loadUser(tok)
	} else {
		user, err = h.store.LoadUser(r.Context(), Token{tok})
	}
	if err == nil && !user.hasText() {
		err = checkUser(&user)
	}
	switch {
	case errors.Is(err, ErrUserNotFound):
		return h.refuse(w, r, repl, st, &failure{kind: loadFailure, reason: "Error loading the user " + tok.identity})
	case err != nil:
		return h.refuse(w, r, repl, st, errStoreUnavailable)
	}

	// The checks that compare the token with the user.
	if h.userChecks != nil {
		if f := h.userChecks.check(tok, user.text); f != nil {
			return h.refuse(w, r, repl, st, f)
		}
	}

	// Placeholders: from here {jwt.user.*} and {http.auth.user.id} resolve.
	st.user = user.text
	requestsBy[outcomeOK].Inc()
	if c := h.logger.Check(zap.DebugLevel, "user loaded"); c != nil {
		c.Write(zap.String("identity", tok.identity))
	}
	return next.ServeHTTP(w, r)
}

// refuse answers with the response configured for f.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, st *requestState, f *failure) error {
	st.reason = f.reason
	o := outcomeOf[f.kind]
	if f.outcome != outcomeOK {
		o = f.outcome
	}
	requestsBy[o].Inc()
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
