package rawjson

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

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

// rjCheckAgainstEncodingJSON asserts that Check accepts s exactly when
// encoding/json does and s also has valid UTF-8, no duplicate member names and
// nesting of at most 64; for accepted text it cross-checks the readers too.
func rjCheckAgainstEncodingJSON(t testing.TB, s string) {
	text, err := Check(s)
	valid := json.Valid([]byte(s))
	if err == nil && !valid {
		t.Fatalf("Check accepts %q but json.Valid refuses it", s)
	}
	if !valid {
		return
	}
	dup, depth := rjRefDupDepth(t, s)
	want := utf8.ValidString(s) && !dup && depth <= maxDepth
	if (err == nil) != want {
		t.Fatalf("Check(%q) = %v; want accepted=%v (valid UTF-8 %v, duplicate names %v, depth %d)",
			s, err, want, utf8.ValidString(s), dup, depth)
	}
	if err != nil {
		msg := err.(*SyntaxError).Msg
		switch {
		case msg == rjMsgUTF8 && !utf8.ValidString(s):
		case msg == rjMsgDup && dup:
		case msg == rjMsgTooDeep && depth > maxDepth:
		default:
			t.Fatalf("Check(%q) = %v, but encoding/json accepts it (valid UTF-8 %v, duplicate names %v, depth %d)",
				s, err, utf8.ValidString(s), dup, depth)
		}
		return
	}
	rjCheckReadersAgainstEncodingJSON(t, text)
}

// rjCheckReadersAgainstEncodingJSON compares Compact, Elements, Members and
// Member on checked text with what encoding/json makes of it.
func rjCheckReadersAgainstEncodingJSON(t testing.TB, text Text) {
	s := text.String()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("json.Compact(%q): %v", s, err)
	}
	if got := text.Compact().String(); got != buf.String() {
		t.Fatalf("Compact(%q) = %q, json.Compact gives %q", s, got, buf.String())
	}
	trimmed := strings.TrimLeft(s, " \t\r\n")
	switch {
	case strings.HasPrefix(trimmed, "["):
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", s, err)
		}
		var got []string
		text.Elements(func(v Text) bool { got = append(got, v.String()); return true })
		if len(got) != len(want) {
			t.Fatalf("Elements(%q) gave %d elements %q, want %d", s, len(got), got, len(want))
		}
		for i := range got {
			if got[i] != string(want[i]) {
				t.Fatalf("Elements(%q)[%d] = %q, want %q", s, i, got[i], want[i])
			}
		}
	case strings.HasPrefix(trimmed, "{"):
		names, values := rjDecodeMembers(t, s)
		var gotNames, gotValues []Text
		text.Members(func(q, v Text) bool {
			gotNames = append(gotNames, q)
			gotValues = append(gotValues, v)
			return true
		})
		if len(gotNames) != len(names) {
			t.Fatalf("Members(%q) gave %d members %q, want %d", s, len(gotNames), gotNames, len(names))
		}
		for i := range names {
			if gotNames[i].Unquote() != names[i] || gotValues[i].String() != values[i] {
				t.Fatalf("Members(%q)[%d] = %s: %q, want %q: %q", s, i, gotNames[i], gotValues[i], names[i], values[i])
			}
			if v, ok := text.Member(names[i]); !ok || v.String() != values[i] {
				t.Fatalf("Member(%q, %q) = %q, %v, want %q", s, names[i], v, ok, values[i])
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
	t.Parallel()
	seeds := rjCrossCheckSeeds()
	for _, s := range seeds {
		rjCheckAgainstEncodingJSON(t, s)
	}
	r := rand.New(rand.NewPCG(20240601, 7))
	accepted, refused := 0, 0
	for i := 0; i < 30000; i++ {
		s := rjMutate(r, seeds[r.IntN(len(seeds))])
		rjCheckAgainstEncodingJSON(t, s)
		if _, err := Check(s); err == nil {
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
