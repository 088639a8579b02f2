package jwtuser

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// sqlKind is the store-error kind of err ("" for none, "not_found").
func sqlKind(err error) string {
	var f *storeFailure
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUserNotFound):
		return "not_found"
	case errors.As(err, &f):
		return f.kind
	}
	return "other: " + err.Error()
}

// loadJSON asks the store directly and compacts the answer.
func loadJSON(s Store, tok *token) (string, error) {
	u, err := s.LoadUser(context.Background(), Token{tok})
	if err != nil {
		return "", err
	}
	text, err := mustCheck(u.JSON)
	return text, err
}

func mustCheck(s string) (string, error) {
	defer func() { _ = recover() }()
	return mustJSON(s).Compact().String(), nil
}

// forEachSQL runs test, in parallel, on each database this run reaches.
func forEachSQL(t *testing.T, test func(t *testing.T, f *sqlFixture)) {
	t.Helper()
	for _, f := range sqlFixtures(t) {
		t.Run(f.driver, func(t *testing.T) {
			t.Parallel()
			test(t, f)
		})
	}
}

func TestSQLStoreOutcomes(t *testing.T) {
	t.Parallel()
	forEachSQL(t, func(t *testing.T, f *sqlFixture) {
		byID := f.mustStore(t, f.jsonQuery(), nil)
		got, err := loadJSON(byID, tokenFor("foo"))
		if want := `{"username":"foo","roles":["admin"]}`; err != nil || got != want {
			t.Errorf("foo: %q %v, want %s", got, err, want)
		}
		if _, err := loadJSON(byID, tokenFor("nobody")); !errors.Is(err, ErrUserNotFound) {
			t.Errorf("nobody: %v", err)
		}
		byTeam := f.mustStore(t, "SELECT username FROM "+f.table+" WHERE team = {jwt.identity}", nil)
		if got, err := loadJSON(byTeam, tokenFor("solo")); err != nil || got != `{"username":"foo"}` {
			t.Errorf("one column, not JSON: %q %v", got, err)
		}
		if _, err := loadJSON(byTeam, tokenFor("twins")); sqlKind(err) != "too_many_rows" {
			t.Errorf("two rows: %v", err)
		}
		bytes := f.mustStore(t, "SELECT username, avatar FROM "+f.table+" WHERE id = {jwt.identity}", nil)
		if _, err := loadJSON(bytes, tokenFor("foo")); sqlKind(err) != "type" || !strings.Contains(err.Error(), "bytes") || strings.Contains(err.Error(), "foo") {
			t.Errorf("bytes: %v", err)
		}
		if nan, ok := map[string]string{"postgres": "'NaN'::numeric", "sqlite": "9e999"}[f.driver]; ok {
			s := f.mustStore(t, "SELECT "+nan+" AS x FROM "+f.table+" WHERE id = {jwt.identity}", nil)
			if _, err := loadJSON(s, tokenFor("foo")); sqlKind(err) != "type" || !strings.Contains(err.Error(), "NaN") {
				t.Errorf("NaN or infinity: %v", err)
			}
		}
	})
}

// TestSQLStoreColumns maps several columns to fields: NULL, numbers kept
// exact, PostgreSQL arrays, json/jsonb and numeric.
func TestSQLStoreColumns(t *testing.T) {
	t.Parallel()
	forEachSQL(t, func(t *testing.T, f *sqlFixture) {
		cols, want := "username, nick, big, ratio", `{"username":"foo","nick":null,"big":9007199254740993,"ratio":0.1`
		switch f.driver {
		case "postgres":
			cols += ", tags, profile, level" // jsonb orders keys its own way
			want += `,"tags":["a","b c",null],"profile":{"n":12345678901234567890,"city":"Paris"},"level":12345678901234567890.5`
		case "mysql":
			cols += ", level"
			want += `,"level":12345678901234567890.5`
		}
		s := f.mustStore(t, "SELECT "+cols+" FROM "+f.table+" WHERE id = {jwt.identity}", nil)
		if got, err := loadJSON(s, tokenFor("foo")); err != nil || got != want+"}" {
			t.Errorf("got %s %v\nwant %s}", got, err, want)
		}
	})
}

