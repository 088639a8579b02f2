package jwtuser

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// IssuerBlock is one identity provider of a handler that accepts several
// (the handler's "issuers" list; Caddyfile `issuer <iss> { ... }`). A
// token's iss claim, read before its signature is checked and used only to
// pick the block, must equal one block's Issuer exactly (a trailing slash
// counts); the signature and every check then run with that block's
// settings alone, as if the handler were configured with them. A token
// whose iss names no block (or that has no string iss) is an invalid
// token: "Invalid issuer".
//
// The handler-wide settings that are not token checks (from, max_token_size,
// token_type, the store, the responses, ...) apply to every block. Each
// block has its own verified-token cache, sized by the block's token_cache
// or else the handler's. Refused at load: an empty or repeated Issuer, a
// block without a key source, and a handler that has blocks and also a
// top-level key source, algorithms, issuer, audience, leeway,
// require_claims, identity_claim or a claim rule other than a
// {jwt.user.*} one (those belong in each block).
type IssuerBlock struct {
	// The issuer, compared with the token's iss exactly. Global
	// placeholders are resolved at load; any other is refused. Required.
	Issuer string `json:"issuer"`
	// The block's key source: a guest module in http.jwt_user.keys
	// (discovery, secret, public_key, jwks, or a third party's), named by
	// its "source" field; a discovery source without an issuer takes the
	// block's. Required.
	KeysRaw json.RawMessage `json:"keys,omitempty" caddy:"namespace=http.jwt_user.keys inline_key=source"`
	// As the handler's algorithms, for this block's tokens.
	Algorithms []string `json:"algorithms,omitempty"`
	// As the handler's audience, for this block's tokens.
	Audiences []string `json:"audience,omitempty"`
	// As the handler's leeway, for this block's tokens. Default: 0.
	Leeway caddy.Duration `json:"leeway,omitempty"`
	// As the handler's require_claims, for this block's tokens.
	RequireClaims []string `json:"require_claims,omitempty"`
	// As the handler's claims, for this block's tokens. Refused at load: a
	// {jwt.user.*} value (compare the user at the top level instead).
	Claims map[string][]string `json:"claims,omitempty"`
	// As the handler's identity_claim, for this block's tokens. Default:
	// sub.
	IdentityClaim string `json:"identity_claim,omitempty"`
	// This block's verified-token cache size. Default: the handler's
	// token_cache, else 10000 entries and 16MiB.
	TokenCache *TokenCache `json:"token_cache,omitempty"`
}

// issuerSet picks a token's block by its iss and verifies it there.
type issuerSet struct {
	byIssuer map[string]*verifier
	first    *verifier // answers for a token too malformed to name an iss
	maxSize  int
}

// provisionIssuers builds one verifier per block with newVerifier, from the
// handler's settings overlaid with the block's. top is the handler with its
// global placeholders resolved.
func (h *Handler) provisionIssuers(ctx caddy.Context, top *Handler) error {
	if err := top.checkNoTopLevelChecks(); err != nil {
		return err
	}
	set := &issuerSet{byIssuer: map[string]*verifier{}}
	for i, blk := range h.IssuerBlocks {
		if blk == nil {
			return fmt.Errorf("issuers[%d]: empty", i)
		}
		cfg := *h
		cfg.IssuerBlocks = nil
		cfg.Algorithms, cfg.Audiences, cfg.Leeway = blk.Algorithms, blk.Audiences, blk.Leeway
		cfg.RequireClaims, cfg.Claims, cfg.IdentityClaim = blk.RequireClaims, blk.Claims, blk.IdentityClaim
		cfg.Issuers = []string{blk.Issuer}
		if blk.TokenCache != nil {
			cfg.TokenCache = blk.TokenCache
		}
		resolved, err := cfg.resolvedChecks()
		if err != nil {
			return fmt.Errorf("issuer %s: %v", blk.Issuer, err)
		}
		iss := resolved.Issuers[0]
		switch {
		case iss == "" || strings.ContainsRune(iss, 0):
			return fmt.Errorf("issuers[%d]: the issuer is empty or holds a NUL", i)
		case set.byIssuer[iss] != nil:
			return fmt.Errorf("issuer %s: given more than once", iss)
		case blk.KeysRaw == nil:
			return fmt.Errorf("issuer %s: no key source: give secret, public_key or jwks (or keys <module>)", iss)
		}
		for _, values := range resolved.Claims {
			if hasUserValue(values) {
				return fmt.Errorf("issuer %s: a claim compared with {jwt.user.*} belongs at the top level, not in an issuer block", iss)
			}
		}
		blk.KeysRaw = withDiscoveryIssuer(blk.KeysRaw, blk.Issuer)
		mod, err := ctx.LoadModule(blk, "KeysRaw")
		if err != nil {
			return fmt.Errorf("issuer %s: loading the key source: %v", iss, err)
		}
		if d, ok := mod.(interface{ configuredIssuer() string }); ok && d.configuredIssuer() != iss {
			return fmt.Errorf("issuer %s: its discovery names another issuer, %s", iss, d.configuredIssuer())
		}
		v, err := resolved.newVerifier(mod.(KeySource))
		if err != nil {
			return fmt.Errorf("issuer %s: %v", iss, err)
		}
		v.fromBlock = true
		if v.cache != nil {
			v.cache.issuer = iss
		}
		set.byIssuer[iss] = v
		if set.first == nil {
			set.first, set.maxSize = v, v.maxSize
		}
	}
	h.issuers = set
	return nil
}

