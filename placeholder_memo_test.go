package jwtuser

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// memoState is a request state over a token that requests reuse, with its
// placeholders in a replacer.
func memoState(user string) (*requestState, *caddy.Replacer) {
	st := &requestState{tok: &token{payload: mustJSON(`{"sub":"foo","tenant":"acme","groups":["a","b"]}`), identity: "foo"},
		user: mustJSON(user)}
	st.tok.markReused()
	repl := caddy.NewReplacer()
	repl.Map(st.placeholder)
	return st, repl
}

// Not parallel: AllocsPerRun counts the whole process's allocations.
func TestPlaceholderMemo(t *testing.T) {
	st, repl := memoState(`{"username":"foo","roles":["admin","editor"],"level":3}`)
	keys := []string{"jwt.user.roles", "jwt.user.username", "jwt.user.level", "jwt.claims.tenant", "jwt.claims.groups", "jwt.user"}
	want := map[string]string{"jwt.user.roles": "admin,editor", "jwt.user.username": "foo", "jwt.user.level": "3",
		"jwt.claims.tenant": "acme", "jwt.claims.groups": "a,b", "jwt.user": `{"username":"foo","roles":["admin","editor"],"level":3}`}
	for range 3 {
		for _, k := range keys {
			if got, _ := repl.GetString(k); got != want[k] {
				t.Errorf("{%s} = %q, want %q", k, got, want[k])
			}
		}
	}
	m := st.tok.memo.Load()
	if m == nil || m.n != len(keys) {
		t.Fatalf("memo holds %v, want the %d placeholders read", m, len(keys))
	}

	// The expression matcher sees the list, not the text kept past its end.
	v, _ := repl.Get("jwt.user.roles")
	if !reflect.DeepEqual(v, stringList{"admin", "editor"}) || len(v.(stringList)) != 2 {
		t.Errorf("remembered roles are %#v", v)
	}

	// A remembered read costs nothing.
	if n := testing.AllocsPerRun(100, func() { _, _ = repl.GetString("jwt.user.roles") }); n != 0 {
		t.Errorf("a remembered {jwt.user.roles} allocates %v times", n)
	}

	// A new user (a reload, a store answer) replaces the values.
	st.user = mustJSON(`{"username":"foo","roles":["viewer"],"level":4}`)
	if got, _ := repl.GetString("jwt.user.roles"); got != "viewer" {
		t.Errorf("after the user changed, {jwt.user.roles} = %q, want viewer", got)
	}
	if got, _ := repl.GetString("jwt.user.level"); got != "4" {
		t.Errorf("after the user changed, {jwt.user.level} = %q, want 4", got)
	}
	if m := st.tok.memo.Load(); m.user.String() != st.user.String() || m.n != 2 {
		t.Errorf("the memo was not replaced for the new user: %q, %d values", m.user, m.n)
	}

	// Full: the rest is computed on each read, and still right.
	for i := range 2 * memoSize {
		st.user = mustJSON(`{"roles":["viewer"],"f` + itoa(int64(i)) + `":"x"}`)
		_, _ = repl.GetString("jwt.user.roles")
	}
	for i := range 2 * memoSize {
		k := "jwt.user.f" + itoa(int64(i))
		want := ""
		if i == 2*memoSize-1 {
			want = "x"
		}
		if got, _ := repl.GetString(k); got != want {
			t.Errorf("{%s} = %q, want %q", k, got, want)
		}
	}
	if m := st.tok.memo.Load(); m.n != memoSize {
		t.Errorf("memo holds %d values, want at most %d", m.n, memoSize)
	}
}

// A memo never points into the store's memory: a users file replaced by a
// reload must not stay alive because a cached token remembered a value.
func TestPlaceholderMemoOwnMemory(t *testing.T) {
	t.Parallel()
	block := strings.Repeat(" ", 300) + `{"username":"foo","roles":["admin","editor"],"address":{"city":"Paris"}}` + strings.Repeat(" ", 300)
	user, err := rawjson.Check(block)
	if err != nil {
		t.Fatal(err)
	}
	st, repl := memoState(`{}`)
	st.user = user
	for _, k := range []string{"jwt.user.roles", "jwt.user.username", "jwt.user.address", "jwt.user", "jwt.user.address.city"} {
		_, _ = repl.Get(k)
	}
	m := st.tok.memo.Load()
	if m == nil || m.n != 5 {
		t.Fatalf("memo: %+v", m)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(block)))
	inBlock := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return len(s) > 0 && p >= lo && p < lo+uintptr(len(block))
	}
	if inBlock(m.user.String()) {
		t.Error("the memo's user is the store's text, not a copy")
	}
	for i := range m.n {
		var strs []string
		switch v := m.values[i].(type) {
		case string:
			strs = []string{v}
		case stringList:
			strs = append(slices.Clone([]string(v)), v[:len(v)+1][len(v)])
		default:
			t.Fatalf("%s: %T", m.names[i], v)
		}
		for _, s := range strs {
			if inBlock(s) {
				t.Errorf("%s: %q points into the store's text", m.names[i], s)
			}
		}
	}
}

