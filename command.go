package jwtuser

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "jwt-user",
		Usage: "token (--secret <secret> | --key <private-pem>) [--alg <alg>] [--sub <identity>] [--claim k=v]... [--ttl <duration>]",
		Short: "Tools for the jwt_user handler",
		Long: `
Tools for trying a jwt_user setup.

token mints a signed token and prints it alone on one line. It sets iat,
nbf, jti and type "access", as flask-jwt-extended's access tokens do.

  --secret   an HMAC secret (the same value as the Caddyfile's secret)
  --key      a private key PEM file (RSA, ECDSA or Ed25519)
  --alg      default: HS256 for a secret, RS256 for RSA, ES256/384/512 by
             curve, EdDSA for Ed25519
  --sub      the identity
  --claim    k=v, repeatable; v is taken as JSON when it parses, else as a
             string (--claim roles='["admin"]' --claim level=3)
  --ttl      lifetime; default 15m; 0 for a token without exp
`,
		CobraFunc: func(cmd *cobra.Command) {
			token := &cobra.Command{
				Use:   "token",
				Short: "Mints a signed token for trying a setup",
				Args:  cobra.NoArgs,
				RunE: func(cmd *cobra.Command, _ []string) error {
					f := cmd.Flags()
					secret, _ := f.GetString("secret")
					keyFile, _ := f.GetString("key")
					alg, _ := f.GetString("alg")
					sub, _ := f.GetString("sub")
					claims, _ := f.GetStringArray("claim")
					ttl, _ := f.GetDuration("ttl")
					out, err := mintToken(mintOptions{secret: secret, keyFile: keyFile, alg: alg,
						sub: sub, claims: claims, ttl: ttl, now: time.Now()})
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), out)
					return nil
				},
			}
			token.Flags().String("secret", "", "HMAC secret")
			token.Flags().String("key", "", "private key PEM file")
			token.Flags().String("alg", "", "signing alg")
			token.Flags().String("sub", "", "the identity (sub claim)")
			token.Flags().StringArray("claim", nil, "extra claim k=v (v as JSON when it parses)")
			token.Flags().Duration("ttl", 15*time.Minute, "lifetime; 0 for no exp")
			cmd.AddCommand(token)
		},
	})
}

type mintOptions struct {
	secret, keyFile, alg, sub string
	claims                    []string
	ttl                       time.Duration
	now                       time.Time
}

func mintToken(o mintOptions) (string, error) {
	var key any
	var defaultAlg string
	switch {
	case o.secret != "" && o.keyFile != "":
		return "", errors.New("give --secret or --key, not both")
	case o.secret != "":
		key, defaultAlg = []byte(o.secret), "HS256"
	case o.keyFile != "":
		signer, err := loadPrivateKey(o.keyFile)
		if err != nil {
			return "", err
		}
		key = signer
		if algs := algsForKey(signer.Public()); len(algs) > 0 {
			defaultAlg = algs[0]
		}
	default:
		return "", errors.New("give --secret or --key")
	}
	if o.ttl < 0 {
		return "", errors.New("--ttl must not be negative (0 leaves out exp)")
	}
	alg := o.alg
	if alg == "" {
		alg = defaultAlg
	}
	method := signingMethods[alg]
	if method == nil {
		return "", fmt.Errorf("unknown alg %q", alg)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := jwt.MapClaims{
		"iat":  o.now.Unix(),
		"nbf":  o.now.Unix(),
		"jti":  hex.EncodeToString(jti),
		"type": "access",
	}
	if o.sub != "" {
		claims["sub"] = o.sub
	}
	if o.ttl > 0 {
		claims["exp"] = o.now.Add(o.ttl).Unix()
	}
	for _, kv := range o.claims {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("--claim %q: want k=v", kv)
		}
		var value any
		if err := json.Unmarshal([]byte(v), &value); err != nil {
			value = v
		}
		claims[k] = value
	}
	return jwt.NewWithClaims(method, claims).SignedString(key)
}

// loadPrivateKey reads a PKCS#8, PKCS#1 or SEC 1 private key.
func loadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	for block != nil && !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		block, rest = pem.Decode(rest)
	}
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM private key found", path)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, fmt.Errorf("%s: unsupported key type %T", path, key)
}
