package jwtuser

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// Store errors of the SQL store, by kind. They name no query, DSN or value.
var (
	errSQLTimeout     = &storeFailure{kind: "timeout"}
	errSQLConnection  = &storeFailure{kind: "connection"}
	errSQLQuery       = &storeFailure{kind: "query"}
	errSQLTooManyRows = &storeFailure{kind: "too_many_rows", detail: "too many rows: the query found more than one user"}
	errSQLType        = &storeFailure{kind: "type", detail: "type: a column value has no JSON form"}
	errSQLBytes       = &storeFailure{kind: "type", detail: "type: a column holds bytes (BLOB, BYTEA, BINARY); select text or JSON instead"}
	errSQLNotNumber   = &storeFailure{kind: "type", detail: "type: a number is NaN or infinite"}
)

// userFromRows reads the answer: no row is no such user; one row is the
// user; a second row is a store error, since the identity must pick one.
func userFromRows(rows *sql.Rows) (User, error) {
	cols, err := rows.ColumnTypes()
	if err != nil {
		return User{}, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return User{}, err
		}
		return User{}, ErrUserNotFound
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return User{}, err
	}
	if rows.Next() {
		return User{}, errSQLTooManyRows
	}
	if err := rows.Err(); err != nil {
		return User{}, err
	}
	// One column holding a JSON object is the user itself (to_jsonb,
	// JSON_OBJECT, json_object); otherwise each column is a field.
	if len(cols) == 1 {
		if text, ok := jsonObjectValue(values[0], cols[0].DatabaseTypeName()); ok {
			return User{JSON: text}, nil
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, col := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(col.Name()))
		b.WriteByte(':')
		if err := appendSQLValue(&b, values[i], strings.ToUpper(col.DatabaseTypeName())); err != nil {
			return User{}, err
		}
	}
	b.WriteByte('}')
	return User{JSON: b.String()}, nil
}

// jsonObjectValue reports a column value that is text holding a JSON
// object, as MariaDB's JSON_OBJECT (a LONGTEXT) and SQLite's json_object
// answer.
func jsonObjectValue(v any, typeName string) (string, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		if isBinaryType(typeName) {
			return "", false
		}
		s = string(v)
	default:
		return "", false
	}
	t, err := rawjson.Check(s)
	if err != nil || t.Kind() != '{' {
		return "", false
	}
	return s, true
}

// appendSQLValue writes one column value as JSON. typeName is the driver's
// DatabaseTypeName, upper case: it tells numbers and JSON kept as text
// (DECIMAL, NUMERIC, JSON) and bytes from text.
func appendSQLValue(b *strings.Builder, v any, typeName string) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case float64:
		return appendFloat(b, v, 64)
	case float32:
		return appendFloat(b, float64(v), 32)
	case time.Time:
		b.WriteString(jsonString(v.Format(time.RFC3339Nano)))
	case []byte:
		if isBinaryType(typeName) {
			return errSQLBytes // bytes have no JSON form a placeholder could use
		}
		return appendSQLText(b, string(v), typeName)
	case string:
		return appendSQLText(b, v, typeName)
	default:
		return errSQLType
	}
	return nil
}

func appendFloat(b *strings.Builder, f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errSQLNotNumber
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	return nil
}

// appendSQLText writes a value the driver gave as text: a number or JSON
// as what it is, a PostgreSQL array as a JSON array, anything else as a
// string.
func appendSQLText(b *strings.Builder, s, typeName string) error {
	switch {
	case typeName == "JSON" || typeName == "JSONB":
		t, err := rawjson.Check(s)
		if err != nil {
			return errSQLType
		}
		b.WriteString(t.Compact().String())
	case typeName == "NUMERIC" || typeName == "DECIMAL":
		// Exact: the database's own decimal text, never a float.
		if t, err := rawjson.Check(s); err != nil || t.Kind() == '"' || t.Kind() == '{' || t.Kind() == '[' {
			return errSQLNotNumber
		}
		b.WriteString(s)
	case strings.HasPrefix(typeName, "_"):
		return appendPGArray(b, s, strings.TrimPrefix(typeName, "_"))
	default:
		if !utf8.ValidString(s) {
			return errSQLType
		}
		b.WriteString(jsonString(s))
	}
	return nil
}

