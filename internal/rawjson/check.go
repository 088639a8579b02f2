package rawjson

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// SyntaxError is why [Check] or [CheckEach] refused a text.
type SyntaxError struct {
	// Offset is the byte offset (from 0) in the checked text where the
	// problem was found: the offending byte, the opening quote of a
	// duplicate member name, the bracket that nests too deeply, or the
	// length of the text when it ended too soon.
	Offset int
	// Msg says what is wrong, for example "unexpected end of JSON",
	// "invalid character 'x'", "invalid character 'é' (U+00E9)", "invalid
	// byte 0xC3 (not UTF-8)", "unexpected byte order mark (U+FEFF)",
	// "invalid escape in string", "control
	// character in string", "invalid UTF-8 in string", "duplicate object
	// member name", "JSON nested too deeply" or "unexpected data after the
	// JSON value".
	Msg string
}

// Error returns Msg and Offset as "<msg> at offset <n>".
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset) }

// Position reports where the error lies in text, the string that was
// checked, as "line:column": both count from 1, a line ends at '\n', and the
// column counts bytes. An Offset beyond the end of text is taken as its end.
func (e *SyntaxError) Position(text string) string {
	off := min(e.Offset, len(text))
	line := 1 + strings.Count(text[:off], "\n")
	col := 1 + off - (strings.LastIndexByte(text[:off], '\n') + 1)
	return fmt.Sprintf("%d:%d", line, col)
}

// Check accepts s only if it is exactly one JSON value (RFC 8259), with
// optional white space (space, tab, CR, LF) around it, valid UTF-8 in every
// string, nesting of at most 64 arrays and objects, and no object, at any
// depth, that names a member twice. Names are compared after unescaping, so
// "sub" and "s\u0075b" are the same name: a duplicate would let two readers
// of the same text see different values.
//
// On success the Text holds s as given, surrounding white space included.
// On failure the Text is zero and the error is a *[SyntaxError] giving the
// byte offset of the first problem.
func Check(s string) (Text, error) {
	if err := (&checker{s: s}).check(); err != nil {
		return Text{}, err
	}
	return Text{s}, nil
}

// Outer is one member or element of the outermost object or array, as
// [CheckEach] hands it over.
type Outer struct {
	// Name is the member's name as written, quotes and escapes included
	// (see [Text.Unquote]); the zero Text for an array element.
	Name Text
	// Value is the member's value or the element, without surrounding
	// white space; Offset is its byte offset in the checked text.
	Value  Text
	Offset int
	// spaced is whether Value holds white space that compacting drops.
	spaced bool
}

// CheckEach is [Check] except that, when s is an object, member names of
// that outermost object are not checked for duplicates (nested objects
// still are), and that it hands each member or element of the outermost
// object or array to fn as soon as it is checked, in order. It is for
// callers that index the outer members themselves and must refuse
// duplicates there: a users file of a million identities is checked and
// indexed in one walk, not indexed twice. Until the caller has done so,
// [Text.Member] on the result returns the first of repeated members and
// [Text.Members] visits them all.
//
// An error from fn stops the check and is returned as it is. A syntax
// error found after fn was called is still an error: the caller must then
// drop what fn kept. For any other outermost value fn is not called.
func CheckEach(s string, fn func(Outer) error) (Text, error) {
	c := &checker{s: s, outerNamesUnchecked: true, each: fn}
	if err := c.check(); err != nil {
		return Text{}, err
	}
	return Text{s}, nil
}

// checker scans s from offset i.
type checker struct {
	s                   string
	i                   int
	outerNamesUnchecked bool
	each                func(Outer) error
	spaced              bool // space() skipped something
}

// outerValue checks the value of an outermost member (name non-zero) or
// an outermost element, and hands it to each.
func (c *checker) outerValue(name Text) error {
	start := c.i
	c.spaced = false
	if err := c.value(1); err != nil {
		return err
	}
	return c.each(Outer{Name: name, Value: Text{c.s[start:c.i]}, Offset: start, spaced: c.spaced})
}

func (c *checker) check() error {
	s := c.s
	c.space()
	if err := c.value(0); err != nil {
		return err
	}
	c.space()
	if c.i != len(s) {
		return c.fail("unexpected data after the JSON value")
	}
	return nil
}

func (c *checker) fail(msg string) error { return &SyntaxError{Offset: c.i, Msg: msg} }

func (c *checker) unexpected() error {
	if c.i >= len(c.s) {
		return c.fail("unexpected end of JSON")
	}
	return c.fail(unexpectedAt(c.s[c.i:]))
}

// unexpectedAt names, in words, what starts s where JSON cannot have it: a
// whole character, never one byte of a multi-byte one (which would print
// as a stray 'Ã'), the byte itself when it is not UTF-8, and a byte order
// mark by its name, as it is invisible in an editor.
func unexpectedAt(s string) string {
	if s[0] < utf8.RuneSelf {
		return fmt.Sprintf("invalid character %q", s[0])
	}
	switch r, size := utf8.DecodeRuneInString(s); {
	case r == utf8.RuneError && size == 1:
		return fmt.Sprintf("invalid byte 0x%02X (not UTF-8)", s[0])
	case r == '\uFEFF':
		return "unexpected byte order mark (U+FEFF)"
	default:
		return fmt.Sprintf("invalid character %q (U+%04X)", r, r)
	}
}

// BOM is the UTF-8 byte order mark, EF BB BF.
const BOM = "\uFEFF"

// TrimBOM returns s without one leading byte order mark. RFC 8259 §8.1 lets
// a parser ignore one, and editors on some systems write it, so documents
// that operators and services write (users files, JWK Sets, user service
// answers) go through TrimBOM before [Check]. A token's segments do not: a
// BOM there is refused like any other stray character.
func TrimBOM(s string) string { return strings.TrimPrefix(s, BOM) }

