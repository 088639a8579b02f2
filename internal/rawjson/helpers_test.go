package rawjson

import (
	"fmt"
	"strings"
	"testing"
)

// mustCheck is the tests' way to make a Text from a literal: through Check,
// failing the test when the literal is not checked JSON.
func mustCheck(t testing.TB, s string) Text {
	t.Helper()
	v, err := Check(s)
	if err != nil {
		t.Fatalf("test corpus error: %q is not checked JSON: %v", s, err)
	}
	return v
}

// Error messages produced by Check, used to classify refusals.
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
