package jwtuser

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/zap"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver: CGO_ENABLED=0 builds work
)

func init() {
	caddy.RegisterModule(UsersSQL{})
}

// UsersSQL is the store http.jwt_user.stores.sql: users from PostgreSQL,
// MySQL/MariaDB or SQLite, one parameterised SELECT per identity, behind
// the caching layer.
//
// The query's answer:
//   - no row: no such user (cached for cache_not_found_ttl);
//   - one row: the user. A single column holding a JSON object (to_jsonb,
//     JSON_OBJECT, json_object) is the user itself; otherwise each column
//     is a field named after it: NULL is null, numbers keep their exact
//     digits, PostgreSQL arrays and json/jsonb become JSON arrays and
//     objects, times RFC 3339 strings, other values strings;
//   - anything else is a store error, counted by kind: too_many_rows (a
//     second row), type (bytes, NaN, a value with no JSON form), timeout
//     (past Timeout), connection (the server is down, or closed the
//     session), query (the database refused the statement, e.g. a write).
//
// The query runs read-only: PostgreSQL sessions have
// default_transaction_read_only on, MySQL queries run in a READ ONLY
// transaction, SQLite files are opened read-only with query_only. The
// configuration loads while the database is down; requests get the store
// error until it answers, and the pool reconnects by itself.
//
// Caddyfile: `users_sql <driver> <dsn> { ... }` in jwt_user, or
// `store sql <driver> <dsn> { ... }`.
type UsersSQL struct {
	// Driver is postgres, mysql (MySQL and MariaDB) or sqlite (pure Go).
	Driver string `json:"driver"`
	// DSN is the connection string: a PostgreSQL URL or key=value string,
	// a MySQL DSN (user:password@tcp(host:3306)/db), or an SQLite file path.
	// {env.*} and {file.*} are resolved at load; the DSN never appears in
	// a log, an error, a metric or the admin API. Write it with {env.*} so
	// the JSON config does not hold the password either.
	DSN string `json:"dsn"`
	// Query is one SELECT that loads one user. {jwt.identity} and
	// {jwt.claims.<path>} are bound as parameters ($1.. or ?), never
	// written into the SQL; any other {placeholder} is refused at load.
	// When the database answers at load, the query is prepared there and a
	// statement it refuses refuses the configuration.
	Query string `json:"query"`
	// Timeout bounds one query, connecting included. Default: 2s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// MaxOpenConns bounds the connections to the database. Default: 10.
	MaxOpenConns int `json:"max_open_conns,omitempty"`
	// Notify is a PostgreSQL channel to LISTEN on: `NOTIFY <channel>,
	// '<identity>'` drops that identity's cached entries, an empty payload
	// every entry. Refused with another driver.
	Notify string `json:"notify,omitempty"`

	query    sqlQuery
	target   sqlTarget
	timeout  time.Duration
	db       *sql.DB
	readOnly *sql.TxOptions // non-nil: each query runs in a read-only transaction
	identity string
	logger   *zap.Logger

	live *sqlLive
}

// sqlLive is the store's state that goroutines share.
type sqlLive struct {
	// purge is the cache's, handed over by the caching layer.
	purge    atomic.Pointer[func(identity string) int]
	stop     context.CancelFunc
	stopped  sync.WaitGroup
	listenOK atomic.Bool // the LISTEN connection is up, for tests
}

const (
	defaultSQLTimeout      = 2 * time.Second
	defaultSQLMaxOpenConns = 10
)

// CaddyModule returns the Caddy module information.
func (UsersSQL) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.stores.sql",
		New: func() caddy.Module { return new(UsersSQL) },
	}
}

