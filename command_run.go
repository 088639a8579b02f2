package jwtuser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// exitWith ends the process with code unless it is 0.
func exitWith(code int) {
	if code != 0 {
		os.Exit(code)
	}
}

// exitKey is the context key of a func(int) that a command run calls in
// place of exitWith: how a test sees the exit code of its own run without
// ending the process.
type exitKey struct{}

// exitFor is the exit function of cmd's run: exitWith unless its context
// holds another.
func exitFor(cmd *cobra.Command) func(int) {
	if ctx := cmd.Context(); ctx != nil {
		if exit, ok := ctx.Value(exitKey{}).(func(int)); ok {
			return exit
		}
	}
	return exitWith
}

// handlerFromFlags loads --config (through --adapter) and returns its first
// jwt_user handler, not yet provisioned.
func handlerFromFlags(cmd *cobra.Command) (*Handler, error) {
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	if configFile == "" {
		return nil, errors.New("give --config")
	}
	cfg, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, err
	}
	return firstHandler(cfg)
}

// firstHandler finds the first jwt_user handler in a JSON config, in the
// order the config is written.
func firstHandler(cfg []byte) (*Handler, error) {
	dec := json.NewDecoder(bytes.NewReader(cfg))
	raw, err := findJWTUser(dec, cfg)
	if err != nil {
		return nil, fmt.Errorf("the configuration is not valid JSON: %v", err)
	}
	if raw == nil {
		return nil, errors.New("the configuration has no jwt_user handler")
	}
	h := new(Handler)
	if err := json.Unmarshal(raw, h); err != nil {
		return nil, fmt.Errorf("the jwt_user handler: %v", err)
	}
	h.logger = caddy.Log().Named("jwt_user")
	return h, nil
}

// findJWTUser reads the next value from dec and returns the text of the
// first object in it, depth first and in written order, whose "handler" is
// "jwt_user"; nil when there is none.
func findJWTUser(dec *json.Decoder, cfg []byte) ([]byte, error) {
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil, nil // a scalar
	}
	var found []byte
	isHandler := false
	for dec.More() {
		if delim == '{' {
			name, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if name == "handler" {
				var v any
				if err := dec.Decode(&v); err != nil {
					return nil, err
				}
				isHandler = isHandler || v == "jwt_user"
				continue
			}
		}
		inner, err := findJWTUser(dec, cfg)
		if err != nil {
			return nil, err
		}
		if found == nil {
			found = inner
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return nil, err
	}
	if isHandler {
		return bytes.TrimLeft(cfg[start:dec.InputOffset()], " \t\r\n:,"), nil
	}
	return found, nil
}

// provisionStandalone provisions h as Caddy would, in a context of its own;
// stop cleans up what it took.
func provisionStandalone(h *Handler) (stop func(), err error) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	stop = func() {
		_ = h.Cleanup()
		cancel()
	}
	if err := h.Provision(ctx); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// verifyToken checks raw as the handler would and prints what it finds;
// it returns the exit code: 0 for a good token, 1 for a refused one.
func verifyToken(out io.Writer, h *Handler, raw string, now time.Time) (int, error) {
	stop, err := provisionStandalone(h)
	if err != nil {
		return 0, err
	}
	defer stop()
	raw = strings.TrimSpace(raw)
	if scheme, rest, ok := strings.Cut(raw, " "); ok && strings.EqualFold(scheme, "Bearer") {
		raw = strings.TrimSpace(rest)
	}
	tok, f, iss := h.verifyWithIssuer(raw, now)
	if h.issuers != nil {
		fmt.Fprintf(out, "issuer block: %s\n", h.issuers.describe(raw, iss))
	}
	if tok != nil {
		fmt.Fprintf(out, "header: %s\nclaims: %s\n", indentJSON(tok.header.String()), indentJSON(tok.payload.String()))
		if tok.identity != "" {
			fmt.Fprintf(out, "identity: %s\n", tok.identity)
		}
		fmt.Fprintf(out, "fresh: %v\n", isFresh(tok, now))
	}
	if f == nil {
		f = afterVerify(h, tok, now)
	}
	if f != nil {
		fmt.Fprintln(out, f.reason)
		return 1, nil
	}
	fmt.Fprintln(out, "valid")
	return 0, nil
}

// afterVerify runs the checks the handler makes on a verified token before
// the user loads and that this process can make: the revoked_tokens file
// (the admin API's list lives in the running Caddy) and require_fresh.
func afterVerify(h *Handler, tok *token, now time.Time) *failure {
	switch {
	case h.revocations.revoked(tok, func() time.Time { return now }):
		return errRevoked
	case h.RequireFresh && !isFresh(tok, now):
		return errNotFresh
	}
	return nil
}

// lookupUser loads identity through the handler's store (and its cache)
// and prints it; it returns the exit code: 0 found, 1 no such user, 2 the
// store failed.
func lookupUser(out io.Writer, h *Handler, identity string) (int, error) {
	stop, err := provisionStandalone(h)
	if err != nil {
		return 0, err
	}
	defer stop()
	user, err := h.store.LoadUser(context.Background(), Token{&token{identity: identity, payload: noClaims}})
	if err == nil && !user.hasText() {
		err = checkUser(&user)
	}
	switch {
	case errors.Is(err, ErrUserNotFound):
		fmt.Fprintf(out, "Error loading the user %s\n", identity)
		return 1, nil
	case err != nil:
		fmt.Fprintf(out, "User store unavailable: %v\n", err)
		return 2, nil
	}
	fmt.Fprintln(out, indentJSON(user.JSON))
	return 0, nil
}

func indentJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}
