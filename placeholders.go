package jwtuser

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// requestState is what one request's jwt.* placeholders read. Values are
// computed when a placeholder is asked for, never before: a request whose
// Caddyfile reads only {jwt.user.roles} pays for nothing else.
type requestState struct {
	// tok is the verified token; nil when none came or it is not trusted.
	tok *token
	// user is the loaded user as compact JSON; the zero Text when none.
	user rawjson.Text
	// load is the serial number of the users file load the user was
	// looked up in (usersLoad), set on a load whatever its result; 0 from
	// any other store.
	load uint64
	// reason is {jwt.error} in a failure response.
	reason string
}

// String keeps the state out of any text: {http.vars.jwt_user.state} would
// print it.
func (*requestState) String() string { return "" }

// stateVar is the request variable holding the state, so a second jwt_user
// on the same request finds it and updates the placeholders rather than
// being shadowed by the first one's provider. (Caddy's vars map is there on
// every request, with an entry already, so this costs no allocation.)
const stateVar = "jwt_user.state"

// authUserID is the placeholder every Caddy auth module sets to the user.
const authUserID = "http.auth.user.id"

// attachState returns the request's state, reset, registering the
// placeholder provider on first use.
func attachState(r *http.Request, repl *caddy.Replacer) *requestState {
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if st, ok := vars[stateVar].(*requestState); ok {
		*st = requestState{}
		return st
	}
	st := &requestState{}
	if vars != nil {
		vars[stateVar] = st
	}
	repl.Map(st.placeholder)
	return st
}

// placeholder resolves the jwt.* placeholders. Every jwt.identity, jwt.issuer, jwt.error,
// jwt.user[.path] and jwt.claims[.path] key is known, empty when there is no
// value, so a Caddyfile never sees the literal placeholder text.
func (st *requestState) placeholder(key string) (any, bool) {
	name, ok := strings.CutPrefix(key, "jwt.")
	if !ok {
		switch key {
		case authUserID:
			// Caddy's access log writes it as user_id. Only a loaded user
			// has one; a value set by an earlier handler (vars, another
			// auth module) is static and wins.
			if st.tok == nil || st.user.IsZero() {
				return "", true
			}
			return st.tok.identityAny(), true
		}
		return nil, false
	}
	switch name {
	case "identity":
		if st.tok == nil {
			return "", true
		}
		return st.tok.identityAny(), true
	case "issuer":
		if st.tok == nil {
			return "", true
		}
		return st.tok.issuer(), true
	case "error":
		return st.reason, true
	case "user":
		return st.memoValue(name), true
	case "claims":
		if st.tok == nil {
			return "", true
		}
		return st.memoValue(name), true
	}
	switch {
	case strings.HasPrefix(name, "user."):
		return st.memoValue(name), true
	case strings.HasPrefix(name, "claims."):
		if st.tok == nil {
			return emptyList, true
		}
		return st.memoValue(name), true
	}
	return nil, false
}

// resolve computes the value of a user or claims placeholder (name is the
// part after "jwt.") from the user's JSON and the token's payload.
func resolve(name string, user, payload rawjson.Text) any {
	switch name {
	case "user":
		return jsonText(user)
	case "claims":
		return jsonText(payload)
	}
	if path, ok := strings.CutPrefix(name, "user."); ok {
		return lookupValue(user, path)
	}
	path, _ := strings.CutPrefix(name, "claims.")
	return lookupValue(payload, path)
}

// lookupValue is the placeholder value at path in a JSON object; an absent
// path is empty text and an empty list to the expression matcher.
func lookupValue(doc rawjson.Text, path string) any {
	if doc.IsZero() {
		return emptyList
	}
	raw, ok := doc.Path(path)
	if !ok {
		return emptyList
	}
	return placeholderValue(raw)
}

// valueList is a JSON array as a placeholder: a list to the expression
// matcher ('admin' in {jwt.user.roles}) and "a,b" as text.
type valueList []any

func (l valueList) String() string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return caddy.ToString(l[0])
	}
	var b strings.Builder
	for i, v := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(caddy.ToString(v))
	}
	return b.String()
}

// stringList is an array of strings only, the common case (roles, groups,
// scopes): the same list to the expression matcher, held without boxing
// each element, so reading one costs two allocations (the list and its
// box) and its text one more, whatever its length.
//
// A list a token's memo keeps carries its text in one element past its
// length (withText), where the expression matcher, which sees len
// elements, never looks: the replacer asks a value for its text on every
// read, and joining the list each time would be the one allocation left.
type stringList []string

func (l stringList) String() string {
	if cap(l) > len(l) {
		if text := l[:len(l)+1][len(l)]; isJoin(text, l) {
			return text
		}
	}
	return strings.Join(l, ",")
}

// isJoin reports whether text is l's elements joined by commas: the text
// kept past a list's end is used only when it is, so a list whose slot
// past its end holds anything else (one that was appended to, say) still
// reads as itself. A few bytes compared, no allocation.
func isJoin(text string, l stringList) bool {
	for i, e := range l {
		if i > 0 {
			if text == "" || text[0] != ',' {
				return false
			}
			text = text[1:]
		}
		if !strings.HasPrefix(text, e) {
			return false
		}
		text = text[len(e):]
	}
	return text == ""
}

// emptyList is null or absent: nothing as text, and an empty list to CEL, so
// `'admin' in {jwt.user.roles}` is false for a user without roles instead of
// an error.
var emptyList = valueList{}

// placeholderValue converts a JSON value: strings as they are, numbers as
// numbers (plain decimal text), booleans, arrays as lists, objects as compact
// JSON, null as empty.
func placeholderValue(raw rawjson.Text) any {
	switch raw.Kind() {
	case '[':
		n, strs := 0, true
		raw.Elements(func(el rawjson.Text) bool {
			n++
			strs = strs && el.Kind() == '"'
			return true
		})
		if n == 0 {
			return emptyList
		}
		if strs {
			list := make(stringList, 0, n)
			raw.Elements(func(el rawjson.Text) bool {
				list = append(list, headerSafe(el.Unquote()))
				return true
			})
			return list
		}
		list := make(valueList, 0, n)
		raw.Elements(func(el rawjson.Text) bool {
			list = append(list, elementValue(el))
			return true
		})
		return list
	case 'n':
		return emptyList
	}
	return elementValue(raw)
}

// elementValue converts one array element; an array inside an array stays
// JSON text.
func elementValue(raw rawjson.Text) any {
	switch raw.Kind() {
	case '"':
		return headerSafe(raw.Unquote())
	case '{', '[':
		return jsonText(raw)
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	}
	return raw.NumberValue()
}

// jsonText is a JSON value as placeholder text: compact, and with DEL, which
// JSON lets stand raw in a string, written as \u007f, so the text is as safe
// in a header as any other value.
func jsonText(raw rawjson.Text) string {
	s := raw.Compact().String()
	if strings.IndexByte(s, 0x7f) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x7f", `\u007f`)
}

// headerSafe replaces control characters (tab aside) with spaces: a user
// field may hold anything JSON can, and placeholders end up in header values,
// where CR and LF would split the header and the others make Go's HTTP
// client refuse the request.
func headerSafe(s string) string {
	// A byte scan: control characters are ASCII, and no byte of a
	// multi-byte UTF-8 sequence is below 0x80, so nothing is decoded for a
	// value that is already safe (every one, nearly always).
	i := 0
	for i < len(s) && !isHeaderUnsafeByte(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if isHeaderUnsafeByte(b[i]) {
			b[i] = ' '
		}
	}
	return string(b)
}

func isHeaderUnsafeByte(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }
