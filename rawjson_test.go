package jwtuser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Error messages produced by checkJSON, used to classify refusals.
const (
	rjMsgEnd      = "unexpected end of JSON"
	rjMsgAfter    = "unexpected data after the JSON value"
	rjMsgChar     = "invalid character"
	rjMsgEscape   = "invalid escape in string"
	rjMsgControl  = "control character in string"
	rjMsgUTF8     = "invalid UTF-8 in string"
	rjMsgDup      = "duplicate object member name"
	rjMsgTooDeep  = "JSON nested too deeply"
	rjCaseNameMax = 48
)

// rjCaseName turns an input into a readable sub-test name.
func rjCaseName(i int, s string) string {
	q := fmt.Sprintf("%q", s)
	if len(q) > rjCaseNameMax {
		q = q[:rjCaseNameMax] + "…"
	}
	return fmt.Sprintf("%03d_%s", i, q)
}

func rjNestedArrays(n int) string {
	return strings.Repeat("[", n) + strings.Repeat("]", n)
}

func rjNestedObjects(n int) string {
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
}

// rjNestedMixed alternates objects and arrays, n levels in all.
func rjNestedMixed(n int) string {
	var open, close strings.Builder
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			open.WriteString(`{"k":`)
		} else {
			open.WriteString("[")
		}
	}
	for i := n - 1; i >= 0; i-- {
		if i%2 == 0 {
			close.WriteString("}")
		} else {
			close.WriteString("]")
		}
	}
	return open.String() + "0" + close.String()
}

