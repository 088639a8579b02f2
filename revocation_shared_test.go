package jwtuser

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// testRevoker is a Redis backend with a revocation list of its own, as
// one instance's: tests never touch the process's list.
func testRevoker(t *testing.T, addr, prefix string) (*redisBackend, *memRevocations) {
	t.Helper()
	list := newMemRevocations(100)
	opts := &redis.Options{Addr: addr, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
		DialTimeout: 200 * time.Millisecond, ContextTimeoutEnabled: true, MaxRetries: -1, DisableIdentity: true}
	b := newRedisBackend(opts, prefix, 200*time.Millisecond, zap.NewNop(), list)
	t.Cleanup(func() { _ = b.Destruct() })
	b.waitReady()
	return b, list
}

// TestRedisRevocations: a revocation written through one instance reaches
// another at once, is kept in Redis until exp, reaches an instance started
// later through the SCAN, and a DELETE lifts it everywhere.
func TestRedisRevocations(t *testing.T) {
	t.Parallel()
	addr := needRedis(t)
	prefix := testPrefix(t)
	a, listA := testRevoker(t, addr, prefix)
	_, listB := testRevoker(t, addr, prefix)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := a.revokeShared("j1", exp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return listB.revoked("j1", time.Now()) && listA.revoked("j1", time.Now()) })
	if listB.revoked("j2", time.Now()) || listB.revoked("j1", exp) {
		t.Fatal("b revokes another jti, or j1 past its exp")
	}
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	ctx := context.Background()
	if at, err := client.ExpireTime(ctx, prefix+"r:j1").Result(); err != nil || at != time.Duration(exp.Unix())*time.Second {
		t.Fatalf("the key expires at %v (%v), want %d", at, err, exp.Unix())
	}

	// An instance started later loads it from Redis before its first request.
	_, listC := testRevoker(t, addr, prefix)
	if !listC.revoked("j1", time.Now()) {
		t.Fatal("a later instance does not know j1")
	}

	// Garbage under the prefix and on the channel is counted, never a
	// revocation, and breaks nothing.
	client.Set(ctx, prefix+"r:bad", "soon", time.Hour)
	client.Publish(ctx, prefix+revokeChannel, "nope")
	_, listD := testRevoker(t, addr, prefix)
	if listD.revoked("bad", time.Now()) || !listD.revoked("j1", time.Now()) {
		t.Fatal("garbage in Redis")
	}

	if err := a.unrevokeShared("j1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return !listA.revoked("j1", time.Now()) && !listB.revoked("j1", time.Now()) && !listC.revoked("j1", time.Now())
	})
	if n, _ := client.Exists(ctx, prefix+"r:j1").Result(); n != 0 {
		t.Fatal("the DELETE left the key")
	}
}

// TestRedisRevocationsDown: with Redis unreachable, a write fails with a
// counted kind, the list keeps what it has, and waiting for the first
// load does not hold up a start.
func TestRedisRevocationsDown(t *testing.T) {
	t.Parallel()
	start := time.Now()
	b, list := testRevoker(t, "127.0.0.1:"+strconv.Itoa(freePort(t)), testPrefix(t))
	if time.Since(start) > time.Second {
		t.Fatalf("a start waited %v for an unreachable Redis", time.Since(start))
	}
	_ = list.revoke("known", time.Now().Add(time.Hour), time.Now())
	before := testutil.ToFloat64(sharedCacheErrorsTotal.WithLabelValues("connection"))
	if err := b.unrevokeShared("known"); sharedErrorKind(err) != "connection" {
		t.Fatalf("unrevoke: %v", err)
	}
	if err := b.revokeShared("other", time.Now().Add(time.Hour)); sharedErrorKind(err) != "connection" {
		t.Fatalf("revoke: %v", err)
	}
	if !list.revoked("known", time.Now()) {
		t.Fatal("a Redis error let a known revocation go")
	}
	if n := testutil.ToFloat64(sharedCacheErrorsTotal.WithLabelValues("connection")); n < before+2 {
		t.Fatalf("errors counted %v, want at least %v", n, before+2)
	}
}
