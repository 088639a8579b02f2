package jwtuser

import (
	"errors"
	"fmt"
	"os"
	"unsafe"
)

func readUsersFile(path, keyField string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The text is only read while parsing and nothing keeps a piece of it,
	// so it shares the bytes just read instead of copying them.
	users, err := parseUsers(unsafe.String(unsafe.SliceData(data), len(data)), keyField)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	return users, nil
}

// usersError is a problem at a place in a users file.
type usersError struct {
	pos string // line:column
	msg string
}

func (e *usersError) Error() string { return e.pos + ": " + e.msg }

// parseUsers reads users from a JSON object keyed by identity, or from an
// array of user objects each found by keyField. Every user is stored as its
// compact JSON, the smallest form to hold and what {jwt.user} prints.
func parseUsers(text, keyField string) (map[string]string, error) {
	if err := checkJSONOuterNamesUnchecked(text); err != nil {
		var je *jsonError
		errors.As(err, &je)
		return nil, &usersError{pos: je.position(text), msg: je.msg}
	}
	at := func(offset int, msg string) error {
		return &usersError{pos: (&jsonError{offset: offset}).position(text), msg: msg}
	}
	start := skipJSONSpace(text, 0)
	isObject := text[start] == '{'
	if !isObject && text[start] != '[' {
		return nil, at(start, "users must be a JSON object keyed by identity or an array of user objects")
	}
	// Counted first, so the map is made once at its size.
	count := 0
	if isObject {
		jsonMembersAt(text, func(string, int, int) bool { count++; return true })
	} else {
		jsonElementsAt(text, func(int, int) bool { count++; return true })
	}
	users := make(map[string]string, count)
	// An object's identities and compact users fit in its own length; an
	// array's identities come on top of it.
	extra := 0
	if !isObject {
		extra = count * 16
	}
	arena := stringArena{block: make([]byte, 0, len(text)+extra)}
	var err error
	put := func(offset int, id, user string) bool {
		if _, dup := users[id]; dup {
			err = at(offset, "a second user with the same identity")
			return false
		}
		users[arena.add(id)] = arena.addCompactJSON(user)
		return true
	}
	if isObject {
		jsonMembersAt(text, func(name string, from, to int) bool {
			if text[from] != '{' {
				err = at(from, "a user must be a JSON object")
				return false
			}
			return put(from, jsonUnquote(name), text[from:to])
		})
	} else {
		jsonElementsAt(text, func(from, to int) bool {
			user := text[from:to]
			if user[0] != '{' {
				err = at(from, "a user must be a JSON object")
				return false
			}
			raw, ok := presentPath(user, keyField)
			if !ok {
				err = at(from, fmt.Sprintf("the user has no %q field", keyField))
				return false
			}
			id, ok := identityFromJSON(raw)
			if !ok {
				err = at(from, fmt.Sprintf("the user's %q field is not a usable identity (a non-empty string or a whole number)", keyField))
				return false
			}
			return put(from, id, user)
		})
	}
	if err != nil {
		return nil, err
	}
	return users, nil
}

// stringArena copies strings into large shared blocks: 100,000 users cost a
// block or two, not 200,000 allocations, and nothing points into the file's
// text, which can go once it is parsed. Bytes handed out are never written
// again; a full block is left to the strings in it and a new one begun.
type stringArena struct{ block []byte }

func (a *stringArena) add(s string) string {
	if len(s) == 0 {
		return ""
	}
	a.reserve(len(s))
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}

// addCompactJSON adds checked JSON text in its compact form.
func (a *stringArena) addCompactJSON(s string) string {
	a.reserve(len(s)) // compact is never longer
	start := len(a.block)
	a.block = appendCompactJSON(a.block, s)
	return unsafe.String(&a.block[start], len(a.block)-start)
}

func (a *stringArena) reserve(n int) {
	if len(a.block)+n > cap(a.block) {
		a.block = make([]byte, 0, max(cap(a.block), n, 4096))
	}
}
