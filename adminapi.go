package jwtuser

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the `admin.api.jwt_user` module: on Caddy's admin endpoint it
// shows the user caches and purges them, so an operator who changed a
// user's roles need not wait for the TTL.
//
//	GET    /jwt-user/cache             entries and hit ratio, per store
//	DELETE /jwt-user/cache/<identity>  forget one identity (path-escaped)
//	DELETE /jwt-user/cache             forget everything
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.jwt_user",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

const adminCachePath = "/jwt-user/cache"

// Routes returns the admin routes.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: adminCachePath, Handler: caddy.AdminHandlerFunc(a.serveCache)},
		{Pattern: adminCachePath + "/", Handler: caddy.AdminHandlerFunc(a.serveCache)},
	}
}

// storeStats is one store in GET /jwt-user/cache.
type storeStats struct {
	Kind string `json:"kind"` // users_url or users_file
	// users_url: the store's origin; users_file: the file.
	Store           string   `json:"store"`
	Entries         int      `json:"entries"`
	NotFoundEntries int      `json:"not_found_entries"`
	Hits            int64    `json:"hits"`
	Misses          int64    `json:"misses"`
	StaleServed     int64    `json:"stale_served"`
	HitRatio        *float64 `json:"hit_ratio"` // null before the first lookup, and for a users_file
}

func (a adminAPI) serveCache(w http.ResponseWriter, r *http.Request) error {
	identity := ""
	escaped, one := strings.CutPrefix(r.URL.EscapedPath(), adminCachePath+"/")
	if one {
		identity = escaped
		var err error
		if identity, err = url.PathUnescape(identity); err != nil || identity == "" {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("the identity must be one path-escaped segment")}
		}
	}
	switch {
	case r.Method == http.MethodGet && !one:
		return writeJSON(w, map[string]any{"stores": cacheStats()})
	case r.Method == http.MethodDelete:
		// An empty identity purges every entry.
		return writeJSON(w, map[string]int{"purged": purgeCaches(identity)})
	}
	return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// cacheStats lists every store in use, in a stable order.
func cacheStats() []storeStats {
	stats := []storeStats{}
	storePool.Range(func(_, v any) bool {
		switch s := v.(type) {
		case *httpStore:
			st := storeStats{Kind: "users_url", Store: s.url.origin,
				Hits: s.hits.Load(), Misses: s.misses.Load(), StaleServed: s.stale.Load()}
			if s.cache != nil {
				st.Entries, st.NotFoundEntries = s.cache.len()
			}
			if total := st.Hits + st.Misses; total > 0 {
				ratio := float64(st.Hits) / float64(total)
				st.HitRatio = &ratio
			}
			stats = append(stats, st)
		case *fileStore:
			stats = append(stats, storeStats{Kind: "users_file", Store: s.path, Entries: len(*s.users.Load())})
		}
		return true
	})
	sort.Slice(stats, func(i, j int) bool {
		if stats[i].Kind != stats[j].Kind {
			return stats[i].Kind < stats[j].Kind
		}
		return stats[i].Store < stats[j].Store
	})
	return stats
}

// purgeCaches forgets identity in every users_url cache (all entries when
// identity is ""); a users_file has no cache to purge.
func purgeCaches(identity string) int {
	purged := 0
	storePool.Range(func(_, v any) bool {
		if s, ok := v.(*httpStore); ok && s.cache != nil {
			purged += s.cache.purge(identity)
		}
		return true
	})
	return purged
}

// Interface guard
var _ caddy.AdminRouter = adminAPI{}