// A token that no request reused keeps no memo: under a rotation of tokens
// seen once it would be work and memory nothing reads back.
func TestPlaceholderMemoOnlyReused(t *testing.T) {
	t.Parallel()
	st := &requestState{tok: &token{payload: mustJSON(`{"sub":"foo"}`), identity: "foo"}, user: mustJSON(`{"roles":["a","b"]}`)}
	for range 3 {
		if v, _ := st.placeholder("jwt.user.roles"); caddy.ToString(v) != "a,b" {
			t.Fatalf("roles: %v", v)
		}
	}
	if st.tok.memo.Load() != nil {
		t.Error("a token no request reused has a memo")
	}

	// Nor does a user too large to copy per token.
	st.tok.markReused()
	st.user = mustJSON(`{"roles":["a","b"],"bio":"` + strings.Repeat("x", memoMaxBytes) + `"}`)
	for range 3 {
		if v, _ := st.placeholder("jwt.user.roles"); caddy.ToString(v) != "a,b" {
			t.Fatalf("roles: %v", v)
		}
	}
	if st.tok.memo.Load() != nil {
		t.Errorf("a user of %d bytes was copied into a memo", len(st.user.String()))
	}
}

// A memo stays within memoMaxBytes: a large value (a claim listing
// hundreds of groups) is worked out on every read, and the small ones
// beside it are still remembered.
func TestPlaceholderMemoBound(t *testing.T) {
	t.Parallel()
	groups := make([]string, 300)
	for i := range groups {
		groups[i] = `"group-` + itoa(int64(i)) + `"`
	}
	st := &requestState{tok: &token{payload: mustJSON(`{"sub":"foo","groups":[` + strings.Join(groups, ",") + `]}`), identity: "foo"},
		user: mustJSON(`{"roles":["a","b"]}`)}
	st.tok.markReused()
	for range 3 {
		g, _ := st.placeholder("jwt.claims.groups")
		r, _ := st.placeholder("jwt.user.roles")
		if l, ok := g.(stringList); !ok || len(l) != 300 || l[299] != "group-299" || caddy.ToString(r) != "a,b" {
			t.Fatalf("groups %T of %d, roles %v", g, len(l), r)
		}
	}
	m := st.tok.memo.Load()
	if m == nil || m.n != 1 || m.names[0] != "user.roles" {
		t.Fatalf("memo: %+v, want only user.roles", m)
	}
	if m.bytes > memoMaxBytes {
		t.Errorf("memo counts %d bytes, over %d", m.bytes, memoMaxBytes)
	}
}

// The text kept past a remembered list's end is used only while it is the
// list's join: a list appended to in place still reads as itself.
func TestStringListText(t *testing.T) {
	t.Parallel()
	l := withText(stringList{"admin", "editor"}).(stringList)
	if cap(l) != len(l)+1 || l.String() != "admin,editor" {
		t.Fatalf("withText: %q, cap %d", l.String(), cap(l))
	}
	// The elements are cut from the text, so checking the text reads no
	// other memory.
	text := l.String()
	for i, at := range []int{0, 6} {
		if unsafe.StringData(l[i]) != unsafe.StringData(text[at:]) {
			t.Errorf("element %d (%q) is not the text's bytes at %d", i, l[i], at)
		}
	}
	grown := append(l[:1:2], "x") // writes where the second element was
	_ = grown
	if got := l.String(); got != "admin,x" {
		t.Errorf("after an in-place write, String() = %q, want admin,x", got)
	}
	l2 := withText(stringList{"a", "b"}).(stringList)
	_ = append(l2, "intruder") // writes the slot past the end
	if got := l2.String(); got != "a,b" {
		t.Errorf("after an append, String() = %q, want a,b", got)
	}
	for _, c := range []struct {
		text string
		l    stringList
		want bool
	}{
		{"a,b", stringList{"a", "b"}, true},
		{"", stringList{}, true},
		{"", stringList{""}, true},
		{",", stringList{"", ""}, true},
		{"a,b,c", stringList{"a,b", "c"}, true},
		{"ab", stringList{"a", "b"}, false},
		{"a,b,", stringList{"a", "b"}, false},
		{"a", stringList{"a", "b"}, false},
	} {
		if got := isJoin(c.text, c.l); got != c.want {
			t.Errorf("isJoin(%q, %q) = %v", c.text, c.l, got)
		}
	}
}

