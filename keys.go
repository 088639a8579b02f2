package jwtuser

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// KeySource hands out the keys that may verify a token. Key sources are
// guest modules in the namespace http.jwt_user.keys (secret, public_key,
// jwks); a third party adds one by registering a module there that
// implements KeySource. Each source knows which algs its keys serve, so a
// token is only ever checked with a key of its alg's family: an HS256 token
// is never checked against RSA key bytes.
type KeySource interface {
	// Algorithms lists every alg (RFC 7518 names: HS256, RS256, ES256,
	// EdDSA, and RFC 9864's Ed25519, ...) the source's keys can serve. It is called once, at
	// provision; the handler refuses an `algorithms` entry not in it.
	Algorithms() []string
	// Keys returns the candidate keys for a token's alg and kid (kid is ""
	// when the token has none): []byte for HMAC, *rsa.PublicKey,
	// *ecdsa.PublicKey or ed25519.PublicKey. It is called for every token
	// not found in the verified-token cache, so it must be fast (no
	// allocation on the common path) and may block only to fetch keys it
	// does not have yet. No candidates is not an error: the token fails
	// with "Signature verification failed". ErrKeysUnavailable (or any
	// error) means no keys can be had at all, such as a key set never
	// fetched: the request gets the store-error response, "Signing keys
	// unavailable".
	Keys(alg, kid string) ([]any, error)
	// Generation changes whenever the keys do, so a token verified under
	// keys that are gone is not trusted from the cache. It is called on
	// every request; a static source returns a constant.
	Generation() uint64
}

// ErrKeysUnavailable is what a KeySource returns when it has no keys at all.
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// signingMethods are the algs this module verifies. "none" is deliberately
// absent: golang-jwt registers it, but no lookup here can reach it.
var signingMethods = map[string]jwt.SigningMethod{
	"HS256": jwt.SigningMethodHS256,
	"HS384": jwt.SigningMethodHS384,
	"HS512": jwt.SigningMethodHS512,
	"RS256": jwt.SigningMethodRS256,
	"RS384": jwt.SigningMethodRS384,
	"RS512": jwt.SigningMethodRS512,
	"PS256": jwt.SigningMethodPS256,
	"PS384": jwt.SigningMethodPS384,
	"PS512": jwt.SigningMethodPS512,
	"ES256": jwt.SigningMethodES256,
	"ES384": jwt.SigningMethodES384,
	"ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
	// RFC 9864's fully specified name for EdDSA with an Ed25519 key. Its
	// other JOSE name, Ed448, needs a key type Go does not verify; its
	// ESP256/384/512 are COSE's, as JOSE's ES256/384/512 already name
	// their curves.
	"Ed25519": ed25519Method{jwt.SigningMethodEdDSA},
}

// knownAlgs lists signingMethods' names, for error messages.
var knownAlgs = "HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"

// ed25519Method is EdDSA under the name Ed25519: the same signature, so
// only the name a minted token's header carries differs.
type ed25519Method struct{ *jwt.SigningMethodEd25519 }

// Alg is the RFC 9864 name.
func (ed25519Method) Alg() string { return "Ed25519" }

var (
	hmacAlgs    = []string{"HS256", "HS384", "HS512"}
	rsaAlgs     = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	rsaPSSAlgs  = []string{"PS256", "PS384", "PS512"}
	ed25519Algs = []string{"EdDSA", "Ed25519"}
)

// algsForKey lists the algs a public key can verify; nil if none.
func algsForKey(key any) []string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return rsaAlgs
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		case elliptic.P521():
			return []string{"ES512"}
		}
	case ed25519.PublicKey:
		return ed25519Algs
	}
	return nil
}

// allowedAlgorithms resolves the `algorithms` setting against what the key
// source can serve: by default every alg of the source; a listed alg the
// source cannot serve, an unknown one or "none" is a configuration error.
func allowedAlgorithms(configured []string, src KeySource) ([]string, error) {
	served := src.Algorithms()
	if len(configured) == 0 {
		return served, nil
	}
	var out []string
	for _, alg := range configured {
		switch {
		case strings.EqualFold(alg, "none"):
			return nil, errors.New(`alg "none" is never accepted`)
		case signingMethods[alg] == nil:
			return nil, fmt.Errorf("unknown alg %q (known: %s)", alg, knownAlgs)
		case !slices.Contains(served, alg):
			return nil, fmt.Errorf("the key cannot verify %s (it serves %v)", alg, served)
		}
		if !slices.Contains(out, alg) {
			out = append(out, alg)
		}
	}
	return out, nil
}