// Provision resolves the settings, opens the pool and, when the database
// answers, prepares the query there.
func (s *UsersSQL) Provision(ctx caddy.Context) error {
	s.logger = ctx.Logger()
	s.live = &sqlLive{}
	if err := s.resolve(); err != nil {
		return fmt.Errorf("users_sql: %v", err)
	}
	s.db = s.open()
	if err := s.check(ctx); err != nil {
		_ = s.db.Close()
		return fmt.Errorf("users_sql: %v", err)
	}
	if s.Notify != "" {
		lctx, cancel := context.WithCancel(context.Background())
		s.live.stop = cancel
		s.live.stopped.Add(1)
		go s.listen(lctx)
	}
	return nil
}

func (s *UsersSQL) resolve() error {
	var err error
	if s.target, err = resolveSQLTarget(s.Driver, s.DSN); err != nil {
		return err
	}
	if s.query, err = parseSQLQuery(s.Query, s.Driver); err != nil {
		return err
	}
	s.timeout = time.Duration(s.Timeout)
	switch {
	case s.timeout == 0:
		s.timeout = defaultSQLTimeout
	case s.timeout < 0:
		return errors.New("timeout must be positive")
	}
	switch {
	case s.MaxOpenConns == 0:
		s.MaxOpenConns = defaultSQLMaxOpenConns
	case s.MaxOpenConns < 0:
		return errors.New("max_open_conns must be positive")
	}
	if s.Notify != "" && s.Driver != "postgres" {
		return errors.New("notify: LISTEN/NOTIFY is PostgreSQL's; remove it for " + s.Driver)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%v|%d|%q", s.Driver, s.target.dsn, s.query.text, s.timeout, s.MaxOpenConns, s.Notify)
	s.identity = "users_sql:" + hex.EncodeToString(h.Sum(nil))
	return nil
}

// open makes the pool; database/sql connects lazily and reconnects by
// itself, so a database that is down at load costs nothing here.
func (s *UsersSQL) open() *sql.DB {
	var db *sql.DB
	switch s.Driver {
	case "postgres":
		cfg := s.target.pg.Copy()
		cfg.ConnectTimeout = s.timeout
		// Every statement of the session is read-only, with no extra round
		// trip: a hidden write (a CTE, a function) fails.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		db = stdlib.OpenDB(*cfg)
	case "mysql":
		cfg := s.target.my.Clone()
		cfg.Timeout = s.timeout
		cfg.Logger = mysqlQuiet{}               // its lines name the server; the store errors say enough
		connector, _ := mysql.NewConnector(cfg) // only fails on a config ParseDSN refused
		db = sql.OpenDB(connector)
		s.readOnly = &sql.TxOptions{ReadOnly: true}
	default:
		db, _ = sql.Open("sqlite", s.target.dsn) // sql.Open only looks the driver up
	}
	db.SetMaxOpenConns(s.MaxOpenConns)
	db.SetMaxIdleConns(s.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db
}

// check prepares the query when the database answers, so a statement it
// refuses refuses the configuration; a database that does not answer is
// logged and retried by the requests.
func (s *UsersSQL) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		s.logger.Warn("user database not reachable at load; requests get the store error until it answers",
			zap.String("store", s.target.describe), zap.String("kind", classifySQLError(ctx, err).(*storeFailure).kind))
		return nil
	}
	stmt, err := s.db.PrepareContext(ctx, s.query.text)
	if err != nil {
		if f := classifySQLError(ctx, err).(*storeFailure); f.kind != "query" {
			return nil // lost on the way: the requests will tell
		}
		return fmt.Errorf("query: the database refused it: %s", safeSQLMessage(err))
	}
	return stmt.Close()
}

