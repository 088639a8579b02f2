package jwtuser

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

func TestLRUOrder(t *testing.T) {
	t.Parallel()
	l := newLRU(3)
	for _, k := range []string{"a", "b", "c"} {
		l.put(cacheEntry{key: k, identity: k})
	}
	l.get("a") // a is now the most recently used; b the least
	l.put(cacheEntry{key: "d", identity: "d"})
	if l.get("b") != nil {
		t.Error("b, the least recently used, was kept")
	}
	for _, k := range []string{"a", "c", "d"} {
		if e := l.get(k); e == nil || e.key != k {
			t.Errorf("%s: got %v", k, e)
		}
	}
	// A removed entry's slot is reused: the slice never outgrows the size.
	l.remove("c")
	l.put(cacheEntry{key: "e", identity: "e"})
	if len(l.slots) != 3 || len(l.index) != 3 {
		t.Errorf("%d slots and %d entries, want 3 and 3", len(l.slots), len(l.index))
	}
	// An update keeps one entry and makes it the most recent.
	l.put(cacheEntry{key: "a", identity: "a", found: true})
	l.put(cacheEntry{key: "f", identity: "f"})
	if e := l.get("a"); e == nil || !e.found {
		t.Errorf("a after its update: %v", e)
	}
	if l.get("d") != nil {
		t.Error("d should have gone before the updated a")
	}
}

func TestLRURemoveIf(t *testing.T) {
	t.Parallel()
	l := newLRU(10)
	// One identity under two issuer blocks, and another.
	l.put(cacheEntry{key: "iss1\x00foo", identity: "foo"})
	l.put(cacheEntry{key: "iss2\x00foo", identity: "foo"})
	l.put(cacheEntry{key: "bar", identity: "bar"})
	if n := l.removeIf("foo"); n != 2 {
		t.Fatalf("removed %d, want 2", n)
	}
	if l.get("bar") == nil || len(l.index) != 1 {
		t.Fatalf("bar should be all that is left: %d entries", len(l.index))
	}
	if n := l.removeIf(""); n != 1 || len(l.index) != 0 || l.front != -1 || l.back != -1 {
		t.Fatalf("removed %d; %d entries left, front %d back %d", n, len(l.index), l.front, l.back)
	}
	l.put(cacheEntry{key: "baz", identity: "baz"})
	if l.get("baz") == nil {
		t.Fatal("an emptied cache takes entries again")
	}
}

// TestUserCacheObjects: the entries of a full cache are not objects of
// their own, so a collection with 100,000 cached users marks their strings
// and a handful of blocks, not 200,000 more objects.
func TestUserCacheObjects(t *testing.T) {
	const n = 100_000
	keys := make([]string, n)
	users := make([]rawjson.Text, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user%06d", i)
		users[i] = mustJSON(`{"id":"` + keys[i] + `"}`)
	}
	c := newUserCache(n, 3600e9, 10e9, 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, k := range keys {
		c.putFound(k, k, users[i], 3600e9)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if found, _ := c.len(); found != n {
		t.Fatalf("%d entries, want %d", found, n)
	}
	objects := int64(after.HeapObjects) - int64(before.HeapObjects)
	t.Logf("%d heap objects for %d entries", objects, n)
	if objects > n/10 {
		t.Errorf("filling the cache added %d heap objects for %d entries", objects, n)
	}
	runtime.KeepAlive(c)
}
