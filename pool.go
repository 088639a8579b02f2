package jwtuser

import "github.com/caddyserver/caddy/v2"

// What outlives one configuration lives in a caddy.UsagePool, keyed by its
// resolved settings, so a caddy reload neither rereads a users file, nor
// empties a cache, nor refetches a JWK Set; the last configuration to let
// go of an entry destructs it.
var (
	// storePool holds the file store's users and the caches in front of
	// remote stores; the admin API lists and purges its entries.
	storePool = caddy.NewUsagePool()
	// keySetPool holds fetched JWK Sets.
	keySetPool = caddy.NewUsagePool()
)

// poolRef is one configuration's hold on a pool entry.
type poolRef struct {
	pool *caddy.UsagePool
	key  string
}

// take loads the entry for key, constructing it when no configuration holds
// it yet.
func (r *poolRef) take(pool *caddy.UsagePool, key string, construct caddy.Constructor) (any, error) {
	v, _, err := pool.LoadOrNew(key, construct)
	if err != nil {
		return nil, err
	}
	r.pool, r.key = pool, key
	return v, nil
}

// release lets go of the entry; releasing twice is harmless.
func (r *poolRef) release() error {
	if r.key == "" {
		return nil
	}
	_, err := r.pool.Delete(r.key)
	r.key = ""
	return err
}
