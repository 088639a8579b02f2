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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"
)

// UsersURL is the `users_url` store: an HTTP endpoint asked for one user.
type UsersURL struct {
	// The URL template. {jwt.identity} and {jwt.claims.*} are filled in per
	// request, each value escaped for where it stands (a path segment or a
	// query value); global placeholders such as {env.*} are resolved at load.
	URL string `json:"url"`
	// Header fields sent with each request; global placeholders allowed, e.g.
	// Authorization: Bearer {env.USERS_API_TOKEN}.
	Headers http.Header `json:"headers,omitempty"`
	// How long one request may take. Default: 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// The largest user body accepted, in bytes. Default: 1MiB.
	MaxBody int64 `json:"max_body,omitempty"`
}

const (
	defaultStoreTimeout = 5 * time.Second
	defaultMaxBody      = 1 << 20
	storeUserAgent      = "caddy-jwt-user (Caddy jwt_user handler)"
)

// storeFailure is why the store could not answer. It never holds the URL,
// which carries the identity, nor anything the store sent.
type storeFailure struct {
	kind   string // timeout, dns, connection_refused, connection_reset, status, not_json, not_object, too_large, overloaded, transport
	status int
}

func (f *storeFailure) Error() string {
	if f.kind == "status" {
		return "users_url answered with status " + strconv.Itoa(f.status)
	}
	return "users_url: " + strings.ReplaceAll(f.kind, "_", " ")
}

// httpStore asks a user service for each identity, through the cache.
// Concurrent loads of one URL share one request.
type httpStore struct {
	url     urlTemplate
	headers http.Header
	timeout time.Duration
	maxBody int64
	client  *http.Client
	cache   *userCache // nil when cache_ttl is 0
	group   singleflight.Group

	// ctx bounds every fetch: the store outlives the configuration that
	// made it (it is shared across reloads), so it has its own lifetime,
	// ended by Destruct.
	ctx    context.Context
	cancel context.CancelFunc
	logger atomic.Pointer[zap.Logger]
	// failing is set while the store fails, so an outage logs once.
	failing atomic.Bool
	// loads bounds the loads in flight: against a slow store, requests
	// for more identities than this fail fast instead of piling up.
	loads chan struct{}
	// cache lookups, for the admin API's hit ratio
	hits, misses, stale atomic.Int64
}

// maxConcurrentLoads is how many distinct identities may be loading at once.
const maxConcurrentLoads = 256

var errStoreOverloaded = &storeFailure{kind: "overloaded"}

// loadResult is what one shared load hands every waiting request.
type loadResult struct {
	user  string
	found bool
	stale bool
}

// httpStoreSettings are a users_url store's settings with every global
// placeholder resolved: stores with equal settings are one shared store.
type httpStoreSettings struct {
	url                            urlTemplate
	headers                        http.Header
	timeout                        time.Duration
	maxBody                        int64
	ttl, notFoundTTL, staleIfError time.Duration
	cacheSize                      int
}

func resolveHTTPStoreSettings(cfg *UsersURL) (httpStoreSettings, error) {
	tmpl, err := parseURLTemplate(cfg.URL)
	if err != nil {
		return httpStoreSettings{}, err
	}
	s := httpStoreSettings{url: tmpl, headers: http.Header{}, timeout: time.Duration(cfg.Timeout), maxBody: cfg.MaxBody}
	if s.timeout == 0 {
		s.timeout = defaultStoreTimeout
	}
	if s.maxBody == 0 {
		s.maxBody = defaultMaxBody
	}
	if s.timeout < 0 {
		return httpStoreSettings{}, errors.New("timeout must be positive")
	}
	if s.maxBody < 0 {
		return httpStoreSettings{}, errors.New("max_body must be positive")
	}
	repl := caddy.NewReplacer()
	for name, values := range cfg.Headers {
		for _, v := range values {
			if strings.Contains(v, "{jwt.") {
				return httpStoreSettings{}, fmt.Errorf("header %s: {jwt.*} placeholders belong in the URL, where they are escaped", name)
			}
			s.headers.Add(name, repl.ReplaceKnown(v, ""))
		}
	}
	s.headers.Set("Accept", "application/json")
	if s.headers.Get("User-Agent") == "" {
		s.headers.Set("User-Agent", storeUserAgent)
	}
	return s, nil
}

// poolKey identifies the settings; a digest, so header secrets are not
// kept twice in memory.
func (s httpStoreSettings) poolKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "%+v|%v|%d|%d|%d|%d|%d|", s.url.parts, s.timeout, s.maxBody, s.ttl, s.notFoundTTL, s.staleIfError, s.cacheSize)
	names := slices.Sorted(maps.Keys(s.headers))
	for _, name := range names {
		fmt.Fprintf(h, "%q:%q|", name, s.headers[name])
	}
	return "users_url:" + hex.EncodeToString(h.Sum(nil))
}

