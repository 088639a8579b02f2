package jwtuser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func init() {
	caddy.RegisterModule(UsersURL{})
}

// UsersURL is the store http.jwt_user.stores.http: a user service asked
// for one user per identity, with `GET <url>`, behind the caching layer.
//
// The service answers:
//   - 200 with a JSON object (after at most one leading byte order mark,
//     which is skipped): the user. Cache-Control: max-age=N sets the
//     entry's TTL; no-store, no-cache or max-age=0 keep it out of the cache.
//   - 404 or 410: no such user (cached for cache_not_found_ttl).
//   - anything else (another status, a 3xx included: redirects are never
//     followed; a body that is not a JSON object or is larger than MaxBody;
//     a timeout; a refused connection): a store error, counted by kind
//     (timeout, dns, connection_refused, connection_reset, status,
//     too_large, transport).
//
// Requests carry Accept: application/json and the configured header
// fields. Caddyfile: `users_url <url> { ... }` in jwt_user, or
// `store http <url> { ... }`.
type UsersURL struct {
	// The URL template, http or https. {jwt.identity} and {jwt.claims.<path>}
	// are filled in per request, each value escaped for where it stands: a
	// path segment (an identity "../admin?x=1" stays one segment; "." and
	// ".." go as %2E and %2E%2E) or a query value. Global placeholders
	// ({env.*}, {file.*}) are resolved at load. Refused at load: any other
	// placeholder, a placeholder in the scheme or host, a fragment.
	URL string `json:"url"`
	// Header fields sent with each request. Global placeholders are
	// resolved at load, e.g. Authorization: Bearer {env.USERS_API_TOKEN}.
	// Refused at load: {jwt.*} (it belongs in the URL, where it is escaped)
	// and any other per-request placeholder ({http.request.header.*}),
	// which has no value at load and would be sent as literal text; the
	// cache is keyed by the URL, so a user must not depend on more.
	Headers http.Header `json:"headers,omitempty"`
	// How long one request may take, connection included. Default: 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// The largest user body accepted, in bytes. Default: 1MiB (1048576).
	MaxBody int64 `json:"max_body,omitempty"`

	tmpl     urlTemplate
	headers  http.Header
	timeout  time.Duration
	maxBody  int64
	client   *http.Client
	identity string
}

const (
	defaultStoreTimeout = 5 * time.Second
	defaultMaxBody      = 1 << 20
)

// CaddyModule returns the Caddy module information.
func (UsersURL) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.stores.http",
		New: func() caddy.Module { return new(UsersURL) },
	}
}

// Provision resolves the settings and builds the HTTP client.
func (s *UsersURL) Provision(caddy.Context) error {
	if err := s.resolve(); err != nil {
		return fmt.Errorf("users_url: %v", err)
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: s.timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       128, // a slow store queues requests instead of opening sockets without end
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   s.timeout,
		ResponseHeaderTimeout: s.timeout,
	}
	s.client = &http.Client{
		Transport: transport,
		// A redirect is a store error: following it could send the
		// request, with its credentials, somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return nil
}

func (s *UsersURL) resolve() error {
	var err error
	if s.tmpl, err = parseURLTemplate(s.URL); err != nil {
		return err
	}
	s.timeout, s.maxBody = time.Duration(s.Timeout), s.MaxBody
	if s.timeout == 0 {
		s.timeout = defaultStoreTimeout
	}
	if s.maxBody == 0 {
		s.maxBody = defaultMaxBody
	}
	if s.timeout < 0 {
		return errors.New("timeout must be positive")
	}
	if s.maxBody < 0 {
		return errors.New("max_body must be positive")
	}
	for name, values := range s.Headers {
		for _, v := range values {
			if strings.Contains(v, "{jwt.") {
				return fmt.Errorf("header %s: {jwt.*} placeholders belong in the URL, where they are escaped", name)
			}
		}
	}
	if s.headers, err = resolveHeaderAtLoad("header", s.Headers); err != nil {
		return err
	}
	s.headers.Set("Accept", "application/json")
	// A digest, so header secrets are not kept twice in memory.
	h := sha256.New()
	fmt.Fprintf(h, "%+v|%v|%d|", s.tmpl.parts, s.timeout, s.maxBody)
	for _, name := range slices.Sorted(maps.Keys(s.headers)) {
		fmt.Fprintf(h, "%q:%q|", name, s.headers[name])
	}
	s.identity = "users_url:" + hex.EncodeToString(h.Sum(nil))
	return nil
}

// Cleanup closes idle connections.
func (s *UsersURL) Cleanup() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	return nil
}

