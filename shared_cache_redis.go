package jwtuser

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(RedisCache{})
	redis.SetLogger(goRedisLog{})
}

// goRedisLog takes go-redis's own messages (a dial failure on every
// operation during an outage) off stderr and into Caddy's log, at debug
// level: the module itself logs an outage once when it starts and once
// when it ends. go-redis's messages name the address, never the password.
type goRedisLog struct{}

func (goRedisLog) Printf(_ context.Context, format string, v ...any) {
	if c := caddy.Log().Named("go-redis").Check(zap.DebugLevel, "go-redis"); c != nil {
		c.Write(zap.String("message", fmt.Sprintf(format, v...)))
	}
}

// RedisCache is the shared cache http.jwt_user.shared_caches.redis: a
// Redis or Valkey server that every Caddy instance pointing at it, with
// the same prefix, shares, whatever their instance IDs.
//
// Keys are <prefix>u:<store>:<identity>:<digest>, where <store> is a
// digest of the store's module name and resolved settings and <digest>
// one of the cache key; each is written with the TTL the local cache would
// give it. Purges are published on the channel <prefix>purge as
// "<store>\n<identity>" (an empty identity: every user of that store).
// The admin API's revocations are kept as <prefix>r:<jti> and published on
// <prefix>revoke (revocation_shared.go).
type RedisCache struct {
	// Address is host:port of the server. Global placeholders are
	// resolved at load; others are refused.
	Address string `json:"address,omitempty"`
	// Password, if the server wants one, e.g. {env.REDIS_PASSWORD},
	// resolved at load. It is never logged, shown in an error or a metric.
	Password string `json:"password,omitempty"`
	// DB is the database number, default 0; negative is refused.
	DB int `json:"db,omitempty"`
	// Prefix starts every key and the purge channel, default "jwt_user:".
	// Instances share entries exactly when they share a server, DB and
	// prefix; give each tenant or environment its own.
	Prefix string `json:"prefix,omitempty"`
	// TLS connects with TLS, checking the server's certificate against
	// the system's roots.
	TLS bool `json:"tls,omitempty"`
	// Timeout bounds each lookup and write (a purge gets 20 times as
	// long, at least 1s); default 50ms, at most 10s. Past it the request
	// goes on to the store, as if Redis had missed.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	backend *redisBackend
	ref     poolRef
}

const (
	defaultRedisTimeout = 50 * time.Millisecond
	maxRedisTimeout     = 10 * time.Second
	defaultRedisPrefix  = "jwt_user:"
)

// sharedCachePool holds the Redis connections and their subscriptions, so
// a caddy reload neither reconnects nor misses a purge.
var sharedCachePool = caddy.NewUsagePool()

// CaddyModule returns the Caddy module information.
func (RedisCache) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.shared_caches.redis",
		New: func() caddy.Module { return new(RedisCache) },
	}
}

// Provision resolves the settings, checks them and takes the pooled
// connection for them.
func (r *RedisCache) Provision(ctx caddy.Context) error {
	resolved, err := resolveAllAtLoad("shared_cache redis: address, password or prefix",
		[]string{r.Address, r.Password, r.Prefix})
	if err != nil {
		return err
	}
	addr, password, prefix := resolved[0], resolved[1], resolved[2]
	if prefix == "" {
		prefix = defaultRedisPrefix
	}
	timeout := time.Duration(r.Timeout)
	if timeout == 0 {
		timeout = defaultRedisTimeout
	}
	switch {
	case addr == "":
		return errors.New("shared_cache redis: give the server's address (host:port)")
	case r.DB < 0:
		return errors.New("shared_cache redis: db must not be negative")
	case timeout < 0 || timeout > maxRedisTimeout:
		return errors.New("shared_cache redis: timeout must be between 1ns and 10s")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("shared_cache redis: address %q is not host:port", addr)
	}
	opts := &redis.Options{Addr: addr, Password: password, DB: r.DB,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
		ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1, DisableIdentity: true}
	if r.TLS {
		host, _, _ := net.SplitHostPort(addr)
		opts.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%d|%s|%t|%d", addr, password, r.DB, prefix, r.TLS, timeout)
	logger := ctx.Logger()
	v, err := r.ref.take(sharedCachePool, "redis:"+hex.EncodeToString(h.Sum(nil)), func() (caddy.Destructor, error) {
		return newRedisBackend(opts, prefix, timeout, logger, adminRevocations), nil
	})
	if err != nil {
		return err
	}
	r.backend = v.(*redisBackend)
	r.backend.waitReady()
	return nil
}

// Cleanup lets go of the pooled connection.
func (r *RedisCache) Cleanup() error { return r.ref.release() }

// Get implements SharedCache.
func (r *RedisCache) Get(ctx context.Context, ns, identity, key string) ([]byte, time.Duration, error) {
	return r.backend.get(ctx, r.backend.key(ns, identity, key))
}

// Set implements SharedCache.
func (r *RedisCache) Set(ctx context.Context, ns, identity, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, r.backend.timeout)
	defer cancel()
	return redisError(r.backend.client.Set(ctx, r.backend.key(ns, identity, key), value, ttl).Err())
}

// Purge implements SharedCache.
func (r *RedisCache) Purge(ctx context.Context, ns, identity string) error {
	return r.backend.purge(ctx, ns, identity)
}

