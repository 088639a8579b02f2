package jwtuser

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("jwt_user", parseCaddyfile)
	// After basic_auth, like every authentication handler, so the handlers
	// that follow see the user.
	httpcaddyfile.RegisterDirectiveOrder("jwt_user", httpcaddyfile.After, "basic_auth")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var handler Handler
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return &handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	jwt_user [<matcher>] {
//		from header <field> [<scheme>]
//		from cookie <name>
//		from query <name>
//		from json [<key>]
//		max_body <bytes>
//		secret <value>
//		public_key <pem-file>
//		jwks <url> [<refresh-interval>]
//		discovery <issuer> [<refresh-interval>]
//		keys <module> [<args...>] [{ ... }]
//		algorithms <alg...>
//		issuer <iss...>
//		issuer <iss> {
//			discovery [<refresh-interval>] | secret|public_key|jwks|keys ...
//			algorithms|audience|leeway|require_claims|claim|identity_claim ...
//			token_cache ...
//		}
//		audience <aud...>
//		leeway <duration>
//		require_claims <name...>
//		claim <name> <value...>
//		identity_claim <name>
//		max_token_size <bytes>
//		token_cache <entries> [<max_bytes>] | token_cache off
//		revoked_tokens file <path>
//		revoke_issued_before <{jwt.user.*}>
//		users_file <path> [<key-field>]
//		users_url <url-template> {
//			header <field> <value>
//			timeout <duration>
//			max_body <bytes>
//		}
//		users_sql <postgres|mysql|sqlite> <dsn> {
//			query <select>
//			timeout <duration>
//			max_open_conns <n>
//			notify <channel>
//		}
//		store <module> [<args...>] [{ ... }]
//		cache_ttl <duration>
//		cache_not_found_ttl <duration>
//		stale_if_error <duration>
//		cache_size <entries>
//		shared_cache <backend> [<args...>] [{ ... }]
//		token_type <access|refresh>
//		csrf on|off
//		csrf_methods <method...>
//		csrf_header <field>
//		require_fresh
//		optional
//		strip_headers <field...>
//		on_missing_token <status> [<body>] [{ header <field> <value> }]
//		on_invalid_token <status> [<body>] [{ header <field> <value> }]
//		on_expired_token <status> [<body>] [{ header <field> <value> }]
//		on_load_failure  <status> [<body>] [{ header <field> <value> }]
//		on_store_error   <status> [<body>] [{ header <field> <value> }]
//		on_revoked_token <status> [<body>] [{ header <field> <value> }]
//		on_fresh_required <status> [<body>] [{ header <field> <value> }]
//		on_csrf_failure <status> [<body>] [{ header <field> <value> }]
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		sub := d.Val()
		if seen[sub] && !repeatable[sub] && !isGuest[sub] {
			return d.Errf("%s: given more than once", sub)
		}
		seen[sub] = true
		if err := h.parseSubdirective(d, sub); err != nil {
			return err
		}
	}
	return nil
}

// parseSubdirective reads one subdirective of jwt_user, or of an issuer
// block (which admits only the key source and the token checks).
func (h *Handler) parseSubdirective(d *caddyfile.Dispenser, sub string) error {
	var err error
	switch sub {
	case "from":
		err = h.parseFrom(d)
	case "discovery", "secret", "public_key", "jwks", "keys":
		if h.KeysRaw != nil {
			return d.Errf("%s: a key source is already given: discovery, secret, public_key, jwks and keys name exactly one", sub)
		}
		h.KeysRaw, err = parseGuest(d, "http.jwt_user.keys", sub)
	case "algorithms":
		h.Algorithms, err = someArgs(d)
	case "issuer":
		var v []string
		if v, err = someArgs(d); err == nil && d.NextBlock(d.Nesting()) {
			return h.parseIssuerBlock(d, v)
		}
		h.Issuers = append(h.Issuers, v...)
	case "audience":
		var v []string
		v, err = someArgs(d)
		h.Audiences = append(h.Audiences, v...)
	case "leeway":
		var dur time.Duration
		dur, err = durationArg(d)
		h.Leeway = caddy.Duration(dur)
	case "require_claims":
		var v []string
		v, err = someArgs(d)
		h.RequireClaims = append(h.RequireClaims, v...)
	case "claim":
		err = h.parseClaim(d)
	case "identity_claim":
		h.IdentityClaim, err = oneArg(d)
	case "max_body":
		h.MaxBody, err = sizeArg(d)
	case "max_token_size":
		h.MaxTokenSize, err = sizeArg(d)
	case "token_cache":
		h.TokenCache, err = parseTokenCache(d)
	case "users_file", "users_url", "users_sql", "store":
		if h.StoreRaw != nil {
			return d.Errf("%s: a store is already given: users_file, users_url, users_sql and store name exactly one", sub)
		}
		h.StoreRaw, err = parseGuest(d, "http.jwt_user.stores", sub)
	case "cache_ttl", "cache_not_found_ttl":
		var dur time.Duration
		dur, err = durationArg(d)
		v := caddy.Duration(dur)
		if sub == "cache_ttl" {
			h.CacheTTL = &v
		} else {
			h.CacheNotFoundTTL = &v
		}
	case "stale_if_error":
		var dur time.Duration
		dur, err = durationArg(d)
		h.StaleIfError = caddy.Duration(dur)
	case "cache_size":
		var v string
		if v, err = oneArg(d); err == nil {
			if h.CacheSize, err = strconv.Atoi(v); err != nil {
				return d.Errf("cache_size: %q is not a number of entries", v)
			}
		}
	case "shared_cache":
		h.SharedCacheRaw, err = parseSharedCache(d)
	case "token_type":
		h.TokenType, err = oneArg(d)
	case "csrf":
		var v string
		if v, err = oneArg(d); err == nil {
			if v != "on" && v != "off" {
				return d.Errf("csrf: %q is neither on nor off", v)
			}
			on := v == "on"
			h.CSRF = &on
		}
	case "csrf_methods":
		h.CSRFMethods, err = someArgs(d)
	case "csrf_header":
		h.CSRFHeader, err = oneArg(d)
	case "require_fresh":
		if d.NextArg() {
			return d.ArgErr()
		}
		h.RequireFresh = true
	case "optional":
		if d.NextArg() {
			return d.ArgErr()
		}
		h.Optional = true
	case "strip_headers":
		var v []string
		v, err = someArgs(d)
		h.StripHeaders = append(h.StripHeaders, v...)
	case "revoke_issued_before":
		h.RevokeIssuedBefore, err = oneArg(d)
	case "revoked_tokens":
		h.RevokedTokens, err = parseRevokedTokensDirective(d)
	default:
		field := h.responseField(sub)
		if field == nil {
			return d.Errf("unknown subdirective %q", sub)
		}
		*field, err = parseResponse(d)
	}
	return err
}

