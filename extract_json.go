package jwtuser

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// The JSON body source, flask-jwt-extended's JWT_TOKEN_LOCATION "json":
// the token is a member of the request's JSON object body, read only when
// the Content-Type is application/json (parameters allowed). The body is
// handed on to the next handler unchanged, byte for byte.

const (
	defaultJSONKey        = "access_token" // flask-jwt-extended's JWT_JSON_KEY
	defaultMaxRequestBody = 64 << 10
	maxMaxRequestBody     = 1 << 30
)

// errRequestBodyTooLarge answers a JSON body over max_body: a fixed 413, as the
// request cannot be read, whatever its token.
var errRequestBodyTooLarge = &failure{kind: bodyTooLarge, reason: "Request body too large"}

// jsonSource fills in a json tokenSource's reasons.
func jsonSource(ts *tokenSource) {
	ts.absent = fmt.Sprintf("Missing %q key in json data.", ts.name)
	// Not JSON at all: the reason flask-jwt-extended gives in place of the
	// missing key, through the same missing-token response.
	ts.schemeMissing = "Invalid content-type. Must be application/json."
	ts.bad = invalid(fmt.Sprintf("Bad %q key in json data.", ts.name))
}

// maxBodySetting checks max_body at load.
func maxBodySetting(n int, sources []TokenSource) (int, error) {
	hasJSON := false
	for _, s := range sources {
		hasJSON = hasJSON || s.Source == "json"
	}
	switch {
	case n != 0 && !hasJSON:
		return 0, fmt.Errorf("max_body: applies to the JSON body source (from json), which is not configured")
	case n == 0:
		return defaultMaxRequestBody, nil
	case n < 0 || n > maxMaxRequestBody:
		return 0, fmt.Errorf("max_body: must be between 1 byte and 1GiB")
	}
	return n, nil
}

// readJSON reads the token from the request's JSON body, restoring the
// body for the handlers that follow. wrongType is true when the request
// is not application/json.
func (s *tokenSource) readJSON(r *http.Request) (tok string, bad *failure, wrongType bool) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return "", nil, true
	}
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil, false
	}
	// One byte more than allowed tells a body at the limit from a longer one.
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.maxBody)+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	switch {
	case err != nil:
		return "", s.bad, false
	case len(body) > s.maxBody:
		return "", errRequestBodyTooLarge, false
	case len(body) == 0:
		return "", nil, false // no body: the key is missing
	}
	doc, err := rawjson.Check(rawjson.TrimBOM(string(body)))
	if err != nil || doc.Kind() != '{' {
		return "", s.bad, false // not JSON, or not valid UTF-8
	}
	v, ok := doc.Member(s.name)
	switch {
	case !ok:
		return "", nil, false
	case v.Kind() != '"':
		return "", s.bad, false
	}
	return v.Unquote(), nil, false
}

// readCloser hands on what was read followed by the rest, and closes the
// original body.
type readCloser struct {
	io.Reader
	io.Closer
}

// setMaxBody sets the json sources' limit.
func (e *extractor) setMaxBody(n int, sources []TokenSource) error {
	n, err := maxBodySetting(n, sources)
	if err != nil {
		return err
	}
	for i := range e.sources {
		e.sources[i].maxBody = n
	}
	return nil
}
