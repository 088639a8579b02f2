package rawjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

func TestRawJSONUnquote(t *testing.T) {
	t.Parallel()
	lits := []string{
		`""`, `"abc"`, `"a b"`, `"\""`, `"\\"`, `"\/"`, `"/"`, `"\b\f\n\r\t"`,
		`"a\\nb"`, `"\\\""`, `"\"\\"`, `"\\u0041"`,
		`"\u0000"`, `"\u001f"`, `"\u0041\u0042"`, `"\u00e9"`, `"\u00E9"`, `"\u20AC"`, `"\u20ac"`,
		`"\uFFFF"`, `"\uFFFD"`, `"\uFEFF"`, `"\u005C"`, `"\u0022"`, `"\u2028\u2029"`,
		// surrogate pairs
		`"\uD83D\uDE00"`, `"\ud83d\ude00"`, `"x\uD83D\uDE00y"`, `"\uD800\uDC00"`, `"\uDBFF\uDFFF"`,
		`"\uD800\uDC00\uD800\uDC00"`, `"\uD83D\uDE00\u0041"`,
		// lone and misordered surrogates become U+FFFD, as with encoding/json
		`"\uD83D"`, `"\uDE00"`, `"\uD83Dx"`, `"\uD83Dxxxxxxx"`, `"\uD83D\u0041"`, `"\uD83D\uD83D\uDE00"`,
		`"\uDE00\uD83D"`, `"\uD800\uDBFF"`, `"\uD83D\\uDE00"`, `"\uD83D\n"`, `"\uD83D\"\uDE00"`,
		`"\uD800\uDC00\uD800"`, `"a\uDFFFb"`, `"\uD83D "`, `"\uD83D\/"`, `"\uD83D\uDE0A\uDE00"`,
		// raw UTF-8 mixed with escapes
		`"é😀"`, `"\u00e9é"`, "\"\u2028\"", "\"\x7f\"", `"<&>"`, `"é\n😀\t\u00e9"`,
	}
	for i, lit := range lits {
		t.Run(rjCaseName(i, lit), func(t *testing.T) {
			t.Parallel()
			rjCompareUnquote(t, lit)
		})
	}
}

func rjCompareUnquote(t testing.TB, lit string) {
	text := mustCheck(t, lit)
	var want string
	if err := json.Unmarshal([]byte(lit), &want); err != nil {
		t.Fatalf("json.Unmarshal(%q): %v", lit, err)
	}
	if got := text.Unquote(); got != want {
		t.Errorf("Unquote(%s) = %q (%U), encoding/json gives %q (%U)", lit, got, []rune(got), want, []rune(want))
	}
}

// Runes worth escaping or not, for generated strings.
var rjInterestingRunes = []rune{
	'a', 'Z', '0', ' ', '"', '\\', '/', '<', '>', '&', '\'', 0x7f,
	0, 1, '\b', '\t', '\n', '\f', '\r', 0x1b, 0x1f,
	'é', 'ß', '€', 0x800, 0xFFFD, 0xFEFF, 0xFFFF, '\u2028', '\u2029',
	'😀', 0x10000, 0x10FFFF,
}

func rjRandomRunes(r *rand.Rand) []rune {
	rs := make([]rune, r.IntN(12))
	for i := range rs {
		if r.IntN(4) == 0 {
			rs[i] = rune(r.IntN(0x110000))
			if rs[i] >= 0xD800 && rs[i] <= 0xDFFF {
				rs[i] = 'x'
			}
		} else {
			rs[i] = rjInterestingRunes[r.IntN(len(rjInterestingRunes))]
		}
	}
	return rs
}

func TestRawJSONUnquoteGenerated(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		b.WriteByte('"')
		for _, c := range rjRandomRunes(r) {
			switch k := r.IntN(6); {
			case r.IntN(10) == 0: // a lone surrogate
				fmt.Fprintf(&b, `\u%04X`, 0xD800+r.IntN(0x800))
			case k == 0 && c >= 0x10000: // an escaped pair
				hi, lo := 0xD800+((c-0x10000)>>10), 0xDC00+((c-0x10000)&0x3FF)
				fmt.Fprintf(&b, `\u%04x\u%04X`, hi, lo)
			case k == 1 && c < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				switch c {
				case '"':
					b.WriteString(`\"`)
				case '\\':
					b.WriteString(`\\`)
				case '/':
					b.WriteString([]string{`/`, `\/`}[r.IntN(2)])
				case '\b':
					b.WriteString(`\b`)
				case '\f':
					b.WriteString(`\f`)
				case '\n':
					b.WriteString(`\n`)
				case '\r':
					b.WriteString(`\r`)
				case '\t':
					b.WriteString(`\t`)
				default:
					if c < 0x20 {
						fmt.Fprintf(&b, `\u%04x`, c)
					} else {
						b.WriteRune(c)
					}
				}
			}
		}
		b.WriteByte('"')
		rjCompareUnquote(t, b.String())
		if t.Failed() {
			return
		}
	}
}

