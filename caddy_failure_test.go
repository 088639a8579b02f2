package jwtuser

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Failures under load through a real Caddy: a users file broken every way,
// a user service failing every way, while requests run. Real-Caddy tests
// never run in parallel: see caddy_helpers_test.go.

// TestUsersFileFailuresUnderLoad breaks the users file every way an operator
// or a disk can while requests run: they only ever see the last good users.
func TestUsersFileFailuresUnderLoad(t *testing.T) {
	defer setPoll(5 * time.Millisecond)()
	dir := t.TempDir()
	path := filepath.Join(dir, "users.json")
	good := []string{
		`{"foo": {"roles": ["admin"]}, "bar": {"roles": ["v1"]}}`,
		`[{"id": "foo", "roles": ["admin"]}, {"id": "bar", "roles": ["v2"]}]`,
	}
	writeFile(t, path, good[0])
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_file %s
	}
	respond "{jwt.user.roles}"
}`, httpPort, testSecret, path))
	foo, bar := bearer(hs256(t, claimsFor("foo"))), bearer(hs256(t, claimsFor("bar")))

	stop := make(chan struct{})
	var bad atomic.Int64
	var firstBad atomic.Value
	done := make(chan int64)
	go func() {
		var i atomic.Int64
		done <- hammer(t, 8, stop, func() reply {
			if i.Add(1)%2 == 0 {
				return get(t, tc, "GET", "/", foo)
			}
			return get(t, tc, "GET", "/", bar)
		}, func(r reply) {
			if r.status != 200 || (r.body != "admin" && r.body != "v1" && r.body != "v2") {
				if bad.Add(1) == 1 {
					firstBad.Store(fmt.Sprintf("%d %q", r.status, r.body))
				}
			}
		})
	}()

	steps := []struct {
		name string
		do   func()
	}{
		{"truncated", func() { writeFile(t, path, good[0][:20]) }},
		{"invalid JSON", func() { writeFile(t, path, `{"foo": {"roles": ["admin"]}, }`) }},
		{"a user that is not an object", func() { writeFile(t, path, `{"foo": ["admin"], "bar": {}}`) }},
		{"emptied", func() { writeFile(t, path, "") }},
		{"removed", func() { _ = os.Remove(path) }},
		{"recreated", func() { writeFile(t, path, good[1]) }},
		{"replaced by a directory", func() { _ = os.Remove(path); _ = os.Mkdir(path, 0o755) }},
		{"back", func() { _ = os.Remove(path); writeFile(t, path, good[0]) }},
		{"rapid rewrites", func() {
			for i := 0; i < 200; i++ {
				writeFile(t, path, good[i%2])
				if i%7 == 0 {
					writeFile(t, path, good[0][:i%len(good[0])])
				}
			}
			writeFile(t, path, good[1])
		}},
	}
	for _, step := range steps {
		step.do()
		// Real time: the real Caddy's watcher polls the real file every
		// 5ms, and each broken state is to be served under load for
		// several polls; no poll count is exposed to wait on.
		time.Sleep(60 * time.Millisecond)
	}
	eventually(t, "the final good file", func() bool { return get(t, tc, "GET", "/", bar).body == "v2" })
	close(stop)
	n := <-done
	t.Logf("%d requests during %d file failures", n, len(steps))
	if b := bad.Load(); b > 0 {
		t.Fatalf("%d of %d requests saw something else than the last good users; first: %v", b, n, firstBad.Load())
	}
	if n < 100 {
		t.Fatalf("only %d requests ran", n)
	}
}

// TestUserServiceFailuresUnderLoad makes the user service fail every way a
// service can while requests run: each sees its own user (fresh or stale),
// the store-error response, or a load failure for the unknown identity;
// never another user, never a 500, never the next handler on a failure.
func TestUserServiceFailuresUnderLoad(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	svc := newUserService(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/users/")
		switch mode.Load() {
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(300 * time.Millisecond):
			}
		case "garbage":
			_, _ = w.Write([]byte(`{"id":"` + id))
			return
		case "array":
			_, _ = w.Write([]byte(`[{"id":"` + id + `"}]`))
			return
		case "reset":
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
			return
		case "500":
			w.WriteHeader(500)
			return
		}
		if id == "ghost" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprintf(w, `{"id":%q}`, id)
	})
	tc := startCaddy(t, fmt.Sprintf(`
:%d {
	jwt_user {
		secret %s
		users_url %s/users/{jwt.identity} {
			timeout 100ms
		}
		cache_ttl 20ms
		cache_not_found_ttl 20ms
		stale_if_error 150ms
	}
	respond "user {jwt.user.id}"
}`, httpPort, testSecret, svc.URL))
	ids := []string{"u1", "u2", "u3", "u4", "ghost"}
	tokens := map[string]string{}
	for _, id := range ids {
		tokens[id] = bearer(hs256(t, claimsFor(id)))
	}
	stop := make(chan struct{})
	var bad atomic.Int64
	var firstBad atomic.Value
	var served, storeErrors atomic.Int64
	done := make(chan int64)
	go func() {
		var i atomic.Int64
		done <- hammer(t, 8, stop, func() reply {
			id := ids[i.Add(1)%int64(len(ids))]
			r := get(t, tc, "GET", "/", tokens[id])
			r.header.Set("X-Test-Id", id)
			return r
		}, func(r reply) {
			id := r.header.Get("X-Test-Id")
			ok := false
			switch {
			case r.status == 200:
				ok = id != "ghost" && r.body == "user "+id
				served.Add(1)
			case r.status == 503:
				ok = r.body == `{"msg":"User store unavailable"}`
				storeErrors.Add(1)
			case r.status == 401:
				ok = id == "ghost" && r.body == `{"msg":"Error loading the user ghost"}`
			}
			if !ok && bad.Add(1) == 1 {
				firstBad.Store(fmt.Sprintf("%s: %d %q", id, r.status, r.body))
			}
		})
	}()
	for _, m := range []string{"ok", "slow", "ok", "garbage", "array", "ok", "reset", "500", "ok"} {
		mode.Store(m)
		// Real time: each mode runs under load for longer than the real
		// Caddy's cache_ttl and stale_if_error, which run on the real
		// clock, against a real user service.
		time.Sleep(250 * time.Millisecond)
	}
	close(stop)
	n := <-done
	t.Logf("%d requests: %d served, %d store errors", n, served.Load(), storeErrors.Load())
	if b := bad.Load(); b > 0 {
		t.Fatalf("%d of %d requests got a wrong answer; first: %v", b, n, firstBad.Load())
	}
	if served.Load() == 0 || storeErrors.Load() == 0 {
		t.Fatal("the run did not cover both served and refused requests")
	}
}
