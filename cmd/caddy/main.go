// Command caddy is Caddy with the jwt_user module plugged in, so the module
// can be tried with `go run ./cmd/caddy` without building through xcaddy.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules, as in the official build.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/jwtuser/caddy-jwt-user"
)

func main() {
	caddycmd.Main()
}