func rjQuoteString(s string) string {
	var b strings.Builder
	QuoteTo(&b, s)
	return b.String()
}

func TestRawJSONQuoteTo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"a b/c", "a b/c"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{`\"`, `\\\"`},
		{"\n\r\t", `\n\r\t`},
		{"\b\f", `\u0008\u000c`},
		{"\x00\x01\x1f", `\u0000\u0001\u001f`},
		{"\x1b[0m", `\u001b[0m`},
		{"\x7f", "\x7f"},
		{"<>&", "<>&"},
		{"<script>&amp;</script>", "<script>&amp;</script>"},
		{"\u2028\u2029", `\u2028\u2029`},
		{"a\u2028b", `a\u2028b`},
		{"\u2027\u202a", "\u2027\u202a"},
		{"é😀€", "é😀€"},
		{"\uFFFD", "\uFFFD"},
		{"\uFEFF", "\uFEFF"},
		{"\xff", `\ufffd`},
		{"a\xc3", `a\ufffd`},
		{"\xc3\xa9\xc3", `é\ufffd`},
		{"\xed\xa0\x80", `\ufffd\ufffd\ufffd`},
		{"\xc0\xaf", `\ufffd\ufffd`},
		{"x\n\xffy\"", `x\n\ufffdy\"`},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.in), func(t *testing.T) {
			t.Parallel()
			if got := rjQuoteString(tt.in); got != tt.want {
				t.Errorf("QuoteTo(%q) = %q, want %q", tt.in, got, tt.want)
			}
			rjCheckQuoted(t, tt.in)
		})
	}

	// It appends to what the builder already holds.
	var b strings.Builder
	b.WriteString(`{"k":"`)
	QuoteTo(&b, "v\"\n")
	b.WriteString(`"}`)
	if want := `{"k":"v\"\n"}`; b.String() != want {
		t.Errorf("appending: got %q, want %q", b.String(), want)
	}
}

// rjCheckQuoted asserts the properties of QuoteTo's output for s.
func rjCheckQuoted(t testing.TB, s string) {
	q := rjQuoteString(s)
	lit := `"` + q + `"`
	text, err := Check(lit)
	if err != nil {
		t.Fatalf("QuoteTo(%q) = %q, which Check refuses: %v", s, q, err)
	}
	var dec string
	if err := json.Unmarshal([]byte(lit), &dec); err != nil {
		t.Fatalf("QuoteTo(%q) = %q, which encoding/json refuses: %v", s, q, err)
	}
	// Invalid bytes turn into U+FFFD one by one, as string→[]rune does.
	want := string([]rune(s))
	if utf8.ValidString(s) && want != s {
		t.Fatalf("internal: %q changed by rune conversion", s)
	}
	if dec != want {
		t.Fatalf("QuoteTo(%q) = %q, decodes to %q, want %q", s, q, dec, want)
	}
	if got := text.Unquote(); got != want {
		t.Fatalf("Unquote(QuoteTo(%q)) = %q, want %q", s, got, want)
	}
	if !utf8.ValidString(q) {
		t.Fatalf("QuoteTo(%q) = %q, not valid UTF-8", s, q)
	}
	if strings.ContainsAny(q, "\u2028\u2029") {
		t.Fatalf("QuoteTo(%q) = %q keeps U+2028/U+2029 raw", s, q)
	}
	for _, c := range []string{"<", ">", "&"} {
		if strings.Count(q, c) != strings.Count(s, c) {
			t.Fatalf("QuoteTo(%q) = %q escapes %s", s, q, c)
		}
	}
	for i := 0; i < len(q); i++ {
		if q[i] < 0x20 {
			t.Fatalf("QuoteTo(%q) = %q keeps control byte %#x raw", s, q, q[i])
		}
	}
}

