package rawjson

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote returns the value of t as a Go string when t holds a JSON string,
// as encoding/json would decode it: escapes are resolved, an escaped UTF-16
// surrogate pair becomes one rune, and a lone surrogate becomes U+FFFD. It
// returns "" when t is not a string (Kind is not '"'), including the zero
// Text. Without escapes it returns a substring of t and does not allocate;
// with them it allocates the result.
func (t Text) Unquote() string {
	q := t.trimmed()
	if len(q) == 0 || q[0] != '"' {
		return ""
	}
	return unquote(q)
}

// unquote decodes a checked JSON string literal (quotes included).
func unquote(quoted string) string {
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

// QuoteTo appends s to b escaped as the inside of a JSON string; it adds no
// quotes. '"' and '\\' are escaped with a backslash, '\n', '\r' and '\t' as
// such, other bytes below 0x20 as \u00XX, and U+2028 and U+2029 as \u2028
// and \u2029 (they end JavaScript string literals). Each byte of invalid
// UTF-8 becomes \ufffd. '<', '>' and '&' stay as they are: the text goes to
// JSON readers, not HTML.
func QuoteTo(b *strings.Builder, s string) {
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

// Compact returns t without insignificant white space (outside strings),
// surrounding white space included, as json.Compact would; the same value,
// so still a Text. Text that has none comes back as is, with no allocation;
// otherwise the result is a new string. It returns the zero Text for the
// zero Text.
func (t Text) Compact() Text {
	s := t.s
	if firstInsignificantSpace(s) < 0 {
		return t
	}
	return Text{string(appendCompact(make([]byte, 0, len(s)), s))}
}

// AppendCompact appends the text of t to dst without insignificant white
// space, as [Text.Compact] returns it, and returns the extended slice.
func (t Text) AppendCompact(dst []byte) []byte { return appendCompact(dst, t.s) }

// firstInsignificantSpace is the offset of the first white space outside a
// string in checked JSON text, or -1.
func firstInsignificantSpace(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			return i
		case '"':
			i = valueEnd(s, i) - 1
		}
	}
	return -1
}

// appendCompact appends checked JSON text to dst without insignificant
// white space.
func appendCompact(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		case '"':
			end := valueEnd(s, i)
			dst = append(dst, s[i:end]...)
			i = end
		default:
			dst = append(dst, s[i])
			i++
		}
	}
	return dst
}