// rjManyMembers is an object with members k00..k(n-1), each valued by its index.
func rjManyMembers(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%02d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// rjWithExtraMember inserts one more member, quoted name as given, before the
// closing brace of obj.
func rjWithExtraMember(obj, quotedName string) string {
	return obj[:len(obj)-1] + "," + quotedName + ":true}"
}

var rjValidJSONCorpus = []string{
	// literals
	`null`, `true`, `false`,
	// numbers
	`0`, `-0`, `1`, `-1`, `42`, `1.5`, `-1.5`, `0.0015`, `1e5`, `1E5`, `1e+5`, `1E-5`,
	`-0.0e0`, `4.2e+01`, `123456789012345678901234567890`, `1e999999`, `0e0`, `10.01E-010`,
	// strings
	`""`, `"abc"`, `"a b"`, `"\"\\\/\b\f\n\r\t"`, `"\u0000"`, `"\u001f"`, `"\u00e9"`, `"\u00E9"`,
	`"\uD83D\uDE00"`, `"\ud800"`, `"\udc00x"`, `"é"`, `"😀"`, "\"\uFFFD\"", "\"\x7f\"",
	"\"\u2028\u2029\"", `"<&>"`, `"{[,:]}"`, `"\\"`, `"a\\"`,
	// arrays
	`[]`, `[ ]`, `[1]`, `[1,2,3]`, `[[]]`, `[[],[[]]]`, `["a",1,true,false,null,{},[]]`,
	`[{"a":1},{"a":2}]`,
	// objects
	`{}`, `{ }`, `{"a":1}`, `{"":1}`, `{"a":1,"A":2}`, `{"a":{"a":1},"b":{"a":2}}`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `{"a\"b":1,"a\\b":2,"ab":3}`,
	`{"sub":1,"s\u0075c":2}`, `{"\ud800\udc00":1,"\ud800":2}`,
	// white space everywhere
	" \t\r\n{ \"a\" :\t[ 1 ,\r\n2 ] ,\n\"b\"\n:\n{ } }\n\t ",
	"  null  ", "\n1\n", "[\r\n]",
	// member counts around the switch from the list to the map
	rjManyMembers(15), rjManyMembers(16), rjManyMembers(17), rjManyMembers(40),
	`[` + rjManyMembers(17) + `,` + rjManyMembers(17) + `]`,
	// nesting up to the limit
	rjNestedArrays(1), rjNestedArrays(63), rjNestedArrays(64),
	rjNestedObjects(64), rjNestedMixed(64),
	`{"a":` + rjNestedArrays(63) + `}`,
}

func TestRawJSONCheckAcceptsValid(t *testing.T) {
	for i, s := range rjValidJSONCorpus {
		t.Run(rjCaseName(i, s), func(t *testing.T) {
			if err := checkJSON(s); err != nil {
				t.Fatalf("checkJSON(%q) = %v, want nil", s, err)
			}
			if !json.Valid([]byte(s)) {
				t.Fatalf("test corpus error: json.Valid(%q) = false", s)
			}
		})
	}
}

// Kinds of refusal, for the cross-check with encoding/json.
const (
	rjKindSyntax = iota // encoding/json refuses too
	rjKindUTF8          // encoding/json accepts invalid UTF-8 in strings
	rjKindDup           // encoding/json accepts duplicate names
	rjKindDepth         // encoding/json allows deeper nesting
)

type rjRejectCase struct {
	in     string
	msg    string // substring of the message
	offset int    // -1: computed by the case itself below
	kind   int
}

func rjRejectCorpus() []rjRejectCase {
	cases := []rjRejectCase{
		// empty and trailing data
		{"", rjMsgEnd, 0, rjKindSyntax},
		{"   ", rjMsgEnd, 3, rjKindSyntax},
		{"1 2", rjMsgAfter, 2, rjKindSyntax},
		{"{} {}", rjMsgAfter, 3, rjKindSyntax},
		{"[]]", rjMsgAfter, 2, rjKindSyntax},
		{`"a""b"`, rjMsgAfter, 3, rjKindSyntax},
		{"null,", rjMsgAfter, 4, rjKindSyntax},
		{"1\f", rjMsgAfter, 1, rjKindSyntax},
		// bad literals
		{"nul", rjMsgChar, 0, rjKindSyntax},
		{"tru", rjMsgChar, 0, rjKindSyntax},
		{"fals", rjMsgChar, 0, rjKindSyntax},
		{"True", rjMsgChar, 0, rjKindSyntax},
		{"NULL", rjMsgChar, 0, rjKindSyntax},
		{"nulll", rjMsgAfter, 4, rjKindSyntax},
		{"truefalse", rjMsgAfter, 4, rjKindSyntax},
		{"[truex]", rjMsgChar, 5, rjKindSyntax},
		{"[nul]", rjMsgChar, 1, rjKindSyntax},
		{"undefined", rjMsgChar, 0, rjKindSyntax},
		{"NaN", rjMsgChar, 0, rjKindSyntax},
		{"Infinity", rjMsgChar, 0, rjKindSyntax},
		{"-Infinity", rjMsgChar, 1, rjKindSyntax},
		{"'a'", rjMsgChar, 0, rjKindSyntax},
		// bad numbers
		{"01", rjMsgAfter, 1, rjKindSyntax},
		{"-01", rjMsgAfter, 2, rjKindSyntax},
		{"00", rjMsgAfter, 1, rjKindSyntax},
		{"1.", rjMsgEnd, 2, rjKindSyntax},
		{"[1.]", rjMsgChar, 3, rjKindSyntax},
		{"1.e5", rjMsgChar, 2, rjKindSyntax},
		{".5", rjMsgChar, 0, rjKindSyntax},
		{"-", rjMsgEnd, 1, rjKindSyntax},
		{"[-]", rjMsgChar, 2, rjKindSyntax},
		{"--1", rjMsgChar, 1, rjKindSyntax},
		{"-.5", rjMsgChar, 1, rjKindSyntax},
		{"1e", rjMsgEnd, 2, rjKindSyntax},
		{"1E+", rjMsgEnd, 3, rjKindSyntax},
		{"1e-x", rjMsgChar, 3, rjKindSyntax},
		{"1e+-1", rjMsgChar, 3, rjKindSyntax},
		{"+1", rjMsgChar, 0, rjKindSyntax},
		{"0x10", rjMsgAfter, 1, rjKindSyntax},
		{"1.5.5", rjMsgAfter, 3, rjKindSyntax},
		{"1e5e5", rjMsgAfter, 3, rjKindSyntax},
		{"1_000", rjMsgAfter, 1, rjKindSyntax},
		// unterminated strings
		{`"`, rjMsgEnd, 1, rjKindSyntax},
		{`"abc`, rjMsgEnd, 4, rjKindSyntax},
		{`"abc\`, rjMsgEnd, 5, rjKindSyntax},
		{`"abc\"`, rjMsgEnd, 6, rjKindSyntax},
		{`["abc]`, rjMsgEnd, 6, rjKindSyntax},
		{`{"a`, rjMsgEnd, 3, rjKindSyntax},
		// control characters in strings
		{"\"a\x01b\"", rjMsgControl, 2, rjKindSyntax},
		{"\"a\nb\"", rjMsgControl, 2, rjKindSyntax},
		{"\"\t\"", rjMsgControl, 1, rjKindSyntax},
		{"\"\r\"", rjMsgControl, 1, rjKindSyntax},
		{"\"\x00\"", rjMsgControl, 1, rjKindSyntax},
		{"\"\x1f\"", rjMsgControl, 1, rjKindSyntax},
		{"{\"a\x0bb\":1}", rjMsgControl, 3, rjKindSyntax},
		// bad escapes
		{`"\x"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\x41"`, rjMsgEscape, 1, rjKindSyntax},
		{`"ab\u12"`, rjMsgEscape, 3, rjKindSyntax},
		{`"\u12"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\u"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\u12zz"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\u-123"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\U0041"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\'"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\a"`, rjMsgEscape, 1, rjKindSyntax},
		{`"\0"`, rjMsgEscape, 1, rjKindSyntax},
		{"\"\\ \"", rjMsgEscape, 1, rjKindSyntax},
		{"\"\\\n\"", rjMsgEscape, 1, rjKindSyntax},
		{`"\uD83D\u"`, rjMsgEscape, 7, rjKindSyntax},
		{`{"\q":1}`, rjMsgEscape, 2, rjKindSyntax},
		// invalid UTF-8
		{"\"\xff\"", rjMsgUTF8, 1, rjKindUTF8},
		{"\"\xfe\"", rjMsgUTF8, 1, rjKindUTF8},
		{"\"\xc3\"", rjMsgUTF8, 1, rjKindUTF8},
		{"\"\xc3(\"", rjMsgUTF8, 1, rjKindUTF8},
		{"\"\xc0\xaf\"", rjMsgUTF8, 1, rjKindUTF8},                // overlong '/'
		{"\"\xed\xa0\x80\"", rjMsgUTF8, 1, rjKindUTF8},            // encoded surrogate
		{"\"\xf4\x90\x80\x80\"", rjMsgUTF8, 1, rjKindUTF8},        // beyond U+10FFFF
		{"\"ab\xe2\x82\"", rjMsgUTF8, 3, rjKindUTF8},              // truncated €
		{"\"\x80\"", rjMsgUTF8, 1, rjKindUTF8},                    // lone continuation
		{"{\"a\":\"ok\",\"b\xff\":1}", rjMsgUTF8, 12, rjKindUTF8}, // in a name
		{"\xff", rjMsgChar, 0, rjKindSyntax},
		{"[\xc3\xa9]", rjMsgChar, 1, rjKindSyntax},
		{"\ufeff{}", rjMsgChar, 0, rjKindSyntax}, // byte order mark
		{"\u00a01", rjMsgChar, 0, rjKindSyntax},  // no-break space is not white space
		{"\v1", rjMsgChar, 0, rjKindSyntax},
		// structure
		{"[", rjMsgEnd, 1, rjKindSyntax},
		{"{", rjMsgEnd, 1, rjKindSyntax},
		{"[1,", rjMsgEnd, 3, rjKindSyntax},
		{"[1", rjMsgEnd, 2, rjKindSyntax},
		{`{"a"`, rjMsgEnd, 4, rjKindSyntax},
		{`{"a":`, rjMsgEnd, 5, rjKindSyntax},
		{`{"a":1`, rjMsgEnd, 6, rjKindSyntax},
		{`{"a":1,`, rjMsgEnd, 7, rjKindSyntax},
		{"]", rjMsgChar, 0, rjKindSyntax},
		{"}", rjMsgChar, 0, rjKindSyntax},
		{":", rjMsgChar, 0, rjKindSyntax},
		{"[1,]", rjMsgChar, 3, rjKindSyntax},
		{"[,1]", rjMsgChar, 1, rjKindSyntax},
		{"[1,,2]", rjMsgChar, 3, rjKindSyntax},
		{"[1 2]", rjMsgChar, 3, rjKindSyntax},
		{"[1,2}", rjMsgChar, 4, rjKindSyntax},
		{`{"a":1}]`, rjMsgAfter, 7, rjKindSyntax},
		{`{"a":1]`, rjMsgChar, 6, rjKindSyntax},
		{`{"a":1,}`, rjMsgChar, 7, rjKindSyntax},
		{`{,}`, rjMsgChar, 1, rjKindSyntax},
		{`{"a"}`, rjMsgChar, 4, rjKindSyntax},
		{`{"a" 1}`, rjMsgChar, 5, rjKindSyntax},
		{`{"a"::1}`, rjMsgChar, 5, rjKindSyntax},
		{`{"a":}`, rjMsgChar, 5, rjKindSyntax},
		{`{a:1}`, rjMsgChar, 1, rjKindSyntax},
		{`{'a':1}`, rjMsgChar, 1, rjKindSyntax},
		{`{1:1}`, rjMsgChar, 1, rjKindSyntax},
		{`{null:1}`, rjMsgChar, 1, rjKindSyntax},
		{`{"a":1 "b":2}`, rjMsgChar, 7, rjKindSyntax},
		{`{"a":1;"b":2}`, rjMsgChar, 6, rjKindSyntax},
		{`{"a"=1}`, rjMsgChar, 4, rjKindSyntax},
		// duplicate names
		{`{"a":1,"a":2}`, rjMsgDup, 7, rjKindDup},
		{`{"a":1,"a":1}`, rjMsgDup, 7, rjKindDup},
		{`{ "a" : 1 , "a" : 2 }`, rjMsgDup, 12, rjKindDup},
		{`{"sub":1,"s\u0075b":2}`, rjMsgDup, 9, rjKindDup},
		{`{"s\u0075b":1,"sub":2}`, rjMsgDup, 14, rjKindDup},
		{`{"\u0073\u0075\u0062":1,"sub":2}`, rjMsgDup, 24, rjKindDup},
		{`{"\/":1,"/":2}`, rjMsgDup, 8, rjKindDup},
		{`{"\u00e9":1,"é":2}`, rjMsgDup, 12, rjKindDup},
		{`{"\uD83D\uDE00":1,"😀":2}`, rjMsgDup, 18, rjKindDup},
		{`{"":1,"":2}`, rjMsgDup, 6, rjKindDup},
		{`{"a":1,"b":2,"c":3,"b":4}`, rjMsgDup, 19, rjKindDup},
		// Both lone surrogates decode to U+FFFD, so encoding/json (and this
		// package) would see one name: refusing them is the safe reading.
		{`{"\ud800":1,"\udc00":2}`, rjMsgDup, 12, rjKindDup},
		{"{\"\\ufffd\":1,\"\uFFFD\":2}", rjMsgDup, 12, rjKindDup},
		// duplicates in nested objects
		{`{"a":1,"b":{"c":1,"c":2}}`, rjMsgDup, 18, rjKindDup},
		{`[{"a":1},{"b":1,"b":2}]`, rjMsgDup, 16, rjKindDup},
		{`{"x":[{"y":{"z":1,"z":2}}]}`, rjMsgDup, 18, rjKindDup},
		{`{"a":{"a":{"a":1,"a":2}}}`, rjMsgDup, 17, rjKindDup},
		// nesting deeper than 64
		{rjNestedArrays(65), rjMsgTooDeep, 64, rjKindDepth},
		{rjNestedArrays(200), rjMsgTooDeep, 64, rjKindDepth},
		{rjNestedObjects(65), rjMsgTooDeep, 5 * 64, rjKindDepth},
		{rjNestedMixed(65), rjMsgTooDeep, -1, rjKindDepth},
		{`{"a":` + rjNestedArrays(64) + `}`, rjMsgTooDeep, 5 + 63, rjKindDepth},
		{`[` + rjNestedObjects(64) + `]`, rjMsgTooDeep, 1 + 5*63, rjKindDepth},
		{`[1,{"a":` + rjNestedArrays(64) + `}]`, rjMsgTooDeep, 8 + 62, rjKindDepth}, // depths 1, 2, then 3…
	}
	// The error of rjNestedMixed(65) is at its innermost opener, the 65th.
	for i := range cases {
		if cases[i].offset == -1 {
			s := cases[i].in
			cases[i].offset = max(strings.LastIndexByte(s, '{'), strings.LastIndexByte(s, '['))
		}
	}
	// Duplicates in objects of more than 16 members, where names move from a
	// list on the stack to a map.
	for _, d := range []struct{ members, dupOf int }{
		{16, 0},  // 17th name repeats the 1st: checked against the list
		{16, 15}, // 17th repeats the 16th
		{17, 0},  // 18th repeats the 1st: checked against the map
		{17, 15}, // 18th repeats the 16th, copied into the map
		{17, 16}, // 18th repeats the 17th, the name that created the map
		{18, 17},
		{30, 20},
		{40, 39},
		{40, 0},
	} {
		obj := rjWithExtraMember(rjManyMembers(d.members), fmt.Sprintf(`"k%02d"`, d.dupOf))
		cases = append(cases, rjRejectCase{obj, rjMsgDup, strings.LastIndex(obj, fmt.Sprintf(`"k%02d"`, d.dupOf)), rjKindDup})
		// The same written with an escape.
		esc := rjWithExtraMember(rjManyMembers(d.members), fmt.Sprintf(`"\u006b%02d"`, d.dupOf))
		cases = append(cases, rjRejectCase{esc, rjMsgDup, strings.LastIndex(esc, `"\u006b`), rjKindDup})
	}
	return cases
}

func TestRawJSONCheckRejectsInvalid(t *testing.T) {
	for i, c := range rjRejectCorpus() {
		t.Run(rjCaseName(i, c.in), func(t *testing.T) {
			err := checkJSON(c.in)
			if err == nil {
				t.Fatalf("checkJSON(%q) = nil, want error %q", c.in, c.msg)
			}
			var je *jsonError
			if !errors.As(err, &je) {
				t.Fatalf("checkJSON(%q) = %T %v, want *jsonError", c.in, err, err)
			}
			if !strings.Contains(je.msg, c.msg) {
				t.Errorf("checkJSON(%q) message = %q, want it to contain %q", c.in, je.msg, c.msg)
			}
			if je.offset != c.offset {
				t.Errorf("checkJSON(%q) offset = %d, want %d (%v)", c.in, je.offset, c.offset, err)
			}
			if want := fmt.Sprintf("%s at offset %d", je.msg, je.offset); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			valid := json.Valid([]byte(c.in))
			switch c.kind {
			case rjKindSyntax:
				if valid {
					t.Errorf("test corpus error: json.Valid(%q) = true for a syntax error", c.in)
				}
			default:
				if !valid {
					t.Errorf("test corpus error: json.Valid(%q) = false; the case should only break the %s rule", c.in, c.msg)
				}
			}
		})
	}
}

func TestRawJSONCheckDepthLimit(t *testing.T) {
	for n := 1; n <= 70; n++ {
		for _, s := range []string{rjNestedArrays(n), rjNestedObjects(n), rjNestedMixed(n)} {
			err := checkJSON(s)
			if n <= maxJSONDepth && err != nil {
				t.Errorf("depth %d: checkJSON(%.20q…) = %v, want nil", n, s, err)
			}
			if n > maxJSONDepth && (err == nil || !strings.Contains(err.Error(), rjMsgTooDeep)) {
				t.Errorf("depth %d: checkJSON(%.20q…) = %v, want %q", n, s, err, rjMsgTooDeep)
			}
		}
	}
	// Siblings do not add up: many arrays of depth 64 side by side are fine.
	side := "[" + strings.Repeat(rjNestedArrays(63)+",", 10) + rjNestedArrays(63) + "]"
	if err := checkJSON(side); err != nil {
		t.Errorf("siblings at depth 64: %v", err)
	}
}

func TestRawJSONErrorPosition(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "1:1"},
		{"   x", "1:4"},
		{`"abc`, "1:5"},
		{"[1,\n 2,\n x]", "3:2"},
		{"{\n\"a\": 1,\n\"a\": 2\n}", "3:1"},
		{"\n\n\n", "4:1"},
		{"[1,\r\n2,\r\n]", "3:1"},
		{"{\n  \"a\": [\n    1,\n    2,\n  ]\n}", "5:3"},
		{"[\"ok\",\n\"bad\x01\"]", "2:5"},
		{"\n\"\\x\"", "2:2"},
		{"1\n2", "2:1"},
		{"[1]\n\n   ]", "3:4"},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.in), func(t *testing.T) {
			err := checkJSON(tt.in)
			var je *jsonError
			if !errors.As(err, &je) {
				t.Fatalf("checkJSON(%q) = %v, want a *jsonError", tt.in, err)
			}
			if got := je.position(tt.in); got != tt.want {
				t.Errorf("position of %v in %q = %s, want %s", err, tt.in, got, tt.want)
			}
		})
	}

	// Offsets are clamped to the text.
	direct := []struct {
		text   string
		offset int
		want   string
	}{
		{"ab\ncd", 0, "1:1"},
		{"ab\ncd", 2, "1:3"},
		{"ab\ncd", 3, "2:1"},
		{"ab\ncd", 5, "2:3"},
		{"ab\ncd", 100, "2:3"},
		{"ab\n", 3, "2:1"},
		{"", 7, "1:1"},
	}
	for _, d := range direct {
		e := &jsonError{offset: d.offset, msg: "x"}
		if got := e.position(d.text); got != d.want {
			t.Errorf("jsonError{offset: %d}.position(%q) = %s, want %s", d.offset, d.text, got, d.want)
		}
	}
}

