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
	"io"
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
		Usage: "token|verify|lookup [flags]",
		Short: "Tools for the jwt_user handler",
		Long: `
Tools for trying a jwt_user setup.

token mints a signed token and prints it alone on one line (with --csrf,
the csrf value follows on a second line). It sets iat, nbf, jti and type
"access", as flask-jwt-extended's access tokens do.
verify checks a token against a configuration; lookup loads a user through
it (see their own --help).

token flags:

  --secret   an HMAC secret (the same value as the Caddyfile's secret)
  --key      a private key PEM file (RSA, ECDSA or Ed25519)
  --alg      default: HS256 for a secret, RS256 for RSA, ES256/384/512 by
             curve, EdDSA for Ed25519 (or Ed25519, RFC 9864's name)
  --sub      the identity
  --claim    k=v, repeatable; v is taken as JSON when it parses, else as a
             string (--claim roles='["admin"]' --claim level=3)
  --ttl      lifetime; default 15m; 0 for a token without exp
  --csrf     add a random csrf claim, for a token sent in a cookie, and
             print its value on a second line: the value the CSRF header
             (csrf_header, default X-CSRF-TOKEN) must carry
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
					o := mintOptions{secret: secret, keyFile: keyFile, alg: alg,
						sub: sub, claims: claims, ttl: ttl, now: time.Now()}
					if withCSRF, _ := f.GetBool("csrf"); withCSRF {
						var err error
						if o.csrf, err = randomHex(); err != nil {
							return err
						}
					}
					out, err := mintToken(o)
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), out)
					if o.csrf != "" {
						// The value a browser's script sends in the CSRF header.
						fmt.Fprintln(cmd.OutOrStdout(), o.csrf)
					}
					return nil
				},
			}
			token.Flags().String("secret", "", "HMAC secret")
			token.Flags().String("key", "", "private key PEM file")
			token.Flags().String("alg", "", "signing alg")
			token.Flags().String("sub", "", "the identity (sub claim)")
			token.Flags().StringArray("claim", nil, "extra claim k=v (v as JSON when it parses)")
			token.Flags().Duration("ttl", 15*time.Minute, "lifetime; 0 for no exp")
			token.Flags().Bool("csrf", false, "add a random csrf claim and print its value on a second line")
			cmd.AddCommand(token)

			cmd.AddCommand(configCommand(&cobra.Command{
				Use:   "verify --config <file> [--adapter <name>] [<token>]",
				Short: "Checks a token against a config's first jwt_user",
				Long: `Checks a token (the argument, or stdin) against the first jwt_user
handler of the configuration: prints the token's header and claims and exits
0, or prints why it is refused (the reason a request would get) and exits 1.
It prints whether the token is fresh, and refuses a token whose jti is in
the revoked_tokens file or that require_fresh refuses. Revocations posted
to a running Caddy's admin API, revoke_issued_before and {jwt.user.*} claim
values are not checked here: they need the running Caddy or the user
(lookup shows the user).
The signature and the key are never printed.`,
				Args: cobra.MaximumNArgs(1),
			}, func(cmd *cobra.Command, h *Handler, args []string) (int, error) {
				raw := ""
				if len(args) == 1 {
					raw = args[0]
				} else {
					b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
					if err != nil {
						return 0, err
					}
					raw = string(b)
				}
				return verifyToken(cmd.OutOrStdout(), h, raw, time.Now())
			}))
			cmd.AddCommand(configCommand(&cobra.Command{
				Use:   "lookup --config <file> [--adapter <name>] <identity>",
				Short: "Loads a user through a config's first jwt_user store",
				Long: `Loads the user an identity names through the store of the first jwt_user
handler of the configuration and prints it as JSON. Exits 1 when the store
has no such user, 2 when the store fails.`,
				Args: cobra.ExactArgs(1),
			}, func(cmd *cobra.Command, h *Handler, args []string) (int, error) {
				return lookupUser(cmd.OutOrStdout(), h, args[0])
			}))
		},
	})
}

type mintOptions struct {
	secret, keyFile, alg, sub string
	claims                    []string
	ttl                       time.Duration
	now                       time.Time
	// csrf, when not empty, is the token's csrf claim (--csrf).
	csrf string
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
	jti, err := randomHex()
	if err != nil {
		return "", err
	}
	claims := jwt.MapClaims{
		"iat":  o.now.Unix(),
		"nbf":  o.now.Unix(),
		"jti":  jti,
		"type": "access",
	}
	if o.csrf != "" {
		claims["csrf"] = o.csrf
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

// randomHex is 16 random bytes in hex, for a jti or a csrf value.
func randomHex() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
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

// configCommand completes a subcommand that works on a configuration's first
// jwt_user handler: the --config and --adapter flags, loading the handler,
// and the exit code run returns.
func configCommand(c *cobra.Command, run func(cmd *cobra.Command, h *Handler, args []string) (int, error)) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		h, err := handlerFromFlags(cmd)
		if err != nil {
			return err
		}
		code, err := run(cmd, h, args)
		if err != nil {
			return err
		}
		exitFor(cmd)(code)
		return nil
	}
	c.Flags().StringP("config", "c", "", "configuration file")
	c.Flags().StringP("adapter", "a", "", "name of the config adapter")
	return c
}
