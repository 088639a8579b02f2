package jwtuser

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// needRedis is the address of the test Redis, from JWTUSER_TEST_REDIS
// (e.g. 127.0.0.1:6379); the test skips without it.
func needRedis(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("JWTUSER_TEST_REDIS")
	if addr == "" {
		t.Skip("set JWTUSER_TEST_REDIS to a Redis or Valkey address (e.g. 127.0.0.1:6379) to run the shared cache tests")
	}
	return addr
}

// testPrefix is a key prefix of the test's own, so tests sharing a Redis
// never see each other's keys or purges.
func testPrefix(t testing.TB) string {
	return "jwtuser-test:" + t.Name() + ":" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
}

// redisModule provisions a RedisCache as a configuration would.
func redisModule(t testing.TB, r *RedisCache) *RedisCache {
	t.Helper()
	if err := r.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Cleanup() })
	return r
}

func TestRedisSharedCache(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	prefix := testPrefix(t)
	store := &countingStore{users: mapStore{"foo": `{"id":"foo"}`, "a*": `{"id":"a*"}`, "ab": `{"id":"ab"}`}}
	a := instance(t, store, redisModule(t, &RedisCache{Address: addr, Prefix: prefix}), "a")
	b := instance(t, store, redisModule(t, &RedisCache{Address: addr, Prefix: prefix}), "b")
	for _, id := range []string{"foo", "a*", "ab", "nobody"} {
		mustLoad(t, a, id)
		mustLoad(t, b, id)
	}
	if n := store.calls.Load(); n != 4 {
		t.Fatalf("store asked %d times for 4 identities on 2 instances", n)
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	keys, err := client.Keys(context.Background(), globEscape(prefix)+"*").Result()
	if err != nil || len(keys) != 4 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	// A purge of "a*" is not a pattern: "ab" stays, here and in Redis.
	a.shared.purge("a*")
	waitFor(t, func() bool { f, _ := b.shared.entries.len(); return f == 2 })
	if keys, _ := client.Keys(context.Background(), globEscape(prefix)+"*").Result(); len(keys) != 3 {
		t.Fatalf("after the purge: %v", keys)
	}
	// Garbage in Redis is a Redis error, never a user.
	for _, k := range keys {
		client.Set(context.Background(), k, `1f{"id":"evil"`, time.Hour)
	}
	b.shared.purgeLocal("")
	if u, _ := mustLoad(t, b, "foo"); u != `{"id":"foo"}` {
		t.Fatalf("user %q from garbage", u)
	}
}

// waitFor polls cond for up to 2s, the purge bound of the SPEC.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not within 2s")
		}
	}
}

func TestRedisTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	r := redisModule(t, &RedisCache{Address: ln.Addr().String(), Timeout: caddy.Duration(30 * time.Millisecond)})
	start := time.Now()
	_, _, err = r.Get(context.Background(), "ns", "foo", "foo")
	if sharedErrorKind(err) != "timeout" || time.Since(start) > time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	store := &countingStore{users: mapStore{"foo": `{"id":"foo"}`}}
	cs := instance(t, store, r, "")
	if u, _ := mustLoad(t, cs, "foo"); u != `{"id":"foo"}` || !cs.shared.sharedFailing.Load() {
		t.Fatalf("user %q, failing %v", u, cs.shared.sharedFailing.Load())
	}
}

func TestRedisRefusedAtLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r    RedisCache
		want string
	}{
		{RedisCache{}, "give the server's address"},
		{RedisCache{Address: "localhost"}, "is not host:port"},
		{RedisCache{Address: "localhost:6379", DB: -1}, "db must not be negative"},
		{RedisCache{Address: "localhost:6379", Timeout: caddy.Duration(time.Minute)}, "timeout must be"},
		{RedisCache{Address: "localhost:6379", Password: "{http.request.header.X}"}, "password or prefix: unrecognized placeholder"},
	} {
		err := c.r.Provision(testContext(t))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.r, err, c.want)
		}
	}
}

func TestUnmarshalSharedCache(t *testing.T) {
	t.Parallel()
	d := caddyfile.NewTestDispenser(`jwt_user {
		shared_cache redis 127.0.0.1:6379 {
			password {env.REDIS_PASSWORD}
			db 2
			prefix site-a:
			tls
			timeout 80ms
		}
	}`)
	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(h.SharedCacheRaw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"backend": "redis", "address": "127.0.0.1:6379", "password": "{env.REDIS_PASSWORD}",
		"db": 2.0, "prefix": "site-a:", "tls": true, "timeout": 80e6}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	for _, bad := range []string{
		"jwt_user {\n shared_cache \n}",
		"jwt_user {\n shared_cache redis \n}",
		"jwt_user {\n shared_cache redis a:1 b:2 \n}",
		"jwt_user {\n shared_cache nosuch a:1 \n}",
		"jwt_user { shared_cache redis a:1 {\n db x \n} }",
		"jwt_user { shared_cache redis a:1 {\n db 1 \n db 2 \n} }",
		"jwt_user { shared_cache redis a:1 {\n tls yes \n} }",
		"jwt_user { shared_cache redis a:1 {\n what 1 \n} }",
		"jwt_user {\n shared_cache redis a:1 \n shared_cache redis a:1 \n}",
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSharedCacheRefusedWith(t *testing.T) {
	t.Parallel()
	raw := json.RawMessage(`{"backend":"redis","address":"127.0.0.1:1"}`)
	zero := caddy.Duration(0)
	for name, h := range map[string]Handler{
		"in-memory store": {StoreRaw: json.RawMessage(`{"source":"file","path":"example-users.json"}`)},
		"cache_ttl 0":     {StoreRaw: urlStoreJSON(&UsersURL{URL: "http://127.0.0.1:1/{jwt.identity}"}), CacheTTL: &zero},
	} {
		h.SharedCacheRaw = raw
		h.KeysRaw = json.RawMessage(`{"source":"secret","secret":"0123456789abcdef0123456789abcdef"}`)
		h.logger = zap.NewNop()
		err := h.Provision(testContext(t))
		if err == nil || !strings.Contains(err.Error(), "shared_cache") {
			t.Errorf("%s: %v", name, err)
		}
		_ = h.Cleanup()
	}
}

// BenchmarkSharedCacheHit is a local miss answered by Redis: what a user
// costs on an instance that has not seen it yet when another has.
func BenchmarkSharedCacheHit(b *testing.B) {
	addr := needRedis(b)
	store := &countingStore{users: mapStore{"foo": `{"id":"foo","roles":["admin"]}`}}
	r := redisModule(b, &RedisCache{Address: addr, Prefix: testPrefix(b)})
	level := &sharedLevel{backend: r, ns: sharedNamespace("bench", b.Name()), logger: zap.NewNop()}
	benchColdLoads(b, store, "bench", b.Name(), level)
	if n := store.calls.Load(); n != 1 {
		b.Fatalf("store asked %d times", n)
	}
}
