package jwtuser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// parseUsersMap is parseUsers with the users as a map, for comparing.
func parseUsersMap(text, keyField string) (map[string]rawjson.Text, error) {
	ix, err := parseUsers(text, keyField)
	if err != nil {
		return nil, err
	}
	users := map[string]rawjson.Text{}
	ix.Each(func(id string, user rawjson.Text) bool { users[id] = user; return true })
	if len(users) != ix.Len() {
		return nil, fmt.Errorf("Each visits %d users, Len says %d", len(users), ix.Len())
	}
	return users, nil
}

func TestParseUsers(t *testing.T) {
	t.Parallel()
	object := `{
	"foo": {"username": "foo", "roles": ["admin"]},
	"b\u0061r": {"username": "bar", "roles": ["peasant"]}
}`
	users, err := parseUsersMap(object, "id")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users["foo"].String() != `{"username":"foo","roles":["admin"]}` || users["bar"].String() != `{"username":"bar","roles":["peasant"]}` {
		t.Fatalf("object form: %q", users)
	}
	array := `[{"id": "foo", "roles": ["admin"]}, {"id": 42, "roles": []}, {"id": 7.0}]`
	users, err = parseUsersMap(array, "id")
	if err != nil {
		t.Fatal(err)
	}
	if users["foo"].String() != `{"id":"foo","roles":["admin"]}` || users["42"].String() != `{"id":42,"roles":[]}` || users["7"].String() != `{"id":7.0}` {
		t.Fatalf("array form: %q", users)
	}
	users, err = parseUsersMap(`[{"email":"a@b.c","n":1}]`, "email")
	if err != nil || users["a@b.c"].String() != `{"email":"a@b.c","n":1}` {
		t.Fatalf("array with a key field: %q %v", users, err)
	}

	for _, c := range []struct{ text, want string }{
		{"{\n  \"foo\": {\"roles\": [\"admin\"],}\n}", "2:30: invalid character '}'"},
		{`{"foo": {}, "foo": {}}`, "1:20: a second user with the same identity"},
		{`{"foo": {"a": 1, "a": 2}}`, "1:18: duplicate object member name"},
		{`{"foo": ["admin"]}`, "1:9: a user must be a JSON object"},
		{`[{"id":"a"}, "b"]`, "1:14: a user must be a JSON object"},
		{`[{"id":"a"}, {"name":"b"}]`, `1:14: the user has no "id" field`},
		{`[{"id":"a"}, {"id":""}]`, `1:14: the user's "id" field is not a usable identity`},
		{`[{"id":"a"}, {"id":1.5}]`, `1:14: the user's "id" field is not a usable identity`},
		{"[{\"id\":\"a\"},\n {\"id\":\"a\"}]", `2:2: a second user with the same identity`},
		{`"users"`, "1:1: users must be a JSON object keyed by identity or an array"},
		{``, "1:1: unexpected end of JSON"},
		{`{"foo": {}`, "1:11: unexpected end of JSON"},
	} {
		_, err := parseUsers(c.text, "id")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

func TestUsersFileErrorNamesFileAndPosition(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users.json")
	writeFile(t, path, "{\n\t\"foo\": {\"roles\": [\"admin\"]}\n\t\"bar\": {}\n}")
	_, err := newFileStore(path, "", zap.NewNop())
	if err == nil || err.Error() != path+":3:2: invalid character '\"'" {
		t.Fatalf("got %v", err)
	}
	if _, err := newFileStore(filepath.Join(t.TempDir(), "none.json"), "", zap.NewNop()); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestUsersFileHotReload rewrites a real file under a running watcher. The
// watcher runs in a synctest bubble: its ticker is on the bubble's fake
// clock, so every poll comes at once and "ten more polls" is exact, while
// the file and its modification times are real.
func TestUsersFileHotReload(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testUsersFileHotReload)
}

func testUsersFileHotReload(t *testing.T) {
	poll := time.Duration(usersFilePoll.Load())
	dir := t.TempDir()
	path := filepath.Join(dir, "users.json")
	writeFile(t, path, `{"foo": {"roles": ["admin"]}}`)
	core, logs := observer.New(zapcore.InfoLevel)
	s, err := newFileStore(path, "", zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destruct()
	ctx := context.Background()

	lookup := func(id string) string {
		u, err := (&UsersFile{shared: s}).LoadUser(ctx, Token{&token{identity: id}})
		if err != nil {
			return err.Error()
		}
		return u.JSON
	}
	eventually(t, "the first users", func() bool { return lookup("foo") == `{"roles":["admin"]}` })

	// A good rewrite is swapped in.
	writeFile(t, path, `{"foo": {"roles": ["peasant"]}, "bar": {"roles": []}}`)
	eventually(t, "the rewrite", func() bool { return lookup("foo") == `{"roles":["peasant"]}` && lookup("bar") == `{"roles":[]}` })

	// A broken rewrite keeps the last good users and logs one error.
	writeFile(t, path, `{"foo": {"roles": ["admin"]`)
	eventually(t, "the error log", func() bool { return logs.FilterMessageSnippet("did not load").Len() == 1 })
	time.Sleep(10 * poll) // ten more polls, on the bubble's clock: still one error
	synctest.Wait()
	if n := logs.FilterMessageSnippet("did not load").Len(); n != 1 {
		t.Fatalf("%d error logs for one broken rewrite", n)
	}
	if lookup("foo") != `{"roles":["peasant"]}` {
		t.Fatalf("the last good users were lost: %s", lookup("foo"))
	}

	// A removed file keeps them too, with one error; recreated, it loads.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the removal log", func() bool { return logs.FilterMessageSnippet("unavailable").Len() == 1 })
	time.Sleep(10 * poll) // on the bubble's clock: still one error
	synctest.Wait()
	if n := logs.FilterMessageSnippet("unavailable").Len(); n != 1 || lookup("bar") != `{"roles":[]}` {
		t.Fatalf("after removal: %d logs, bar = %s", n, lookup("bar"))
	}
	writeFile(t, path, `[{"id": "baz", "roles": ["new"]}]`)
	eventually(t, "the recreated file", func() bool { return lookup("baz") == `{"id":"baz","roles":["new"]}` })
	if lookup("foo") != ErrUserNotFound.Error() {
		t.Fatalf("foo survived a file without it: %s", lookup("foo"))
	}

	// Replacing the file by rename (as editors and config managers do).
	tmp := filepath.Join(dir, "users.json.tmp")
	writeFile(t, tmp, `{"qux": {}}`)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the renamed file", func() bool { return lookup("qux") == `{}` })
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if strings.Contains(f.String, "roles") {
				t.Errorf("a user body reached the log: %v", e)
			}
		}
	}
}
