package jwtuser

import (
	"fmt"
	"net/url"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(JWKS{})
}

// JWKS is the key source http.jwt_user.keys.jwks: a JWK Set (RFC 7517)
// fetched from a URL and kept fresh, as identity providers publish their
// keys. It serves RS*, PS*, ES*, EdDSA and Ed25519 (RFC 9864's name for
// EdDSA with an Ed25519 key: a key with either alg serves both); keys are chosen by kid, a token
// without kid is tried against every key of its alg, a key without alg
// serves the algs of its type, and keys with use "enc" are ignored.
//
// The set is fetched at load (a failure there is logged and retried, not
// fatal; until a first set arrives, tokens get the store-error response
// "Signing keys unavailable"), refreshed every Refresh, and fetched again
// at once when a token names an unknown kid, at most once every 30s. A
// leading byte order mark is skipped. A failed or malformed fetch keeps the
// last good set. Configurations with
// the same URL and interval share one set, so a caddy reload neither
// refetches nor waits.
//
// Caddyfile: `jwks <url> [<refresh-interval>]` in jwt_user, or
// `keys jwks <url> [<refresh-interval>]`.
type JWKS struct {
	// The JWK Set's http or https URL, e.g. an OpenID provider's jwks_uri.
	// Global placeholders are resolved at load; any other is refused. The
	// set is never fetched from a URL a token names (jku, x5u).
	URL string `json:"url"`
	// How often the set is fetched again. Default: 10m; refused below 1s.
	Refresh caddy.Duration `json:"refresh,omitempty"`

	set *keySet
	ref poolRef
}

// CaddyModule returns the Caddy module information.
func (JWKS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.keys.jwks",
		New: func() caddy.Module { return new(JWKS) },
	}
}

// Provision takes the set from keySetPool, fetching it when no
// configuration holds it yet.
func (j *JWKS) Provision(ctx caddy.Context) error {
	u, refresh, err := fetchSettings("jwks", j.URL, j.Refresh)
	if err != nil {
		return err
	}
	if j.set, err = takeKeySet(&j.ref, u, refresh, false, ctx.Logger()); err != nil {
		return fmt.Errorf("jwks: %v", err)
	}
	return nil
}

// fetchSettings resolves a fetched document's URL (refused: not http or
// https, a per-request placeholder) and its refresh interval (default 10m,
// refused below 1s), for the setting named field.
func fetchSettings(field, rawURL string, refresh caddy.Duration) (string, time.Duration, error) {
	u, err := resolveAtLoad(field, rawURL)
	if err != nil {
		return "", 0, err
	}
	if !isHTTPURL(u) {
		return "", 0, fmt.Errorf("%s: %q is not an http or https URL", field, u)
	}
	every := time.Duration(refresh)
	if every == 0 {
		every = defaultJWKSRefresh
	}
	if every < time.Second {
		return "", 0, fmt.Errorf("%s: the refresh interval must be at least 1s", field)
	}
	return u, every, nil
}

// isHTTPURL tells an absolute http or https URL with a host.
func isHTTPURL(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && (parsed.Scheme == "https" || parsed.Scheme == "http") && parsed.Host != ""
}

// takeKeySet takes the set of u from keySetPool, starting it when no
// configuration holds it yet. honourMaxAge sets the refresh interval from
// the answers' Cache-Control max-age (see clampMaxAge).
func takeKeySet(ref *poolRef, u string, refresh time.Duration, honourMaxAge bool, logger *zap.Logger) (*keySet, error) {
	key := fmt.Sprintf("jwks:%s|%v", u, refresh)
	if honourMaxAge {
		key = "max-age " + key
	}
	v, err := ref.take(keySetPool, key, func() (caddy.Destructor, error) {
		ks := newKeySet(u, refresh, logger)
		ks.honourMaxAge = honourMaxAge
		ks.start()
		return ks, nil
	})
	if err != nil {
		return nil, err
	}
	ks := v.(*keySet)
	ks.setLogger(logger)
	return ks, nil
}

// Cleanup lets go of the set; the last configuration using it stops its
// fetches.
func (j *JWKS) Cleanup() error { return j.ref.release() }

// Algorithms lists the asymmetric algs: a JWK Set never serves HMAC.
func (j *JWKS) Algorithms() []string { return asymmetricAlgs }

// Keys picks the keys for a token; an unknown kid triggers a guarded
// refetch, waited for. ErrKeysUnavailable until a first set is fetched.
func (j *JWKS) Keys(alg, kid string) ([]any, error) { return j.set.keys(alg, kid) }

// Generation counts changes of the set.
func (j *JWKS) Generation() uint64 { return j.set.gen.Load() }

// UnmarshalCaddyfile reads `jwks <url> [<refresh-interval>]`.
func (j *JWKS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	name, args, err := guestArgs(d, 1, 2)
	if err != nil {
		return err
	}
	j.URL = args[0]
	if len(args) == 2 {
		dur, err := caddy.ParseDuration(args[1])
		if err != nil {
			return d.Errf("%s: %q is not a refresh interval", name, args[1])
		}
		j.Refresh = caddy.Duration(dur)
	}
	return nil
}

// Interface guards
var (
	_ KeySource             = (*JWKS)(nil)
	_ caddy.Provisioner     = (*JWKS)(nil)
	_ caddy.CleanerUpper    = (*JWKS)(nil)
	_ caddyfile.Unmarshaler = (*JWKS)(nil)
)