// rjRefDupDepth walks JSON text that encoding/json accepts and reports whether
// some object repeats a member name (compared after decoding, as encoding/json
// does) and the deepest nesting.
func rjRefDupDepth(t testing.TB, s string) (dup bool, depth int) {
	type frame struct {
		obj        bool
		expectName bool
		names      map[string]bool
	}
	var stack []*frame
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dup, depth
		}
		if err != nil {
			t.Fatalf("reference decoder failed on %q, which json.Valid accepts: %v", s, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expectName {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].expectName = true
				}
				continue
			}
			name := tok.(string)
			if top.names[name] {
				dup = true
			}
			top.names[name] = true
			top.expectName = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, expectName: true, names: map[string]bool{}})
			depth = max(depth, len(stack))
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			depth = max(depth, len(stack))
			continue
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expectName = true
			}
			continue
		}
		// A scalar value.
		if top != nil && top.obj {
			top.expectName = true
		}
	}
}

// rjCheckAgainstEncodingJSON asserts that checkJSON accepts s exactly when
// encoding/json does and s also has valid UTF-8, no duplicate member names and
// nesting of at most 64; for accepted text it cross-checks the readers too.
func rjCheckAgainstEncodingJSON(t testing.TB, s string) {
	err := checkJSON(s)
	valid := json.Valid([]byte(s))
	if err == nil && !valid {
		t.Fatalf("checkJSON accepts %q but json.Valid refuses it", s)
	}
	if !valid {
		return
	}
	dup, depth := rjRefDupDepth(t, s)
	want := utf8.ValidString(s) && !dup && depth <= maxJSONDepth
	if (err == nil) != want {
		t.Fatalf("checkJSON(%q) = %v; want accepted=%v (valid UTF-8 %v, duplicate names %v, depth %d)",
			s, err, want, utf8.ValidString(s), dup, depth)
	}
	if err != nil {
		msg := err.(*jsonError).msg
		switch {
		case msg == rjMsgUTF8 && !utf8.ValidString(s):
		case msg == rjMsgDup && dup:
		case msg == rjMsgTooDeep && depth > maxJSONDepth:
		default:
			t.Fatalf("checkJSON(%q) = %v, but encoding/json accepts it (valid UTF-8 %v, duplicate names %v, depth %d)",
				s, err, utf8.ValidString(s), dup, depth)
		}
		return
	}
	rjCheckReadersAgainstEncodingJSON(t, s)
}

