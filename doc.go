// Package jwtuser is a Caddy HTTP handler that verifies a request's JWT, loads
// the user the token names and exposes both as placeholders.
//
// A request's data goes one way, read top to bottom in Handler.ServeHTTP:
// extract (extract.go, extract_json.go) → the CSRF header of a cookie's
// token (csrf.go) → verify, identity and token type included (verify.go,
// tokentype.go) → its csrf claim → revoked (revocation.go) → fresh
// (fresh.go) → load (the Store, behind the caching layer of store_cache.go
// unless it is in memory) → the checks against the user (userchecks.go) →
// placeholders (placeholders.go) → the next handler; the first failure
// answers with its response (failure.go, responses.go).
//
// The parts are guest modules behind small public interfaces: key sources
// (KeySource) in http.jwt_user.keys — secret, public_key, jwks, discovery
// (keys_discovery.go) — and stores
// (Store) in http.jwt_user.stores — file, http, sql — and shared caches
// (SharedCache) in http.jwt_user.shared_caches — redis, a second cache level
// between the caching layer and the store, shared by Caddy instances
// (shared_cache.go, shared_cache_redis.go). A third party adds one by
// registering a module there. Everything a request could pay for that does
// not depend on the request is done once, in Provision (provision.go).
//
// JSON is read two ways. At the edges — the configuration, JWK Sets, the
// admin API, the command line — with encoding/json, where convenience
// matters and inputs are small or trusted. On the request path — token
// headers and payloads, users from a store or the users file, the
// placeholders read from them — with internal/rawjson, which keeps each as
// its checked JSON text and reads it in place without allocating, and which
// refuses what encoding/json lets pass (duplicate member names, invalid
// UTF-8, deep nesting). There only a rawjson.Text, made by rawjson.Check or
// by the readers of a Text, is ever read; see internal/rawjson's package
// documentation for why.
package jwtuser