// TestSQLStoreHostileIdentities: identities that would break a query built
// by splicing text find nothing and change nothing.
func TestSQLStoreHostileIdentities(t *testing.T) {
	t.Parallel()
	forEachSQL(t, func(t *testing.T, f *sqlFixture) {
		s := f.mustStore(t, f.jsonQuery(), nil)
		claims := f.mustStore(t, "SELECT username FROM "+f.table+" WHERE id = {jwt.identity} AND team = {jwt.claims.tenant}", nil)
		for _, id := range []string{`' OR '1'='1`, `foo' --`, `;DROP TABLE ` + f.table + `;--`, "foo\x00", strings.Repeat("x", 10000), "fôö 用户 🚀", `"foo"`, `\'`} {
			if _, err := loadJSON(s, &token{identity: id, payload: noClaims}); !errors.Is(err, ErrUserNotFound) && sqlKind(err) != "query" {
				t.Errorf("%.40q: %v", id, err)
			}
			tok := tokenFor("foo")
			tok.payload = mustJSON(`{"tenant":` + jsonString(id) + `}`)
			if _, err := loadJSON(claims, tok); !errors.Is(err, ErrUserNotFound) && sqlKind(err) != "query" {
				t.Errorf("claim %.40q: %v", id, err)
			}
		}
		if n := f.count(t); n != 3 {
			t.Errorf("the table holds %d rows, want 3", n)
		}
	})
}

func TestSQLStoreCacheKey(t *testing.T) {
	t.Parallel()
	f := sqliteFixture(t)
	byID := f.mustStore(t, f.jsonQuery(), nil)
	if k := byID.CacheKey(Token{tokenFor("foo")}); k != "foo" {
		t.Errorf("identity only: %q", k)
	}
	s := f.mustStore(t, "SELECT username FROM "+f.table+" WHERE id = {jwt.identity} AND team = {jwt.claims.tenant}", nil)
	a, b := tokenFor("foo"), tokenFor("foo")
	b.payload = mustJSON(`{"tenant":"other"}`)
	if ka, kb := s.CacheKey(Token{a}), s.CacheKey(Token{b}); ka == kb || !strings.Contains(ka, "acme") {
		t.Errorf("claims: %q %q", ka, kb)
	}
	if got, err := loadJSON(s, tokenFor("foo")); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("tenant acme: %q %v", got, err)
	}
}

// TestSQLStoreRefusedAtLoad: what cannot work is refused when the
// configuration loads, naming the setting; the DSN never shows.
func TestSQLStoreRefusedAtLoad(t *testing.T) {
	t.Parallel()
	forEachSQL(t, func(t *testing.T, f *sqlFixture) {
		for query, want := range map[string]string{
			"SELEC username FROM " + f.table + " WHERE id = {jwt.identity}":                   "must be one SELECT",
			"SELECT username FORM " + f.table + " WHERE id = {jwt.identity}":                  "query: the database refused it",
			"SELECT username FROM " + f.table + " WHERE id = {env.HOME}":                      "{env.HOME} is not allowed",
			"SELECT username FROM " + f.table + " WHERE id = {http.request.host}":             "{http.request.host} is not allowed",
			"DELETE FROM " + f.table + " WHERE id = {jwt.identity}":                           "must be one SELECT",
			"SELECT 1 FROM " + f.table + " WHERE id = {jwt.identity}; DELETE FROM " + f.table: "one statement",
			"SELECT username FROM " + f.table:                                                 "name the user with {jwt.identity}",
		} {
			_, err := f.store(t, query, nil)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "query") {
				t.Errorf("%s: %v, want %q", query, err, want)
			}
		}
		if _, err := f.store(t, f.jsonQuery(), func(s *UsersSQL) { s.Notify = "ch" }); f.driver != "postgres" && (err == nil || !strings.Contains(err.Error(), "notify")) {
			t.Errorf("notify on %s: %v", f.driver, err)
		}
		if f.count(t) != 3 {
			t.Error("a refused query changed the table")
		}
	})
	if _, err := (&sqlFixture{driver: "oracle", dsn: "x"}).store(t, "SELECT 1 WHERE {jwt.identity}", nil); err == nil || !strings.Contains(err.Error(), "oracle") {
		t.Errorf("unknown driver: %v", err)
	}
}

