package jwtuser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
)

// fakeShared is an in-process SharedCache for unit tests: a map, purges
// delivered at once, and an error or a value to answer instead.
type fakeShared struct {
	mu        sync.Mutex
	values    map[string][]byte
	ttls      map[string]time.Duration
	listeners []func(ns, identity string)
	fail      error
}

func newFakeShared() *fakeShared {
	return &fakeShared{values: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (f *fakeShared) Get(_ context.Context, ns, identity, key string) ([]byte, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, 0, f.fail
	}
	k := ns + "|" + identity + "|" + key
	v, ok := f.values[k]
	if !ok {
		return nil, 0, ErrSharedCacheMiss
	}
	return v, f.ttls[k], nil
}

func (f *fakeShared) Set(_ context.Context, ns, identity, key string, value []byte, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	k := ns + "|" + identity + "|" + key
	f.values[k], f.ttls[k] = value, ttl
	return nil
}

func (f *fakeShared) Purge(_ context.Context, ns, identity string) error {
	f.mu.Lock()
	for k := range f.values {
		if strings.HasPrefix(k, ns+"|"+identity+"|") || (identity == "" && strings.HasPrefix(k, ns+"|")) {
			delete(f.values, k)
		}
	}
	listeners := f.listeners
	f.mu.Unlock()
	for _, fn := range listeners {
		fn(ns, identity)
	}
	return nil
}

func (f *fakeShared) Subscribe(fn func(ns, identity string)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listeners = append(f.listeners, fn)
	return func() {}
}

// countingStore answers from a map and counts its calls.
type countingStore struct {
	users mapStore
	calls atomic.Int64
}

func (s *countingStore) LoadUser(ctx context.Context, tok Token) (User, error) {
	s.calls.Add(1)
	return s.users.LoadUser(ctx, tok)
}

// instance is one Caddy instance's caching layer over store, sharing
// backend: its own local entries (a distinct levelID keeps them apart in
// storePool), the same store namespace.
func instance(t *testing.T, store Store, backend SharedCache, name string) *cachedStore {
	t.Helper()
	settings := cacheSettings{ttl: time.Hour, notFoundTTL: time.Minute, size: 100}
	level := &sharedLevel{backend: backend, ns: sharedNamespace("test", t.Name()), logger: zap.NewNop()}
	cs, err := newCachedStore(testContext(t), store, "test", t.Name(), settings, level, t.Name()+name, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.release() })
	return cs
}

func mustLoad(t *testing.T, cs *cachedStore, identity string) (string, error) {
	t.Helper()
	u, err := cs.LoadUser(context.Background(), Token{tokenFor(identity)})
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("%s: %v", identity, err)
	}
	return u.JSON, err
}

func TestSharedCacheSecondLevel(t *testing.T) {
	t.Parallel()
	store := &countingStore{users: mapStore{"foo": `{ "id": "foo" }`}}
	backend := newFakeShared()
	a, b := instance(t, store, backend, "a"), instance(t, store, backend, "b")
	for _, cs := range []*cachedStore{a, b, a, b} {
		if u, _ := mustLoad(t, cs, "foo"); u != `{"id":"foo"}` {
			t.Fatalf("user %q", u)
		}
		if _, err := mustLoad(t, cs, "nobody"); !errors.Is(err, ErrUserNotFound) {
			t.Fatalf("nobody: %v", err)
		}
	}
	if n := store.calls.Load(); n != 2 {
		t.Fatalf("store asked %d times, want 2 (foo and nobody, once each)", n)
	}
	if ttl := backend.ttls[a.sharedLevel.ns+"|nobody|nobody"]; ttl != time.Minute {
		t.Fatalf("not-found TTL in the shared cache %v, want cache_not_found_ttl", ttl)
	}
	// A purge on b reaches a's local entries and the shared cache.
	if n := b.shared.purge("foo"); n != 1 {
		t.Fatalf("purged %d on b", n)
	}
	if f, _ := a.shared.entries.len(); f != 0 {
		t.Fatalf("a still holds %d users after b's purge", f)
	}
	mustLoad(t, a, "foo")
	if n := store.calls.Load(); n != 3 {
		t.Fatalf("store asked %d times after the purge, want 3", n)
	}
}

func TestSharedCacheTroubleNeverChangesAnswers(t *testing.T) {
	t.Parallel()
	cases := map[string]func(*fakeShared, string){
		"error":   func(f *fakeShared, _ string) { f.fail = &sharedFailure{kind: "connection"} },
		"timeout": func(f *fakeShared, _ string) { f.fail = context.DeadlineExceeded },
		"no ttl": func(f *fakeShared, ns string) {
			f.values[ns+"|foo|foo"], f.ttls[ns+"|foo|foo"] = []byte(`1f{"id":"evil"}`), -1
		},
	}
	for _, v := range []string{"1f[1]", `1f{"a":1,"a":2}`, "1x", "", `{"id":"evil"}`} {
		cases["garbage "+v] = func(f *fakeShared, ns string) {
			f.values[ns+"|foo|foo"], f.ttls[ns+"|foo|foo"] = []byte(v), time.Hour
		}
	}
	for name, trouble := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := &countingStore{users: mapStore{"foo": `{"id":"foo"}`}}
			backend := newFakeShared()
			cs := instance(t, store, backend, name)
			trouble(backend, cs.sharedLevel.ns)
			if u, _ := mustLoad(t, cs, "foo"); u != `{"id":"foo"}` {
				t.Fatalf("user %q, want the store's", u)
			}
			if n := store.calls.Load(); n != 1 {
				t.Fatalf("store asked %d times, want 1", n)
			}
		})
	}
}

func TestDecodeShared(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{
		`1f{"id":"foo"}`: `{"id":"foo"}`, `1f { "id" : 1 }`: `{"id":1}`, "1n": "not found",
		"1f": "garbage", "1f[]": "garbage", `1f{"id":}`: "garbage", "2n": "garbage", "": "garbage",
	} {
		e, err := decodeShared([]byte(value))
		got := "garbage"
		switch {
		case err != nil:
		case !e.found:
			got = "not found"
		default:
			got = e.user.String()
		}
		if got != want {
			t.Errorf("%q: got %s, want %s", value, got, want)
		}
	}
}

func TestSharedCacheCountsErrors(t *testing.T) {
	t.Parallel()
	before := testutil.ToFloat64(sharedCacheErrorsTotal.WithLabelValues("test_kind"))
	backend := newFakeShared()
	backend.fail = &sharedFailure{kind: "test_kind"}
	cs := instance(t, &countingStore{users: mapStore{}}, backend, "")
	mustLoad(t, cs, "x")
	// the lookup and the write of the store's answer
	if got := testutil.ToFloat64(sharedCacheErrorsTotal.WithLabelValues("test_kind")) - before; got != 2 {
		t.Fatalf("counted %v errors, want 2", got)
	}
	if fmt.Sprint(backend.fail) != "shared cache: test_kind" {
		t.Fatal(backend.fail)
	}
}
