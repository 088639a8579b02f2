package rawjson

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// rjPointsInto reports whether any byte of part lies in the memory of whole.
func rjPointsInto(part, whole string) bool {
	if part == "" || whole == "" {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(part)))
	w := uintptr(unsafe.Pointer(unsafe.StringData(whole)))
	return p < w+uintptr(len(whole)) && w < p+uintptr(len(part))
}

// buildIndex adds each key with its value; collide makes every key hash
// alike, so that each lookup walks past the others.
func buildIndex(t testing.TB, collide bool, keys, values []string) *Index {
	t.Helper()
	b := NewIndexBuilder(0) // a block too small: it grows
	b.ix.collide = collide
	for i, k := range keys {
		b.Add(k, mustCheck(t, values[i]))
	}
	ix, dup := b.Finish()
	if dup >= 0 {
		t.Fatalf("Finish found key %d added twice", dup)
	}
	return ix
}

// Every entry is found by its key, compact, and sharing nothing with what
// it was added from; a key not added is not found, with or without every
// hash colliding.
func TestIndexLookup(t *testing.T) {
	t.Parallel()
	var keys, values []string
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf("user%06d", i))
		values = append(values, fmt.Sprintf(`{ "id" : "user%06d", "roles" : [ "r%d" ] }`, i, i%7))
	}
	// Keys that only differ late, the empty key, one that is a prefix of
	// another, a long one, and a value whose source needs a two-byte length
	// but whose compact form does not.
	keys = append(keys, "", "user", "ü\u00e9", strings.Repeat("k", 300), "spaced")
	values = append(values, `{"empty":true}`, `{}`, `{"utf8":"é"}`, `[1,2]`, `{`+strings.Repeat(" ", 200)+`"a":1}`)
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprint("collide=", collide), func(t *testing.T) {
			t.Parallel()
			n := len(keys)
			if collide {
				n = 300 // every lookup walks the whole chain
			}
			ix := buildIndex(t, collide, keys[len(keys)-n:], values[len(values)-n:])
			if ix.Len() != n {
				t.Fatalf("Len = %d, want %d", ix.Len(), n)
			}
			for i := len(keys) - n; i < len(keys); i++ {
				got, ok := ix.Lookup(keys[i])
				want := mustCheck(t, values[i]).Compact()
				if !ok || got != want {
					t.Fatalf("Lookup(%q) = %q, %v; want %q", keys[i], got, ok, want)
				}
				if rjPointsInto(got.String(), values[i]) {
					t.Fatalf("Lookup(%q) points into the value it was added from", keys[i])
				}
			}
			for _, k := range []string{"user00000", "user0000000", "missing", "spaced "} {
				if got, ok := ix.Lookup(k); ok || !got.IsZero() {
					t.Errorf("Lookup(%q) = %q, %v; want nothing", k, got, ok)
				}
			}
			seen := 0
			ix.Each(func(k string, v Text) bool {
				if got, ok := ix.Lookup(k); !ok || got != v {
					t.Fatalf("Each gave %q = %q, Lookup %q", k, v, got)
				}
				seen++
				return true
			})
			if seen != n {
				t.Errorf("Each visited %d entries, want %d", seen, n)
			}
		})
	}
}

// A key added twice is found by Finish, which names its second Add, with
// or without colliding hashes.
func TestIndexDuplicate(t *testing.T) {
	t.Parallel()
	for _, collide := range []bool{false, true} {
		b := NewIndexBuilder(64)
		b.ix.collide = collide
		for _, k := range []string{"a", "b", "c", "b", "a"} {
			b.Add(k, mustCheck(t, `{"n":1}`))
		}
		if ix, dup := b.Finish(); ix != nil || dup != 3 {
			t.Errorf("collide=%v: Finish = %v, %d; want nil, 3 (the second b)", collide, ix, dup)
		}
	}
}

// CheckEach hands over what AddOuter copies as it is when it holds no white
// space, and compacts otherwise.
func TestIndexAddOuter(t *testing.T) {
	t.Parallel()
	text := `{"a": {"x": [1, 2]}, "b":{"y":"s p"}} `
	b := NewIndexBuilder(len(text))
	var got []Outer
	if _, err := CheckEach(text, func(o Outer) error {
		got = append(got, o)
		b.AddOuter(o.Name.Unquote(), o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].spaced || got[1].spaced || got[1].Offset != 25 || got[1].Value.String() != `{"y":"s p"}` {
		t.Fatalf("CheckEach handed over %+v", got)
	}
	ix, _ := b.Finish()
	if a, _ := ix.Lookup("a"); a.String() != `{"x":[1,2]}` {
		t.Errorf("a = %q", a)
	}
	if v, _ := ix.Lookup("b"); v.String() != `{"y":"s p"}` {
		t.Errorf("b = %q", v)
	}
}

// The zero Index and an empty one find nothing.
func TestIndexEmpty(t *testing.T) {
	t.Parallel()
	var zero Index
	if _, ok := zero.Lookup("a"); ok || zero.Len() != 0 {
		t.Error("the zero Index found something")
	}
	empty, _ := NewIndexBuilder(0).Finish()
	if _, ok := empty.Lookup(""); ok || empty.Len() != 0 {
		t.Error("an empty Index found something")
	}
}

// The table holds no pointer and is at most three quarters full; the
// records take no more than their sources.
func TestIndexSize(t *testing.T) {
	t.Parallel()
	var keys, values []string
	size := 0
	for i := range 1000 {
		keys = append(keys, fmt.Sprint(i))
		values = append(values, fmt.Sprintf(`{"id": %d}`, i))
		size += len(keys[i]) + len(values[i]) + 4 // as in {"<key>":<value>,}
	}
	b := NewIndexBuilder(size)
	for i := range keys {
		b.Add(keys[i], mustCheck(t, values[i]))
	}
	ix, _ := b.Finish()
	if len(ix.slots) != 2048 || cap(ix.data) != size || len(ix.data) > size {
		t.Errorf("1000 entries: %d slots, records %d of %d bytes; want 2048 slots and no growth", len(ix.slots), len(ix.data), cap(ix.data))
	}
	if ix.Bytes() != cap(ix.data)+8*2048 {
		t.Errorf("Bytes = %d", ix.Bytes())
	}
}

// A lookup costs no allocation, found or not.
func TestIndexLookupDoesNotAllocate(t *testing.T) {
	ix := buildIndex(t, false, []string{"foo", "bar"}, []string{`{"a":1}`, `{"b":2}`})
	var sink Text
	if n := testing.AllocsPerRun(100, func() {
		sink, _ = ix.Lookup("foo")
		sink, _ = ix.Lookup("missing")
	}); n != 0 {
		t.Errorf("%v allocations per lookup, want 0", n)
	}
	_ = sink
}
