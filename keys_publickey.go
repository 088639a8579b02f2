package jwtuser

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func init() {
	caddy.RegisterModule(PublicKey{})
}

// PublicKey is the key source http.jwt_user.keys.public_key: one public key
// read from a PEM file at load. The key's type fixes the algs it serves:
// RSA, RS256-512 and PS256-512 (a key with the RSASSA-PSS OID of RFC 4055,
// PS* only); ECDSA, the ES alg of its curve (P-256 ES256, P-384 ES384, P-521
// ES512); Ed25519, EdDSA and its RFC 9864 name Ed25519.
//
// Caddyfile: `public_key <pem-file>` in jwt_user, or `keys public_key <pem-file>`.
type PublicKey struct {
	// Path of the PEM file: a PKIX public key ("PUBLIC KEY"), a PKCS#1 RSA
	// public key ("RSA PUBLIC KEY") or an X.509 certificate; the first such
	// block counts. Global placeholders are resolved at load. Refused at
	// load: any other placeholder, a file that cannot be read, one with no
	// such block, a private key, or a key of another type.
	Path string `json:"path"`

	keys []any
	algs []string
}

// CaddyModule returns the Caddy module information.
func (PublicKey) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.keys.public_key",
		New: func() caddy.Module { return new(PublicKey) },
	}
}

// Provision reads the key.
func (k *PublicKey) Provision(caddy.Context) error {
	path, err := resolveAtLoad("public_key", k.Path)
	if err != nil {
		return err
	}
	key, algs, err := loadPublicKey(path)
	if err != nil {
		return fmt.Errorf("public_key: %v", err)
	}
	k.keys, k.algs = []any{key}, algs
	return nil
}

// Algorithms lists the algs of the key's type.
func (k *PublicKey) Algorithms() []string { return k.algs }

// Keys returns the key, whatever the kid.
func (k *PublicKey) Keys(string, string) ([]any, error) { return k.keys, nil }

// Generation is constant: the key changes only with the configuration.
func (k *PublicKey) Generation() uint64 { return 0 }

// UnmarshalCaddyfile reads `public_key <pem-file>`.
func (k *PublicKey) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	_, args, err := guestArgs(d, 1, 1)
	if err == nil {
		k.Path = args[0]
	}
	return err
}

// loadPublicKey reads the first usable PEM block of path.
func loadPublicKey(path string) (any, []string, error) {
	if path == "" {
		return nil, nil, errors.New("the path is empty")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, nil, fmt.Errorf("%s: no PEM public key or certificate found", path)
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
			return nil, nil, fmt.Errorf("%s holds a private key: give the public key (or a certificate) instead", path)
		default:
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: parsing %s: %v", path, block.Type, err)
		}
		if algs == nil {
			algs = algsForKey(key)
		}
		if algs == nil {
			return nil, nil, fmt.Errorf("%s: unsupported key type %T (want RSA, ECDSA P-256/384/521 or Ed25519)", path, key)
		}
		return key, algs, nil
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

// Interface guards
var (
	_ KeySource             = (*PublicKey)(nil)
	_ caddy.Provisioner     = (*PublicKey)(nil)
	_ caddyfile.Unmarshaler = (*PublicKey)(nil)
)
