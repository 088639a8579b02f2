package rawjson

import (
	"fmt"
	"strings"
)

// rjValidJSONCorpus is text that Check and encoding/json both accept.
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

// rjRejectCorpus is text that Check refuses, with the message and offset it
// gives; kind says whether encoding/json refuses it too.
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
		{"\xff", "invalid byte 0xFF (not UTF-8)", 0, rjKindSyntax},
		{"\xc3\xa9", "invalid character 'é' (U+00E9)", 0, rjKindSyntax}, // the whole character, never 'Ã'
		{"[1,\xc3]", "invalid byte 0xC3 (not UTF-8)", 3, rjKindSyntax},
		{"{\"a\":1}\u00a0", rjMsgAfter, 7, rjKindSyntax},
		{"[\u2028]", `invalid character '\u2028' (U+2028)`, 1, rjKindSyntax},
		{"[\xc3\xa9]", rjMsgChar, 1, rjKindSyntax},
		{"\ufeff{}", "unexpected byte order mark (U+FEFF)", 0, rjKindSyntax}, // Check skips none: see TrimBOM
		{"{}\ufeff", rjMsgAfter, 2, rjKindSyntax},
		{"[\ufeff1]", "unexpected byte order mark (U+FEFF)", 1, rjKindSyntax},
		{"\u00a01", rjMsgChar, 0, rjKindSyntax}, // no-break space is not white space
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
