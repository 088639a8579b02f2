package jwtuser

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// TokenSource is one place a request may carry its token.
type TokenSource struct {
	// Where the token is read: "header", "cookie", "query" or "json" (a
	// member of the request's JSON object body, read only for Content-Type
	// application/json, parameters allowed, and at most the handler's
	// MaxBody bytes).
	Source string `json:"source"`
	// The header field, cookie name, query parameter or JSON key (default
	// for json: access_token, flask-jwt-extended's JWT_JSON_KEY).
	Name string `json:"name"`
	// For a header: the scheme before the token, matched case-insensitively.
	// Absent: "Bearer" for Authorization, none for other fields. An empty
	// string means the whole value is the token.
	Scheme *string `json:"scheme,omitempty"`
}

// extractor reads the token from the configured sources in order; the first
// that holds one is used, and only it.
type extractor struct {
	sources []tokenSource
	// missing is the failure when no source holds a token, built once.
	missing *failure
}

type tokenSource struct {
	kind   string // header, cookie, query
	name   string // canonical header key, cookie or parameter name
	scheme string
	// reason this source holds no token; schemeMissing when the header is
	// there with another scheme.
	absent, schemeMissing string
	// bad is the failure for a header holding the scheme and no usable token.
	bad *failure
	// maxBody is the json source's limit, in bytes.
	maxBody int
}

func newExtractor(sources []TokenSource) (*extractor, error) {
	if len(sources) == 0 {
		sources = []TokenSource{{Source: "header", Name: "Authorization"}}
	}
	e := &extractor{}
	var kinds, reasons []string
	for _, s := range sources {
		ts := tokenSource{kind: s.Source, name: s.Name}
		if s.Source == "json" && s.Name == "" {
			ts.name = defaultJSONKey
		} else if s.Name == "" {
			return nil, fmt.Errorf("from %s: a name is required", s.Source)
		}
		var kind string
		switch s.Source {
		case "header":
			kind = "headers"
			ts.name = http.CanonicalHeaderKey(s.Name)
			if s.Scheme != nil {
				ts.scheme = *s.Scheme
			} else if ts.name == "Authorization" {
				ts.scheme = "Bearer"
			}
			if strings.ContainsAny(ts.scheme, " \t") {
				return nil, fmt.Errorf("from header %s: the scheme %q holds white space", s.Name, ts.scheme)
			}
			ts.absent = fmt.Sprintf("Missing %s Header", ts.name)
			expected := fmt.Sprintf("Expected '%s: %s <JWT>'", ts.name, ts.scheme)
			if ts.scheme == "" {
				expected = fmt.Sprintf("Expected '%s: <JWT>'", ts.name)
			}
			ts.schemeMissing = fmt.Sprintf("Missing '%s' type in '%s' header. %s", ts.scheme, ts.name, expected)
			ts.bad = invalid(fmt.Sprintf("Bad %s header. %s", ts.name, expected))
		case "cookie":
			kind = "cookies"
			ts.absent = fmt.Sprintf("Missing cookie %q", s.Name)
			ts.bad = invalid(fmt.Sprintf("Bad cookie %q", s.Name))
		case "query":
			kind = "query_string"
			ts.absent = fmt.Sprintf("Missing '%s' query parameter", s.Name)
			ts.bad = invalid(fmt.Sprintf("Bad '%s' query parameter", s.Name))
		case "json":
			kind = "json"
			jsonSource(&ts)
		default:
			return nil, fmt.Errorf("from: unknown source %q (want header, cookie, query or json)", s.Source)
		}
		if s.Scheme != nil && s.Source != "header" {
			return nil, fmt.Errorf("from %s: only a header has a scheme", s.Source)
		}
		e.sources = append(e.sources, ts)
		if !slices.Contains(kinds, kind) {
			kinds = append(kinds, kind)
		}
		reasons = append(reasons, ts.absent)
	}
	if len(e.sources) == 1 {
		e.missing = &failure{kind: missingToken, reason: e.sources[0].absent}
	} else {
		e.missing = &failure{kind: missingToken, reason: fmt.Sprintf("Missing JWT in %s (%s)",
			strings.Join(kinds, " or "), strings.Join(reasons, "; "))}
	}
	return e, nil
}

