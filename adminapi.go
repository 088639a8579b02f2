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
//	                                   ("stores"), and of each verified-
//	                                   token cache ("token_caches")
//	DELETE /jwt-user/cache/<identity>  forget one identity (path-escaped)
//	DELETE /jwt-user/cache             forget everything
//
// and the revoked tokens (adminapi_revocations.go).
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
		{Pattern: adminRevocationsPath, Handler: caddy.AdminHandlerFunc(a.serveRevocations)},
		{Pattern: adminRevocationsPath + "/", Handler: caddy.AdminHandlerFunc(a.serveRevocations)},
	}
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
		return writeJSON(w, map[string]any{"stores": cacheStats(), "token_caches": tokenCacheStats()})
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

// cacheStats lists every store in use that reports stats, in a stable
// order.
func cacheStats() []StoreStats {
	stats := []StoreStats{}
	storePool.Range(func(_, v any) bool {
		if s, ok := v.(statsReporter); ok {
			stats = append(stats, s.stats())
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

// purgeCaches forgets identity in every cache (all entries when identity is
// ""); an in-memory store has no cache to purge.
func purgeCaches(identity string) int {
	purged := 0
	storePool.Range(func(_, v any) bool {
		if p, ok := v.(purger); ok {
			purged += p.purge(identity)
		}
		return true
	})
	return purged
}

// Interface guard
var _ caddy.AdminRouter = adminAPI{}