// rjCheckReadersAgainstEncodingJSON compares compactJSON, jsonElements and
// jsonMembers on checked text with what encoding/json makes of it.
func rjCheckReadersAgainstEncodingJSON(t testing.TB, s string) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("json.Compact(%q): %v", s, err)
	}
	if got := compactJSON(s); got != buf.String() {
		t.Fatalf("compactJSON(%q) = %q, json.Compact gives %q", s, got, buf.String())
	}
	trimmed := strings.TrimLeft(s, " \t\r\n")
	switch {
	case strings.HasPrefix(trimmed, "["):
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", s, err)
		}
		var got []string
		jsonElements(s, func(v string) bool { got = append(got, v); return true })
		if len(got) != len(want) {
			t.Fatalf("jsonElements(%q) gave %d elements %q, want %d", s, len(got), got, len(want))
		}
		for i := range got {
			if got[i] != string(want[i]) {
				t.Fatalf("jsonElements(%q)[%d] = %q, want %q", s, i, got[i], want[i])
			}
		}
	case strings.HasPrefix(trimmed, "{"):
		names, values := rjDecodeMembers(t, s)
		var gotNames, gotValues []string
		jsonMembers(s, func(q, v string) bool {
			gotNames = append(gotNames, q)
			gotValues = append(gotValues, v)
			return true
		})
		if len(gotNames) != len(names) {
			t.Fatalf("jsonMembers(%q) gave %d members %q, want %d", s, len(gotNames), gotNames, len(names))
		}
		for i := range names {
			if jsonUnquote(gotNames[i]) != names[i] || gotValues[i] != values[i] {
				t.Fatalf("jsonMembers(%q)[%d] = %s: %q, want %q: %q", s, i, gotNames[i], gotValues[i], names[i], values[i])
			}
			if v, ok := jsonMember(s, names[i]); !ok || v != values[i] {
				t.Fatalf("jsonMember(%q, %q) = %q, %v, want %q", s, names[i], v, ok, values[i])
			}
		}
	}
}

