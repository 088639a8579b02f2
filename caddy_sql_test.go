package jwtuser

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The SQL store through a real Caddy. Real-Caddy tests never run in
// parallel: see caddy_helpers_test.go.

// exampleSQLite makes the example's SQLite database from example-users.sql,
// in a directory of the test's own, and returns its path.
func exampleSQLite(t *testing.T) string {
	t.Helper()
	schema, err := os.ReadFile("example-users.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "example-users.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	return path
}

// MakeExampleSQLite is exampleSQLite, for the tests of package jwtuser_test.
var MakeExampleSQLite = exampleSQLite

// TestCaddyfileSQLExample runs Caddyfile.sql.example, its users in SQLite
// made from example-users.sql, through the seed's scenario: the same
// answers as Caddyfile.example. The admin API and the metrics show the
// store like any other, with no DSN.
func TestCaddyfileSQLExample(t *testing.T) {
	db := exampleSQLite(t)
	runExample(t, "Caddyfile.sql.example", "users_sql sqlite example-users.db", "users_sql sqlite "+db)
	var out struct{ Stores []StoreStats }
	if admin(t, "GET", adminCachePath, &out) != 200 {
		t.Fatal("admin API")
	}
	found := false
	for _, st := range out.Stores {
		if st.Kind == "sql" {
			found = true
			if st.Store != "sqlite "+db || st.Entries+st.NotFoundEntries == 0 || st.Misses == 0 {
				t.Errorf("admin API: %+v", st)
			}
		}
	}
	if !found {
		t.Errorf("admin API lists no sql store: %+v", out.Stores)
	}
	var purged map[string]int
	if admin(t, "DELETE", adminCachePath+"/foo", &purged) != 200 || purged["purged"] == 0 {
		t.Errorf("purge foo: %v", purged)
	}
	if m := scrape(t); m[`caddy_jwt_user_user_cache_total{result="miss"}`] == 0 {
		t.Errorf("metrics: %v", m)
	}
}

// TestSQLStoreErrorThroughCaddy: with the database down at load the
// configuration loads, and a request gets the store error, never a pass.
func TestSQLStoreErrorThroughCaddy(t *testing.T) {
	tc := startCaddy(t, `:`+itoa(int64(httpPort))+` {
	jwt_user {
		secret `+testSecret+`
		store sql postgres "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable" {
			query "SELECT to_jsonb(u) FROM users u WHERE id = {jwt.identity}"
			timeout 500ms
		}
	}
	respond "REACHED"
}`)
	r := get(t, tc, "GET", "/", bearer(hs256(t, claimsFor("foo"))))
	if r.status != 503 || r.body != `{"msg":"User store unavailable"}` {
		t.Errorf("got %d %s", r.status, r.body)
	}
	if m := scrape(t); m[`caddy_jwt_user_store_errors_total{kind="connection"}`] == 0 {
		t.Errorf("metrics: %v", m)
	}
	var out struct{ Stores []StoreStats }
	admin(t, "GET", adminCachePath, &out)
	for _, st := range out.Stores {
		if strings.Contains(st.Store, "hunter2") || strings.Contains(st.Store, "u:") {
			t.Errorf("admin API shows the DSN: %+v", st)
		}
	}
}

// TestSQLConnectionsKilledThroughCaddy: PostgreSQL's sessions for the
// store are killed again and again under traffic through a real Caddy,
// with the cache off so every request queries. Every answer is the user
// or the store-error response: never a crash, and never the route reached
// without the user.
func TestSQLConnectionsKilledThroughCaddy(t *testing.T) {
	f := needServer(t, "postgres")
	tag := f.table + "_c"
	tc := startCaddy(t, `:`+itoa(int64(httpPort))+` {
	jwt_user {
		secret `+testSecret+`
		users_sql postgres "`+f.tagged(t, tag)+`" {
			query "`+strings.ReplaceAll(f.jsonQuery(), `"`, `\"`)+`"
			max_open_conns 4
		}
		cache_ttl 0
	}
	respond "user {jwt.user.username}"
}`)
	tok := bearer(hs256(t, claimsFor("foo")))
	stop := make(chan struct{})
	done := make(chan map[string]int)
	go func() {
		var mu sync.Mutex
		seen := map[string]int{}
		hammer(t, 8, stop, func() reply { return get(t, tc, "GET", "/", tok) }, func(r reply) {
			mu.Lock()
			seen[strconv.Itoa(r.status)+" "+r.body]++
			mu.Unlock()
		})
		done <- seen
	}()
	for i := 0; i < 10; i++ {
		time.Sleep(50 * time.Millisecond) // traffic between kills: a real server's pace
		f.kill(t, tag)
	}
	close(stop)
	seen := <-done
	for answer := range seen {
		if answer != "200 user foo" && answer != `503 {"msg":"User store unavailable"}` {
			t.Errorf("answer %q (%v)", answer, seen)
		}
	}
	if seen["200 user foo"] == 0 {
		t.Errorf("no user served: %v", seen)
	}
	t.Logf("answers: %v", seen)
}
