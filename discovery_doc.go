package jwtuser

// The discovery key source's state: the provider's document, kept fresh,
// and the JWK Set it names.

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
	"go.uber.org/zap"
)

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
	var unusable unusableDocument
	switch {
	case errors.As(err, &unusable):
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

// unusableDocument is a document that names another issuer, or no usable
// jwks_uri: the source has no keys while it stands.
type unusableDocument string

func (e unusableDocument) Error() string { return string(e) }

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
		return "", 0, unusableDocument(fmt.Sprintf("the discovery document names the issuer %q, not the configured %q (they must be equal exactly, trailing slash included); the issuer's tokens get 503 until it does", named, p.issuer))
	}
	if !isHTTPURL(doc.JWKSURI) {
		return "", 0, unusableDocument(fmt.Sprintf("the discovery document's jwks_uri %q is not an http or https URL; the issuer's tokens get 503 until it is", doc.JWKSURI))
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

// Interface guard
var _ caddy.Destructor = (*discovered)(nil)
