package jwtuser

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// readUsersFile reads and parses the users file at path, returning the
// users and the file's size in bytes (as far as it was read). The file's
// bytes are garbage once it returns: nothing kept points into them.
func readUsersFile(path, keyField string) (*rawjson.Index, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, len(data), err
	}
	// The text is only read while parsing and nothing keeps a piece of it,
	// so it shares the bytes just read instead of copying them.
	users, err := parseUsers(unsafe.String(unsafe.SliceData(data), len(data)), keyField)
	if err != nil {
		return nil, len(data), fmt.Errorf("%s:%w", path, err)
	}
	return users, len(data), nil
}

// usersError is a problem at a place in a users file.
type usersError struct {
	pos string // line:column
	msg string
}

func (e *usersError) Error() string { return e.pos + ": " + e.msg }

// parseUsers reads users from a JSON object keyed by identity, or from an
// array of user objects each found by keyField. Every user is stored as its
// compact JSON, the smallest form to hold and what {jwt.user} prints, in an
// index the garbage collector has no pointer to follow in (see
// rawjson.Index): a million users cost a GC cycle nothing.
// A leading byte order mark is skipped; line:column count from after it.
func parseUsers(text, keyField string) (*rawjson.Index, error) {
	text = rawjson.TrimBOM(text)
	at := func(offset int, msg string) error {
		return &usersError{pos: (&rawjson.SyntaxError{Offset: offset}).Position(text), msg: msg}
	}
	if len(text) > rawjson.MaxIndexBytes/2 {
		return nil, at(0, "the file is too large")
	}
	// One walk: each user is indexed as soon as it is checked. An object's
	// identities and compact users fit in its own length, with the two
	// lengths each record starts with in the place of the quotes, colon and
	// comma; an array's identities come on top of it (the block grows).
	size := len(text)
	if strings.HasPrefix(strings.TrimLeft(text, " \t\r\n"), "[") {
		size += size / 8
	}
	users := rawjson.NewIndexBuilder(size)
	doc, err := rawjson.CheckEach(text, func(o rawjson.Outer) error {
		if o.Value.Kind() != '{' {
			return at(o.Offset, "a user must be a JSON object")
		}
		if !o.Name.IsZero() {
			users.AddOuter(o.Name.Unquote(), o)
			return nil
		}
		raw, ok := o.Value.Path(keyField) // null is there, and not an identity
		if !ok {
			return at(o.Offset, fmt.Sprintf("the user has no %q field", keyField))
		}
		id, ok := identityFromJSON(raw)
		if !ok {
			return at(o.Offset, fmt.Sprintf("the user's %q field is not a usable identity (a non-empty string or a whole number)", keyField))
		}
		users.AddOuter(id, o)
		return nil
	})
	if se := (*rawjson.SyntaxError)(nil); errors.As(err, &se) {
		return nil, &usersError{pos: se.Position(text), msg: se.Msg}
	} else if err != nil {
		return nil, err
	}
	if k := doc.Kind(); k != '{' && k != '[' {
		start := len(text) - len(strings.TrimLeft(text, " \t\r\n"))
		return nil, at(start, "users must be a JSON object keyed by identity or an array of user objects")
	}
	index, dup := users.Finish()
	if dup >= 0 {
		// Found after the walk; the walk again to the user that repeats an
		// identity gives its place.
		offset, nth := 0, 0
		find := func(_ rawjson.Text, o int) bool { offset = o; nth++; return nth <= dup }
		doc.MembersAt(func(_, v rawjson.Text, o int) bool { return find(v, o) })
		doc.ElementsAt(find)
		return nil, at(offset, "a second user with the same identity")
	}
	return index, nil
}
