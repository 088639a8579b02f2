package jwtuser

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func init() {
	caddy.RegisterModule(Discovery{})
}

const (
	// minMaxAge and maxMaxAge bound the Cache-Control max-age honoured on
	// the discovery document and its JWK Set.
	minMaxAge         = time.Minute
	maxMaxAge         = 24 * time.Hour
	discoveryMaxBody  = 1 << 20
	discoveryWellKnow = "/.well-known/openid-configuration"
)

// Discovery is the key source http.jwt_user.keys.discovery: the keys of an
// OpenID provider found by OpenID Connect Discovery. It fetches
// <issuer>/.well-known/openid-configuration, requires the document's
// "issuer" to equal Issuer exactly (a trailing slash counts), and serves
// the JWK Set its jwks_uri names exactly as the jwks source does (kid
// choice, unknown-kid refetch at most once every 30s, last good set kept,
// sets shared across reloads).
//
// The document is fetched at load (a failure there is logged and retried
// every 30s, or every Refresh when shorter; never fatal) and again every
// Refresh. Until a document and
// its set are in, and whenever the last document named another issuer or
// had no jwks_uri, the source has no keys: tokens get the store-error
// response "Signing keys unavailable" (503), never a pass, and the log says
// why, once per change. A document that cannot be fetched keeps the last
// good one. A Cache-Control max-age on the document or on the set replaces
// Refresh for it, bounded to 1m..24h.
//
// Caddyfile: `discovery [<refresh-interval>]` in an issuer block (the
// block's issuer), or `keys discovery <issuer> [<refresh-interval>]`.
type Discovery struct {
	// The issuer, an http or https URL; its document is at
	// <issuer>/.well-known/openid-configuration (a trailing slash is not
	// doubled). Global placeholders are resolved at load; any other is
	// refused. In an issuer block it may be left out (the block's issuer)
	// and must otherwise equal the block's issuer (refused at load).
	// Required elsewhere.
	Issuer string `json:"issuer,omitempty"`
	// How often the document and the set are fetched again when they carry
	// no max-age. Default: 10m; refused below 1s.
	Refresh caddy.Duration `json:"refresh,omitempty"`

	issuer string // resolved
	src    *discovered
	ref    poolRef
}

// CaddyModule returns the Caddy module information.
func (Discovery) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.keys.discovery",
		New: func() caddy.Module { return new(Discovery) },
	}
}

// Provision takes the provider's state from keySetPool, starting it when
// no configuration holds it yet.
func (d *Discovery) Provision(ctx caddy.Context) error {
	if d.Issuer == "" {
		return errors.New("discovery: give the issuer (in an issuer block it is the block's)")
	}
	iss, refresh, err := fetchSettings("discovery", d.Issuer, d.Refresh)
	if err != nil {
		return err
	}
	logger := ctx.Logger()
	v, err := d.ref.take(keySetPool, fmt.Sprintf("discovery:%s|%v", iss, refresh), func() (caddy.Destructor, error) {
		p := newDiscovered(iss, refresh, logger)
		p.start()
		return p, nil
	})
	if err != nil {
		return fmt.Errorf("discovery: %v", err)
	}
	d.issuer, d.src = iss, v.(*discovered)
	return nil
}

// Cleanup lets go of the provider's state.
func (d *Discovery) Cleanup() error { return d.ref.release() }

// Algorithms lists the asymmetric algs, as the jwks source.
func (d *Discovery) Algorithms() []string { return asymmetricAlgs }

// Keys picks the keys for a token from the current set; ErrKeysUnavailable
// while there is no usable document or set.
func (d *Discovery) Keys(alg, kid string) ([]any, error) {
	ks := d.src.set.Load()
	if ks == nil {
		return nil, ErrKeysUnavailable
	}
	return ks.keys(alg, kid)
}

// Generation changes when the set does, or when another set replaces it.
func (d *Discovery) Generation() uint64 {
	g := d.src.epoch.Load() << 40
	if ks := d.src.set.Load(); ks != nil {
		g += ks.gen.Load()
	}
	return g
}

// configuredIssuer is the issuer the source was configured with, resolved.
func (d *Discovery) configuredIssuer() string { return d.issuer }

// withDiscoveryIssuer gives a discovery key source without an issuer the
// block's; any other key source comes back as it is.
func withDiscoveryIssuer(raw json.RawMessage, issuer string) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m["source"] != "discovery" || m["issuer"] != nil && m["issuer"] != "" {
		return raw
	}
	m["issuer"] = issuer
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// UnmarshalCaddyfile reads `discovery <issuer> [<refresh-interval>]`; in an
// issuer block the issuer is the block's and is left out.
func (d *Discovery) UnmarshalCaddyfile(disp *caddyfile.Dispenser) error {
	name, args, err := guestArgs(disp, 0, 2)
	if err != nil {
		return err
	}
	if len(args) > 0 && strings.Contains(args[0], "://") {
		d.Issuer, args = args[0], args[1:]
	}
	if len(args) > 1 {
		return disp.ArgErr()
	}
	if len(args) == 1 {
		dur, err := caddy.ParseDuration(args[0])
		if err != nil {
			return disp.Errf("%s: %q is not a refresh interval", name, args[0])
		}
		d.Refresh = caddy.Duration(dur)
	}
	return nil
}

// Interface guards
var (
	_ KeySource             = (*Discovery)(nil)
	_ caddy.Provisioner     = (*Discovery)(nil)
	_ caddy.CleanerUpper    = (*Discovery)(nil)
	_ caddyfile.Unmarshaler = (*Discovery)(nil)
)