// TestSQLStoreWriteRefused: a query that writes behind a SELECT fails as
// a store error, and the table is unchanged.
func TestSQLStoreWriteRefused(t *testing.T) {
	t.Parallel()
	// The write hides where the SELECT-only check at load cannot see it:
	// in a CTE (PostgreSQL), in a function (MySQL).
	for driver, query := range map[string]func(t *testing.T, f *sqlFixture) string{
		"postgres": func(_ *testing.T, f *sqlFixture) string {
			return "WITH gone AS (DELETE FROM " + f.table + " WHERE id = {jwt.identity} RETURNING username) SELECT username FROM gone"
		},
		"mysql": func(t *testing.T, f *sqlFixture) string {
			fn := f.table + "_w"
			f.exec(t, "CREATE FUNCTION "+fn+"(u VARCHAR(255)) RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM "+f.table+" WHERE id = u; RETURN 1; END")
			t.Cleanup(func() { f.exec(t, "DROP FUNCTION IF EXISTS "+fn) })
			return "SELECT " + fn + "({jwt.identity}) AS n"
		},
	} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := needServer(t, driver)
			s := f.mustStore(t, query(t, f), nil)
			if _, err := loadJSON(s, tokenFor("foo")); sqlKind(err) != "query" {
				t.Errorf("a write: %v", err)
			}
			if f.count(t) != 3 {
				t.Error("the write went through")
			}
		})
	}
}

// TestSQLStoreTimeout: a query slower than timeout is a timeout store
// error, soon after the timeout.
func TestSQLStoreTimeout(t *testing.T) {
	t.Parallel()
	forEachSQL(t, func(t *testing.T, f *sqlFixture) {
		query := map[string]string{
			"postgres": "SELECT username FROM " + f.table + ", pg_sleep(5) WHERE id = {jwt.identity}",
			"mysql":    "SELECT username, SLEEP(5) AS s FROM " + f.table + " WHERE id = {jwt.identity}",
			"sqlite":   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c WHERE x = -1 AND {jwt.identity} <> ''",
		}[f.driver]
		s := f.mustStore(t, query, func(s *UsersSQL) { s.Timeout = caddyDuration(300 * time.Millisecond) })
		start := time.Now()
		_, err := loadJSON(s, tokenFor("foo"))
		if sqlKind(err) != "timeout" || time.Since(start) > 3*time.Second {
			t.Errorf("%v after %v", err, time.Since(start))
		}
	})
}

// TestSQLStoreDown: the configuration loads while the database is down
// (a closed port; an SQLite file not there yet); requests get a
// connection store error, and answers come once the database does.
func TestSQLStoreDown(t *testing.T) {
	t.Parallel()
	for driver, dsn := range map[string]string{
		"postgres": "postgres://nobody:secret-pw@127.0.0.1:1/db?sslmode=disable",
		"mysql":    "nobody:secret-pw@tcp(127.0.0.1:1)/db",
	} {
		s := &UsersSQL{Driver: driver, DSN: dsn, Query: "SELECT 1 AS one WHERE 1 = {jwt.identity}"}
		if err := s.Provision(testContext(t)); err != nil {
			t.Fatalf("%s: %v", driver, err)
		}
		t.Cleanup(func() { _ = s.Cleanup() })
		_, err := loadJSON(s, tokenFor("foo"))
		if sqlKind(err) != "connection" || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: %v", driver, err)
		}
		if d := s.Describe(); strings.Contains(d, "secret") || strings.Contains(d, "nobody") || !strings.Contains(d, "127.0.0.1") {
			t.Errorf("%s: describe %q", driver, d)
		}
	}
	f := sqliteFixture(t)
	path := t.TempDir() + "/later.db"
	s := &UsersSQL{Driver: "sqlite", DSN: path, Query: "SELECT username FROM users WHERE id = {jwt.identity}"}
	if err := s.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Cleanup() })
	if _, err := loadJSON(s, tokenFor("foo")); sqlKind(err) != "connection" {
		t.Errorf("sqlite, no file: %v", err)
	}
	f.exec(t, "ATTACH DATABASE '"+path+"' AS later")
	f.exec(t, "CREATE TABLE later.users (id TEXT, username TEXT)")
	f.exec(t, "INSERT INTO later.users VALUES ('foo', 'foo')")
	if got, err := loadJSON(s, tokenFor("foo")); err != nil || got != `{"username":"foo"}` {
		t.Errorf("sqlite, file created: %q %v", got, err)
	}
}

