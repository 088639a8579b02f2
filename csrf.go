package jwtuser

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// flask-jwt-extended's double-submit CSRF protection for tokens read from a
// cookie: a browser sends the cookie with every request, forged ones
// included, but only the site's own script can read the token's csrf value
// (from a second, readable cookie) and send it back in a header.

var (
	errCSRFMissing  = &failure{kind: csrfFailure, reason: "Missing CSRF token"}
	errCSRFMismatch = &failure{kind: csrfFailure, reason: "CSRF double submit tokens do not match"}
	// A cookie token that carries no csrf value cannot be checked: it is an
	// invalid token, as flask-jwt-extended decodes it.
	errCSRFClaimMissing = invalid("Missing claim: csrf")
)

// Defaults, flask-jwt-extended's JWT_CSRF_METHODS and
// JWT_ACCESS_CSRF_HEADER_NAME.
var defaultCSRFMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

const defaultCSRFHeader = "X-Csrf-Token"

// csrfCheck is the CSRF setting fixed at provision; nil when off.
type csrfCheck struct {
	methods []string
	header  string // canonical
}

// newCSRFCheck reads csrf, csrf_methods and csrf_header: on by default
// when a cookie source is configured, refused when asked for without one.
func (h *Handler) newCSRFCheck(sources []TokenSource) (*csrfCheck, error) {
	hasCookie := slices.ContainsFunc(sources, func(s TokenSource) bool { return s.Source == "cookie" })
	on := hasCookie
	if h.CSRF != nil {
		on = *h.CSRF
	}
	if !on {
		return nil, nil
	}
	if !hasCookie {
		return nil, errors.New("csrf: there is no cookie source to protect (from cookie <name>)")
	}
	c := &csrfCheck{methods: defaultCSRFMethods, header: defaultCSRFHeader}
	if len(h.CSRFMethods) > 0 {
		methods, err := resolveAllAtLoad("csrf_methods", h.CSRFMethods)
		if err != nil {
			return nil, err
		}
		c.methods = nil
		for _, m := range methods {
			if m == "" || strings.ContainsAny(m, " \t:/") {
				return nil, fmt.Errorf("csrf_methods: %q is not a method", m)
			}
			c.methods = append(c.methods, strings.ToUpper(m))
		}
	}
	if h.CSRFHeader != "" {
		name, err := resolveAtLoad("csrf_header", h.CSRFHeader)
		if err != nil {
			return nil, err
		}
		if name == "" || strings.ContainsAny(name, " \t:") {
			return nil, fmt.Errorf("csrf_header: %q is not a header field name", name)
		}
		c.header = http.CanonicalHeaderKey(name)
	}
	return c, nil
}

// applies tells whether the request's token must pass the check: it came
// from a cookie, and the method is one the check covers. A header or query
// token is never checked: a browser does not send it on its own.
func (c *csrfCheck) applies(r *http.Request, src *tokenSource) bool {
	return c != nil && src.kind == "cookie" && slices.Contains(c.methods, r.Method)
}

// headerValue is the request's CSRF header; its absence answers before the
// token is verified, as flask-jwt-extended does.
func (c *csrfCheck) headerValue(r *http.Request) (string, *failure) {
	v := r.Header.Get(c.header)
	if v == "" {
		return "", errCSRFMissing
	}
	return v, nil
}

// compare checks the verified token's csrf claim against the header value,
// in constant time.
func (c *csrfCheck) compare(tok *token, sent string) *failure {
	raw, ok := tok.payload.Member("csrf")
	if !ok {
		return errCSRFClaimMissing
	}
	if raw.Kind() != '"' || subtle.ConstantTimeCompare([]byte(raw.Unquote()), []byte(sent)) != 1 {
		return errCSRFMismatch
	}
	return nil
}
