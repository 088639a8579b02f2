package jwtuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
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
// with backoff, not fatal) and again every Refresh. Until a document and
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

// discovered keeps a provider's document fresh and holds the key set its
// jwks_uri names (from keySetPool, with max-age honoured).
type discovered struct {
	issuer  string
	refresh time.Duration
	client  *http.Client
	logger  *zap.Logger

	set   atomic.Pointer[keySet] // nil: no usable document or set
	epoch atomic.Uint64          // counts replacements of set

	mu      sync.Mutex
	setRef  poolRef
	setURL  string
	problem string // the last reason logged, so each is logged once

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newDiscovered(issuer string, refresh time.Duration, logger *zap.Logger) *discovered {
	p := &discovered{issuer: issuer, refresh: refresh, client: &http.Client{Timeout: jwksFetchTimeout},
		logger: logger, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// start fetches the document once, waiting for it and for its set, then
// keeps both fresh in the background.
func (p *discovered) start() {
	wait := p.update()
	go p.run(wait)
}

// run fetches the document again after each wait until Destruct.
func (p *discovered) run(wait time.Duration) {
	defer close(p.done)
	for {
		timer := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		wait = p.update()
	}
}

// update fetches the document and installs its set; it returns how long to
// wait before the next fetch.
func (p *discovered) update() time.Duration {
	jwksURI, maxAge, err := p.fetchDocument()
	var mismatch *issuerMismatch
	switch {
	case errors.As(err, &mismatch):
		// Fail closed: a document naming another issuer makes the source
		// unusable, whatever came before.
		p.report(err.Error())
		p.install("")
		return p.refresh
	case err != nil:
		p.report("the discovery document could not be fetched: " + err.Error())
		return min(30*time.Second, p.refresh) // the last good document stays
	}
	if err := p.install(jwksURI); err != nil {
		p.report(err.Error())
		return p.refresh
	}
	p.report("")
	if maxAge > 0 {
		return clampMaxAge(maxAge)
	}
	return p.refresh
}

// issuerMismatch is a document that names another issuer.
type issuerMismatch struct{ configured, named string }

func (e *issuerMismatch) Error() string {
	return fmt.Sprintf("the discovery document names the issuer %q, not the configured %q (they must be equal exactly, trailing slash included); the issuer's tokens get 503 until it does", e.named, e.configured)
}

// fetchDocument reads the document, checking its issuer.
func (p *discovered) fetchDocument() (jwksURI string, maxAge time.Duration, err error) {
	ctx, cancel := context.WithTimeout(p.ctx, jwksFetchTimeout)
	defer cancel()
	docURL := strings.TrimSuffix(p.issuer, "/") + discoveryWellKnow
	ans, err := boundedGet(ctx, p.client, docURL, discoveryRequestHeader, discoveryMaxBody)
	switch {
	case err != nil:
		return "", 0, err
	case ans.status != http.StatusOK:
		return "", 0, fmt.Errorf("status %d", ans.status)
	}
	var doc struct {
		Issuer  *string `json:"issuer"`
		JWKSURI string  `json:"jwks_uri"`
	}
	if err := json.Unmarshal(ans.body, &doc); err != nil {
		return "", 0, fmt.Errorf("not a discovery document: %v", err)
	}
	if doc.Issuer == nil || *doc.Issuer != p.issuer {
		named := ""
		if doc.Issuer != nil {
			named = *doc.Issuer
		}
		return "", 0, &issuerMismatch{configured: p.issuer, named: named}
	}
	if !isHTTPURL(doc.JWKSURI) {
		return "", 0, &issuerMismatch{configured: p.issuer, named: *doc.Issuer + ` with no usable jwks_uri`}
	}
	return doc.JWKSURI, maxAgeOf(ans.header), nil
}

var discoveryRequestHeader = http.Header{"Accept": {"application/json"}}

// install makes the set of jwksURI the current one ("" for none), letting
// go of the one it replaces.
func (p *discovered) install(jwksURI string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if jwksURI == p.setURL {
		return nil
	}
	var ref poolRef
	var ks *keySet
	if jwksURI != "" {
		var err error
		if ks, err = takeKeySet(&ref, jwksURI, p.refresh, true, p.logger); err != nil {
			return fmt.Errorf("the JWK Set %s: %v", jwksURI, err)
		}
	}
	p.set.Store(ks)
	p.epoch.Add(1)
	old := p.setRef
	p.setRef, p.setURL = ref, jwksURI
	_ = old.release()
	return nil
}

// report logs problem when it differs from the last one; "" is all well.
func (p *discovered) report(problem string) {
	p.mu.Lock()
	changed := problem != p.problem
	p.problem = problem
	p.mu.Unlock()
	switch {
	case !changed:
	case problem == "":
		p.logger.Info("OpenID discovery document loaded", zap.String("issuer", p.issuer))
	default:
		p.logger.Error("OpenID discovery: "+problem, zap.String("issuer", p.issuer))
	}
}

// Destruct stops the refresh and lets go of the set.
func (p *discovered) Destruct() error {
	p.cancel()
	<-p.done
	p.client.CloseIdleConnections()
	return p.install("")
}

// maxAgeOf is an answer's Cache-Control max-age; 0 when it has none.
func maxAgeOf(h http.Header) time.Duration {
	if ma, _ := parseCacheControl(h.Values("Cache-Control")); ma > 0 {
		return ma
	}
	return 0
}

// clampMaxAge bounds a max-age to 1m..24h.
func clampMaxAge(d time.Duration) time.Duration { return min(max(d, minMaxAge), maxMaxAge) }

// Interface guards
var (
	_ KeySource             = (*Discovery)(nil)
	_ caddy.Provisioner     = (*Discovery)(nil)
	_ caddy.CleanerUpper    = (*Discovery)(nil)
	_ caddyfile.Unmarshaler = (*Discovery)(nil)
	_ caddy.Destructor      = (*discovered)(nil)
)