func TestRawJSONQuoteToGenerated(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	valid, invalid := 0, 0
	for n := 0; n < 5000; n++ {
		s := string(rjRandomRunes(r))
		if r.IntN(5) == 0 { // sprinkle invalid bytes
			b := []byte(s)
			bad := []byte{0xff, 0xc3, 0x80, 0xed, 0xa0, 0xe2, 0x82}
			for k := 1 + r.IntN(2); k > 0; k-- {
				i := r.IntN(len(b) + 1)
				b = append(b[:i], append([]byte{bad[r.IntN(len(bad))]}, b[i:]...)...)
			}
			s = string(b)
		}
		if utf8.ValidString(s) {
			valid++
		} else {
			invalid++
		}
		rjCheckQuoted(t, s)
		if t.Failed() {
			return
		}
	}
	if valid < 3000 || invalid < 500 {
		t.Errorf("generated %d valid and %d invalid strings; corpus too narrow", valid, invalid)
	}
}

func TestRawJSONCompact(t *testing.T) {
	t.Parallel()
	tests := []string{
		`{}`, `[]`, `1`, `"a b"`, ` 1 `, "\t\r\n null \n",
		`{"a":1}`,
		`{ "a" : 1 , "b" : [ 1 , 2 ] }`,
		"{\r\n  \"a b\": \"c d\",\r\n  \"e\": [\n    1,\n    {\"f\" : \" g \"}\n  ]\n}\n",
		`[ "a\" b" , "c" ]`,
		`[ "\\" , 1 ]`,
		`[ "\\\" ]" , 1 ]`,
		`{ "x" : " { [ , : ] } " }`,
		`[ "\u0020" , " \n" ]`,
		"[ \"\u2028 <&>\" , \"é 😀\" ]",
		`[ 1.5e-3 , -0 , true , false , null ]`,
		`[ [ ] , { } , [ [ ] ] ]`,
		"[1,2,3]",
		`{"a":"x y"}`,
		rjNestedMixed(64),
		" " + rjManyMembers(20) + " ",
	}
	for i, s := range tests {
		t.Run(rjCaseName(i, s), func(t *testing.T) {
			t.Parallel()
			text := mustCheck(t, s)
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(s)); err != nil {
				t.Fatal(err)
			}
			got := text.Compact().String()
			if got != buf.String() {
				t.Errorf("Compact(%q) = %q, json.Compact gives %q", s, got, buf.String())
			}
			if app := text.AppendCompact([]byte("x")); string(app) != "x"+buf.String() {
				t.Errorf("AppendCompact(x, %q) = %q, want x%s", s, app, buf.String())
			}
			if _, err := Check(got); err != nil {
				t.Errorf("Compact(%q) = %q, which Check refuses: %v", s, got, err)
			}
		})
	}
	// The whole valid corpus too.
	for _, s := range rjValidJSONCorpus {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := mustCheck(t, s).Compact().String(); got != buf.String() {
			t.Errorf("Compact(%q) = %q, json.Compact gives %q", s, got, buf.String())
		}
	}
}

// Unquote reads the string a Text holds, white space around a Check result
// aside; a Text that is not a string unquotes to "".
func TestRawJSONUnquoteKinds(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{` "a b" `, "a b"},
		{"\n\"\\u00e9\"\t", "é"},
		{`""`, ""},
		{`1`, ""},
		{`-1`, ""},
		{`null`, ""},
		{`true`, ""},
		{`["a"]`, ""},
		{`{"a":"b"}`, ""},
	}
	for _, tt := range tests {
		if got := mustCheck(t, tt.in).Unquote(); got != tt.want {
			t.Errorf("Unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Text without insignificant white space comes back as the same string, and
// an escape-free string unquotes to a part of its text: neither copies.
func TestRawJSONNoCopy(t *testing.T) {
	t.Parallel()
	for _, s := range []string{`{"a":"x y","b":[1,2]}`, `"x"`, `1`} {
		if got := mustCheck(t, s).Compact().String(); unsafe.StringData(got) != unsafe.StringData(s) {
			t.Errorf("Compact(%q) copied the text", s)
		}
	}
	s := `"abc"`
	if got := mustCheck(t, s).Unquote(); unsafe.StringData(got) != unsafe.StringData(s[1:]) {
		t.Errorf("Unquote(%q) copied the text", s)
	}
}
