package jwtuser

import (
	"errors"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(SecretKey{})
}

// SecretKey is the key source http.jwt_user.keys.secret: one HMAC secret,
// serving HS256, HS384 and HS512 (RFC 7518 §3.2).
//
// Caddyfile: `secret <value>` in jwt_user, or `keys secret <value>`.
type SecretKey struct {
	// The secret's bytes, as text. Global placeholders such as
	// {env.JWT_SECRET} and {file./run/secrets/jwt} are resolved at load;
	// any other placeholder ({http.request.host}) is refused there, as it
	// has no value yet. Empty after resolving: refused at load. Shorter than the
	// hash size of an allowed alg (32 bytes for HS256): accepted with a
	// warning in the log, as a short secret can be guessed.
	Secret string `json:"secret"`

	keys []any // built once, so a request allocates nothing
}

// CaddyModule returns the Caddy module information.
func (SecretKey) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.keys.secret",
		New: func() caddy.Module { return new(SecretKey) },
	}
}

// Provision resolves the secret.
func (s *SecretKey) Provision(ctx caddy.Context) error {
	secret, err := resolveAtLoad("secret", s.Secret)
	if err != nil {
		return err
	}
	if secret == "" {
		return errors.New("secret: the value is empty")
	}
	if len(secret) < 32 {
		ctx.Logger().Warn("the HMAC secret is shorter than 32 bytes, the least HS256 needs to be safe against guessing",
			zap.Int("bytes", len(secret)))
	}
	s.keys = []any{[]byte(secret)}
	return nil
}

// Algorithms serves the HMAC algs.
func (s *SecretKey) Algorithms() []string { return hmacAlgs }

// Keys returns the secret, whatever the kid.
func (s *SecretKey) Keys(string, string) ([]any, error) { return s.keys, nil }

// Generation is constant: the secret changes only with the configuration.
func (s *SecretKey) Generation() uint64 { return 0 }

// secretLength lets provision warn about an alg whose hash is longer than
// the secret.
func (s *SecretKey) secretLength() int { return len(s.keys[0].([]byte)) }

// UnmarshalCaddyfile reads `secret <value>`.
func (s *SecretKey) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	_, args, err := guestArgs(d, 1, 1)
	if err == nil {
		s.Secret = args[0]
	}
	return err
}

// Interface guards
var (
	_ KeySource             = (*SecretKey)(nil)
	_ caddy.Provisioner     = (*SecretKey)(nil)
	_ caddyfile.Unmarshaler = (*SecretKey)(nil)
)
