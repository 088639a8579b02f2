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

func TestArenaAddString(t *testing.T) {
	t.Parallel()
	a := NewArena(64)
	src := strings.Repeat("identity", 3)
	got := a.AddString(src)
	if got != src {
		t.Fatalf("AddString(%q) = %q", src, got)
	}
	if rjPointsInto(got, src) {
		t.Error("AddString kept a pointer into its argument")
	}
	if a.AddString("") != "" {
		t.Error(`AddString("") is not ""`)
	}
	if len(a.block) != len(src) {
		t.Errorf("the block holds %d bytes after one string of %d and an empty one", len(a.block), len(src))
	}
}

func TestArenaAddCompact(t *testing.T) {
	t.Parallel()
	for i, s := range []string{
		`{"username": "foo", "roles": [ "admin" , "staff" ],
		  "address": {"city": "Paris"}, "note": "a  b\t c"}`,
		` {"a":1} `,
		`{}`,
		`[1, {"x": "y z"}, null]`,
		`"just a string"`,
		`  -12.5e3  `,
	} {
		t.Run(rjCaseName(i, s), func(t *testing.T) {
			t.Parallel()
			text := mustCheck(t, s)
			a := NewArena(len(s))
			got := a.AddCompact(text)
			if want := text.Compact(); got != want {
				t.Fatalf("AddCompact = %q, Compact gives %q", got, want)
			}
			if _, err := Check(got.String()); err != nil {
				t.Fatalf("AddCompact = %q, which Check refuses: %v", got, err)
			}
			if rjPointsInto(got.String(), s) {
				t.Error("AddCompact kept a pointer into its argument")
			}
		})
	}
	var a Arena // the zero Arena works too
	if got := a.AddCompact(Text{}); !got.IsZero() {
		t.Errorf("AddCompact of the zero Text = %q", got)
	}
	if got := a.AddCompact(mustCheck(t, ` [ 1 ] `)); got.String() != "[1]" || cap(a.block) != 4096 {
		t.Errorf("zero Arena: AddCompact = %q, block of %d bytes", got, cap(a.block))
	}
}

// Blocks are sized as the first one (or the copy, when larger; at least
// 4096 bytes), and what was handed out never changes when a block fills.
func TestArenaBlocks(t *testing.T) {
	t.Parallel()
	a := NewArena(10)
	if cap(a.block) != 10 {
		t.Fatalf("NewArena(10): a block of %d bytes", cap(a.block))
	}
	first := a.AddString("0123456789")
	if cap(a.block) != 10 || len(a.block) != 10 {
		t.Fatalf("a copy that fits began a new block (%d of %d)", len(a.block), cap(a.block))
	}
	second := a.AddString("x")
	if cap(a.block) != 4096 || len(a.block) != 1 {
		t.Fatalf("a full block of 10: the next holds %d, want 4096", cap(a.block))
	}
	big := strings.Repeat("y", 5000)
	third := a.AddString(big)
	if cap(a.block) != 5000 {
		t.Fatalf("a copy of 5000 bytes: a block of %d, want 5000", cap(a.block))
	}
	fourth := a.AddString("z")
	if cap(a.block) != 5000 {
		t.Fatalf("after a block of 5000: a block of %d, want 5000", cap(a.block))
	}
	if first != "0123456789" || second != "x" || third != big || fourth != "z" {
		t.Fatal("a string changed when a new block began")
	}

	// Many users across many blocks: each stays as it was added.
	a = NewArena(4096)
	var ids []string
	var users []Text
	for i := range 2000 {
		id := fmt.Sprintf("user%06d", i)
		text := mustCheck(t, fmt.Sprintf(`{ "id" : %q, "roles" : [ "r%d" ] }`, id, i%7))
		ids = append(ids, a.AddString(id))
		users = append(users, a.AddCompact(text))
	}
	for i := range ids {
		want := fmt.Sprintf(`{"id":"user%06d","roles":["r%d"]}`, i, i%7)
		if ids[i] != fmt.Sprintf("user%06d", i) || users[i].String() != want {
			t.Fatalf("entry %d became %q %q", i, ids[i], users[i])
		}
		if v, ok := users[i].Member("id"); !ok || v.Unquote() != ids[i] {
			t.Fatalf("entry %d: Member(id) = %q %v", i, v, ok)
		}
	}
}

// Copying costs no allocation once the block is there.
func TestArenaDoesNotAllocate(t *testing.T) {
	text := mustCheck(t, `{"username": "foo", "roles": ["admin"]}`)
	a := NewArena(1 << 20)
	if n := testing.AllocsPerRun(100, func() {
		_ = a.AddString("foo")
		_ = a.AddCompact(text)
	}); n != 0 {
		t.Errorf("%v allocations per copy, want 0", n)
	}
}