// Requests sharing a token read and fill its memo at once (run with -race).
func TestPlaceholderMemoConcurrent(t *testing.T) {
	t.Parallel()
	tok := &token{payload: mustJSON(`{"sub":"foo"}`), identity: "foo"}
	tok.markReused()
	users := []string{`{"roles":["a","b"],"name":"x"}`, `{"roles":["c"],"name":"y"}`}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			user := users[g%2]
			st := &requestState{tok: tok, user: mustJSON(user)}
			wantRoles, wantName := "a,b", "x"
			if g%2 == 1 {
				wantRoles, wantName = "c", "y"
			}
			for range 500 {
				r, _ := st.placeholder("jwt.user.roles")
				n, _ := st.placeholder("jwt.user.name")
				if caddy.ToString(r) != wantRoles || caddy.ToString(n) != wantName {
					t.Errorf("user %s: roles %v name %v", user, r, n)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A token whose memo holds its user from the users file's current load is
// answered from the memo, without a lookup; a new load of the file is
// looked up again, and once the user proves the same, remembered for it.
func TestReusedTokenSkipsUsersLookup(t *testing.T) {
	t.Parallel()
	file := provisionedUsersFile(t, `{"foo":{"name":"Foo"}}`)
	h := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret)}, file)
	tok := "Bearer " + hs256(t, claimsFor("foo"))
	request := func(step string, wantCode int, wantSeen string) {
		t.Helper()
		if w, seen := serve(t, []Handler{h}, tok); w.Code != wantCode || seen != wantSeen {
			t.Fatalf("%s: %d %q, next saw %q; want %d, %q", step, w.Code, w.Body, seen, wantCode, wantSeen)
		}
	}
	const served = "reached foo Foo foo"
	for i := range 3 { // verified and cached; reused, remembered; read back
		request("request "+itoa(int64(i+1)), 200, served)
	}
	store := file.shared
	noUsers := mustUsers(t, "{}")
	// The same load's number over no users: a lookup would fail.
	loaded := store.users.Load()
	store.users.Store(&usersLoad{users: noUsers, serial: loaded.serial})
	request("same load, users hidden", 200, served)

	// A new load with the same user: looked up, then remembered for it.
	store.users.Store(&usersLoad{users: loaded.users, serial: usersLoads.Add(1)})
	request("new load", 200, served)
	store.users.Store(&usersLoad{users: noUsers, serial: store.users.Load().serial})
	request("new load, users hidden", 200, served)

	// A new load that changes the user: the new user, remembered for it.
	store.users.Store(&usersLoad{users: mustUsers(t, `{"foo":{"name":"Bar"}}`), serial: usersLoads.Add(1)})
	request("user changed", 200, "reached foo Bar foo")
	request("user changed, again", 200, "reached foo Bar foo")
	store.users.Store(&usersLoad{users: noUsers, serial: store.users.Load().serial})
	request("user changed, users hidden", 200, "reached foo Bar foo")

	// A new load without the user is looked up, and refuses.
	store.users.Store(&usersLoad{users: noUsers, serial: usersLoads.Add(1)})
	request("user gone", 401, "")
}

// Requests on one reused token race two reloads in a row; once they are
// done, a request sees the user of the load that is current. A serial not
// read together with the users it names (or a memo stamped with a load it
// was not looked up in) makes a memo claim a load whose user differs:
// the race shows it within a few hundred rounds (run with -race too).
func TestReusedTokenUnderReloads(t *testing.T) {
	t.Parallel()
	file := provisionedUsersFile(t, `{"foo":{"name":"A"}}`)
	h := provisionedHandler(t, Handler{KeysRaw: secretKeys(testSecret)}, file)
	tok := "Bearer " + hs256(t, claimsFor("foo"))
	users := map[string]*rawjson.Index{"A": mustUsers(t, `{"foo":{"name":"A"}}`),
		"B": mustUsers(t, `{"foo":{"name":"B"}}`), "none": mustUsers(t, "{}")}
	want := map[string]string{"A": "reached foo A foo", "B": "reached foo B foo", "none": ""}
	reload := func(name string) { file.shared.users.Store(&usersLoad{users: users[name], serial: usersLoads.Add(1)}) }
	for range 3 { // reused, remembered
		serve(t, []Handler{h}, tok)
	}
	order := []string{"A", "B", "none", "B", "A", "none"}
	for i := range 600 {
		between, last := order[i%len(order)], order[(i+1)%len(order)]
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for range 20 {
					serve(t, []Handler{h}, tok)
				}
			})
		}
		runtime.Gosched()
		reload(between)
		for k := 0; k < 500*(i%11); k++ { // reloads at varying distances
			_ = k
		}
		reload(last)
		wg.Wait()
		for j := range 2 {
			if _, seen := serve(t, []Handler{h}, tok); seen != want[last] {
				t.Fatalf("round %d, request %d after the reloads: saw %q, want %q", i, j, seen, want[last])
			}
		}
	}
}