// rjDecodeMembers lists the member names (decoded) and raw values of a JSON
// object in order, using encoding/json.
func rjDecodeMembers(t testing.TB, s string) (names, values []string) {
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("rjDecodeMembers(%q): first token %v, %v", s, tok, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("rjDecodeMembers(%q): %v", s, err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("rjDecodeMembers(%q): %v", s, err)
		}
		names = append(names, tok.(string))
		values = append(values, string(raw))
	}
	return names, values
}

// rjMutate applies a few random edits to s, biased towards bytes that matter
// to a JSON scanner.
func rjMutate(r *rand.Rand, s string) string {
	const alphabet = "{}[]:,\"\\ u0123456789abcdefABCDEFeE+-.tfnrl\n\t\x00\x1f\xff\xc3\xa9"
	b := []byte(s)
	for n := 1 + r.IntN(3); n > 0; n-- {
		switch op := r.IntN(5); {
		case op == 0 && len(b) > 0: // delete a byte
			i := r.IntN(len(b))
			b = append(b[:i], b[i+1:]...)
		case op == 1: // insert a byte
			i := r.IntN(len(b) + 1)
			b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		case op == 2 && len(b) > 0: // replace a byte
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		case op == 3 && len(b) > 1: // duplicate a span
			i := r.IntN(len(b))
			j := i + r.IntN(len(b)-i)
			k := r.IntN(len(b) + 1)
			span := append([]byte(nil), b[i:j]...)
			b = append(b[:k], append(span, b[k:]...)...)
		default: // truncate
			if len(b) > 0 {
				b = b[:r.IntN(len(b))]
			}
		}
	}
	return string(b)
}

func rjCrossCheckSeeds() []string {
	seeds := append([]string(nil), rjValidJSONCorpus...)
	for _, c := range rjRejectCorpus() {
		seeds = append(seeds, c.in)
	}
	seeds = append(seeds,
		`{"a":{"b":[1,2,{"c":"d"}]},"e":"f\"g","h":[],"i":{}}`,
		`{"x":1,"y":{"x":2,"y":[{"x":3}]},"z":"\u0078"}`,
		`[{"k":"v"},{"k":"v"},["k","k"]]`,
		`{"s\u0075b":"\ud83d\ude00","sub2":"\\\"","e":-1.5e-3}`,
	)
	return seeds
}

func TestRawJSONCheckAgreesWithEncodingJSON(t *testing.T) {
	seeds := rjCrossCheckSeeds()
	for _, s := range seeds {
		rjCheckAgainstEncodingJSON(t, s)
	}
	r := rand.New(rand.NewPCG(20240601, 7))
	accepted, refused := 0, 0
	for i := 0; i < 30000; i++ {
		s := rjMutate(r, seeds[r.IntN(len(seeds))])
		rjCheckAgainstEncodingJSON(t, s)
		if checkJSON(s) == nil {
			accepted++
		} else {
			refused++
		}
	}
	// The corpus must exercise both sides for the cross-check to mean much.
	if accepted < 1000 || refused < 1000 {
		t.Errorf("mutated corpus: %d accepted, %d refused; want at least 1000 of each", accepted, refused)
	}
}

