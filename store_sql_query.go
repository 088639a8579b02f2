package jwtuser

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// sqlQuery is the store's query, split at load into SQL text with the
// driver's parameter markers and the {jwt.*} placeholders each marker binds.
type sqlQuery struct {
	text string   // the SQL sent, $1.. (postgres) or ? in place of each placeholder
	keys []string // the placeholder each parameter binds, in order
	// identityOnly: the query binds nothing but {jwt.identity}, so the
	// identity alone keys the cache.
	identityOnly bool
}

// parseSQLQuery turns the configured query into SQL with bound
// parameters. A placeholder is never written into the SQL: each becomes a
// marker, so no identity or claim can change what the statement does.
func parseSQLQuery(raw, driver string) (sqlQuery, error) {
	if strings.TrimSpace(raw) == "" {
		return sqlQuery{}, errors.New("query: give the SELECT that loads one user")
	}
	// One statement, a SELECT (or a WITH ... SELECT): a write is refused
	// here when it is plain, and by the read-only session when it hides.
	first := strings.ToUpper(strings.Fields(raw)[0])
	if first != "SELECT" && first != "WITH" && !strings.HasPrefix(first, "SELECT(") {
		return sqlQuery{}, fmt.Errorf("query: must be one SELECT, not %s", first)
	}
	if i := strings.IndexByte(raw, ';'); i >= 0 && strings.TrimSpace(raw[i+1:]) != "" {
		return sqlQuery{}, errors.New("query: must be one statement; remove what follows ';'")
	}
	q := sqlQuery{identityOnly: true}
	var b strings.Builder
	for _, p := range parseTemplate(strings.TrimRight(strings.TrimSpace(raw), ";"), false).parts {
		if p.key == "" {
			b.WriteString(p.text)
			continue
		}
		if p.key != "jwt.identity" && !strings.HasPrefix(p.key, "jwt.claims.") {
			return sqlQuery{}, fmt.Errorf("query: {%s} is not allowed: only {jwt.identity} and {jwt.claims.<path>} may stand in the query, each bound as a parameter (write a literal brace as \\{)", p.key)
		}
		q.keys = append(q.keys, p.key)
		if driver == "postgres" {
			b.WriteString("$" + strconv.Itoa(len(q.keys)))
		} else {
			b.WriteString("?")
		}
		if p.key != "jwt.identity" {
			q.identityOnly = false
		}
	}
	if len(q.keys) == 0 {
		return sqlQuery{}, errors.New("query: name the user with {jwt.identity} (or {jwt.claims.<path>})")
	}
	q.text = b.String()
	return q, nil
}

// args are the values bound for a verified token: the identity, or a
// claim as text (a string claim unquoted, any other as its JSON; an absent
// claim is NULL, which equals nothing).
func (q sqlQuery) args(tok *token) []any {
	st := requestState{tok: tok}
	args := make([]any, len(q.keys))
	for i, key := range q.keys {
		if key == "jwt.identity" {
			args[i] = tok.identity
			continue
		}
		if _, ok := presentPath(tok.payload, strings.TrimPrefix(key, "jwt.claims.")); !ok {
			continue // nil: NULL
		}
		v, _ := st.placeholder(key)
		args[i] = caddy.ToString(v)
	}
	return args
}

// sqlTarget is a resolved DSN: what the driver opens, and what may be
// shown of it (driver, host, database; never a user or a password).
type sqlTarget struct {
	dsn      string
	describe string
	pg       *pgx.ConnConfig
	my       *mysql.Config
}

// resolveSQLTarget resolves the global placeholders ({env.*}, {file.*}) in
// the DSN, refusing any other, and parses it. Its errors never quote the
// DSN, which may hold a password.
func resolveSQLTarget(driver, raw string) (sqlTarget, error) {
	dsn, err := resolveAtLoad("dsn", raw)
	if err != nil {
		return sqlTarget{}, err
	}
	if strings.TrimSpace(dsn) == "" {
		return sqlTarget{}, errors.New("the DSN is empty")
	}
	t := sqlTarget{dsn: dsn}
	switch driver {
	case "postgres":
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return sqlTarget{}, errors.New("the DSN is not a PostgreSQL connection string or URL")
		}
		t.pg = cfg
		t.describe = "postgres " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	case "mysql":
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return sqlTarget{}, errors.New("the DSN is not a MySQL DSN (user:password@tcp(host:3306)/database)")
		}
		t.my = cfg
		t.describe = "mysql " + cfg.Addr + "/" + cfg.DBName
	case "sqlite":
		path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if path == "" {
			return sqlTarget{}, errors.New("the DSN names no SQLite file")
		}
		// Opened read-only (mode=ro never creates a missing file) and
		// query_only, so not even a trigger or a pragma can write.
		t.dsn = "file:" + path + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(1000)"
		if query != "" {
			t.dsn += "&" + query
		}
		t.describe = "sqlite " + path
	default:
		return sqlTarget{}, fmt.Errorf("driver %q is not one of postgres, mysql, sqlite", driver)
	}
	return t, nil
}