// extract returns the request's token, or the failure: missing when no
// source holds a token, invalid when the first source holding one holds it
// badly (the scheme and nothing usable after it, or the field repeated).
func (e *extractor) extract(r *http.Request) (string, *failure) {
	tok, _, f := e.extractFrom(r)
	return tok, f
}

// extractFrom is extract, also naming the source the token came from.
func (e *extractor) extractFrom(r *http.Request) (string, *tokenSource, *failure) {
	var schemeMissing []string
	for i := range e.sources {
		s := &e.sources[i]
		tok, f, wrongScheme := s.read(r)
		if f != nil {
			return "", nil, f
		}
		if tok != "" {
			return tok, s, nil
		}
		if wrongScheme {
			if schemeMissing == nil {
				schemeMissing = make([]string, len(e.sources))
			}
			schemeMissing[i] = s.schemeMissing
		}
	}
	if schemeMissing == nil {
		return "", nil, e.missing
	}
	return "", nil, e.missingWith(schemeMissing)
}

// missingWith builds the missing-token failure when some header was present
// with another scheme: its reason says so in place of "Missing ... Header".
func (e *extractor) missingWith(schemeMissing []string) *failure {
	if len(e.sources) == 1 {
		return &failure{kind: missingToken, reason: schemeMissing[0]}
	}
	reasons := make([]string, len(e.sources))
	for i, s := range e.sources {
		reasons[i] = s.absent
		if schemeMissing[i] != "" {
			reasons[i] = schemeMissing[i]
		}
	}
	head, _, _ := strings.Cut(e.missing.reason, " (")
	return &failure{kind: missingToken, reason: head + " (" + strings.Join(reasons, "; ") + ")"}
}

// read returns the source's token; "" when it holds none.
func (s *tokenSource) read(r *http.Request) (tok string, bad *failure, wrongScheme bool) {
	switch s.kind {
	case "header":
		values := r.Header[s.name]
		if len(values) == 0 {
			return "", nil, false
		}
		// A repeated field is ambiguous: a proxy in front may have seen the
		// other copy. Refuse rather than guess.
		if len(values) > 1 {
			return "", s.bad, false
		}
		value := strings.TrimSpace(values[0])
		if value == "" {
			return "", nil, false
		}
		if s.scheme == "" {
			if hasBlank(value) {
				return "", s.bad, false
			}
			return value, nil, false
		}
		scheme, rest, _ := strings.Cut(value, " ")
		if !strings.EqualFold(scheme, s.scheme) {
			return "", nil, true
		}
		rest = strings.TrimSpace(rest)
		if rest == "" || hasBlank(rest) {
			return "", s.bad, false
		}
		return rest, nil, false
	case "cookie":
		// Browsers send a name twice when cookies of several paths match,
		// the most specific first; that one is the token, as servers read it.
		// An empty first copy in front of a filled one is ambiguous.
		cookies := r.CookiesNamed(s.name)
		switch {
		case len(cookies) == 0:
			return "", nil, false
		case cookies[0].Value != "":
			return cookies[0].Value, nil, false
		}
		for _, c := range cookies[1:] {
			if c.Value != "" {
				return "", s.bad, false
			}
		}
		return "", nil, false
	case "json":
		return s.readJSON(r)
	default: // query
		values, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil && values == nil {
			return "", nil, false
		}
		v := values[s.name]
		switch {
		case len(v) == 0 || v[0] == "" && len(v) == 1:
			return "", nil, false
		case len(v) > 1:
			return "", s.bad, false
		}
		return v[0], nil, false
	}
}

// hasBlank reports a space or tab in a token. Two IndexByte scans: this
// runs on every request over the whole token, where ContainsAny's
// byte-by-byte set lookup cost more than the rest of reading the header.
func hasBlank(s string) bool {
	return strings.IndexByte(s, ' ') >= 0 || strings.IndexByte(s, '\t') >= 0
}
