package rawjson

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// numCallNoPanic runs f and reports a panic as a test error instead of
// crashing the test binary.
func numCallNoPanic[T any](t *testing.T, what string, f func() T) (res T, ok bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
			ok = false
		}
	}()
	return f(), true
}

// numMustBeJSON is the Text of a number literal, failing the test when lit
// is not one.
func numMustBeJSON(t testing.TB, lit string) Text {
	t.Helper()
	v, err := Check(lit)
	if err != nil || !v.IsNumber() {
		t.Fatalf("test corpus error: %q is not a JSON number: %v", lit, err)
	}
	return v
}

func TestDecimalParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lit   string
		want  decimal
		whole bool
	}{
		{"0", decimal{}, true},
		{"-0", decimal{}, true},
		{"0.000", decimal{}, true},
		{"-0.0e-5", decimal{}, true},
		{"0e999999", decimal{}, true},
		{"42", decimal{digits: "42"}, true},
		{"420", decimal{digits: "42", exp: 1}, true},
		{"-420", decimal{neg: true, digits: "42", exp: 1}, true},
		{"4.2e+01", decimal{digits: "42"}, true},
		{"4.2E1", decimal{digits: "42"}, true},
		{"1.5e-3", decimal{digits: "15", exp: -4}, false},
		{"0.0015", decimal{digits: "15", exp: -4}, false},
		{"1.50", decimal{digits: "15", exp: -1}, false},
		{"100.0100", decimal{digits: "10001", exp: -2}, false},
		{"1E3", decimal{digits: "1", exp: 3}, true},
		{"0.1e1", decimal{digits: "1"}, true},
		{"-7", decimal{neg: true, digits: "7"}, true},
		{"1e00000000000000000000000001", decimal{digits: "1", exp: 1}, true},
		{"123456789012345678901234567890", decimal{digits: "12345678901234567890123456789", exp: 1}, true},
		{"4.0000000000000001", decimal{digits: "40000000000000001", exp: -16}, false},
		// Exponents beyond int range saturate.
		{"1e99999999999999999999", decimal{digits: "1", exp: 1 << 30}, true},
		{"1e-99999999999999999999", decimal{digits: "1", exp: -(1 << 30)}, false},
		{"-2.5e+99999999999999999999", decimal{neg: true, digits: "25", exp: 1<<30 - 1}, true},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%s", i, tt.lit), func(t *testing.T) {
			t.Parallel()
			numMustBeJSON(t, tt.lit)
			got := parseDecimal(tt.lit)
			if got != tt.want {
				t.Errorf("parseDecimal(%q) = %+v, want %+v", tt.lit, got, tt.want)
			}
			if got.whole() != tt.whole {
				t.Errorf("parseDecimal(%q).whole() = %v, want %v", tt.lit, got.whole(), tt.whole)
			}
		})
	}
}