func (c *checker) space() {
	for c.i < len(c.s) {
		switch c.s[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
			c.spaced = true
		default:
			return
		}
	}
}

func (c *checker) value(depth int) error {
	if c.i >= len(c.s) {
		return c.unexpected()
	}
	switch b := c.s[c.i]; {
	case b == '{':
		return c.object(depth + 1)
	case b == '[':
		return c.array(depth + 1)
	case b == '"':
		return c.str()
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	case strings.HasPrefix(c.s[c.i:], "true"):
		c.i += 4
	case strings.HasPrefix(c.s[c.i:], "false"):
		c.i += 5
	case strings.HasPrefix(c.s[c.i:], "null"):
		c.i += 4
	default:
		return c.unexpected()
	}
	return nil
}

func (c *checker) object(depth int) error {
	if depth > maxDepth {
		return c.fail("JSON nested too deeply")
	}
	c.i++ // {
	c.space()
	if c.i < len(c.s) && c.s[c.i] == '}' {
		c.i++
		return nil
	}
	// Names seen so far; small objects stay on the stack.
	var small [16]string
	seen := small[:0]
	var many map[string]struct{}
	for {
		if c.i >= len(c.s) || c.s[c.i] != '"' {
			return c.unexpected()
		}
		start := c.i
		if err := c.str(); err != nil {
			return err
		}
		nameEnd := c.i
		if c.outerNamesUnchecked && depth == 1 {
			// the caller checks these names
		} else if name := unquote(c.s[start:c.i]); many != nil {
			if _, dup := many[name]; dup {
				c.i = start
				return c.fail("duplicate object member name")
			}
			many[name] = struct{}{}
		} else {
			for _, prev := range seen {
				if prev == name {
					c.i = start
					return c.fail("duplicate object member name")
				}
			}
			if len(seen) < len(small) {
				seen = append(seen, name)
			} else {
				many = make(map[string]struct{}, 2*len(small))
				for _, prev := range seen {
					many[prev] = struct{}{}
				}
				many[name] = struct{}{}
			}
		}
		c.space()
		if c.i >= len(c.s) || c.s[c.i] != ':' {
			return c.unexpected()
		}
		c.i++
		c.space()
		if depth == 1 && c.each != nil {
			if err := c.outerValue(Text{c.s[start:nameEnd]}); err != nil {
				return err
			}
		} else if err := c.value(depth); err != nil {
			return err
		}
		if closed, err := c.separator('}'); closed || err != nil {
			return err
		}
	}
}

func (c *checker) array(depth int) error {
	if depth > maxDepth {
		return c.fail("JSON nested too deeply")
	}
	c.i++ // [
	c.space()
	if c.i < len(c.s) && c.s[c.i] == ']' {
		c.i++
		return nil
	}
	for {
		if depth == 1 && c.each != nil {
			if err := c.outerValue(Text{}); err != nil {
				return err
			}
		} else if err := c.value(depth); err != nil {
			return err
		}
		if closed, err := c.separator(']'); closed || err != nil {
			return err
		}
	}
}

// separator reads what follows a member or element: a comma, or close,
// which ends the object or array.
func (c *checker) separator(close byte) (closed bool, err error) {
	c.space()
	switch {
	case c.i >= len(c.s):
		return false, c.unexpected()
	case c.s[c.i] == ',':
		c.i++
		c.space()
		return false, nil
	case c.s[c.i] == close:
		c.i++
		return true, nil
	}
	return false, c.unexpected()
}

func (c *checker) str() error {
	c.i++ // opening quote
	for c.i < len(c.s) {
		b := c.s[c.i]
		switch {
		case b == '"':
			c.i++
			return nil
		case b == '\\':
			if c.i+1 >= len(c.s) {
				c.i++
				return c.unexpected()
			}
			switch c.s[c.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				c.i += 2
			case 'u':
				if c.i+6 > len(c.s) || !isHex4(c.s[c.i+2:c.i+6]) {
					return c.fail("invalid escape in string")
				}
				c.i += 6
			default:
				return c.fail("invalid escape in string")
			}
		case b < 0x20:
			return c.fail("control character in string")
		case b < utf8.RuneSelf:
			c.i++
		default:
			r, size := utf8.DecodeRuneInString(c.s[c.i:])
			if r == utf8.RuneError && size == 1 {
				return c.fail("invalid UTF-8 in string")
			}
			c.i += size
		}
	}
	return c.unexpected()
}

func (c *checker) number() error {
	if c.s[c.i] == '-' {
		c.i++
	}
	switch {
	case c.i < len(c.s) && c.s[c.i] == '0':
		c.i++
	case c.i < len(c.s) && c.s[c.i] >= '1' && c.s[c.i] <= '9':
		c.digits()
	default:
		return c.unexpected()
	}
	if c.i < len(c.s) && c.s[c.i] == '.' {
		c.i++
		if c.digits() == 0 {
			return c.unexpected()
		}
	}
	if c.i < len(c.s) && (c.s[c.i] == 'e' || c.s[c.i] == 'E') {
		c.i++
		if c.i < len(c.s) && (c.s[c.i] == '+' || c.s[c.i] == '-') {
			c.i++
		}
		if c.digits() == 0 {
			return c.unexpected()
		}
	}
	return nil
}

func (c *checker) digits() int {
	start := c.i
	for c.i < len(c.s) && c.s[c.i] >= '0' && c.s[c.i] <= '9' {
		c.i++
	}
	return c.i - start
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		b := s[i]
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F') {
			return false
		}
	}
	return true
}
