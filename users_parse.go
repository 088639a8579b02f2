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
	// The check counts the users, so the index is made once at its size.
	doc, count, err := rawjson.CheckOuterNamesUnchecked(text)
	if err != nil {
		var se *rawjson.SyntaxError
		errors.As(err, &se)
		return nil, &usersError{pos: se.Position(text), msg: se.Msg}
	}
	at := func(offset int, msg string) error {
		return &usersError{pos: (&rawjson.SyntaxError{Offset: offset}).Position(text), msg: msg}
	}
	isObject := doc.Kind() == '{'
	if !isObject && doc.Kind() != '[' {
		start := len(text) - len(strings.TrimLeft(text, " \t\r\n"))
		return nil, at(start, "users must be a JSON object keyed by identity or an array of user objects")
	}
	if len(text) > rawjson.MaxIndexBytes/2 {
		return nil, at(0, "the file is too large")
	}
	// An object's identities and compact users fit in its own length, with
	// the two lengths each record starts with in the place of the quotes,
	// colon and comma; an array's identities come on top of it.
	extra := 0
	if !isObject {
		extra = count * 24
	}
	index := rawjson.NewIndexBuilder(count, len(text)+extra)
	put := func(offset int, id string, user rawjson.Text) bool {
		if !index.Add(id, user) {
			err = at(offset, "a second user with the same identity")
			return false
		}
		return true
	}
	if isObject {
		doc.MembersAt(func(name, user rawjson.Text, offset int) bool {
			if user.Kind() != '{' {
				err = at(offset, "a user must be a JSON object")
				return false
			}
			return put(offset, name.Unquote(), user)
		})
	} else {
		doc.ElementsAt(func(user rawjson.Text, offset int) bool {
			if user.Kind() != '{' {
				err = at(offset, "a user must be a JSON object")
				return false
			}
			raw, ok := user.Path(keyField) // null is there, and not an identity
			if !ok {
				err = at(offset, fmt.Sprintf("the user has no %q field", keyField))
				return false
			}
			id, ok := identityFromJSON(raw)
			if !ok {
				err = at(offset, fmt.Sprintf("the user's %q field is not a usable identity (a non-empty string or a whole number)", keyField))
				return false
			}
			return put(offset, id, user)
		})
	}
	if err != nil {
		return nil, err
	}
	return index.Finish(), nil
}