// safeSQLMessage is the database's own message for a refused statement,
// such as `syntax error at or near "FORM"`: it names the query's text,
// never the DSN or a bound value (nothing is bound at prepare).
func safeSQLMessage(err error) string {
	var pgErr interface{ SQLState() string }
	var myErr *mysql.MySQLError
	switch {
	case errors.As(err, &myErr):
		return myErr.Message
	case errors.As(err, &pgErr):
		return err.Error()
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// Cleanup stops the LISTEN connection and closes the pool.
func (s *UsersSQL) Cleanup() error {
	if s.live != nil && s.live.stop != nil {
		s.live.stop()
		s.live.stopped.Wait()
	}
	if s.db != nil {
		return s.db.Close()
	}
	return nil
}

// LoadUser runs the query for the token, read-only, within Timeout.
func (s *UsersSQL) LoadUser(ctx context.Context, tok Token) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	user, err := s.run(ctx, s.query.args(tok.t))
	if err != nil {
		return User{}, classifySQLError(ctx, err)
	}
	return user, nil
}

func (s *UsersSQL) run(ctx context.Context, args []any) (User, error) {
	if s.readOnly == nil {
		rows, err := s.db.QueryContext(ctx, s.query.text, args...)
		if err != nil {
			return User{}, err
		}
		defer rows.Close()
		return userFromRows(rows)
	}
	tx, err := s.db.BeginTx(ctx, s.readOnly)
	if err != nil {
		return User{}, err
	}
	defer func() { _ = tx.Rollback() }() // nothing to commit: it only read
	rows, err := tx.QueryContext(ctx, s.query.text, args...)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	return userFromRows(rows)
}

// CacheKey is the identity when the query binds nothing else, else every
// bound value, so two tokens share an entry only when they would run the
// same query.
func (s *UsersSQL) CacheKey(tok Token) string {
	if s.query.identityOnly {
		return tok.Identity()
	}
	var b strings.Builder
	for _, v := range s.query.args(tok.t) {
		if v == nil {
			b.WriteString("null|")
			continue
		}
		b.WriteString(strconv.Quote(v.(string)) + "|")
	}
	return b.String()
}

// StoreIdentity digests the resolved driver, DSN, query and settings.
func (s *UsersSQL) StoreIdentity() string { return s.identity }

// Describe is the driver and the database's host and name (an SQLite
// file's path): never a user or a password.
func (s *UsersSQL) Describe() string { return s.target.describe }

// UnmarshalCaddyfile reads `users_sql <driver> <dsn> { query <select>;
// timeout <duration>; max_open_conns <n>; notify <channel> }`.
func (s *UsersSQL) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // users_sql
	name := d.Val()
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.ArgErr()
	}
	s.Driver, s.DSN = args[0], args[1]
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		sub := d.Val()
		if seen[sub] {
			return d.Errf("%s: %s given more than once", name, sub)
		}
		seen[sub] = true
		var err error
		switch sub {
		case "query":
			s.Query, err = oneArg(d)
		case "max_open_conns":
			var v string
			if v, err = oneArg(d); err == nil {
				if s.MaxOpenConns, err = strconv.Atoi(v); err != nil {
					return d.Errf("%s: max_open_conns: %q is not a number", name, v)
				}
			}
		case "notify":
			s.Notify, err = oneArg(d)
		case "timeout":
			var dur time.Duration
			dur, err = durationArg(d)
			s.Timeout = caddy.Duration(dur)
		default:
			return d.Errf("%s: unknown subdirective %q (want query, timeout, max_open_conns or notify)", name, sub)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mysqlQuiet drops the MySQL driver's own log lines: a lost connection is
// already a store error, logged once by the caching layer.
type mysqlQuiet struct{}

func (mysqlQuiet) Print(...any) {}

// Interface guards
var (
	_ Store                 = (*UsersSQL)(nil)
	_ CacheKeyer            = (*UsersSQL)(nil)
	_ StoreIdentifier       = (*UsersSQL)(nil)
	_ StoreDescriber        = (*UsersSQL)(nil)
	_ cachePurgeTaker       = (*UsersSQL)(nil)
	_ caddy.Provisioner     = (*UsersSQL)(nil)
	_ caddy.CleanerUpper    = (*UsersSQL)(nil)
	_ caddyfile.Unmarshaler = (*UsersSQL)(nil)
)
