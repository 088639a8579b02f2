package jwtuser

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// urlTemplate is a users_url split at provision into literal text and the
// per-request {jwt.*} placeholders, each knowing whether it stands in the
// path or in the query.
type urlTemplate struct {
	parts  []urlPart
	origin string // scheme://host, for logs
	// identityOnly: the URL is a function of the identity alone.
	identityOnly bool
}

type urlPart struct {
	text  string // literal text
	key   string // a jwt.* placeholder; "" for literal text
	query bool   // the placeholder stands in the query
}

func parseURLTemplate(raw string) (urlTemplate, error) {
	if raw == "" {
		return urlTemplate{}, errors.New("the URL is empty")
	}
	var t urlTemplate
	repl := caddy.NewReplacer()
	inQuery := false
	for _, p := range parseTemplate(raw, false).parts {
		text := p.text
		if p.key != "" && !strings.HasPrefix(p.key, "jwt.") {
			v, known := repl.GetString(p.key)
			if !known {
				return urlTemplate{}, fmt.Errorf("unknown placeholder {%s}: use {jwt.identity}, {jwt.claims.*} or a global one such as {env.*}", p.key)
			}
			text, p.key = v, ""
		}
		if p.key == "" {
			if strings.Contains(text, "#") {
				return urlTemplate{}, errors.New("a URL fragment (#) is never sent; remove it")
			}
			t.parts = append(t.parts, urlPart{text: text})
			inQuery = inQuery || strings.Contains(text, "?")
			continue
		}
		if p.key != "jwt.identity" && !strings.HasPrefix(p.key, "jwt.claims.") {
			return urlTemplate{}, fmt.Errorf("{%s} is not known before the user is loaded: use {jwt.identity} or {jwt.claims.*}", p.key)
		}
		t.parts = append(t.parts, urlPart{key: p.key, query: inQuery})
	}
	// The placeholders must sit after the host: the identity picks a user,
	// never a server.
	probe := t.render(&token{identity: "jwtuserprobe", payload: noClaims})
	u, err := url.Parse(probe)
	if err != nil {
		return urlTemplate{}, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return urlTemplate{}, fmt.Errorf("%q is not an http or https URL", raw)
	}
	for _, p := range t.parts {
		if p.key != "" {
			if prefix := t.literalBefore(p); !strings.Contains(strings.TrimPrefix(prefix, u.Scheme+"://"), "/") {
				return urlTemplate{}, fmt.Errorf("{%s} stands in the host; placeholders may only be in the path or the query", p.key)
			}
			break
		}
	}
	t.origin = u.Scheme + "://" + u.Host
	t.identityOnly = true
	for _, p := range t.parts {
		if p.key != "" && p.key != "jwt.identity" {
			t.identityOnly = false
		}
	}
	return t, nil
}

// literalBefore is the literal text of the template before part p.
func (t urlTemplate) literalBefore(p urlPart) string {
	var b strings.Builder
	for _, q := range t.parts {
		if q == p {
			break
		}
		b.WriteString(q.text)
	}
	return b.String()
}

// render fills the template in for a verified token.
func (t urlTemplate) render(tok *token) string {
	st := requestState{tok: tok}
	var b strings.Builder
	for _, p := range t.parts {
		if p.key == "" {
			b.WriteString(p.text)
			continue
		}
		v, _ := st.placeholder(p.key)
		if p.query {
			b.WriteString(url.QueryEscape(caddy.ToString(v)))
		} else {
			b.WriteString(escapePathSegment(caddy.ToString(v)))
		}
	}
	return b.String()
}

// escapePathSegment keeps a value inside one path segment: '/', '?', '#' and
// '%' are escaped, and a value of only dots goes as %2E so it is never read
// as "." or "..".
func escapePathSegment(s string) string {
	escaped := url.PathEscape(s)
	if s != "" && strings.Trim(s, ".") == "" {
		return strings.ReplaceAll(escaped, ".", "%2E")
	}
	return escaped
}
