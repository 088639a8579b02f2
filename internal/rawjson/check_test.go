package rawjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRawJSONCheckAcceptsValid(t *testing.T) {
	t.Parallel()
	for i, s := range rjValidJSONCorpus {
		t.Run(rjCaseName(i, s), func(t *testing.T) {
			t.Parallel()
			v, err := Check(s)
			if err != nil {
				t.Fatalf("Check(%q) = %v, want nil", s, err)
			}
			if v.String() != s || v.IsZero() {
				t.Fatalf("Check(%q) = Text %q (zero %v), want the text as given", s, v.String(), v.IsZero())
			}
			if !json.Valid([]byte(s)) {
				t.Fatalf("test corpus error: json.Valid(%q) = false", s)
			}
		})
	}
}

func TestRawJSONCheckRejectsInvalid(t *testing.T) {
	t.Parallel()
	for i, c := range rjRejectCorpus() {
		t.Run(rjCaseName(i, c.in), func(t *testing.T) {
			t.Parallel()
			v, err := Check(c.in)
			if err == nil {
				t.Fatalf("Check(%q) = nil, want error %q", c.in, c.msg)
			}
			if !v.IsZero() {
				t.Errorf("Check(%q) refused it but returned Text %q, want the zero Text", c.in, v.String())
			}
			var je *SyntaxError
			if !errors.As(err, &je) {
				t.Fatalf("Check(%q) = %T %v, want *SyntaxError", c.in, err, err)
			}
			if !strings.Contains(je.Msg, c.msg) {
				t.Errorf("Check(%q) message = %q, want it to contain %q", c.in, je.Msg, c.msg)
			}
			if je.Offset != c.offset {
				t.Errorf("Check(%q) offset = %d, want %d (%v)", c.in, je.Offset, c.offset, err)
			}
			if want := fmt.Sprintf("%s at offset %d", je.Msg, je.Offset); err.Error() != want {
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

// CheckEach differs from Check only on duplicate names in the outermost
// object, and hands over each outermost member or element.
func TestRawJSONCheckEach(t *testing.T) {
	t.Parallel()
	for _, s := range rjValidJSONCorpus {
		// Every member or element a walk of the outermost value finds,
		// in order, at its offset.
		var want, each []string
		v, err := CheckEach(s, func(o Outer) error {
			if s[o.Offset:o.Offset+len(o.Value.String())] != o.Value.String() {
				t.Errorf("CheckEach(%q): %q is not at offset %d", s, o.Value, o.Offset)
			}
			each = append(each, o.Value.String())
			return nil
		})
		if err != nil || v.String() != s {
			t.Errorf("CheckEach(%q) = %q, %v; want the text, nil", s, v.String(), err)
		}
		v.Members(func(_, m Text) bool { want = append(want, m.String()); return true })
		v.Elements(func(e Text) bool { want = append(want, e.String()); return true })
		if !slices.Equal(each, want) {
			t.Errorf("CheckEach(%q) handed over %q, want %q", s, each, want)
		}
		// An error from fn stops the walk and comes back as it is.
		stop := errors.New("stop")
		calls := 0
		if _, err := CheckEach(s, func(Outer) error {
			if calls++; calls == 3 {
				return stop
			}
			return nil
		}); len(want) >= 3 && (err != stop || calls != 3) || len(want) < 3 && err != nil {
			t.Errorf("CheckEach(%q) stopped at call %d: %v", s, calls, err)
		}
	}
	cases := rjRejectCorpus()
	for _, in := range []string{
		`{"a":1,"a":{"b":1,"b":2}}`,  // outer duplicate accepted, inner one not
		`{"a":{"b":1},"a":{"b":2}}`,  // outer duplicate only
		` {"x":[{"y":1,"y":2}]}`,     // inside an array inside the outer object
		`[{"a":1,"a":2}]`,            // the outermost value is an array
		`{"a":1,"a":2,"b":{"a":1}}`,  // same name at two levels
		`{"a":{"c":1,"c":{"c":1}}} `, // depth 2 duplicate
	} {
		cases = append(cases, rjRejectCase{in: in, msg: rjMsgDup, offset: -1, kind: rjKindDup})
	}
	acceptedOuter := 0
	for _, c := range cases {
		got, err := CheckEach(c.in, func(Outer) error { return nil })
		want, wantErr := Check(c.in)
		if c.msg == rjMsgDup {
			// Past the outer names, the first duplicate in a nested
			// object, if any, is what Check would report.
			if wantErr = rjFirstNestedDup(c.in); wantErr == nil {
				if err != nil || got.String() != c.in {
					t.Errorf("CheckEach(%q) = %v, want the outer duplicates accepted", c.in, err)
				}
				acceptedOuter++
				continue
			}
		}
		if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("CheckEach(%q) = %q, %v; want %q, %v", c.in, got.String(), err, want.String(), wantErr)
		}
	}
	// The reference must find outer-only duplicates for the test to mean much.
	if acceptedOuter < 20 {
		t.Errorf("only %d cases with outer duplicates alone; the corpus should have at least 20", acceptedOuter)
	}
}

// rjFirstNestedDup is the error Check gives for the first duplicate member
// name of text that encoding/json accepts, ignoring duplicates among the
// names of the outermost object; nil when there is none. It tracks names by
// decoding them with encoding/json, independently of the package.
func rjFirstNestedDup(s string) error {
	type frame struct {
		obj   bool
		names map[string]bool
	}
	var stack []frame
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			stack = append(stack, frame{obj: true, names: map[string]bool{}})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case '"':
			end := i + 1
			for ; s[end] != '"'; end++ {
				if s[end] == '\\' {
					end++
				}
			}
			end++
			rest := strings.TrimLeft(s[end:], " \t\r\n")
			top := len(stack) - 1
			if strings.HasPrefix(rest, ":") && top >= 0 && stack[top].obj {
				var name string
				if err := json.Unmarshal([]byte(s[i:end]), &name); err != nil {
					panic(err)
				}
				if stack[top].names[name] && top > 0 {
					return &SyntaxError{Offset: i, Msg: rjMsgDup}
				}
				stack[top].names[name] = true
			}
			i = end - 1
		}
	}
	return nil
}

func TestRawJSONCheckDepthLimit(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 70; n++ {
		for _, s := range []string{rjNestedArrays(n), rjNestedObjects(n), rjNestedMixed(n)} {
			_, err := Check(s)
			if n <= maxDepth && err != nil {
				t.Errorf("depth %d: Check(%.20q…) = %v, want nil", n, s, err)
			}
			if n > maxDepth && (err == nil || !strings.Contains(err.Error(), rjMsgTooDeep)) {
				t.Errorf("depth %d: Check(%.20q…) = %v, want %q", n, s, err, rjMsgTooDeep)
			}
		}
	}
	// Siblings do not add up: many arrays of depth 64 side by side are fine.
	side := "[" + strings.Repeat(rjNestedArrays(63)+",", 10) + rjNestedArrays(63) + "]"
	if _, err := Check(side); err != nil {
		t.Errorf("siblings at depth 64: %v", err)
	}
}

func TestRawJSONErrorPosition(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			_, err := Check(tt.in)
			var je *SyntaxError
			if !errors.As(err, &je) {
				t.Fatalf("Check(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			if got := je.Position(tt.in); got != tt.want {
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
		e := &SyntaxError{Offset: d.offset, Msg: "x"}
		if got := e.Position(d.text); got != d.want {
			t.Errorf("SyntaxError{Offset: %d}.Position(%q) = %s, want %s", d.offset, d.text, got, d.want)
		}
	}
}
