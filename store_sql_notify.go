package jwtuser

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// Backoff between attempts to (re)establish the LISTEN connection.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 30 * time.Second
)

// takeCachePurge receives the purge of the cache in front of the store.
func (s *UsersSQL) takeCachePurge(purge func(identity string) int) { s.live.purge.Store(&purge) }

// purgeCached drops identity's cache entries ("" drops every entry). A
// notification before the caching layer is set up has nothing to purge.
func (s *UsersSQL) purgeCached(identity string) {
	if p := s.live.purge.Load(); p != nil {
		(*p)(identity)
	}
}

// listen keeps one connection LISTENing on the Notify channel until ctx
// ends, and purges the cache on each notification. A lost connection is
// re-established with backoff; once it is, every entry is purged, since
// notifications sent in the gap are lost.
func (s *UsersSQL) listen(ctx context.Context) {
	defer s.live.stopped.Done()
	backoff := listenMinBackoff
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := s.listenOnce(ctx, attempt > 0)
		s.live.listenOK.Store(false)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff = listenMinBackoff // it was up: start again quickly
		}
		s.logger.Warn("user database LISTEN connection lost; reconnecting",
			zap.String("store", s.target.describe), zap.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce connects, LISTENs and purges until the connection fails. It
// reports nil when the connection had been up.
func (s *UsersSQL) listenOnce(ctx context.Context, again bool) error {
	cfg := s.target.pg.Copy()
	cfg.ConnectTimeout = s.timeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.Notify}.Sanitize()); err != nil {
		return err
	}
	s.live.listenOK.Store(true)
	if again {
		s.purgeCached("")
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return nil
		}
		s.purgeCached(n.Payload)
	}
}
