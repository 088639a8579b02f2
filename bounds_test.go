package jwtuser

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowStoreBoundsLoads: a store that never answers cannot collect more
// than maxConcurrentLoads loads in flight; the rest fail fast.
func TestSlowStoreBoundsLoads(t *testing.T) {
	// Serial: it counts the process's goroutines, which parallel tests change.
	release := make(chan struct{})
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		jsonUser(w, r)
	})
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, timeout: 30 * time.Second})
	before := runtime.NumGoroutine()
	const n = 3 * maxConcurrentLoads
	var overloaded atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.lookup(context.Background(), tokenFor("id"+itoa(int64(i))))
			if err == errStoreOverloaded {
				overloaded.Add(1)
			}
		}()
	}
	eventually(t, "the excess to fail fast", func() bool { return overloaded.Load() == n-maxConcurrentLoads })
	if c := svc.calls.Load(); c > maxConcurrentLoads {
		t.Fatalf("%d loads reached the slow store, bound %d", c, maxConcurrentLoads)
	}
	// Per load in flight: its waiter, the load, and in this process the
	// service's handler and the connection's reader and writer.
	if g := runtime.NumGoroutine() - before; g > 5*maxConcurrentLoads+64 {
		t.Fatalf("%d goroutines for %d loads in flight", g, maxConcurrentLoads)
	}
	close(release)
	wg.Wait()
}

// TestFloodsStayBounded pushes tens of thousands of distinct valid tokens for
// unknown identities, and of distinct invalid tokens: every cache stays
// within its bound.
func TestFloodsStayBounded(t *testing.T) {
	t.Parallel()
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	s, _ := newTestHTTPStore(t, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Minute, notFoundTTL: time.Hour, size: 1000})
	h := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret)}, s)
	const flood = 20000
	for i := 0; i < flood; i++ {
		w, _ := serve(t, []Handler{h}, "Bearer "+hs256(t, claimsFor(fmt.Sprintf("ghost-%d", i))))
		if w.Code != 401 {
			t.Fatalf("ghost %d: %d", i, w.Code)
		}
		_, _ = serve(t, []Handler{h}, fmt.Sprintf("Bearer e30.eyJzdWIiOiJ4In0.%d", i))
	}
	found, notFound := s.cache.len()
	if found != 0 || notFound > 1000/notFoundShare {
		t.Fatalf("user cache: %d found, %d not-found entries after %d unknown identities", found, notFound, flood)
	}
	if n := h.verifier.cache.len(); n > defaultTokenCacheEntries {
		t.Fatalf("token cache: %d entries, bound %d", n, defaultTokenCacheEntries)
	}
	if n := h.verifier.cache.len(); n == 0 {
		t.Fatal("the token cache was never used")
	}
}
