package rawjson

import (
	"fmt"
	"slices"
	"testing"
)

func TestRawJSONMember(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			v, found := mustCheck(t, tt.obj).Member(tt.name)
			if got := v.String(); got != tt.want || found != tt.found {
				t.Errorf("Member(%q, %q) = %q, %v; want %q, %v", tt.obj, tt.name, got, found, tt.want, tt.found)
			}
		})
	}
}

func TestRawJSONPath(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			v, found := mustCheck(t, tt.doc).Path(tt.path)
			if got := v.String(); got != tt.want || found != tt.found {
				t.Errorf("Path(doc, %q) = %q, %v; want %q, %v", tt.path, got, found, tt.want, tt.found)
			}
		})
	}
}

func TestRawJSONElements(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			arr := mustCheck(t, tt.arr)
			var got []string
			arr.Elements(func(v Text) bool { got = append(got, v.String()); return true })
			if !slices.Equal(got, tt.want) {
				t.Errorf("Elements(%q) = %q, want %q", tt.arr, got, tt.want)
			}
			// Each value stands at its offset in the whole text.
			var values, offsets []string
			arr.ElementsAt(func(v Text, offset int) bool {
				values = append(values, v.String())
				offsets = append(offsets, tt.arr[offset:offset+len(v.String())])
				return true
			})
			if !slices.Equal(values, tt.want) || !slices.Equal(offsets, tt.want) {
				t.Errorf("ElementsAt(%q) = %q at offsets holding %q, want %q", tt.arr, values, offsets, tt.want)
			}
			// Stopping early: fn returning false ends the walk.
			if len(tt.want) > 1 {
				calls := 0
				arr.Elements(func(Text) bool { calls++; return calls < 2 })
				if calls != 2 {
					t.Errorf("Elements(%q) kept calling after false: %d calls, want 2", tt.arr, calls)
				}
			}
		})
	}
}

func TestRawJSONMembers(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			obj := mustCheck(t, tt.obj)
			var got []kv
			obj.Members(func(q, v Text) bool { got = append(got, kv{q.String(), v.String()}); return true })
			if !slices.Equal(got, tt.want) {
				t.Errorf("Members(%q) = %q, want %q", tt.obj, got, tt.want)
			}
			// Each value stands at its offset in the whole text.
			var at, atOffset []kv
			obj.MembersAt(func(q, v Text, offset int) bool {
				at = append(at, kv{q.String(), v.String()})
				atOffset = append(atOffset, kv{q.String(), tt.obj[offset : offset+len(v.String())]})
				return true
			})
			if !slices.Equal(at, tt.want) || !slices.Equal(atOffset, tt.want) {
				t.Errorf("MembersAt(%q) = %q at offsets holding %q, want %q", tt.obj, at, atOffset, tt.want)
			}
			if len(tt.want) > 1 {
				calls := 0
				obj.Members(func(Text, Text) bool { calls++; return calls < 2 })
				if calls != 2 {
					t.Errorf("Members(%q) kept calling after false: %d calls, want 2", tt.obj, calls)
				}
			}
		})
	}

	// Forty members, in order, past the duplicate check's switch to a map.
	obj := mustCheck(t, rjManyMembers(40))
	i := 0
	obj.Members(func(q, v Text) bool {
		if wantQ, wantV := fmt.Sprintf(`"k%02d"`, i), fmt.Sprint(i); q.String() != wantQ || v.String() != wantV {
			t.Errorf("member %d = %s:%s, want %s:%s", i, q, v, wantQ, wantV)
		}
		i++
		return true
	})
	if i != 40 {
		t.Errorf("Members visited %d members of 40", i)
	}
}

func TestRawJSONTextKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		kind   byte
		number bool
	}{
		{`{}`, '{', false},
		{" \n[1]", '[', false},
		{`"1"`, '"', false},
		{`true`, 't', false},
		{`false`, 'f', false},
		{"\tnull ", 'n', false},
		{`-1`, '-', true},
		{`0`, '0', true},
		{` 9.5e3 `, '9', true},
	}
	for _, tt := range tests {
		v := mustCheck(t, tt.in)
		if v.Kind() != tt.kind || v.IsNumber() != tt.number || v.IsZero() || v.String() != tt.in {
			t.Errorf("Check(%q): Kind %q, IsNumber %v, IsZero %v, String %q; want %q, %v, false, the input",
				tt.in, v.Kind(), v.IsNumber(), v.IsZero(), v.String(), tt.kind, tt.number)
		}
	}
	// Values a reader returns are Texts of the same kinds, with no white space.
	doc := mustCheck(t, ` { "o" : { "n" : [ 1 , "s" ] } } `)
	o, _ := doc.Member("o")
	n, _ := o.Member("n")
	var kinds []byte
	n.Elements(func(v Text) bool { kinds = append(kinds, v.Kind()); return true })
	if o.Kind() != '{' || n.Kind() != '[' || string(kinds) != `1"` || n.String() != `[ 1 , "s" ]` {
		t.Errorf("nested readers: o %q, n %q, element kinds %q", o, n, kinds)
	}
}

// The zero Text is no value: every method is safe on it and finds nothing.
func TestRawJSONZeroText(t *testing.T) {
	t.Parallel()
	var z Text
	if !z.IsZero() || z.String() != "" || z.Kind() != 0 || z.IsNumber() {
		t.Errorf("zero Text: IsZero %v, String %q, Kind %d, IsNumber %v", z.IsZero(), z.String(), z.Kind(), z.IsNumber())
	}
	if v, ok := z.Member(""); ok || !v.IsZero() {
		t.Errorf("zero Text Member = %q, %v", v, ok)
	}
	if v, ok := z.Path("a.b"); ok || !v.IsZero() {
		t.Errorf("zero Text Path = %q, %v", v, ok)
	}
	calls := 0
	z.Members(func(Text, Text) bool { calls++; return true })
	z.MembersAt(func(Text, Text, int) bool { calls++; return true })
	z.Elements(func(Text) bool { calls++; return true })
	z.ElementsAt(func(Text, int) bool { calls++; return true })
	if calls != 0 {
		t.Errorf("zero Text walks called fn %d times", calls)
	}
	if z.Unquote() != "" || !z.Compact().IsZero() || len(z.AppendCompact(nil)) != 0 {
		t.Errorf("zero Text: Unquote %q, Compact %q", z.Unquote(), z.Compact())
	}
	if s, ok := z.IdentityNumber(); z.PlainNumber() != "" || ok || s != "" || z.NumberValue() != nil {
		t.Errorf("zero Text: PlainNumber %q, IdentityNumber %q %v, NumberValue %v", z.PlainNumber(), s, ok, z.NumberValue())
	}
	// A failed lookup gives the zero Text.
	if v, ok := mustCheck(t, `{"a":1}`).Member("b"); ok || !v.IsZero() {
		t.Errorf("missing member = %q, %v; want the zero Text", v, ok)
	}
}

// Under CheckEach the first of repeated outer members wins.
func TestRawJSONMemberOuterDuplicates(t *testing.T) {
	t.Parallel()
	n := 0
	obj, err := CheckEach(`{"a":1,"b":2,"a":3}`, func(Outer) error { n++; return nil })
	if err != nil || n != 3 {
		t.Fatal(n, err)
	}
	if v, ok := obj.Member("a"); !ok || v.String() != "1" {
		t.Errorf(`Member("a") = %q, %v; want "1", true`, v, ok)
	}
	var names []string
	obj.Members(func(q, _ Text) bool { names = append(names, q.Unquote()); return true })
	if !slices.Equal(names, []string{"a", "b", "a"}) {
		t.Errorf("Members names = %q, want [a b a]", names)
	}
}
