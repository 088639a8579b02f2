package jwtuser

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Every user of a loaded file is found by its identity, in both forms, and
// an identity not in the file is not.
func TestUsersFileEveryUserFound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var arr strings.Builder
	arr.WriteString("[\n")
	for i := range 3000 {
		if i > 0 {
			arr.WriteString(",\n")
		}
		fmt.Fprintf(&arr, `  {"id": %d, "roles": [ "r%d" ]}`, i*1000, i%5) // numbers, and white space to drop
	}
	arr.WriteString("\n]")
	for name, c := range map[string]struct {
		text string
		id   func(i int) string
		want func(i int) string
	}{
		"object": {usersText(3000), func(i int) string { return fmt.Sprintf("user%06d", i) }, func(i int) string {
			id := fmt.Sprintf("user%06d", i)
			return fmt.Sprintf(`{"username":%q,"email":"%s@example.com","roles":["reader","writer"],"level":%d,"address":{"city":"Paris"}}`, id, id, i%7)
		}},
		"array": {arr.String(), func(i int) string { return fmt.Sprint(i * 1000) }, func(i int) string {
			return fmt.Sprintf(`{"id":%d,"roles":["r%d"]}`, i*1000, i%5)
		}},
	} {
		path := filepath.Join(dir, name+".json")
		writeFile(t, path, c.text)
		s, err := newFileStore(path, "", zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Destruct() })
		store := &UsersFile{shared: s}
		for i := range 3000 {
			u, err := store.LoadUser(context.Background(), Token{&token{identity: c.id(i)}})
			if err != nil || u.JSON != c.want(i) || !u.hasText() {
				t.Fatalf("%s: user %s = %q, %v; want %q", name, c.id(i), u.JSON, err, c.want(i))
			}
		}
		for _, id := range []string{"user003000", "user00000", "1", "", "3000000"} {
			if _, err := store.LoadUser(context.Background(), Token{&token{identity: id}}); err != ErrUserNotFound {
				t.Errorf("%s: %q: %v, want ErrUserNotFound", name, id, err)
			}
		}
		if st := s.stats(); st.Entries != 3000 {
			t.Errorf("%s: stats say %d users", name, st.Entries)
		}
	}
}

// A duplicate identity deep in a file is refused with its own line:column,
// found after the whole file was read; so is one spelled differently.
func TestUsersFileDuplicatePosition(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString("{\n")
	for i := range 500 {
		fmt.Fprintf(&sb, "  \"u%d\": {\"n\": %d},\n", i, i)
	}
	sb.WriteString("  \"u17\": {}\n}")
	for text, want := range map[string]string{
		sb.String():                              "502:10: a second user with the same identity",
		`{"a": {}, "b": {}, "\u0061": {}}`:       "1:30: a second user with the same identity",
		`[{"id": 42}, {"id": 7}, {"id": 4.2e1}]`: "1:25: a second user with the same identity",
	} {
		if _, err := parseUsers(text, "id"); err == nil || err.Error() != want {
			t.Errorf("%.30q: %v, want %s", text, err, want)
		}
	}
}

// A reload lets the users it replaced go: once swapped, nothing holds the
// old index, and the heap holds one copy of the users, not two.
func TestUsersFileReloadReleasesOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	text := usersText(20000) // 2.7 MB
	writeFile(t, path, text)
	s, err := newFileStore(path, "", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destruct()
	released := make(chan struct{})
	runtime.AddCleanup(s.users.Load().users, func(ch chan struct{}) { close(ch) }, released)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	writeFile(t, path, strings.Replace(text, "Paris", "Lyon!", 1)) // same size
	if _, err := s.reload(); err != nil {                          // as the watcher does on a change
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		runtime.GC()
		select {
		case <-released:
		case <-time.After(10 * time.Millisecond):
			if i < 100 {
				continue
			}
			t.Fatal("the users a reload replaced are still held")
		}
		break
	}
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > int64(len(text))/2 {
		t.Errorf("the heap grew by %d bytes over a reload of a %d-byte file", grown, len(text))
	}
	if u, _ := s.users.Load().users.Lookup("user000000"); !strings.Contains(u.String(), "Lyon!") {
		t.Fatalf("the reload was not swapped in: %s", u)
	}
}
