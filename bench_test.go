package jwtuser

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerify measures verification per alg family, with the verified-
// token cache (hit: a repeated token) and without it (miss: a new token
// every time, as the first request of each token pays).
func BenchmarkVerify(b *testing.B) {
	k := getKeys(b)
	families := []struct {
		alg    string
		config Handler
		key    any
	}{
		{"HS256", Handler{Secret: testSecret}, []byte(testSecret)},
		{"RS256", Handler{PublicKey: pkixPEM(b, k.rsa)}, k.rsa},
		{"ES256", Handler{PublicKey: pkixPEM(b, k.p256)}, k.p256},
		{"EdDSA", Handler{PublicKey: pkixPEM(b, k.ed)}, k.ed},
	}
	// Verified a little after the tokens were made: iat may not be ahead.
	now := time.Now().Add(10 * time.Second)
	for _, f := range families {
		v := newVerifier(b, f.config)
		b.Run(f.alg+"/hit", func(b *testing.B) {
			raw := signToken(b, f.alg, f.key, claimsFor("foo"), nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, fail := v.verify(raw, now); fail != nil {
					b.Fatal(fail)
				}
			}
		})
		b.Run(f.alg+"/miss", func(b *testing.B) {
			// Distinct tokens, signed before the timer starts.
			tokens := make([]string, 512)
			for i := range tokens {
				c := claimsFor("foo")
				c["jti"] = strconv.Itoa(i)
				tokens[i] = signToken(b, f.alg, f.key, c, nil)
			}
			uncached := *v
			uncached.cache = nil
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, fail := uncached.verify(tokens[i%len(tokens)], now); fail != nil {
					b.Fatal(fail)
				}
				i++
			}
		})
	}
}