// CacheKey is the identity when the URL names nothing else, else the URL.
func (s *UsersURL) CacheKey(tok Token) string {
	if s.tmpl.identityOnly {
		return tok.Identity()
	}
	return s.tmpl.render(tok.t)
}

// StoreIdentity digests the resolved settings.
func (s *UsersURL) StoreIdentity() string { return s.identity }

// Describe is the service's origin, scheme://host: the path may hold an
// identity.
func (s *UsersURL) Describe() string { return s.tmpl.origin }

// LoadUser asks the service for the token's user.
func (s *UsersURL) LoadUser(ctx context.Context, tok Token) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ans, err := boundedGet(ctx, s.client, s.tmpl.render(tok.t), s.headers, s.maxBody)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return User{}, &storeFailure{kind: "too_large"}
	case err != nil:
		return User{}, classifyTransportError(err)
	case ans.status == http.StatusNotFound || ans.status == http.StatusGone:
		return User{}, ErrUserNotFound
	case ans.status != http.StatusOK:
		return User{}, &storeFailure{kind: "status", status: ans.status}
	}
	user := User{JSON: string(ans.body)}
	switch maxAge, noStore := parseCacheControl(ans.header.Values("Cache-Control")); {
	case noStore || maxAge == 0:
		user.NoStore = true
	case maxAge > 0:
		user.MaxAge = maxAge
	}
	return user, nil
}

// storeFailure is why a store could not answer. It never holds the URL,
// which carries the identity, nor anything the store sent.
type storeFailure struct {
	kind   string // timeout, dns, connection_refused, connection_reset, status, not_json, not_object, too_large, overloaded, transport; the SQL store's in store_sql_rows.go
	status int
	// detail, when set, says more than the kind, in fixed words: never a
	// value the store sent.
	detail string
}

func (f *storeFailure) Error() string {
	if f.kind == "status" {
		return "user store answered with status " + strconv.Itoa(f.status)
	}
	if f.detail != "" {
		return "user store: " + f.detail
	}
	return "user store: " + strings.ReplaceAll(f.kind, "_", " ")
}

// StoreErrorKind is the kind, for the store_errors_total metric.
func (f *storeFailure) StoreErrorKind() string { return f.kind }

// parseCacheControl reads max-age (-1 when absent) and whether the answer
// must not be stored (no-store, or no-cache, which would need a
// revalidation this cache does not do).
func parseCacheControl(values []string) (maxAge time.Duration, noStore bool) {
	maxAge = -1
	for _, v := range values {
		for _, directive := range strings.Split(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				noStore = true
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(arg, `"`), 10, 64); err == nil && n >= 0 {
					maxAge = time.Duration(min(n, int64(365*24*3600))) * time.Second
				}
			}
		}
	}
	return maxAge, noStore
}

func classifyTransportError(err error) *storeFailure {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &storeFailure{kind: "timeout"}
	case errors.As(err, &dnsErr):
		return &storeFailure{kind: "dns"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &storeFailure{kind: "connection_refused"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &storeFailure{kind: "connection_reset"}
	}
	return &storeFailure{kind: "transport"}
}

// UnmarshalCaddyfile reads `users_url <url-template> { header <field>
// <value>; timeout <duration>; max_body <bytes> }`.
func (s *UsersURL) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // users_url
	name := d.Val()
	var err error
	if s.URL, err = oneArg(d); err != nil {
		return err
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		sub := d.Val()
		if seen[sub] && sub != "header" {
			return d.Errf("%s: %s given more than once", name, sub)
		}
		seen[sub] = true
		switch sub {
		case "header":
			args := d.RemainingArgs()
			if len(args) != 2 {
				return d.ArgErr()
			}
			if s.Headers == nil {
				s.Headers = http.Header{}
			}
			s.Headers.Add(args[0], args[1])
		case "timeout":
			dur, err := durationArg(d)
			if err != nil {
				return err
			}
			s.Timeout = caddy.Duration(dur)
		case "max_body":
			n, err := sizeArg(d)
			if err != nil {
				return err
			}
			s.MaxBody = int64(n)
		default:
			return d.Errf("%s: unknown subdirective %q (want header, timeout or max_body)", name, sub)
		}
	}
	return nil
}

// Interface guards
var (
	_ Store                 = (*UsersURL)(nil)
	_ CacheKeyer            = (*UsersURL)(nil)
	_ StoreIdentifier       = (*UsersURL)(nil)
	_ StoreDescriber        = (*UsersURL)(nil)
	_ caddy.Provisioner     = (*UsersURL)(nil)
	_ caddy.CleanerUpper    = (*UsersURL)(nil)
	_ caddyfile.Unmarshaler = (*UsersURL)(nil)
)
