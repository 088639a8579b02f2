package jwtuser

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Revocations through the shared cache (issue #13): with shared_cache, the
// admin API's revocations live in Redis too, so a token revoked through one
// instance is refused by all.
//
// The request path never asks Redis: each instance keeps the process's
// list (revocation.go) in step instead, which keeps a request's check one
// atomic load and a map lookup, and leaves nothing for a Redis outage to
// turn into a pass.
//
//   - A POST writes <prefix>r:<jti> = <exp> expiring at exp (SET EXAT) and
//     publishes "<exp>\n<jti>" on <prefix>revoke, in one MULTI, to every
//     shared cache in use in this process; a DELETE deletes the key and
//     publishes "-\n<jti>". Every instance applies what it hears to its
//     list, within the publish's latency (milliseconds; the SPEC's bound is
//     1s).
//   - On every (re)subscription, first or after a lost connection, the
//     instance loads <prefix>r:* with SCAN, so a revocation posted while it
//     was starting or cut off is not missed. A load that fails is tried
//     again every second or so.
//   - Nothing is ever dropped from the local list because Redis lacks it:
//     a revocation posted to this instance while Redis was down, or lost
//     with a Redis that restarted without persistence, stays in force here
//     until its exp. A DELETE missed while cut off likewise leaves the token
//     refused (fail closed) until its exp or a DELETE on this instance.
//
// The list stays one per process: revocations heard from every shared
// cache in use, and those posted here, apply to every jwt_user handler of
// this Caddy, as the admin API's always have. A jti names one token, so a
// revocation heard from another prefix never refuses anyone else's.

// revokeChannel is the channel's name after the prefix.
const revokeChannel = "revoke"

// sharedRevoker is a shared cache backend that carries the admin API's
// revocations to the other instances. Unexported: a third party's
// SharedCache shares users only.
type sharedRevoker interface {
	revokeShared(jti string, exp time.Time) error
	unrevokeShared(jti string) error
}

// shareRevocation hands a revocation (op) to every shared cache in use in
// this process: nil when there is none, else how many took it and how
// many failed, for the admin API's answer. A failure is counted and logged
// (without the jti); the local list has the change either way.
func shareRevocation(op func(sharedRevoker) error) map[string]int {
	var revokers []sharedRevoker
	sharedCachePool.Range(func(_, v any) bool {
		if r, ok := v.(sharedRevoker); ok {
			revokers = append(revokers, r)
		}
		return true
	})
	if len(revokers) == 0 {
		return nil
	}
	out := map[string]int{"written": 0, "failed": 0}
	for _, r := range revokers {
		if err := op(r); err != nil {
			out["failed"]++
			continue
		}
		out["written"]++
	}
	return out
}

// revocationKey is where jti's revocation is kept.
func (b *redisBackend) revocationKey(jti string) string { return b.prefix + "r:" + jti }

// adminTimeout bounds an admin operation on Redis, as a purge's.
func (b *redisBackend) adminTimeout() time.Duration { return max(20*b.timeout, time.Second) }

// revokeShared writes jti's revocation until exp and publishes it.
func (b *redisBackend) revokeShared(jti string, exp time.Time) error {
	value := strconv.FormatInt(exp.Unix(), 10)
	return b.revocationFailed("not written", b.tx(func(ctx context.Context, p redis.Pipeliner) {
		p.SetArgs(ctx, b.revocationKey(jti), value, redis.SetArgs{ExpireAt: exp})
		p.Publish(ctx, b.prefix+revokeChannel, value+"\n"+jti)
	}))
}

// unrevokeShared deletes jti's revocation and publishes that.
func (b *redisBackend) unrevokeShared(jti string) error {
	return b.revocationFailed("not deleted", b.tx(func(ctx context.Context, p redis.Pipeliner) {
		p.Del(ctx, b.revocationKey(jti))
		p.Publish(ctx, b.prefix+revokeChannel, "-\n"+jti)
	}))
}

// tx runs the commands fn queues in one MULTI, so a revocation is never
// published without being kept, nor kept without being published.
func (b *redisBackend) tx(fn func(context.Context, redis.Pipeliner)) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.adminTimeout())
	defer cancel()
	_, err := b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		fn(ctx, p)
		return nil
	})
	return redisError(err)
}