// isBinaryType reports the column types whose values are bytes, not text.
func isBinaryType(typeName string) bool {
	switch strings.ToUpper(typeName) {
	case "BYTEA", "_BYTEA", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT", "GEOMETRY":
		return true
	}
	return false
}

// jsonString quotes s as a JSON string, without HTML escaping.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// appendPGArray converts PostgreSQL's array text ({a,"b c",NULL,{1,2}})
// to a JSON array, each element written as a column of elemType would be.
func appendPGArray(b *strings.Builder, s, elemType string) error {
	if elemType == "BYTEA" {
		return errSQLBytes
	}
	// A lower bound other than 1 is written first: [0:1]={a,b}.
	if i := strings.Index(s, "={"); strings.HasPrefix(s, "[") && i > 0 {
		s = s[i+1:]
	}
	rest, err := pgArray(b, s, elemType)
	if err != nil || rest != "" {
		return errSQLType
	}
	return nil
}

// pgArray reads one {...} from s, writes it and returns what follows.
func pgArray(b *strings.Builder, s, elemType string) (string, error) {
	if !strings.HasPrefix(s, "{") {
		return "", errSQLType
	}
	s = s[1:]
	b.WriteByte('[')
	for first := true; ; first = false {
		if strings.HasPrefix(s, "}") {
			b.WriteByte(']')
			return s[1:], nil
		}
		if !first {
			if !strings.HasPrefix(s, ",") {
				return "", errSQLType
			}
			s = s[1:]
			b.WriteByte(',')
		}
		var err error
		switch {
		case strings.HasPrefix(s, "{"):
			s, err = pgArray(b, s, elemType)
		case strings.HasPrefix(s, `"`):
			var elem strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				elem.WriteByte(s[i])
			}
			if i >= len(s) {
				return "", errSQLType
			}
			s = s[i+1:]
			err = appendSQLText(b, elem.String(), elemType)
		default:
			end := strings.IndexAny(s, ",}")
			if end < 0 {
				return "", errSQLType
			}
			elem := s[:end]
			s = s[end:]
			switch {
			case elem == "NULL":
				b.WriteString("null")
			case elemType == "BOOL":
				b.WriteString(strconv.FormatBool(elem == "t"))
			case strings.HasPrefix(elemType, "INT"), strings.HasPrefix(elemType, "FLOAT"), elemType == "OID":
				err = appendSQLText(b, elem, "NUMERIC")
			default:
				err = appendSQLText(b, elem, elemType)
			}
		}
		if err != nil {
			return "", err
		}
	}
}

// classifySQLError turns a driver's error into a store error of a kind
// (timeout, connection, query): the driver's text may quote the query, a
// value or the server's address, so it is never passed on.
func classifySQLError(ctx context.Context, err error) error {
	var failure *storeFailure
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrUserNotFound), errors.As(err, &failure):
		return err
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return errSQLTimeout
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-03: the server shut the
		// session (pg_terminate_backend, a restart); 57014: cancelled.
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "57P"):
			return errSQLConnection
		case pgErr.Code == "57014":
			return errSQLTimeout
		}
		return errSQLQuery
	case errors.As(err, &myErr):
		switch myErr.Number {
		case 1053, 1077, 1152, 1927, 2006, 2013: // shutdown, killed, gone away, lost
			return errSQLConnection
		case 1317, 3024, 1969: // interrupted, max_execution_time exceeded
			return errSQLTimeout
		}
		return errSQLQuery
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.As(err, &netErr), pgconn.SafeToRetry(err),
		isConnectError(err), strings.Contains(err.Error(), "unable to open database file"):
		return errSQLConnection
	}
	return errSQLQuery
}

func isConnectError(err error) bool {
	var c *pgconn.ConnectError
	return errors.As(err, &c)
}