// TestSQLStoreConnectionsKilled: the store's connections are killed again
// and again under concurrent load through the caching layer. Every answer
// is the user or a store error; never a crash, another answer, or a pass.
func TestSQLStoreConnectionsKilled(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{"postgres", "mysql"} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := needServer(t, driver)
			tag := f.table + "_k"
			store := f.mustStore(t, f.jsonQuery(), func(s *UsersSQL) { s.DSN = f.tagged(t, tag); s.MaxOpenConns = 4 })
			cs, err := newCachedStore(testContext(t), store, "sql", t.Name()+tag, cacheSettings{ttl: time.Nanosecond, notFoundTTL: time.Nanosecond, size: 10}, nil, "", zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cs.release() })
			stop := make(chan struct{})
			var mu sync.Mutex
			outcomes := map[string]int{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				hammer(t, 8, stop, func() reply {
					u, err := cs.LoadUser(context.Background(), Token{tokenFor("foo")})
					return reply{body: u.JSON, status: map[bool]int{true: 200}[err == nil], header: map[string][]string{"Kind": {sqlKind(err)}}}
				}, func(r reply) {
					kind := r.header.Get("Kind")
					if r.status == 200 {
						kind = "user"
						if !strings.Contains(r.body, `"admin"`) {
							kind = "WRONG USER " + r.body
						}
					}
					mu.Lock()
					outcomes[kind]++
					mu.Unlock()
				})
			}()
			for i := 0; i < 10; i++ {
				time.Sleep(30 * time.Millisecond) // let connections open, then kill them
				f.kill(t, tag)
			}
			close(stop)
			<-done
			for kind := range outcomes {
				if kind != "user" && kind != "connection" && kind != "query" && kind != "timeout" {
					t.Errorf("outcome %q: %v", kind, outcomes)
				}
			}
			if outcomes["user"] == 0 {
				t.Errorf("no user loaded: %v", outcomes)
			}
			eventually(t, "the store answering again", func() bool {
				_, err := cs.LoadUser(context.Background(), Token{tokenFor("foo")})
				return err == nil
			})
			t.Logf("outcomes: %v", outcomes)
			// Nothing leaks: Cleanup closes every connection.
			if err := store.Cleanup(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "no connection left", func() bool { return f.connections(t, tag) == 0 })
		})
	}
}

// TestSQLStoreNotify: NOTIFY <channel>, '<identity>' purges that identity
// from the cache within a second; an empty payload purges every entry; a
// lost LISTEN connection comes back.
func TestSQLStoreNotify(t *testing.T) {
	t.Parallel()
	f := needServer(t, "postgres")
	channel := f.table + "_changed"
	tag := f.table + "_l"
	store := f.mustStore(t, f.jsonQuery(), func(s *UsersSQL) { s.Notify = channel; s.DSN = f.tagged(t, tag) })
	cs, err := newCachedStore(testContext(t), store, "sql", t.Name()+channel, cacheSettings{ttl: time.Hour, notFoundTTL: time.Hour, size: 10}, nil, "", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.release() })
	eventually(t, "LISTEN", store.live.listenOK.Load)
	load := func(id string) string {
		u, err := cs.LoadUser(context.Background(), Token{tokenFor(id)})
		if err != nil {
			return err.Error()
		}
		return u.JSON
	}
	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		eventually(t, what, cond)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v", what, d)
		}
	}
	if got := load("foo"); !strings.Contains(got, "admin") {
		t.Fatal(got)
	}
	load("bar")
	f.exec(t, "UPDATE "+f.table+` SET roles = '["admin","staff"]' WHERE id IN ('foo', 'bar')`)
	if got := load("foo"); strings.Contains(got, "staff") {
		t.Fatal("not cached")
	}
	f.exec(t, "SELECT pg_notify($1, 'foo')", channel)
	within("foo purged", func() bool { return strings.Contains(load("foo"), "staff") })
	if strings.Contains(load("bar"), "staff") {
		t.Error("bar purged by foo's notification")
	}
	f.exec(t, "SELECT pg_notify($1, '')", channel)
	within("every entry purged", func() bool { return strings.Contains(load("bar"), "staff") })

	// The LISTEN connection killed: it comes back, and purges what it
	// may have missed.
	f.kill(t, tag)
	eventually(t, "LISTEN lost", func() bool { return !store.live.listenOK.Load() })
	eventually(t, "LISTEN again", store.live.listenOK.Load)
	f.exec(t, "UPDATE "+f.table+` SET roles = '["gone"]' WHERE id = 'foo'`)
	f.exec(t, "SELECT pg_notify($1, 'foo')", channel)
	within("foo purged after reconnect", func() bool { return strings.Contains(load("foo"), "gone") })

	// Cleanup stops the LISTEN connection with the pool.
	if err := store.Cleanup(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no connection left", func() bool { return f.connections(t, tag) == 0 })
}
