package jwtuser

import (
	"context"
	"database/sql"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for the tests' own admin connections
)

// The real databases of the SQL tests: SQLite always, PostgreSQL and
// MySQL/MariaDB when these variables hold DSNs (.ci/run sets both).
const (
	envTestPostgres = "JWTUSER_TEST_POSTGRES"
	envTestMySQL    = "JWTUSER_TEST_MYSQL"
)

// sqlFixture is one database with a users table of the test's own, so
// tests run in parallel and reruns start clean.
type sqlFixture struct {
	driver string
	dsn    string  // what the store opens
	admin  *sql.DB // the test's read-write connection, for setup and checks
	table  string
}

// sqlFixtures are the fixtures of every database this run can reach;
// PostgreSQL and MySQL skip (in a subtest) when their variable is unset.
func sqlFixtures(t testing.TB) []*sqlFixture {
	t.Helper()
	out := []*sqlFixture{sqliteFixture(t)}
	if dsn := os.Getenv(envTestPostgres); dsn != "" {
		out = append(out, serverFixture(t, "postgres", dsn))
	}
	if dsn := os.Getenv(envTestMySQL); dsn != "" {
		out = append(out, serverFixture(t, "mysql", dsn))
	}
	return out
}

// needServer returns the fixture for driver, or skips naming the variable.
func needServer(t testing.TB, driver string) *sqlFixture {
	t.Helper()
	env := map[string]string{"postgres": envTestPostgres, "mysql": envTestMySQL}[driver]
	dsn := os.Getenv(env)
	if dsn == "" {
		t.Skipf("%s is not set: no %s to test against (see README, Users from SQL)", env, driver)
	}
	return serverFixture(t, driver, dsn)
}

// uniqueTable names a table for this test and this run.
func uniqueTable(t testing.TB) string {
	return fmt.Sprintf("jwtuser_%08x_%d", crc32.ChecksumIEEE([]byte(t.Name())), time.Now().UnixNano()%1e12)
}

func sqliteFixture(t testing.TB) *sqlFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	admin, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	f := &sqlFixture{driver: "sqlite", dsn: path, admin: admin, table: uniqueTable(t)}
	f.seed(t)
	return f
}

func serverFixture(t testing.TB, driver, dsn string) *sqlFixture {
	t.Helper()
	name := map[string]string{"postgres": "pgx", "mysql": "mysql"}[driver]
	admin, err := sql.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("%s: the test database does not answer: %v", driver, err)
	}
	f := &sqlFixture{driver: driver, dsn: dsn, admin: admin, table: uniqueTable(t)}
	f.seed(t)
	t.Cleanup(func() { f.exec(t, "DROP TABLE IF EXISTS "+f.table) })
	return f
}

// seed creates the table: the seed's users (foo admin; bar, baz peasant)
// with columns of the kinds a store maps, and two rows of team "twins".
func (f *sqlFixture) seed(t testing.TB) {
	t.Helper()
	cols := map[string]string{
		"sqlite":   "id TEXT PRIMARY KEY, team TEXT, username TEXT, roles TEXT, big INTEGER, ratio REAL, nick TEXT, avatar BLOB",
		"postgres": "id TEXT PRIMARY KEY, team TEXT, username TEXT, roles TEXT, big BIGINT, ratio DOUBLE PRECISION, nick TEXT, avatar BYTEA, tags TEXT[], profile JSONB, level NUMERIC",
		"mysql":    "id VARCHAR(255) PRIMARY KEY, team TEXT, username TEXT, roles TEXT, big BIGINT, ratio DOUBLE, nick TEXT, avatar BLOB, level DECIMAL(30,1)",
	}[f.driver]
	f.exec(t, "CREATE TABLE "+f.table+" ("+cols+")")
	for _, u := range [][]any{
		{"foo", "solo", "foo", `["admin"]`, int64(9007199254740993), 0.1},
		{"bar", "twins", "bar", `["peasant"]`, int64(1), 2.5},
		{"baz", "twins", "baz", `["peasant"]`, int64(2), 3.0},
	} {
		f.exec(t, "INSERT INTO "+f.table+" (id, team, username, roles, big, ratio, avatar) VALUES ("+f.params(7)+")",
			append(u, []byte{0, 1, 2})...)
	}
	switch f.driver {
	case "postgres":
		f.exec(t, "UPDATE "+f.table+` SET tags = ARRAY['a','b c',NULL], profile = '{"city":"Paris","n":12345678901234567890}', level = 12345678901234567890.5 WHERE id = 'foo'`)
	case "mysql":
		f.exec(t, "UPDATE "+f.table+" SET level = 12345678901234567890.5 WHERE id = 'foo'")
	}
}

