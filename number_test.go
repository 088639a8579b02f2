package jwtuser

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
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

func numMustBeJSON(t *testing.T, lit string) {
	t.Helper()
	if err := checkJSON(lit); err != nil {
		t.Fatalf("test corpus error: %q is not a JSON number: %v", lit, err)
	}
}

func TestDecimalParse(t *testing.T) {
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
			numMustBeJSON(t, tt.lit)
			got, ok := numCallNoPanic(t, fmt.Sprintf("plainNumber(%q)", tt.lit), func() string { return plainNumber(tt.lit) })
			if ok && got != tt.want {
				t.Errorf("plainNumber(%q) = %.60q, want %.60q", tt.lit, got, tt.want)
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
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 20000; n++ {
		lit := numRandomLiteral(r, 60)
		if err := checkJSON(lit); err != nil {
			t.Fatalf("generator made %q, which checkJSON refuses: %v", lit, err)
		}
		d := parseDecimal(lit)
		if strings.HasPrefix(d.digits, "0") || strings.HasSuffix(d.digits, "0") {
			t.Fatalf("parseDecimal(%q).digits = %q has leading or trailing zeros", lit, d.digits)
		}
		if d.digits == "" && (d.neg || d.exp != 0) {
			t.Fatalf("parseDecimal(%q) = %+v, want the canonical zero", lit, d)
		}
		p := plainNumber(lit)
		if !numPlainForm.MatchString(p) || p == "-0" {
			t.Fatalf("plainNumber(%q) = %q, not plain decimal", lit, p)
		}
		want, ok1 := new(big.Rat).SetString(lit)
		got, ok2 := new(big.Rat).SetString(p)
		if !ok1 || !ok2 || want.Cmp(got) != 0 {
			t.Fatalf("plainNumber(%q) = %q, a different value", lit, p)
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

func TestIdentityFromNumber(t *testing.T) {
	tests := []struct {
		lit  string
		want string
		ok   bool
	}{
		{"42", "42", true},
		{"4.0", "4", true},
		{"4.000", "4", true},
		{"1e3", "1000", true},
		{"1E+3", "1000", true},
		{"0.1e1", "1", true},
		{"4.5", "", false},
		{"0.5", "", false},
		{"1e-1", "", false},
		{"9007199254740992", "9007199254740992", true},
		{"9007199254740993", "", false},
		{"-9007199254740992", "-9007199254740992", true},
		{"-9007199254740993", "", false},
		{"9007199254740992.000", "9007199254740992", true},
		{"9.007199254740992e15", "9007199254740992", true},
		{"90071992547409920e-1", "9007199254740992", true},
		{"9.007199254740993e15", "", false},
		{"4.0000000000000001", "", false}, // not whole, exactly
		{"1e15", "1000000000000000", true},
		{"1e16", "", false}, // beyond 2^53
		{"10000000000000000", "", false},
		{"12345678901234567890", "", false},
		{"-1", "-1", true},
		{"-0", "0", true},
		{"0", "0", true},
		{"0.0", "0", true},
		{"-0.0e7", "0", true},
		{"0e999999", "0", true},
		{"1e999999", "", false},
		{"1e-999999", "", false},
		{"1e99999999999999999999", "", false},
		{"1e-99999999999999999999", "", false},
		{"1e9223372036854775807", "", false},
		{"10e9223372036854775807", "", false},
		{"0.1e-9223372036854775808", "", false},
		{"1e-9223372036854775808", "", false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%s", i, tt.lit), func(t *testing.T) {
			numMustBeJSON(t, tt.lit)
			type res struct {
				s  string
				ok bool
			}
			got, ran := numCallNoPanic(t, fmt.Sprintf("identityFromNumber(%q)", tt.lit), func() res {
				s, ok := identityFromNumber(tt.lit)
				return res{s, ok}
			})
			if ran && (got.s != tt.want || got.ok != tt.ok) {
				t.Errorf("identityFromNumber(%q) = %q, %v; want %q, %v", tt.lit, got.s, got.ok, tt.want, tt.ok)
			}
		})
	}
}

// numSpellings writes the integer n in several JSON notations.
func numSpellings(n *big.Int) []string {
	s := n.String()
	sign, abs := "", s
	if n.Sign() < 0 {
		sign, abs = "-", s[1:]
	}
	out := []string{s, s + ".0", s + ".000", sign + "0." + abs + "e" + strconv.Itoa(len(abs))}
	if abs != "0" {
		out = append(out, s+"0e-1")
	}
	if len(abs) > 1 {
		out = append(out, sign+abs[:1]+"."+abs[1:]+"E+"+strconv.Itoa(len(abs)-1))
	}
	if t := strings.TrimRight(abs, "0"); t != abs && t != "" {
		out = append(out, sign+t+"e"+strconv.Itoa(len(abs)-len(t)))
	}
	return out
}

func TestIdentityFromNumberGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var ns []int64
	for d := int64(-5); d <= 5; d++ {
		ns = append(ns, maxSafeInteger+d, -maxSafeInteger+d, d, 1e15+d, -1e15+d, 1e16+d)
	}
	for i := 0; i < 2000; i++ {
		ns = append(ns, r.Int64N(2*maxSafeInteger+2001)-maxSafeInteger-1000)
		ns = append(ns, r.Int64N(1e6)*int64(math.Pow10(r.IntN(10))))
	}
	for _, n := range ns {
		inRange := n >= -maxSafeInteger && n <= maxSafeInteger
		for _, lit := range numSpellings(big.NewInt(n)) {
			numMustBeJSON(t, lit)
			got, ok := identityFromNumber(lit)
			if ok != inRange || (ok && got != strconv.FormatInt(n, 10)) {
				t.Fatalf("identityFromNumber(%q) = %q, %v; want %q, %v", lit, got, ok, strconv.FormatInt(n, 10), inRange)
			}
			// Any fraction is refused: "n.0" becomes "n.01".
			if strings.HasSuffix(lit, ".0") {
				if got, ok := identityFromNumber(lit + "1"); ok {
					t.Fatalf("identityFromNumber(%q) = %q, accepted a fraction", lit+"1", got)
				}
			}
		}
	}
}

func TestNumberValue(t *testing.T) {
	big400 := "1" + strings.Repeat("0", 400)
	tests := []struct {
		lit  string
		want any
		text string // caddy.ToString of the value
	}{
		// whole and within int64
		{"42", int64(42), "42"},
		{"-7", int64(-7), "-7"},
		{"0", int64(0), "0"},
		{"-0", int64(0), "0"},
		{"4.0", int64(4), "4"},
		{"1e3", int64(1000), "1000"},
		{"4.2e+01", int64(42), "42"},
		{"0.1e1", int64(1), "1"},
		{"-2.5e1", int64(-25), "-25"},
		{"9007199254740993", int64(9007199254740993), "9007199254740993"},
		{"9223372036854775807", int64(math.MaxInt64), "9223372036854775807"},
		{"-9223372036854775808", int64(math.MinInt64), "-9223372036854775808"},
		{"9.223372036854775807e18", int64(math.MaxInt64), "9223372036854775807"},
		// whole beyond int64: exact digits as text
		{"9223372036854775808", "9223372036854775808", "9223372036854775808"},
		{"-9223372036854775809", "-9223372036854775809", "-9223372036854775809"},
		{"123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890"},
		{"1e20", "100000000000000000000", "100000000000000000000"},
		{"1.5e300", "15" + strings.Repeat("0", 299), "15" + strings.Repeat("0", 299)},
		{"1e400", big400, big400},
		// whole but absurdly long: the literal
		{"1e999999", "1e999999", "1e999999"},
		{"-1E+401", "-1E+401", "-1E+401"},
		// fractions: float64, rendered in plain decimal
		{"4.5", 4.5, "4.5"},
		{"-0.25", -0.25, "-0.25"},
		{"0.1", 0.1, "0.1"},
		{"1.5e-3", 0.0015, "0.0015"},
		{"0.0015", 0.0015, "0.0015"},
		{"1e-7", 1e-7, "0.0000001"},
		{"123.456", 123.456, "123.456"},
		{"-1.25E-10", -1.25e-10, "-0.000000000125"},
		{"1e-999999", 0.0, "0"},
		{"4.0000000000000001", 4.0, "4"},
		// Exponents near the int limits: a huge whole number stays its
		// literal; a tiny fraction is a float64 0, not "whole".
		{"10e9223372036854775807", "10e9223372036854775807", "10e9223372036854775807"},
		{"0.1e-9223372036854775808", 0.0, "0"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%.40s", i, tt.lit), func(t *testing.T) {
			numMustBeJSON(t, tt.lit)
			got, ok := numCallNoPanic(t, fmt.Sprintf("numberValue(%q)", tt.lit), func() any { return numberValue(tt.lit) })
			if !ok {
				return
			}
			if got != tt.want {
				t.Errorf("numberValue(%q) = %T(%.60v), want %T(%.60v)", tt.lit, got, got, tt.want, tt.want)
			}
			if s := caddy.ToString(got); s != tt.text {
				t.Errorf("caddy.ToString(numberValue(%q)) = %.60q, want %.60q", tt.lit, s, tt.text)
			}
		})
	}
}

func TestNumberValueGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	limit := new(big.Int).Lsh(big.NewInt(1), 63)
	for i := 0; i < 3000; i++ {
		// Whole numbers from a few digits to 30, on both sides of int64.
		var digits strings.Builder
		digits.WriteByte(byte('1' + r.IntN(9)))
		for k := r.IntN(30); k > 0; k-- {
			digits.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(4) == 0 { // trailing zeros
			digits.WriteString(strings.Repeat("0", r.IntN(5)))
		}
		n, _ := new(big.Int).SetString(digits.String(), 10)
		if r.IntN(2) == 0 {
			n.Neg(n)
		}
		fits := n.Cmp(limit) < 0 && n.Cmp(new(big.Int).Neg(limit)) >= 0
		for _, lit := range numSpellings(n) {
			numMustBeJSON(t, lit)
			got := numberValue(lit)
			switch v := got.(type) {
			case int64:
				if !fits || big.NewInt(v).Cmp(n) != 0 {
					t.Fatalf("numberValue(%q) = int64(%d), want %s (fits int64: %v)", lit, v, n, fits)
				}
			case string:
				if fits || v != n.String() {
					t.Fatalf("numberValue(%q) = %q, want %s (fits int64: %v)", lit, v, n, fits)
				}
			default:
				t.Fatalf("numberValue(%q) = %T(%v), want a whole number", lit, got, got)
			}
			if s := caddy.ToString(got); s != n.String() {
				t.Fatalf("caddy.ToString(numberValue(%q)) = %q, want %s", lit, s, n)
			}
		}
	}
	// Fractions become the nearest float64.
	for i := 0; i < 3000; i++ {
		lit := numRandomLiteral(r, 20)
		if parseDecimal(lit).whole() {
			continue
		}
		want, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			t.Fatalf("ParseFloat(%q): %v", lit, err)
		}
		if got := numberValue(lit); got != want {
			t.Fatalf("numberValue(%q) = %T(%v), want float64(%v)", lit, got, got, want)
		}
		if s, want := caddy.ToString(numberValue(lit)), strconv.FormatFloat(want, 'f', -1, 64); s != want || strings.ContainsAny(s, "eE") {
			t.Fatalf("caddy.ToString(numberValue(%q)) = %q, want %q in plain decimal", lit, s, want)
		}
	}
}