func newHTTPStore(cfg httpStoreSettings) *httpStore {
	s := &httpStore{url: cfg.url, headers: cfg.headers, timeout: cfg.timeout, maxBody: cfg.maxBody,
		loads: make(chan struct{}, maxConcurrentLoads)}
	if cfg.ttl > 0 {
		s.cache = newUserCache(cfg.cacheSize, cfg.ttl, cfg.notFoundTTL, cfg.staleIfError)
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
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.logger.Store(zap.NewNop())
	return s
}

func (s *httpStore) setLogger(l *zap.Logger) { s.logger.Store(l) }

// Destruct ends in-flight fetches and closes idle connections when no
// configuration uses the store any more.
func (s *httpStore) Destruct() error {
	s.cancel()
	s.client.CloseIdleConnections()
	return nil
}

func (s *httpStore) lookup(ctx context.Context, tok *token) (string, error) {
	// Most templates name only the identity: then the identity is the key,
	// and the URL is only built for a load.
	key := tok.identity
	if !s.url.identityOnly {
		key = s.url.render(tok)
	}
	if s.cache != nil {
		if e, fresh := s.cache.get(key); fresh {
			s.hits.Add(1)
			cacheHits.Inc()
			return e.answer()
		}
		s.misses.Add(1)
		cacheMiss.Inc()
	}
	// The load runs on the store's own context: a client that gives up
	// does not cancel it for the requests waiting on the same load.
	ch := s.group.DoChan(key, func() (any, error) { return s.load(key, tok) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		r := res.Val.(loadResult)
		if !r.found {
			return "", errUserNotFound
		}
		return r.user, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (e *cacheEntry) answer() (string, error) {
	if !e.found {
		return "", errUserNotFound
	}
	return e.user, nil
}

// load fetches one user and records the answer; while the store fails, a
// stale answer within stale_if_error stands in.
func (s *httpStore) load(key string, tok *token) (loadResult, error) {
	identity := tok.identity
	var user string
	var ttl time.Duration
	var err error
	select {
	case s.loads <- struct{}{}:
		user, ttl, err = s.fetch(s.url.render(tok))
		<-s.loads
	default:
		err = errStoreOverloaded
	}
	switch {
	case err == nil:
		s.recovered()
		if s.cache != nil {
			s.cache.putFound(key, identity, user, ttl)
		}
		return loadResult{user: user, found: true}, nil
	case errors.Is(err, errUserNotFound):
		s.recovered()
		if s.cache != nil {
			s.cache.putNotFound(key, identity)
		}
		return loadResult{}, nil
	}
	s.failed(err)
	if s.cache != nil {
		if e, _ := s.cache.get(key); e != nil {
			s.stale.Add(1)
			cacheStale.Inc()
			return loadResult{user: e.user, found: e.found, stale: true}, nil
		}
	}
	return loadResult{}, err
}

func (s *httpStore) failed(err error) {
	kind := "transport"
	var sf *storeFailure
	if errors.As(err, &sf) {
		kind = sf.kind
	}
	storeErrorsTotal.WithLabelValues(kind).Inc()
	if !s.failing.Swap(true) {
		s.logger.Load().Error("user store failing; requests get a stale copy or the store-error response",
			zap.String("store", s.url.origin), zap.Error(err))
	}
}

func (s *httpStore) recovered() {
	if s.failing.Swap(false) {
		s.logger.Load().Info("user store answering again", zap.String("store", s.url.origin))
	}
}

// fetch asks the store for the user at u. ttl is how long the answer may be
// cached: cache_ttl, the store's max-age, or 0 for no-store.
func (s *httpStore) fetch(u string) (user string, ttl time.Duration, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, &storeFailure{kind: "transport"}
	}
	req.Header = s.headers.Clone()
	start := time.Now()
	defer func() { storeRequestSeconds.Observe(time.Since(start).Seconds()) }()
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, classifyTransportError(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusGone:
		_, _ = io.CopyN(io.Discard, resp.Body, 4096) // lets the connection be reused
		return "", 0, errUserNotFound
	default:
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		return "", 0, &storeFailure{kind: "status", status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBody+1))
	if err != nil {
		return "", 0, classifyTransportError(err)
	}
	if int64(len(body)) > s.maxBody {
		return "", 0, &storeFailure{kind: "too_large"}
	}
	text := string(body)
	if err := checkJSON(text); err != nil {
		return "", 0, &storeFailure{kind: "not_json"}
	}
	if text[skipJSONSpace(text, 0)] != '{' {
		return "", 0, &storeFailure{kind: "not_object"}
	}
	ttl = 0
	if s.cache != nil {
		ttl = s.cache.ttl
		if maxAge, noStore := parseCacheControl(resp.Header.Values("Cache-Control")); noStore {
			ttl = 0
		} else if maxAge >= 0 {
			ttl = maxAge
		}
	}
	return compactJSON(strings.TrimSpace(text)), ttl, nil
}

// parseCacheControl reads max-age (seconds; -1 when absent) and whether the
// answer must not be stored (no-store, or no-cache, which would need a
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
	probe := t.render(&token{identity: "jwtuserprobe", payload: "{}"})
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

// Interface guards
var (
	_ userStore        = (*httpStore)(nil)
	_ caddy.Destructor = (*httpStore)(nil)
)
