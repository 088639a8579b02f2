package rawjson

import "strings"

// Text is JSON text that [Check] accepted, or a part of such text returned by
// a reader: a member name, a member value or an array element.
//
// Only [Check], [CheckEach], the readers, [Text.Compact], [Text.Clone] and
// [Index.Lookup] (a compact copy) make a Text, so the readers, which assume valid input
// and do not re-check it, never see unchecked text. A Text returned by Check may have white space around its
// value; one returned by a reader never does. Readers return substrings of
// the text they read and do not allocate (except [Text.Unquote],
// [Text.Compact] and the number methods, where they say so).
//
// The zero Text holds no value: it is what a lookup that finds nothing
// returns, and every method treats it as an empty value of no kind.
type Text struct{ s string }

// String returns the JSON text as it was given, with any surrounding white
// space of a Check result; "" for the zero Text.
func (t Text) String() string { return t.s }

// IsZero reports whether t is the zero Text, which a successful Check or a
// reader's successful lookup never returns.
func (t Text) IsZero() bool { return t.s == "" }

// Clone returns t in memory of its own, so keeping it does not keep alive
// the larger text t may be part of (a whole users file).
func (t Text) Clone() Text { return Text{strings.Clone(t.s)} }

// Kind returns the first byte of the value, white space skipped: '{' for an
// object, '[' an array, '"' a string, 't' true, 'f' false, 'n' null, and '-'
// or a digit '0'…'9' for a number. It returns 0 for the zero Text.
func (t Text) Kind() byte {
	if i := skipSpace(t.s, 0); i < len(t.s) {
		return t.s[i]
	}
	return 0
}

// IsNumber reports whether t holds a JSON number (Kind is '-' or a digit).
func (t Text) IsNumber() bool {
	k := t.Kind()
	return k == '-' || k >= '0' && k <= '9'
}

// trimmed is the value of t without surrounding white space.
func (t Text) trimmed() string {
	s := t.s
	i, j := skipSpace(s, 0), len(s)
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// skipSpace returns the offset of the first non-space byte at or after i.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the offset just past the checked JSON value at i.
func valueEnd(s string, i int) int {
	switch s[i] {
	case '"':
		for i++; s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch s[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			case '"':
				i = valueEnd(s, i) - 1
			}
		}
	default: // number or literal
		for i < len(s) {
			switch s[i] {
			case ' ', '\t', '\r', '\n', ',', ']', '}':
				return i
			}
			i++
		}
		return i
	}
}

// Member returns the value of the member called name when t is an object,
// and false when t is not an object or has no such member. Names are
// compared after unescaping, so a member written "s\u0075b" is found as
// "sub"; name itself is taken literally. Under [CheckEach] the
// first of repeated members wins. Member does not allocate unless the
// member names it passes contain escapes.
func (t Text) Member(name string) (Text, bool) {
	// The walk of MembersAt, without a callback: this runs for every
	// placeholder a request reads.
	obj := t.s
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return Text{}, false
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		nameEnd := valueEnd(obj, i)
		quoted := obj[i:nameEnd]
		i = skipSpace(obj, skipSpace(obj, nameEnd)+1) // past ':'
		end := valueEnd(obj, i)
		if nameIs(quoted, name) {
			return Text{obj[i:end]}, true
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return Text{}, false
}

// nameIs reports whether the quoted member name unescapes to name.
func nameIs(quoted, name string) bool {
	inner := quoted[1 : len(quoted)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner == name
	}
	return unquote(quoted) == name
}

// Path walks a dotted path through nested objects: "a.b.c" is member c of
// member b of member a. At each level the longest run of segments that names
// a member wins, so a claim named "https://example.com/roles" is found whole
// and "a.b" beats "a"; a shorter run is not tried when the longest leads
// nowhere. Segments may be empty ("" names the member ""). It returns false
// when some step is missing or not an object, and does not allocate unless
// member names along the way contain escapes.
func (t Text) Path(path string) (Text, bool) {
	for {
		rest := path
		for {
			if v, ok := t.Member(rest); ok {
				if len(rest) == len(path) {
					return v, true
				}
				t, path = v, path[len(rest)+1:]
				break
			}
			dot := strings.LastIndexByte(rest, '.')
			if dot < 0 {
				return Text{}, false
			}
			rest = rest[:dot]
		}
	}
}

// Members calls fn with each member of t, in order, until fn returns false;
// it calls fn not at all when t is not an object. name is the member name as
// written, quotes and escapes included (a JSON string: see [Text.Unquote]);
// value is the member's value without surrounding white space.
func (t Text) Members(fn func(name, value Text) bool) {
	t.MembersAt(func(name, value Text, _ int) bool { return fn(name, value) })
}

// MembersAt is [Text.Members] also giving the byte offset of each value
// within t.String(), for reporting positions in the whole text (see
// [SyntaxError.Position]).
func (t Text) MembersAt(fn func(name, value Text, offset int) bool) {
	obj := t.s
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		nameEnd := valueEnd(obj, i)
		name := obj[i:nameEnd]
		i = skipSpace(obj, nameEnd)
		i = skipSpace(obj, i+1) // past ':'
		end := valueEnd(obj, i)
		if !fn(Text{name}, Text{obj[i:end]}, i) {
			return
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// Elements calls fn with each element of t, in order and without
// surrounding white space, until fn returns false; it calls fn not at all
// when t is not an array.
func (t Text) Elements(fn func(value Text) bool) {
	t.ElementsAt(func(value Text, _ int) bool { return fn(value) })
}

// ElementsAt is [Text.Elements] also giving the byte offset of each element
// within t.String().
func (t Text) ElementsAt(fn func(value Text, offset int) bool) {
	arr := t.s
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := valueEnd(arr, i)
		if !fn(Text{arr[i:end]}, i) {
			return
		}
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
}