func FuzzRawJSONCheck(f *testing.F) {
	for _, s := range rjCrossCheckSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rjCheckAgainstEncodingJSON(t, s)
	})
}

func TestRawJSONMember(t *testing.T) {
	ws := "  {\n \"a\" :\t[1, 2] ,\r\n\"b\" : {\"c\":null} , \"d\":\"x y\"\n}  "
	tests := []struct {
		obj, name string
		want      string
		found     bool
	}{
		{`{"a":1}`, "a", "1", true},
		{`{"a":1}`, "b", "", false},
		{`{"a":1}`, "A", "", false},
		{`{"a":1}`, "", "", false},
		{`{"":5}`, "", "5", true},
		{`{"a":1,"b":2,"c":3}`, "c", "3", true},
		{`{"a":-1.5e3}`, "a", "-1.5e3", true},
		{`{"a":true,"b":false,"c":null}`, "b", "false", true},
		{`{"a":true,"b":false,"c":null}`, "c", "null", true},
		// escaped names
		{`{"s\u0075b":"x"}`, "sub", `"x"`, true},
		{`{"\u0073\u0075\u0062":"x"}`, "sub", `"x"`, true},
		{`{"sub":"x"}`, `s\u0075b`, "", false},
		{`{"a\"b":1}`, `a"b`, "1", true},
		{`{"a\\b":1}`, `a\b`, "1", true},
		{`{"a\\b":1}`, `a\\b`, "", false},
		{`{"a\/b":1}`, "a/b", "1", true},
		{`{"a\nb":1}`, "a\nb", "1", true},
		{`{"\u00e9":1}`, "é", "1", true},
		{`{"é":1}`, "é", "1", true},
		{`{"\ud83d\ude00":1}`, "😀", "1", true},
		{`{"https://example.com/roles":["a"]}`, "https://example.com/roles", `["a"]`, true},
		// values that contain structure characters inside strings
		{`{"a":"x\"y","b":2}`, "a", `"x\"y"`, true},
		{`{"a":"x\"y","b":2}`, "b", "2", true},
		{`{"a":"}{][,:","b":true}`, "b", "true", true},
		{`{"a":{"b":"}"},"c":3}`, "c", "3", true},
		{`{"a":{"b":"}"},"c":3}`, "a", `{"b":"}"}`, true},
		{`{"a":"\\","b":1}`, "b", "1", true},
		{`{"a":["]",{"x":"["}],"b":1}`, "b", "1", true},
		{`{"a":["]",{"x":"["}],"b":1}`, "a", `["]",{"x":"["}]`, true},
		// names that appear only nested or only as values are not members
		{`{"a":{"b":1}}`, "b", "", false},
		{`{"a":"b"}`, "b", "", false},
		{`{"a":["b"]}`, "b", "", false},
		// white space
		{ws, "a", "[1, 2]", true},
		{ws, "b", `{"c":null}`, true},
		{ws, "d", `"x y"`, true},
		{ws, "c", "", false},
		// not objects
		{`{}`, "a", "", false},
		{`{ }`, "", "", false},
		{`[{"a":1}]`, "a", "", false},
		{`"a"`, "a", "", false},
		{`"{\"a\":1}"`, "a", "", false},
		{`1`, "a", "", false},
		{`null`, "a", "", false},
		// many members
		{rjManyMembers(40), "k00", "0", true},
		{rjManyMembers(40), "k39", "39", true},
		{rjManyMembers(40), "k40", "", false},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.obj+" "+tt.name), func(t *testing.T) {
			if err := checkJSON(tt.obj); err != nil {
				t.Fatalf("test corpus error: %q is not checked JSON: %v", tt.obj, err)
			}
			got, found := jsonMember(tt.obj, tt.name)
			if got != tt.want || found != tt.found {
				t.Errorf("jsonMember(%q, %q) = %q, %v; want %q, %v", tt.obj, tt.name, got, found, tt.want, tt.found)
			}
		})
	}
}

