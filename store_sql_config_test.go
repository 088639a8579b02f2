package jwtuser

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// The SQL store's configuration: its Caddyfile, its DSN and its identity.

// TestSQLCaddyfile: users_sql is `store sql` under another name, and its
// subdirectives are checked.
func TestSQLCaddyfile(t *testing.T) {
	t.Parallel()
	block := ` sqlite /tmp/users.db {
		query "SELECT username FROM users WHERE id = {jwt.identity}"
		timeout 1s
		max_open_conns 3
	}
}`
	var short, long Handler
	if err := short.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n\tusers_sql" + block)); err != nil {
		t.Fatal(err)
	}
	if err := long.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n\tstore sql" + block)); err != nil {
		t.Fatal(err)
	}
	want := `{"driver":"sqlite","dsn":"/tmp/users.db","max_open_conns":3,"query":"SELECT username FROM users WHERE id = {jwt.identity}","source":"sql","timeout":1000000000}`
	if string(short.StoreRaw) != want || string(long.StoreRaw) != want {
		t.Errorf("users_sql: %s\nstore sql: %s\nwant %s", short.StoreRaw, long.StoreRaw, want)
	}
	for input, msg := range map[string]string{
		"users_sql sqlite": "wrong argument count",
		"users_sql sqlite a {\n\tquery a\n\tquery b\n}": "query given more than once",
		"users_sql sqlite a {\n\tcolumns a\n}":          `unknown subdirective "columns"`,
		"users_sql sqlite a {\n\tmax_open_conns x\n}":   `"x" is not a number`,
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("jwt_user {\n" + input + "\n}"))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", input, err, msg)
		}
	}
}

// TestSQLStoreIdentityAndDSN: the DSN takes {env.*} and {file.*}; the
// identity digests the resolved settings without holding them, and
// Describe names no user or password.
func TestSQLStoreIdentityAndDSN(t *testing.T) {
	t.Parallel()
	f := sqliteFixture(t)
	dsnFile := t.TempDir() + "/dsn"
	writeFile(t, dsnFile, f.dsn)
	query := f.jsonQuery()
	a := f.mustStore(t, query, func(s *UsersSQL) { s.DSN = "{file." + dsnFile + "}" })
	b := f.mustStore(t, query, nil)
	c := f.mustStore(t, query, func(s *UsersSQL) { s.Timeout = caddyDuration(time.Second) })
	if got, err := loadJSON(a, tokenFor("foo")); err != nil || !strings.Contains(got, "admin") {
		t.Errorf("{file.*} DSN: %q %v", got, err)
	}
	if a.StoreIdentity() != b.StoreIdentity() || b.StoreIdentity() == c.StoreIdentity() || strings.Contains(a.StoreIdentity(), f.dsn) {
		t.Errorf("identities: %s %s %s", a.StoreIdentity(), b.StoreIdentity(), c.StoreIdentity())
	}
	for dsn, want := range map[string]string{
		"postgres://alice:s3cret@db.internal:6543/app?sslmode=disable": "postgres db.internal:6543/app",
		"host=db.internal user=alice password=s3cret dbname=app":       "postgres db.internal:5432/app",
		"alice:s3cret@tcp(db.internal:3307)/app":                       "mysql db.internal:3307/app",
	} {
		driver := "postgres"
		if strings.Contains(dsn, "tcp(") {
			driver = "mysql"
		}
		target, err := resolveSQLTarget(driver, dsn)
		if err != nil || target.describe != want {
			t.Errorf("%s: %q %v, want %q", driver, target.describe, err, want)
		}
	}
	if _, err := resolveSQLTarget("mysql", "alice:s3cret@tcp(db:3306/app"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad DSN: %v", err)
	}
	// A per-request placeholder has no value at load: refused, not sent as
	// text, and the message names the placeholder, never the DSN.
	_, err := resolveSQLTarget("postgres", "postgres://alice:s3cret@{http.request.host}/app")
	if err == nil || !strings.Contains(err.Error(), "dsn: ") || !strings.Contains(err.Error(), "http.request.host") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a per-request placeholder in the DSN: %v", err)
	}
}
