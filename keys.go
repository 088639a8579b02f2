package jwtuser

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// keySource hands out the keys that may verify a token. Each source (an HMAC
// secret, a PEM public key, a JWK Set) knows which algs its keys can serve, so
// a token can only ever be checked with a key of its alg's family: an HS256
// token is never checked against RSA key bytes.
type keySource interface {
	// algorithms lists every alg the source's keys can serve.
	algorithms() []string
	// keys returns the candidate keys for a token's alg and kid. An error
	// means no keys are available at all (a key set not fetched yet).
	keys(alg, kid string) ([]any, error)
	// generation changes whenever the keys do, so a token verified under
	// keys that are gone is not trusted from a cache.
	generation() uint64
}

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
}

var (
	hmacAlgs    = []string{"HS256", "HS384", "HS512"}
	rsaAlgs     = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	rsaPSSAlgs  = []string{"PS256", "PS384", "PS512"}
	ed25519Algs = []string{"EdDSA"}
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

// staticKey is one key known at provision: an HMAC secret or a PEM public
// key. Its candidate list is built once, so a request allocates nothing.
type staticKey struct {
	list []any
	algs []string
}

func newSecretKey(secret string) staticKey {
	return staticKey{list: []any{[]byte(secret)}, algs: hmacAlgs}
}

func (k staticKey) algorithms() []string               { return k.algs }
func (k staticKey) keys(string, string) ([]any, error) { return k.list, nil }
func (k staticKey) generation() uint64                 { return 0 }

// loadPublicKey reads the first usable PEM block of path: a PKIX public key
// (RSA, RSA-PSS, ECDSA P-256/384/521, Ed25519), a PKCS#1 RSA public key or an
// X.509 certificate.
func loadPublicKey(path string) (staticKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return staticKey{}, err
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return staticKey{}, fmt.Errorf("%s: no PEM public key or certificate found", path)
		}
		var key any
		algs := []string(nil)
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				// Go's x509 does not know the RSASSA-PSS key OID; such a
				// key may only ever sign PS* tokens.
				if k, pssErr := parseRSAPSSPublicKey(block.Bytes); pssErr == nil {
					key, algs, err = k, rsaPSSAlgs, nil
				}
			}
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return staticKey{}, fmt.Errorf("%s holds a private key: give the public key (or a certificate) instead", path)
		default:
			continue
		}
		if err != nil {
			return staticKey{}, fmt.Errorf("%s: parsing %s: %v", path, block.Type, err)
		}
		if algs == nil {
			algs = algsForKey(key)
		}
		if algs == nil {
			return staticKey{}, fmt.Errorf("%s: unsupported key type %T (want RSA, ECDSA P-256/384/521 or Ed25519)", path, key)
		}
		return staticKey{list: []any{key}, algs: algs}, nil
	}
}

// oidRSASSAPSS identifies an RSA key restricted to PSS signatures (RFC 4055).
var oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}

func parseRSAPSSPublicKey(der []byte) (*rsa.PublicKey, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 || !spki.Algorithm.Algorithm.Equal(oidRSASSAPSS) {
		return nil, errors.New("not an RSASSA-PSS public key")
	}
	return x509.ParsePKCS1PublicKey(spki.PublicKey.RightAlign())
}

// allowedAlgorithms resolves the `algorithms` setting against what the key
// source can serve: by default every alg of the source; a listed alg the
// source cannot serve, an unknown one or "none" is a configuration error.
func allowedAlgorithms(configured []string, src keySource) ([]string, error) {
	served := src.algorithms()
	if len(configured) == 0 {
		return served, nil
	}
	var out []string
	for _, alg := range configured {
		switch {
		case strings.EqualFold(alg, "none"):
			return nil, errors.New(`alg "none" is never accepted`)
		case signingMethods[alg] == nil:
			return nil, fmt.Errorf("unknown alg %q (known: HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)", alg)
		case !slices.Contains(served, alg):
			return nil, fmt.Errorf("the key cannot verify %s (it serves %v)", alg, served)
		}
		if !slices.Contains(out, alg) {
			out = append(out, alg)
		}
	}
	return out, nil
}
