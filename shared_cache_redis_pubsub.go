package jwtuser

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// The Redis backend's subscription: purges on <prefix>purge reach the
// caching layers of this process, revocations on <prefix>revoke its
// revocation list.

func (b *redisBackend) subscribe(fn func(ns, identity string)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.listeners[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.listeners, id)
	}
}

func (b *redisBackend) dispatch(ns, identity string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fn := range b.listeners {
		fn(ns, identity)
	}
}

// listen hears purges and revocations until ctx ends. go-redis dials
// again and resubscribes after a lost connection; purges published
// meanwhile were missed, so every listener then drops all its entries,
// and revocations published meanwhile are loaded again from Redis, as
// they are on the first subscription.
func (b *redisBackend) listen(ctx context.Context) {
	purges, revocations := b.prefix+"purge", b.prefix+revokeChannel
	ps := b.client.Subscribe(ctx, purges, revocations)
	defer ps.Close()
	lost, unloaded := false, false
	for ctx.Err() == nil {
		if unloaded {
			// Messages arriving meanwhile wait on the connection and are
			// applied after the load, so a DELETE during it still wins.
			unloaded = !b.loadRevocations(ctx)
			b.readyOnce.Do(func() { close(b.ready) })
		}
		msg, err := ps.ReceiveTimeout(ctx, time.Second)
		if isTimeout(err) {
			err = ps.Ping(ctx) // a dead connection fails here and is replaced
		}
		if err != nil {
			b.readyOnce.Do(func() { close(b.ready) }) // Redis is down: do not hold up a load
			if ctx.Err() == nil && !lost {
				lost = true
				b.logger.Warn("shared cache: purge subscription lost; retrying", zap.String("kind", redisErrorKind(err)))
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == revocations {
				unloaded = true
			}
			if lost {
				lost = false
				b.logger.Info("shared cache: purge subscription back; dropping local entries that may have missed a purge")
				b.dispatch("", "")
			}
		case *redis.Message:
			if m.Channel == revocations {
				b.applyRevocation(m.Payload)
			} else if ns, identity, ok := strings.Cut(m.Payload, "\n"); ok {
				b.dispatch(ns, identity)
			}
		}
	}
}