// revocationFailed counts and logs err, if any, and passes it on.
func (b *redisBackend) revocationFailed(what string, err error) error {
	if err == nil {
		return nil
	}
	kind := sharedErrorKind(err)
	sharedCacheErrorsTotal.WithLabelValues(kind).Inc()
	b.logger.Error("shared cache: revocation "+what+"; in force on this instance only, other instances keep their lists",
		zap.String("kind", kind))
	return err
}

// applyRevocation applies a message heard on <prefix>revoke.
func (b *redisBackend) applyRevocation(payload string) {
	head, jti, ok := strings.Cut(payload, "\n")
	if ok && head == "-" {
		b.revocations.unrevoke(jti)
		return
	}
	exp, err := strconv.ParseInt(head, 10, 64)
	if !ok || err != nil || jti == "" {
		sharedCacheErrorsTotal.WithLabelValues(errSharedGarbage.kind).Inc()
		return
	}
	b.addRevocation(jti, exp, time.Now())
}

// addRevocation puts jti on the list until exp (Unix seconds).
func (b *redisBackend) addRevocation(jti string, exp int64, now time.Time) {
	if err := b.revocations.revoke(jti, time.Unix(exp, 0), now); err != nil {
		b.logger.Error("shared cache: a revocation heard from Redis does not fit the local list", zap.Error(err))
	}
}

// loadRevocations puts every revocation kept in Redis on the list,
// reporting whether it could read them all. Trouble is counted and logged
// once until a load succeeds; what the list held stays.
func (b *redisBackend) loadRevocations(ctx context.Context) bool {
	n, err := b.scanRevocations(ctx)
	if err != nil {
		kind := sharedErrorKind(err)
		sharedCacheErrorsTotal.WithLabelValues(kind).Inc()
		if !b.revocationsFailing.Swap(true) {
			b.logger.Error("shared cache: revocations not loaded from Redis; going on with the local list, retrying",
				zap.String("kind", kind))
		}
		return false
	}
	if b.revocationsFailing.Swap(false) {
		b.logger.Info("shared cache: revocations loaded from Redis again", zap.Int("revocations", n))
	} else {
		b.logger.Debug("shared cache: revocations loaded from Redis", zap.Int("revocations", n))
	}
	return true
}

// scanRevocations reads <prefix>r:* a thousand keys at a time, each round
// trip within the admin timeout, so a large list never needs one long one.
func (b *redisBackend) scanRevocations(ctx context.Context) (int, error) {
	match := globEscape(b.prefix+"r:") + "*"
	n, cursor := 0, uint64(0)
	for {
		keys, next, values, err := b.scanRound(ctx, cursor, match)
		if err != nil {
			return n, err
		}
		now := time.Now()
		for i, key := range keys {
			text, _ := values[i].(string) // nil: gone since the SCAN
			exp, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				if values[i] != nil {
					sharedCacheErrorsTotal.WithLabelValues(errSharedGarbage.kind).Inc()
				}
				continue
			}
			b.addRevocation(strings.TrimPrefix(key, b.prefix+"r:"), exp, now)
			n++
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// scanRound is one SCAN and the MGET of the keys it found.
func (b *redisBackend) scanRound(ctx context.Context, cursor uint64, match string) ([]string, uint64, []any, error) {
	ctx, cancel := context.WithTimeout(ctx, b.adminTimeout())
	defer cancel()
	keys, next, err := b.client.Scan(ctx, cursor, match, 1000).Result()
	if err != nil || len(keys) == 0 {
		return nil, next, nil, redisError(err)
	}
	values, err := b.client.MGet(ctx, keys...).Result()
	return keys, next, values, redisError(err)
}

// waitReady waits, at most the admin timeout, for the first load of the
// revocations, so a Caddy that starts after a revocation was posted
// refuses the token from its first request; with Redis down it goes on at
// once, with the local list.
func (b *redisBackend) waitReady() {
	select {
	case <-b.ready:
	case <-time.After(b.adminTimeout()):
	}
}

// Interface guard
var _ sharedRevoker = (*redisBackend)(nil)
