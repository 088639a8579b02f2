package rawjson

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestIdentityFromNumber(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			num := numMustBeJSON(t, tt.lit)
			type res struct {
				s  string
				ok bool
			}
			got, ran := numCallNoPanic(t, fmt.Sprintf("IdentityNumber(%q)", tt.lit), func() res {
				s, ok := num.IdentityNumber()
				return res{s, ok}
			})
			if ran && (got.s != tt.want || got.ok != tt.ok) {
				t.Errorf("IdentityNumber(%q) = %q, %v; want %q, %v", tt.lit, got.s, got.ok, tt.want, tt.ok)
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
	t.Parallel()
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
			got, ok := numMustBeJSON(t, lit).IdentityNumber()
			if ok != inRange || (ok && got != strconv.FormatInt(n, 10)) {
				t.Fatalf("IdentityNumber(%q) = %q, %v; want %q, %v", lit, got, ok, strconv.FormatInt(n, 10), inRange)
			}
			// Any fraction is refused: "n.0" becomes "n.01".
			if strings.HasSuffix(lit, ".0") {
				if got, ok := numMustBeJSON(t, lit+"1").IdentityNumber(); ok {
					t.Fatalf("IdentityNumber(%q) = %q, accepted a fraction", lit+"1", got)
				}
			}
		}
	}
}

func TestNumberValue(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			num := numMustBeJSON(t, tt.lit)
			got, ok := numCallNoPanic(t, fmt.Sprintf("NumberValue(%q)", tt.lit), num.NumberValue)
			if !ok {
				return
			}
			if got != tt.want {
				t.Errorf("NumberValue(%q) = %T(%.60v), want %T(%.60v)", tt.lit, got, got, tt.want, tt.want)
			}
			if s := caddy.ToString(got); s != tt.text {
				t.Errorf("caddy.ToString(NumberValue(%q)) = %.60q, want %.60q", tt.lit, s, tt.text)
			}
		})
	}
}

func TestNumberValueGenerated(t *testing.T) {
	t.Parallel()
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
			got := numMustBeJSON(t, lit).NumberValue()
			switch v := got.(type) {
			case int64:
				if !fits || big.NewInt(v).Cmp(n) != 0 {
					t.Fatalf("NumberValue(%q) = int64(%d), want %s (fits int64: %v)", lit, v, n, fits)
				}
			case string:
				if fits || v != n.String() {
					t.Fatalf("NumberValue(%q) = %q, want %s (fits int64: %v)", lit, v, n, fits)
				}
			default:
				t.Fatalf("NumberValue(%q) = %T(%v), want a whole number", lit, got, got)
			}
			if s := caddy.ToString(got); s != n.String() {
				t.Fatalf("caddy.ToString(NumberValue(%q)) = %q, want %s", lit, s, n)
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
		num := numMustBeJSON(t, lit)
		if got := num.NumberValue(); got != want {
			t.Fatalf("NumberValue(%q) = %T(%v), want float64(%v)", lit, got, got, want)
		}
		if s, want := caddy.ToString(num.NumberValue()), strconv.FormatFloat(want, 'f', -1, 64); s != want || strings.ContainsAny(s, "eE") {
			t.Fatalf("caddy.ToString(NumberValue(%q)) = %q, want %q in plain decimal", lit, s, want)
		}
	}
}

// The number methods read the number a Text holds, white space around a
// Check result aside, and give nothing for other kinds.
func TestNumberKinds(t *testing.T) {
	t.Parallel()
	num := mustCheck(t, " \n4.2e+01\t")
	if p, v := num.PlainNumber(), num.NumberValue(); p != "42" || v != int64(42) {
		t.Errorf("PlainNumber, NumberValue of %q = %q, %v; want 42, int64(42)", num, p, v)
	}
	if s, ok := num.IdentityNumber(); s != "42" || !ok {
		t.Errorf("IdentityNumber(%q) = %q, %v; want 42, true", num, s, ok)
	}
	for _, in := range []string{`"42"`, `true`, `null`, `[1]`, `{"a":1}`} {
		text := mustCheck(t, in)
		s, ok := text.IdentityNumber()
		if p, v := text.PlainNumber(), text.NumberValue(); p != "" || v != nil || s != "" || ok {
			t.Errorf("%s: PlainNumber %q, NumberValue %v, IdentityNumber %q %v; want nothing", in, p, v, s, ok)
		}
	}
}