// checkNoTopLevelChecks refuses, next to issuer blocks, the settings each
// block has its own of.
func (h *Handler) checkNoTopLevelChecks() error {
	var named []string
	if h.KeysRaw != nil {
		named = append(named, "a key source")
	}
	for name, set := range map[string]bool{
		"algorithms": len(h.Algorithms) > 0, "issuer": len(h.Issuers) > 0,
		"audience": len(h.Audiences) > 0, "leeway": h.Leeway != 0,
		"require_claims": len(h.RequireClaims) > 0, "identity_claim": h.IdentityClaim != "",
	} {
		if set {
			named = append(named, name)
		}
	}
	for name, values := range h.Claims {
		if !hasUserValue(values) {
			named = append(named, "claim "+name)
		}
	}
	if len(named) == 0 {
		return nil
	}
	slices.Sort(named)
	return fmt.Errorf("issuer blocks: %s given at the top level; with issuer blocks, give it in each block", strings.Join(named, ", "))
}

// verify reads the token's iss without trusting it, only to pick the
// block, and verifies the token with that block's verifier alone. It
// returns the block's issuer with the answer ("" when no block took it).
func (s *issuerSet) verify(raw string, now time.Time) (*token, *failure, string) {
	iss, ok := s.peekIssuer(raw)
	if !ok {
		// Too malformed to name an iss: the first block's checks give the
		// same reason a single-issuer handler would.
		_, f := s.first.verify(raw, now)
		if f == nil {
			return nil, errInvalidIssuer, ""
		}
		return nil, f, ""
	}
	v := s.byIssuer[iss]
	if v == nil {
		return nil, errInvalidIssuer, ""
	}
	tok, f := v.verify(raw, now)
	return tok, f, iss
}

// peekIssuer reads the payload's iss claim of a well-formed token, without
// verifying anything else. Not ok: the token is malformed; a token without
// a string iss comes back ok with "".
func (s *issuerSet) peekIssuer(raw string) (string, bool) {
	if len(raw) > s.maxSize {
		return "", false
	}
	first, last := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.')
	if first < 0 || first == last {
		return "", false
	}
	payloadJSON, ok := decodeSegment(raw[first+1 : last])
	if !ok {
		return "", false
	}
	payload, err := rawjson.Check(payloadJSON)
	if err != nil || payload.Kind() != '{' {
		return "", false
	}
	iss, ok := payload.Member("iss")
	if !ok || iss.Kind() != '"' {
		return "", true
	}
	return iss.Unquote(), true
}

// parseIssuerBlock reads `issuer <iss> { ... }`: the key source and the
// token checks, each as at the top level.
func (h *Handler) parseIssuerBlock(d *caddyfile.Dispenser, args []string) error {
	if len(args) != 1 {
		return d.Errf("issuer: a block names exactly one issuer")
	}
	var b Handler
	seen := map[string]bool{}
	nesting := d.Nesting() - 1
	for ok := true; ok; ok = d.NextBlock(nesting) {
		sub := d.Val()
		if !inIssuerBlock[sub] {
			return d.Errf("issuer %s: %q is not allowed in an issuer block", args[0], sub)
		}
		if seen[sub] && !repeatable[sub] && !isGuest[sub] {
			return d.Errf("issuer %s: %s: given more than once", args[0], sub)
		}
		seen[sub] = true
		if err := b.parseSubdirective(d, sub); err != nil {
			return err
		}
	}
	h.IssuerBlocks = append(h.IssuerBlocks, &IssuerBlock{
		Issuer: args[0], KeysRaw: b.KeysRaw, Algorithms: b.Algorithms, Audiences: b.Audiences,
		Leeway: b.Leeway, RequireClaims: b.RequireClaims, Claims: b.Claims, IdentityClaim: b.IdentityClaim,
		TokenCache: b.TokenCache,
	})
	return nil
}

// inIssuerBlock are the subdirectives an issuer block takes.
var inIssuerBlock = map[string]bool{
	"discovery": true, "secret": true, "public_key": true, "jwks": true, "keys": true,
	"algorithms": true, "audience": true, "leeway": true, "require_claims": true,
	"claim": true, "identity_claim": true, "token_cache": true,
}

// verifyWithIssuer verifies raw as ServeHTTP does, also naming the issuer
// block that took it ("" without blocks or when none did).
func (h *Handler) verifyWithIssuer(raw string, now time.Time) (*token, *failure, string) {
	if h.issuers == nil {
		tok, f := h.verifier.verify(raw, now)
		return tok, f, ""
	}
	return h.issuers.verify(raw, now)
}

// describe names, for the command line, the block that took raw (iss), or
// why none did.
func (s *issuerSet) describe(raw, iss string) string {
	if iss != "" {
		return iss
	}
	named, ok := s.peekIssuer(raw)
	switch {
	case !ok:
		return "none (the token is malformed)"
	case named == "":
		return "none (the token has no iss, or one that is not a string)"
	}
	return fmt.Sprintf("none (the token's iss %q is not one of: %s)", named, strings.Join(slices.Sorted(maps.Keys(s.byIssuer)), ", "))
}