func TestRawJSONPath(t *testing.T) {
	doc := `{
  "sub": "u1",
  "https://example.com/roles": ["admin", "ops"],
  "https://example.com/app": {"tier": "gold", "x.y": {"z": 7}},
  "realm_access": {"roles": ["r1"], "x.y": {"z": 8}, "x": {"q": 9}},
  "a": {"b": {"c": 1}},
  "a.b": {"c": 2},
  "p": {"q": "not an object"},
  "n": 5,
  "arr": [{"k": 1}],
  "s\u0075b2": {"k\u0065y": "v"},
  "e": {},
  "dots.": {"": 3},
  "nil": null
}`
	tests := []struct {
		doc, path string
		want      string
		found     bool
	}{
		{doc, "sub", `"u1"`, true},
		{doc, "nil", "null", true},
		{doc, "n", "5", true},
		{doc, "e", "{}", true},
		// a member name with dots is found whole, at the top and below
		{doc, "https://example.com/roles", `["admin", "ops"]`, true},
		{doc, "https://example.com/app.tier", `"gold"`, true},
		{doc, "https://example.com/app.x.y.z", "7", true},
		{doc, "https://example.com", "", false},
		{doc, "https://example", "", false},
		// nested paths
		{doc, "realm_access.roles", `["r1"]`, true},
		{doc, "realm_access.x.y.z", "8", true},
		{doc, "realm_access.x.y", `{"z": 8}`, true},
		{doc, "realm_access.x.q", "9", true},
		{doc, "a.b.c", "2", true}, // "a.b" is longer than "a", so it wins
		{doc, "a.b", `{"c": 2}`, true},
		{doc, "a", `{"b": {"c": 1}}`, true},
		{doc, "a.b.c.d", "", false},
		// escaped names along the path
		{doc, "sub2.key", `"v"`, true},
		{doc, "sub2.k\\u0065y", "", false},
		// a name ending in a dot, whose member has the empty name
		{doc, "dots.", `{"": 3}`, true},
		{doc, "dots..", "3", true},
		// missing paths
		{doc, "missing", "", false},
		{doc, "missing.x", "", false},
		{doc, "realm_access.missing", "", false},
		{doc, "realm_access.roles.x", "", false},
		{doc, "", "", false},
		{doc, ".", "", false},
		{doc, "sub.", "", false},
		{doc, ".sub", "", false},
		{doc, "e.x", "", false},
		// intermediate values that are not objects
		{doc, "p.q", `"not an object"`, true},
		{doc, "p.q.r", "", false},
		{doc, "n.x", "", false},
		{doc, "nil.x", "", false},
		{doc, "arr.0", "", false},
		{doc, "arr.k", "", false},
		// paths made of empty segments
		{`{"":{"":1}}`, ".", "1", true},
		{`{"":{"":1}}`, "", `{"":1}`, true},
		{`{"":{"":1}}`, "..", "", false},
		// The longest run of segments naming a member wins at each level,
		// without trying shorter runs when it leads nowhere (documented).
		{`{"x.y":{},"x":{"y":{"z":1}}}`, "x.y.z", "", false},
		{`{"x":{"y":{"z":1}}}`, "x.y.z", "1", true},
		{`{"x":{"y.z":2,"y":{"z":1}}}`, "x.y.z", "2", true},
		{`{"x.y.z":3,"x.y":{"z":2},"x":{"y":{"z":1}}}`, "x.y.z", "3", true},
		// documents that are not objects
		{`[{"a":1}]`, "a", "", false},
		{`"a.b"`, "a.b", "", false},
		{`7`, "a", "", false},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.path), func(t *testing.T) {
			if err := checkJSON(tt.doc); err != nil {
				t.Fatalf("test corpus error: %q is not checked JSON: %v", tt.doc, err)
			}
			got, found := jsonPath(tt.doc, tt.path)
			if got != tt.want || found != tt.found {
				t.Errorf("jsonPath(doc, %q) = %q, %v; want %q, %v", tt.path, got, found, tt.want, tt.found)
			}
		})
	}
}

func TestRawJSONUnquote(t *testing.T) {
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
			rjCompareUnquote(t, lit)
		})
	}
}

func rjCompareUnquote(t testing.TB, lit string) {
	if err := checkJSON(lit); err != nil {
		t.Fatalf("test corpus error: %q is not checked JSON: %v", lit, err)
	}
	var want string
	if err := json.Unmarshal([]byte(lit), &want); err != nil {
		t.Fatalf("json.Unmarshal(%q): %v", lit, err)
	}
	if got := jsonUnquote(lit); got != want {
		t.Errorf("jsonUnquote(%s) = %q (%U), encoding/json gives %q (%U)", lit, got, []rune(got), want, []rune(want))
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
	jsonQuoteTo(&b, s)
	return b.String()
}

func TestRawJSONQuoteTo(t *testing.T) {
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
			if got := rjQuoteString(tt.in); got != tt.want {
				t.Errorf("jsonQuoteTo(%q) = %q, want %q", tt.in, got, tt.want)
			}
			rjCheckQuoted(t, tt.in)
		})
	}

	// It appends to what the builder already holds.
	var b strings.Builder
	b.WriteString(`{"k":"`)
	jsonQuoteTo(&b, "v\"\n")
	b.WriteString(`"}`)
	if want := `{"k":"v\"\n"}`; b.String() != want {
		t.Errorf("appending: got %q, want %q", b.String(), want)
	}
}

// rjCheckQuoted asserts the properties of jsonQuoteTo's output for s.
func rjCheckQuoted(t testing.TB, s string) {
	q := rjQuoteString(s)
	lit := `"` + q + `"`
	if err := checkJSON(lit); err != nil {
		t.Fatalf("jsonQuoteTo(%q) = %q, which checkJSON refuses: %v", s, q, err)
	}
	var dec string
	if err := json.Unmarshal([]byte(lit), &dec); err != nil {
		t.Fatalf("jsonQuoteTo(%q) = %q, which encoding/json refuses: %v", s, q, err)
	}
	// Invalid bytes turn into U+FFFD one by one, as string→[]rune does.
	want := string([]rune(s))
	if utf8.ValidString(s) && want != s {
		t.Fatalf("internal: %q changed by rune conversion", s)
	}
	if dec != want {
		t.Fatalf("jsonQuoteTo(%q) = %q, decodes to %q, want %q", s, q, dec, want)
	}
	if got := jsonUnquote(lit); got != want {
		t.Fatalf("jsonUnquote(jsonQuoteTo(%q)) = %q, want %q", s, got, want)
	}
	if !utf8.ValidString(q) {
		t.Fatalf("jsonQuoteTo(%q) = %q, not valid UTF-8", s, q)
	}
	if strings.ContainsAny(q, "\u2028\u2029") {
		t.Fatalf("jsonQuoteTo(%q) = %q keeps U+2028/U+2029 raw", s, q)
	}
	for _, c := range []string{"<", ">", "&"} {
		if strings.Count(q, c) != strings.Count(s, c) {
			t.Fatalf("jsonQuoteTo(%q) = %q escapes %s", s, q, c)
		}
	}
	for i := 0; i < len(q); i++ {
		if q[i] < 0x20 {
			t.Fatalf("jsonQuoteTo(%q) = %q keeps control byte %#x raw", s, q, q[i])
		}
	}
}

func TestRawJSONQuoteToGenerated(t *testing.T) {
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
			if err := checkJSON(s); err != nil {
				t.Fatalf("test corpus error: %q is not checked JSON: %v", s, err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(s)); err != nil {
				t.Fatal(err)
			}
			got := compactJSON(s)
			if got != buf.String() {
				t.Errorf("compactJSON(%q) = %q, json.Compact gives %q", s, got, buf.String())
			}
			if err := checkJSON(got); err != nil {
				t.Errorf("compactJSON(%q) = %q, which checkJSON refuses: %v", s, got, err)
			}
		})
	}
	// The whole valid corpus too.
	for _, s := range rjValidJSONCorpus {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := compactJSON(s); got != buf.String() {
			t.Errorf("compactJSON(%q) = %q, json.Compact gives %q", s, got, buf.String())
		}
	}
}

