package jwtuser

import (
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// Placeholders in the configuration, and when each is resolved.
//
// Settings that fix how the module works (the key source's secret, a key
// or users file's path, a JWK Set's URL, the users_url template's literal
// parts and header fields, the token checks' names and values) are read
// once, when the configuration loads. There only Caddy's global
// placeholders have a value: {env.*}, {file.*}, {system.*}, {time.*}. A
// per-request one ({http.request.host}, {http.request.header.*}, {vars.*})
// has none yet, and used as it stands it would be a secret, a path or a
// header value of literal text; so every such setting goes through
// resolveAtLoad, which refuses it, naming the setting and the placeholder.
//
// Two kinds of setting are filled in per request instead, and say so in
// their own docs: the users_url template's {jwt.identity} and
// {jwt.claims.*} (urltemplate.go), and the failure responses' bodies and
// header values, which take any placeholder the request knows.

// resolveAtLoad resolves the global placeholders in value, a setting named
// field, and refuses any other placeholder. `\{` and `\}` stand for literal
// braces, as everywhere in Caddy.
func resolveAtLoad(field, value string) (string, error) {
	out, err := caddy.NewReplacer().ReplaceOrErr(value, false, true)
	if err != nil {
		// The error names the placeholder only: never the value, which may
		// be a secret.
		return "", fmt.Errorf("%s: %v: only global placeholders ({env.*}, {file.*}, {system.*}) are known when the configuration loads", field, err)
	}
	return out, nil
}

// resolvePathAtLoad is resolveAtLoad for a file's path, made absolute so
// two spellings of one file share one pool entry; empty is refused.
func resolvePathAtLoad(field, value string) (string, error) {
	path, err := resolveAtLoad(field, value)
	if err != nil {
		return "", err
	}
	if path == "" {
		return "", fmt.Errorf("%s: the path is empty", field)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}

// resolveAllAtLoad is resolveAtLoad for each value of a list.
func resolveAllAtLoad(field string, values []string) ([]string, error) {
	if values == nil {
		return nil, nil
	}
	out := make([]string, len(values))
	for i, v := range values {
		var err error
		if out[i], err = resolveAtLoad(field, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveHeaderAtLoad is resolveAtLoad for header fields, names and values.
func resolveHeaderAtLoad(field string, h http.Header) (http.Header, error) {
	out := http.Header{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		resolved, err := resolveAtLoad(field, name)
		if err != nil {
			return nil, err
		}
		values, err := resolveAllAtLoad(field+" "+name, h[name])
		if err != nil {
			return nil, err
		}
		for _, v := range values {
			out.Add(resolved, v)
		}
	}
	return out, nil
}

// stripList is strip_headers resolved and in canonical form, so a request
// deletes each with no allocation.
func stripList(fields []string) ([]string, error) {
	resolved, err := resolveAllAtLoad("strip_headers", fields)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resolved))
	for _, f := range resolved {
		if f == "" || strings.ContainsAny(f, " \t:") {
			return nil, fmt.Errorf("strip_headers: %q is not a header field name", f)
		}
		if name := http.CanonicalHeaderKey(f); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// resolvedChecks is a copy of h whose token-source and token-check
// settings have their global placeholders resolved: the configuration
// itself keeps them as written.
func (h *Handler) resolvedChecks() (*Handler, error) {
	c := *h
	var err error
	c.From = make([]TokenSource, len(h.From))
	for i, src := range h.From {
		c.From[i] = src
		if c.From[i].Name, err = resolveAtLoad("from "+src.Source, src.Name); err != nil {
			return nil, err
		}
		if src.Scheme != nil {
			scheme, err := resolveAtLoad("from "+src.Source, *src.Scheme)
			if err != nil {
				return nil, err
			}
			c.From[i].Scheme = &scheme
		}
	}
	lists := []struct {
		field string
		list  *[]string
	}{
		{"algorithms", &c.Algorithms}, {"issuer", &c.Issuers}, {"audience", &c.Audiences}, {"require_claims", &c.RequireClaims},
	}
	for _, l := range lists {
		if *l.list, err = resolveAllAtLoad(l.field, *l.list); err != nil {
			return nil, err
		}
	}
	if c.IdentityClaim, err = resolveAtLoad("identity_claim", h.IdentityClaim); err != nil {
		return nil, err
	}
	if h.Claims != nil {
		c.Claims = make(map[string][]string, len(h.Claims))
		for name, values := range h.Claims {
			resolved, err := resolveAtLoad("claim", name)
			if err != nil {
				return nil, err
			}
			// A whole {jwt.user.*} value is compared after the user loads.
			for _, v := range values {
				if _, ok := userPlaceholder(v); !ok {
					if v, err = resolveAtLoad("claim "+name, v); err != nil {
						return nil, err
					}
				}
				c.Claims[resolved] = append(c.Claims[resolved], v)
			}
		}
	}
	return &c, nil
}