// Subscribe implements SharedCache.
func (r *RedisCache) Subscribe(fn func(ns, identity string)) (cancel func()) {
	return r.backend.subscribe(fn)
}

// UnmarshalCaddyfile reads `redis <address> { password <text>; db <n>;
// prefix <text>; tls; timeout <duration> }`.
func (r *RedisCache) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // redis
	args := d.RemainingArgs()
	if len(args) != 1 {
		return d.ArgErr()
	}
	r.Address = args[0]
	var err error
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		sub := d.Val()
		if seen[sub] {
			return d.Errf("shared_cache redis: %s given more than once", sub)
		}
		seen[sub] = true
		switch sub {
		case "password":
			r.Password, err = oneArg(d)
		case "prefix":
			r.Prefix, err = oneArg(d)
		case "db":
			var v string
			if v, err = oneArg(d); err == nil {
				if _, serr := fmt.Sscan(v, &r.DB); serr != nil {
					return d.Errf("shared_cache redis: db %q is not a number", v)
				}
			}
		case "tls":
			if d.NextArg() {
				return d.ArgErr()
			}
			r.TLS = true
		case "timeout":
			var dur time.Duration
			dur, err = durationArg(d)
			r.Timeout = caddy.Duration(dur)
		default:
			return d.Errf("shared_cache redis: unknown subdirective %q (want password, db, prefix, tls or timeout)", sub)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// redisBackend is one connection pool and its purge subscription, shared
// by every configuration with the same settings.
type redisBackend struct {
	client  *redis.Client
	prefix  string
	timeout time.Duration
	logger  *zap.Logger
	stop    context.CancelFunc

	mu        sync.Mutex
	listeners map[int]func(ns, identity string)
	next      int

	// revocations is the list the revocations heard on <prefix>revoke and
	// loaded from <prefix>r:* go to: the admin API's, outside tests.
	revocations revocationList
	// ready is closed once the first load of the revocations has been
	// tried, so Provision can wait for it (revocation_shared.go).
	ready     chan struct{}
	readyOnce sync.Once
	// revocationsFailing is set while loading or writing revocations
	// fails, so an outage logs once.
	revocationsFailing atomic.Bool
}

func newRedisBackend(opts *redis.Options, prefix string, timeout time.Duration, logger *zap.Logger, revocations revocationList) *redisBackend {
	ctx, stop := context.WithCancel(context.Background())
	b := &redisBackend{client: redis.NewClient(opts), prefix: prefix, timeout: timeout,
		logger: logger, stop: stop, listeners: map[int]func(string, string){},
		revocations: revocations, ready: make(chan struct{})}
	go b.listen(ctx)
	return b
}

// Destruct stops the subscription and closes the connections.
func (b *redisBackend) Destruct() error {
	b.stop()
	return b.client.Close()
}

// digestLen is the length of a key's digest part, fixed so a purge's
// pattern matches one identity exactly.
const digestLen = 16

func (b *redisBackend) key(ns, identity, key string) string {
	sum := sha256.Sum256([]byte(key))
	return b.prefix + "u:" + ns + ":" + identity + ":" + hex.EncodeToString(sum[:digestLen/2])
}

func (b *redisBackend) get(ctx context.Context, key string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		ttl = p.PTTL(ctx, key)
		return nil
	})
	if errors.Is(err, redis.Nil) || (err == nil && ttl.Val() == -2) {
		return nil, 0, ErrSharedCacheMiss
	}
	if err != nil {
		return nil, 0, redisError(err)
	}
	value, _ := get.Bytes()
	return value, ttl.Val(), nil
}

// purge deletes the keys of identity (all of ns when "") and publishes
// the purge.
func (b *redisBackend) purge(ctx context.Context, ns, identity string) error {
	ctx, cancel := context.WithTimeout(ctx, max(20*b.timeout, time.Second))
	defer cancel()
	pattern := globEscape(b.prefix+"u:"+ns+":") + "*"
	if identity != "" {
		pattern = globEscape(b.prefix+"u:"+ns+":"+identity+":") + strings.Repeat("?", digestLen)
	}
	iter := b.client.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			if err := b.client.Unlink(ctx, keys...).Err(); err != nil {
				return redisError(err)
			}
			keys = keys[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return redisError(err)
	}
	if len(keys) > 0 {
		if err := b.client.Unlink(ctx, keys...).Err(); err != nil {
			return redisError(err)
		}
	}
	return redisError(b.client.Publish(ctx, b.prefix+"purge", ns+"\n"+identity).Err())
}

// globEscape quotes the characters Redis's MATCH treats specially.
func globEscape(s string) string {
	var sb strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\^-`, c) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redisError gives err a kind for caddy_jwt_user_shared_cache_errors_total.
func redisError(err error) error {
	if err == nil {
		return nil
	}
	return &sharedFailure{kind: redisErrorKind(err)}
}

func redisErrorKind(err error) string {
	var reply redis.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	case errors.As(err, &reply):
		return "reply"
	}
	return "connection"
}

// Interface guards
var (
	_ SharedCache           = (*RedisCache)(nil)
	_ caddy.Provisioner     = (*RedisCache)(nil)
	_ caddy.CleanerUpper    = (*RedisCache)(nil)
	_ caddyfile.Unmarshaler = (*RedisCache)(nil)
	_ caddy.Destructor      = (*redisBackend)(nil)
)