func TestRawJSONElements(t *testing.T) {
	tests := []struct {
		arr  string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{"[\n]", nil},
		{`[1]`, []string{"1"}},
		{`[1,2,3]`, []string{"1", "2", "3"}},
		{" [ 1 ,\t2 ,\r\n3 ] ", []string{"1", "2", "3"}},
		{`[-1.5e3,0,true,false,null]`, []string{"-1.5e3", "0", "true", "false", "null"}},
		{`["a","b\"","c\\",""]`, []string{`"a"`, `"b\""`, `"c\\"`, `""`}},
		{`["]","[",",",  "}" ]`, []string{`"]"`, `"["`, `","`, `"}"`}},
		{`[[1,2],[],{"a":[3]},{ }]`, []string{`[1,2]`, `[]`, `{"a":[3]}`, `{ }`}},
		{"[ { \"a\" : 1 } , [ 2 , 3 ] ]", []string{`{ "a" : 1 }`, `[ 2 , 3 ]`}},
		{`["é😀","\u00e9"]`, []string{`"é😀"`, `"\u00e9"`}},
		{`[` + rjNestedArrays(5) + `,1]`, []string{rjNestedArrays(5), "1"}},
		// not arrays
		{`{"a":[1,2]}`, nil},
		{`"[1,2]"`, nil},
		{`1`, nil},
		{`null`, nil},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.arr), func(t *testing.T) {
			if err := checkJSON(tt.arr); err != nil {
				t.Fatalf("test corpus error: %q is not checked JSON: %v", tt.arr, err)
			}
			var got []string
			jsonElements(tt.arr, func(v string) bool { got = append(got, v); return true })
			if !slices.Equal(got, tt.want) {
				t.Errorf("jsonElements(%q) = %q, want %q", tt.arr, got, tt.want)
			}
			var offsets []string
			jsonElementsAt(tt.arr, func(start, end int) bool {
				offsets = append(offsets, tt.arr[start:end])
				return true
			})
			if !slices.Equal(offsets, tt.want) {
				t.Errorf("jsonElementsAt(%q) = %q, want %q", tt.arr, offsets, tt.want)
			}
			// Stopping early: fn returning false ends the walk.
			if len(tt.want) > 1 {
				calls := 0
				jsonElements(tt.arr, func(string) bool { calls++; return calls < 2 })
				if calls != 2 {
					t.Errorf("jsonElements(%q) kept calling after false: %d calls, want 2", tt.arr, calls)
				}
			}
		})
	}
}

func TestRawJSONMembers(t *testing.T) {
	type kv struct{ name, value string }
	tests := []struct {
		obj  string
		want []kv
	}{
		{`{}`, nil},
		{" { \n } ", nil},
		{`{"a":1}`, []kv{{`"a"`, "1"}}},
		{`{"a":1,"b":2,"c":3}`, []kv{{`"a"`, "1"}, {`"b"`, "2"}, {`"c"`, "3"}}},
		{" {\n\t\"a\" :\r\n 1 ,\n \"b\"\t:\t\"x y\"\n } ", []kv{{`"a"`, "1"}, {`"b"`, `"x y"`}}},
		{`{"s\u0075b":true,"a\"b":null,"":false}`, []kv{{`"s\u0075b"`, "true"}, {`"a\"b"`, "null"}, {`""`, "false"}}},
		{`{"o":{"x":[1,{"y":"}"}]},"n":-0.5e-7}`, []kv{{`"o"`, `{"x":[1,{"y":"}"}]}`}, {`"n"`, "-0.5e-7"}}},
		{`{"s":"a\\","t":"\""}`, []kv{{`"s"`, `"a\\"`}, {`"t"`, `"\""`}}},
		{`{"arr" : [ 1 , 2 ] , "obj" : { } }`, []kv{{`"arr"`, "[ 1 , 2 ]"}, {`"obj"`, "{ }"}}},
		// not objects
		{`[{"a":1}]`, nil},
		{`"{}"`, nil},
		{`true`, nil},
	}
	for i, tt := range tests {
		t.Run(rjCaseName(i, tt.obj), func(t *testing.T) {
			if err := checkJSON(tt.obj); err != nil {
				t.Fatalf("test corpus error: %q is not checked JSON: %v", tt.obj, err)
			}
			var got []kv
			jsonMembers(tt.obj, func(q, v string) bool { got = append(got, kv{q, v}); return true })
			if !slices.Equal(got, tt.want) {
				t.Errorf("jsonMembers(%q) = %q, want %q", tt.obj, got, tt.want)
			}
			var at []kv
			jsonMembersAt(tt.obj, func(q string, start, end int) bool {
				at = append(at, kv{q, tt.obj[start:end]})
				return true
			})
			if !slices.Equal(at, tt.want) {
				t.Errorf("jsonMembersAt(%q) = %q, want %q", tt.obj, at, tt.want)
			}
			if len(tt.want) > 1 {
				calls := 0
				jsonMembers(tt.obj, func(string, string) bool { calls++; return calls < 2 })
				if calls != 2 {
					t.Errorf("jsonMembers(%q) kept calling after false: %d calls, want 2", tt.obj, calls)
				}
			}
		})
	}

	// Forty members, in order, past the duplicate check's switch to a map.
	obj := rjManyMembers(40)
	i := 0
	jsonMembers(obj, func(q, v string) bool {
		if wantQ, wantV := fmt.Sprintf(`"k%02d"`, i), fmt.Sprint(i); q != wantQ || v != wantV {
			t.Errorf("member %d = %s:%s, want %s:%s", i, q, v, wantQ, wantV)
		}
		i++
		return true
	})
	if i != 40 {
		t.Errorf("jsonMembers visited %d members of 40", i)
	}
}
