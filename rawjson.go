package jwtuser

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Token headers, token payloads and users are kept as their JSON text and
// read with the small scanner below rather than decoded into maps: a lookup
// costs a scan and no allocation, a stored user costs its own bytes, and one
// representation serves verification, placeholders and the upstream alike.
//
// checkJSON is the gate: every other function here assumes text it accepted.

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 64

// jsonError is a syntax error at a byte offset of the checked text.
type jsonError struct {
	offset int
	msg    string
}

func (e *jsonError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

// position reports the error's place in text as line:column (both from 1).
func (e *jsonError) position(text string) string {
	off := min(e.offset, len(text))
	line := 1 + strings.Count(text[:off], "\n")
	col := 1 + off - (strings.LastIndexByte(text[:off], '\n') + 1)
	return fmt.Sprintf("%d:%d", line, col)
}

// checkJSON accepts s only if it is exactly one JSON value (surrounding white
// space allowed) with valid UTF-8, and no object in it names a member twice:
// a duplicate would let two readers of the same text see different values.
func checkJSON(s string) error {
	return (&jsonChecker{s: s}).check()
}

// checkJSONOuterNamesUnchecked is checkJSON leaving duplicate names in the
// outermost object to the caller, which keys them in a map of its own
// anyway: a users file of 100,000 identities need not be indexed twice.
func checkJSONOuterNamesUnchecked(s string) error {
	return (&jsonChecker{s: s, outerNamesUnchecked: true}).check()
}

func (c *jsonChecker) check() error {
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

type jsonChecker struct {
	s                   string
	i                   int
	outerNamesUnchecked bool
}

func (c *jsonChecker) fail(msg string) error { return &jsonError{offset: c.i, msg: msg} }

func (c *jsonChecker) unexpected() error {
	if c.i >= len(c.s) {
		return c.fail("unexpected end of JSON")
	}
	return c.fail(fmt.Sprintf("invalid character %q", c.s[c.i]))
}

func (c *jsonChecker) space() {
	for c.i < len(c.s) {
		switch c.s[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *jsonChecker) value(depth int) error {
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

func (c *jsonChecker) object(depth int) error {
	if depth > maxJSONDepth {
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
		name := jsonUnquote(c.s[start:c.i])
		if c.outerNamesUnchecked && depth == 1 {
			// the caller checks these names
		} else if many != nil {
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
		if err := c.value(depth); err != nil {
			return err
		}
		if closed, err := c.separator('}'); closed || err != nil {
			return err
		}
	}
}

func (c *jsonChecker) array(depth int) error {
	if depth > maxJSONDepth {
		return c.fail("JSON nested too deeply")
	}
	c.i++ // [
	c.space()
	if c.i < len(c.s) && c.s[c.i] == ']' {
		c.i++
		return nil
	}
	for {
		if err := c.value(depth); err != nil {
			return err
		}
		if closed, err := c.separator(']'); closed || err != nil {
			return err
		}
	}
}

// separator reads what follows a member or element: a comma, or close,
// which ends the object or array.
func (c *jsonChecker) separator(close byte) (closed bool, err error) {
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

func (c *jsonChecker) str() error {
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

func (c *jsonChecker) number() error {
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

func (c *jsonChecker) digits() int {
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

// skipJSONSpace returns the offset of the first non-space byte at or after i.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// jsonValueEnd returns the offset just past the checked JSON value at i.
func jsonValueEnd(s string, i int) int {
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
				i = jsonValueEnd(s, i) - 1
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

// jsonMembers calls fn with each member of the checked JSON object obj, the
// name still quoted as it stands in the text, until fn returns false.
func jsonMembers(obj string, fn func(quotedName, value string) bool) {
	jsonMembersAt(obj, func(quotedName string, start, end int) bool {
		return fn(quotedName, obj[start:end])
	})
}

// jsonMembersAt is jsonMembers giving each value's offsets in obj.
func jsonMembersAt(obj string, fn func(quotedName string, start, end int) bool) {
	i := skipJSONSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipJSONSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		nameEnd := jsonValueEnd(obj, i)
		name := obj[i:nameEnd]
		i = skipJSONSpace(obj, nameEnd)
		i = skipJSONSpace(obj, i+1) // past ':'
		valueEnd := jsonValueEnd(obj, i)
		if !fn(name, i, valueEnd) {
			return
		}
		i = skipJSONSpace(obj, valueEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipJSONSpace(obj, i+1)
		}
	}
}

// jsonElements calls fn with each element of the checked JSON array arr until
// fn returns false.
func jsonElements(arr string, fn func(value string) bool) {
	jsonElementsAt(arr, func(start, end int) bool { return fn(arr[start:end]) })
}

// jsonElementsAt is jsonElements giving each element's offsets in arr.
func jsonElementsAt(arr string, fn func(start, end int) bool) {
	i := skipJSONSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipJSONSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := jsonValueEnd(arr, i)
		if !fn(i, end) {
			return
		}
		i = skipJSONSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipJSONSpace(arr, i+1)
		}
	}
}

// jsonMember returns the value of the member called name in the checked JSON
// object obj. Names are compared after unescaping, so "s\u0075b" is "sub".
func jsonMember(obj, name string) (value string, found bool) {
	// The walk of jsonMembersAt, without a callback: this runs for every
	// placeholder a request reads.
	i := skipJSONSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return "", false
	}
	i = skipJSONSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		nameEnd := jsonValueEnd(obj, i)
		quoted := obj[i:nameEnd]
		i = skipJSONSpace(obj, skipJSONSpace(obj, nameEnd)+1) // past ':'
		valueEnd := jsonValueEnd(obj, i)
		if jsonNameIs(quoted, name) {
			return obj[i:valueEnd], true
		}
		i = skipJSONSpace(obj, valueEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipJSONSpace(obj, i+1)
		}
	}
	return "", false
}

func jsonNameIs(quoted, name string) bool {
	inner := quoted[1 : len(quoted)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner == name
	}
	return jsonUnquote(quoted) == name
}

// jsonPath walks a dotted path through nested objects of the checked JSON
// value doc. At each level the longest run of path segments that names a
// member wins, so a claim named "https://example.com/roles" is found whole.
func jsonPath(doc, path string) (string, bool) {
	for {
		rest := path
		for {
			if v, ok := jsonMember(doc, rest); ok {
				if len(rest) == len(path) {
					return v, true
				}
				doc, path = v, path[len(rest)+1:]
				break
			}
			dot := strings.LastIndexByte(rest, '.')
			if dot < 0 {
				return "", false
			}
			rest = rest[:dot]
		}
	}
}

// jsonUnquote decodes a checked JSON string literal (quotes included).
func jsonUnquote(quoted string) string {
	inner := quoted[1 : len(quoted)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); i++ {
		if inner[i] != '\\' {
			b.WriteByte(inner[i])
			continue
		}
		i++
		switch inner[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(inner[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 < len(inner) && inner[i+1] == '\\' && inner[i+2] == 'u' {
					r2 = hex4(inner[i+3 : i+7])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					i += 6
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default: // '"', '\\', '/'
			b.WriteByte(inner[i])
		}
	}
	return b.String()
}

func hex4(s string) rune {
	n, _ := strconv.ParseUint(s, 16, 16)
	return rune(n)
}

// jsonQuoteTo appends s to b as the inside of a JSON string (no quotes added).
// '<', '>' and '&' stay as they are: the text goes to JSON readers, not HTML.
func jsonQuoteTo(b *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString(`\ufffd`)
				i += size
				start = i
				continue
			}
			// U+2028 and U+2029 break JavaScript string literals.
			if r == '\u2028' || r == '\u2029' {
				b.WriteString(s[start:i])
				b.WriteString(`\u202`)
				b.WriteByte(hexDigits[r&0xF])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
}

// compactJSON returns checked JSON text without insignificant white space;
// text that has none (white space inside strings aside) comes back as is.
func compactJSON(s string) string {
	if firstInsignificantSpace(s) < 0 {
		return s
	}
	return string(appendCompactJSON(make([]byte, 0, len(s)), s))
}

// firstInsignificantSpace is the offset of the first white space outside a
// string in checked JSON text, or -1.
func firstInsignificantSpace(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			return i
		case '"':
			i = jsonValueEnd(s, i) - 1
		}
	}
	return -1
}

// appendCompactJSON appends checked JSON text to dst without insignificant
// white space.
func appendCompactJSON(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		case '"':
			end := jsonValueEnd(s, i)
			dst = append(dst, s[i:end]...)
			i = end
		default:
			dst = append(dst, s[i])
			i++
		}
	}
	return dst
}