// params are n parameter markers in the driver's style.
func (f *sqlFixture) params(n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "?"
		if f.driver == "postgres" {
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
	}
	return strings.Join(marks, ", ")
}

func (f *sqlFixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.admin.Exec(query, args...); err != nil {
		t.Fatalf("%s: %s: %v", f.driver, query, err)
	}
}

// count is the number of rows in the fixture's table.
func (f *sqlFixture) count(t testing.TB) int {
	t.Helper()
	var n int
	if err := f.admin.QueryRow("SELECT COUNT(*) FROM " + f.table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// jsonQuery is the one-JSON-column query for the fixture's users.
func (f *sqlFixture) jsonQuery() string {
	switch f.driver {
	case "postgres":
		return "SELECT json_build_object('username', username, 'roles', roles::json) FROM " + f.table + " WHERE id = {jwt.identity}"
	case "mysql":
		return "SELECT JSON_OBJECT('username', username, 'roles', JSON_EXTRACT(roles, '$')) FROM " + f.table + " WHERE id = {jwt.identity}"
	}
	return "SELECT json_object('username', username, 'roles', json(roles)) FROM " + f.table + " WHERE id = {jwt.identity}"
}

// store provisions a users_sql store on the fixture.
func (f *sqlFixture) store(t testing.TB, query string, mod func(*UsersSQL)) (*UsersSQL, error) {
	t.Helper()
	s := &UsersSQL{Driver: f.driver, DSN: f.dsn, Query: query, Timeout: caddyDuration(2 * time.Second)}
	if mod != nil {
		mod(s)
	}
	err := s.Provision(testContext(t))
	if err == nil {
		t.Cleanup(func() { _ = s.Cleanup() })
	}
	return s, err
}

func (f *sqlFixture) mustStore(t testing.TB, query string, mod func(*UsersSQL)) *UsersSQL {
	t.Helper()
	s, err := f.store(t, query, mod)
	if err != nil {
		t.Fatalf("%s: %v", f.driver, err)
	}
	return s
}

// tagged is the fixture's DSN for the store, logged in as another user
// (MySQL), or under another application_name (PostgreSQL), so a test can
// find and kill the store's own connections.
func (f *sqlFixture) tagged(t *testing.T, tag string) string {
	t.Helper()
	switch f.driver {
	case "postgres":
		sep := "?"
		if strings.Contains(f.dsn, "?") {
			sep = "&"
		}
		return f.dsn + sep + "application_name=" + tag
	case "mysql":
		f.exec(t, "CREATE USER IF NOT EXISTS '"+tag+"'@'%' IDENTIFIED BY 'pw-"+tag+"'")
		f.exec(t, "GRANT SELECT ON *.* TO '"+tag+"'@'%'")
		t.Cleanup(func() { f.exec(t, "DROP USER IF EXISTS '"+tag+"'@'%'") })
		cfg, err := mysql.ParseDSN(f.dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.User, cfg.Passwd = tag, "pw-"+tag
		return cfg.FormatDSN()
	}
	return f.dsn
}

// connections counts the store's connections made with tagged(tag).
func (f *sqlFixture) connections(t testing.TB, tag string) int {
	t.Helper()
	query := "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1"
	if f.driver == "mysql" {
		query = "SELECT COUNT(*) FROM information_schema.processlist WHERE user = ?"
	}
	var n int
	if err := f.admin.QueryRow(query, tag).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// kill ends the store's connections made with tagged(tag).
func (f *sqlFixture) kill(t testing.TB, tag string) {
	t.Helper()
	switch f.driver {
	case "postgres":
		f.exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", tag)
	case "mysql":
		rows, err := f.admin.Query("SELECT id FROM information_schema.processlist WHERE user = ?", tag)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			_, _ = f.admin.Exec(fmt.Sprintf("KILL %d", id)) // it may have gone already
		}
	}
}
