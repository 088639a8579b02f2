package rawjson

import (
	"strconv"
	"strings"
)

// JSON numbers are turned into text exactly, from their literal: `42`, never
// `4.2e+01`, and a 20-digit id keeps all its digits.

// decimal is a JSON number literal as sign, significant digits (no leading or
// trailing zeros; "" for zero) and a power of ten: value = digits × 10^exp.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// parseDecimal reads a checked JSON number literal.
func parseDecimal(lit string) decimal {
	var d decimal
	if strings.HasPrefix(lit, "-") {
		d.neg, lit = true, lit[1:]
	}
	mantissa, expPart := lit, ""
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mantissa, expPart = lit[:i], lit[i+1:]
	}
	intPart, fracPart, _ := strings.Cut(mantissa, ".")
	if expPart != "" {
		// Exponents saturate at ±2^30, so adding the digit counts below can
		// never wrap around; callers bound the output long before that.
		const limit = 1 << 30
		e, err := strconv.Atoi(expPart)
		if err != nil || e > limit || e < -limit {
			e = limit
			if strings.HasPrefix(expPart, "-") {
				e = -limit
			}
		}
		d.exp = e
	}
	digits := strings.TrimLeft(intPart+fracPart, "0")
	trimmed := strings.TrimRight(digits, "0")
	d.exp += len(digits) - len(trimmed) - len(fracPart)
	d.digits = trimmed
	if d.digits == "" {
		d.neg, d.exp = false, 0
	}
	return d
}

// whole reports whether d is an integer.
func (d decimal) whole() bool { return d.exp >= 0 }

// maxPlainDigits bounds the text of a number like 1e999999, whose plain
// decimal form would otherwise be a megabyte of zeros.
const maxPlainDigits = 400

// plain writes d in plain decimal notation; ok is false when that would take
// more than maxPlainDigits digits.
func (d decimal) plain() (string, bool) {
	if d.digits == "" {
		return "0", true
	}
	if d.exp > maxPlainDigits || -d.exp > maxPlainDigits {
		return "", false
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	point := len(d.digits) + d.exp // digits before the decimal point
	switch {
	case d.exp >= 0:
		b.WriteString(d.digits)
		b.WriteString(strings.Repeat("0", d.exp))
	case point > 0:
		b.WriteString(d.digits[:point])
		b.WriteByte('.')
		b.WriteString(d.digits[point:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(d.digits)
	}
	return b.String(), true
}

// numberLiteral is the number literal t holds, or "" when t is not a number.
func (t Text) numberLiteral() string {
	if !t.IsNumber() {
		return ""
	}
	return t.trimmed()
}

// PlainNumber returns the number t holds in plain decimal notation, exact
// and canonical: no exponent, no sign on zero, no leading zeros, no trailing
// zeros after the point and no point for a whole number ("4.2e+01" is "42",
// "1.50" is "1.5", "-0.0" is "0"). When the value, written as significant
// digits × 10^e, has |e| > 400 (as 1e401, 1e-401 or 1e999999 do), the plain
// form would be absurdly long and it returns the literal as written instead.
// It returns "" when t is not a number (see [Text.IsNumber]). It may allocate
// the result.
func (t Text) PlainNumber() string {
	lit := t.numberLiteral()
	if lit == "" {
		return ""
	}
	return plainNumber(lit)
}

// plainNumber is the text of a JSON number literal in plain decimal, or the
// literal itself when the plain form would be absurdly long.
func plainNumber(lit string) string {
	if s, ok := parseDecimal(lit).plain(); ok {
		return s
	}
	return lit
}

// maxSafeInteger is 2^53, the largest range in which every integer survives a
// trip through a JSON parser that uses doubles.
const maxSafeInteger = 1 << 53

// IdentityNumber returns the text under which a number names an identity:
// the number in plain decimal when it is a whole number within ±2^53, so
// that `4.0`, `4` and `4e0` name the same user and `1e3` is "1000". It
// returns "", false for a fraction, a whole number beyond ±2^53 (which a
// reader using doubles could not tell from its neighbours), and anything
// that is not a number.
func (t Text) IdentityNumber() (string, bool) {
	lit := t.numberLiteral()
	if lit == "" {
		return "", false
	}
	d := parseDecimal(lit)
	if !d.whole() || len(d.digits)+d.exp > 16 {
		return "", false
	}
	s, _ := d.plain()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
		return "", false
	}
	return s, true
}

// NumberValue returns what the number t holds becomes as a placeholder
// value: an int64 when it is whole and fits; a string of its exact digits
// (as [Text.PlainNumber]) when it is whole and does not; the literal as
// written when it is whole but |e| > 400 (see [Text.PlainNumber]); else
// the nearest float64 (0 on underflow), or, should that overflow, its
// PlainNumber text. Numbers stay numbers to expression matchers, and every
// result but that over-long literal renders as plain decimal: strings as
// they are, int64 with strconv.FormatInt, float64 with
// strconv.FormatFloat(f, 'f', -1, 64). It returns nil when t is not a number.
func (t Text) NumberValue() any {
	lit := t.numberLiteral()
	if lit == "" {
		return nil
	}
	d := parseDecimal(lit)
	if d.whole() {
		s, ok := d.plain()
		if !ok {
			return lit
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		return s
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return plainNumber(lit)
	}
	return f
}