// isGuest subdirectives name a guest module; a second one is refused with
// its own message.
var isGuest = map[string]bool{
	"discovery": true, "secret": true, "public_key": true, "jwks": true, "keys": true,
	"users_file": true, "users_url": true, "users_sql": true, "store": true,
}

// repeatable subdirectives add to what came before; any other may be given
// once.
var repeatable = map[string]bool{
	"from": true, "issuer": true, "audience": true, "require_claims": true, "claim": true,
	"strip_headers": true,
}

func (h *Handler) parseFrom(d *caddyfile.Dispenser) error {
	args := append(d.RemainingArgs(), "")
	if len(args) < 2 || args[1] == "" && args[0] != "json" {
		return d.ArgErr()
	}
	src := TokenSource{Source: args[0], Name: args[1]}
	args = args[:len(args)-1]
	switch args[0] {
	case "header":
		if len(args) > 3 {
			return d.ArgErr()
		}
		if len(args) == 3 {
			src.Scheme = &args[2]
		}
	case "cookie", "query":
		if len(args) != 2 {
			return d.ArgErr()
		}
	case "json":
		if len(args) > 2 {
			return d.ArgErr()
		}
	default:
		return d.Errf("from: unknown source %q (want header, cookie, query or json)", args[0])
	}
	h.From = append(h.From, src)
	return nil
}

func (h *Handler) parseClaim(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) < 2 {
		return d.ArgErr()
	}
	if h.Claims == nil {
		h.Claims = map[string][]string{}
	}
	h.Claims[args[0]] = append(h.Claims[args[0]], args[1:]...)
	return nil
}

// parseGuest reads a guest module of namespace from the Caddyfile through
// the module's own UnmarshalCaddyfile, so every guest, a third party's
// included, has Caddyfile syntax. The generic form `<kind> <name> [args]
// { ... }` (kind is keys or store) names the module; a shortcut
// (secret, public_key, jwks, users_file, users_url, users_sql) is its module's
// syntax under another name.
func parseGuest(d *caddyfile.Dispenser, namespace, sub string) (json.RawMessage, error) {
	name := shortcuts[sub]
	if sub == "keys" || sub == "store" {
		if !d.NextArg() {
			return nil, d.ArgErr()
		}
		name = d.Val()
	}
	unm, err := caddyfile.UnmarshalModule(d, namespace+"."+name)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(unm, "source", name, nil), nil
}

// parseSharedCache reads `shared_cache <backend> [<args...>] [{ ... }]`
// through the backend module's own UnmarshalCaddyfile.
func parseSharedCache(d *caddyfile.Dispenser) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	name := d.Val()
	unm, err := caddyfile.UnmarshalModule(d, "http.jwt_user.shared_caches."+name)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(unm, "backend", name, nil), nil
}

// shortcuts name the guest module each shortcut subdirective configures.
var shortcuts = map[string]string{
	"secret": "secret", "public_key": "public_key", "jwks": "jwks", "discovery": "discovery",
	"users_file": "file", "users_url": "http", "users_sql": "sql",
}

// parseResponse reads `<status> [<body>] [{ header <field> <value> }]`.
func parseResponse(d *caddyfile.Dispenser) (*Response, error) {
	name := d.Val()
	args := d.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return nil, d.ArgErr()
	}
	status, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, d.Errf("%s: status %q is not a number", name, args[0])
	}
	resp := &Response{StatusCode: status}
	if len(args) == 2 {
		resp.Body = &args[1]
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() != "header" {
			return nil, d.Errf("%s: unknown subdirective %q (want header)", name, d.Val())
		}
		hdr := d.RemainingArgs()
		if len(hdr) != 2 {
			return nil, d.ArgErr()
		}
		if resp.Headers == nil {
			resp.Headers = http.Header{}
		}
		resp.Headers.Add(hdr[0], hdr[1])
	}
	return resp, nil
}

// parseRevokedTokensDirective reads `revoked_tokens file <path>`.
func parseRevokedTokensDirective(d *caddyfile.Dispenser) (*RevokedTokens, error) {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return nil, d.ArgErr()
	}
	if args[0] != "file" {
		return nil, d.Errf("revoked_tokens: unknown source %q (want file)", args[0])
	}
	return &RevokedTokens{File: args[1]}, nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