func TestNumberPlain(t *testing.T) {
	t.Parallel()
	tests := []struct{ lit, want string }{
		{"4.2e+01", "42"},
		{"1e3", "1000"},
		{"1E3", "1000"},
		{"-0", "0"},
		{"0", "0"},
		{"-0.0", "0"},
		{"0e0", "0"},
		{"0e999999", "0"},
		{"0.0015", "0.0015"},
		{"1.5e-3", "0.0015"},
		{"15e-4", "0.0015"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"-123456789012345678901234567890.5", "-123456789012345678901234567890.5"},
		{"9007199254740993", "9007199254740993"},
		{"0.5", "0.5"},
		{"-0.5", "-0.5"},
		{"5e-1", "0.5"},
		{"-1.25e1", "-12.5"},
		{"12.5e-1", "1.25"},
		{"1.000", "1"},
		{"100", "100"},
		{"100e-2", "1"},
		{"1e0", "1"},
		{"10E-1", "1"},
		{"-4.2E+1", "-42"},
		{"0.1e1", "1"},
		{"123.456e2", "12345.6"},
		{"123.456e-2", "1.23456"},
		{"123.456e-3", "0.123456"},
		{"123.456e-4", "0.0123456"},
		{"0.000001", "0.000001"},
		{"1e-7", "0.0000001"},
		{"1e00000000000000000000000002", "100"},
		// At the bound of 400 digits the plain form is still written.
		{"1e400", "1" + strings.Repeat("0", 400)},
		{"1e-400", "0." + strings.Repeat("0", 399) + "1"},
		// Beyond it, the literal stands.
		{"1e401", "1e401"},
		{"1e-401", "1e-401"},
		{"1e999999", "1e999999"},
		{"-1e999999", "-1e999999"},
		{"1e-999999", "1e-999999"},
		{"1.5E+999999", "1.5E+999999"},
		{"1e99999999999999999999", "1e99999999999999999999"},
		{"1e-99999999999999999999", "1e-99999999999999999999"},
		// Exponents near the int limits once wrapped around when the digit
		// count was added and made strings.Repeat panic.
		{"1e-9223372036854775808", "1e-9223372036854775808"},
		{"10e9223372036854775807", "10e9223372036854775807"},
		{"-100e9223372036854775806", "-100e9223372036854775806"},
		{"0.01e-9223372036854775807", "0.01e-9223372036854775807"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%.40s", i, tt.lit), func(t *testing.T) {
			t.Parallel()
			num := numMustBeJSON(t, tt.lit)
			got, ok := numCallNoPanic(t, fmt.Sprintf("PlainNumber(%q)", tt.lit), num.PlainNumber)
			if ok && got != tt.want {
				t.Errorf("PlainNumber(%q) = %.60q, want %.60q", tt.lit, got, tt.want)
			}
		})
	}
}

var numPlainForm = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)

// numRandomLiteral builds a JSON number literal with an exponent of at most
// ±maxExp.
func numRandomLiteral(r *rand.Rand, maxExp int) string {
	var b strings.Builder
	if r.IntN(3) == 0 {
		b.WriteByte('-')
	}
	digits := func(n int) {
		for ; n > 0; n-- {
			if r.IntN(3) == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
	}
	if r.IntN(3) == 0 {
		b.WriteByte('0')
	} else {
		b.WriteByte(byte('1' + r.IntN(9)))
		digits(r.IntN(25))
	}
	if r.IntN(2) == 0 {
		b.WriteByte('.')
		digits(1 + r.IntN(20))
	}
	if r.IntN(2) == 0 {
		b.WriteByte("eE"[r.IntN(2)])
		b.WriteString([]string{"", "+", "-"}[r.IntN(3)])
		b.WriteString(strings.Repeat("0", r.IntN(3)))
		b.WriteString(strconv.Itoa(r.IntN(maxExp + 1)))
	}
	return b.String()
}

func TestNumberPlainIsExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 20000; n++ {
		lit := numRandomLiteral(r, 60)
		num, err := Check(lit)
		if err != nil || !num.IsNumber() {
			t.Fatalf("generator made %q, which Check refuses as a number: %v", lit, err)
		}
		d := parseDecimal(lit)
		if strings.HasPrefix(d.digits, "0") || strings.HasSuffix(d.digits, "0") {
			t.Fatalf("parseDecimal(%q).digits = %q has leading or trailing zeros", lit, d.digits)
		}
		if d.digits == "" && (d.neg || d.exp != 0) {
			t.Fatalf("parseDecimal(%q) = %+v, want the canonical zero", lit, d)
		}
		p := num.PlainNumber()
		if !numPlainForm.MatchString(p) || p == "-0" {
			t.Fatalf("PlainNumber(%q) = %q, not plain decimal", lit, p)
		}
		want, ok1 := new(big.Rat).SetString(lit)
		got, ok2 := new(big.Rat).SetString(p)
		if !ok1 || !ok2 || want.Cmp(got) != 0 {
			t.Fatalf("PlainNumber(%q) = %q, a different value", lit, p)
		}
		// The decimal's own reading agrees too.
		fromDec, _ := new(big.Rat).SetString(fmt.Sprintf("%se%d", strings.Repeat("-", numB2I(d.neg))+numOrZero(d.digits), d.exp))
		if fromDec.Cmp(want) != 0 {
			t.Fatalf("parseDecimal(%q) = %+v, a different value", lit, d)
		}
	}
}

func numB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

func numOrZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
