package jwtuser

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// Response is the answer to one kind of failure.
type Response struct {
	// The HTTP status code, 200 to 599.
	StatusCode int `json:"status_code,omitempty"`
	// The body; absent keeps the default body. Placeholders are filled in
	// per request, when the response is written: {jwt.error}, {jwt.*} (see
	// Handler), the request's ({http.request.uri}, {http.request.header.*},
	// {http.vars.*}) and the global ones ({env.*}); one unknown then stays
	// as written, as with Caddy's ReplaceKnown. A body that starts with `{` or `[` is sent as
	// application/json and every placeholder value put into it is
	// JSON-escaped (no quotes added); any other body is text/plain.
	Body *string `json:"body,omitempty"`
	// Response header fields to set; values take the same per-request
	// placeholders as Body, filled in when the response is written. Names
	// resolve global placeholders at load and refuse any other. Setting
	// WWW-Authenticate here replaces the one a 401 carries by default.
	Headers http.Header `json:"headers,omitempty"`
}

// defaultBody serves every kind: the reason is {jwt.error}.
const defaultBody = `{"msg":"{jwt.error}"}`

var defaultStatus = [numFailureKinds]int{
	missingToken:  http.StatusUnauthorized,
	invalidToken:  http.StatusUnauthorized,
	expiredToken:  http.StatusUnauthorized,
	loadFailure:   http.StatusUnauthorized,
	storeError:    http.StatusServiceUnavailable,
	revokedToken:  http.StatusUnauthorized,
	freshRequired: http.StatusUnauthorized,
	csrfFailure:   http.StatusUnauthorized,
	bodyTooLarge:  http.StatusRequestEntityTooLarge,
}

// response is a Response compiled at provision.
type response struct {
	status      int
	body        template
	contentType string
	headers     []responseHeader
	// challenge is the WWW-Authenticate value a 401 carries; "" for none.
	challenge string
}

type responseHeader struct {
	name   string
	values []template
}

func compileResponse(kind failureKind, cfg *Response) (*response, error) {
	resp := &response{status: defaultStatus[kind]}
	body := defaultBody
	if cfg != nil {
		if cfg.StatusCode != 0 {
			resp.status = cfg.StatusCode
		}
		if cfg.Body != nil {
			body = *cfg.Body
		}
	}
	if resp.status < 200 || resp.status > 599 {
		return nil, fmt.Errorf("status %d is outside 200-599", resp.status)
	}
	trimmed := strings.TrimLeft(body, " \t\r\n")
	isJSON := strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")
	resp.body = parseTemplate(body, isJSON)
	switch {
	case body == "":
	case isJSON:
		resp.contentType = "application/json"
	default:
		resp.contentType = "text/plain; charset=utf-8"
	}
	if resp.status == http.StatusUnauthorized {
		// RFC 6750: say why when a token came and was refused.
		switch kind {
		case missingToken, storeError:
			resp.challenge = "Bearer"
		default:
			resp.challenge = `Bearer error="invalid_token"`
		}
	}
	if cfg != nil {
		for name, values := range cfg.Headers {
			// A field's name is fixed at load; its values are per request.
			resolved, err := resolveAtLoad("header", name)
			if err != nil {
				return nil, err
			}
			h := responseHeader{name: http.CanonicalHeaderKey(resolved)}
			for _, v := range values {
				h.values = append(h.values, parseTemplate(v, false))
			}
			if h.name == "Www-Authenticate" {
				resp.challenge = ""
			}
			resp.headers = append(resp.headers, h)
		}
	}
	return resp, nil
}

// write sends the response. The request's placeholders must be set first.
func (resp *response) write(w http.ResponseWriter, repl *caddy.Replacer) {
	h := w.Header()
	for _, rh := range resp.headers {
		h.Del(rh.name)
		for _, v := range rh.values {
			h.Add(rh.name, headerSafe(v.render(repl)))
		}
	}
	if resp.challenge != "" {
		h.Set("WWW-Authenticate", resp.challenge)
	}
	body := resp.body.render(repl)
	if resp.contentType != "" {
		h.Set("Content-Type", resp.contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write([]byte(body))
}

// template is a body or header value split once, at provision, into literal
// text and placeholder keys.
type template struct {
	parts []templatePart
	// json escapes every inserted value for the inside of a JSON string.
	json bool
}

type templatePart struct {
	text string // literal text; for a placeholder, its own text "{key}"
	key  string // the placeholder's key; "" for literal text
}

// parseTemplate splits s the way Caddy's replacer scans it: `{key}` is a
// placeholder when key holds no brace; `\{` and `\}` are literal braces. So a
// JSON body like {"msg":"{jwt.error}"} keeps its own braces.
func parseTemplate(s string, json bool) template {
	t := template{json: json}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '}') {
			lit.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '{' {
			if end := strings.IndexByte(s[i+1:], '}'); end > 0 {
				key := s[i+1 : i+1+end]
				if !strings.ContainsAny(key, "{\\") {
					flush()
					t.parts = append(t.parts, templatePart{text: s[i : i+end+2], key: key})
					i += end + 1
					continue
				}
			}
		}
		lit.WriteByte(c)
	}
	flush()
	return t
}

// render fills the template in. An unknown placeholder stays as written, as
// with Caddy's ReplaceKnown.
func (t template) render(repl *caddy.Replacer) string {
	if len(t.parts) == 1 && t.parts[0].key == "" {
		return t.parts[0].text
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.key == "" {
			b.WriteString(p.text)
			continue
		}
		v, known := repl.Get(p.key)
		if !known {
			b.WriteString(p.text)
			continue
		}
		if t.json {
			rawjson.QuoteTo(&b, caddy.ToString(v))
		} else {
			b.WriteString(caddy.ToString(v))
		}
	}
	return b.String()
}
