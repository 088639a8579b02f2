// Command benchtool supports bench/load.sh: it writes users and tokens for
// the load scenarios (gen), and serves what they call: a user service for
// users_url and an auth service for Caddy's forward_auth that does what
// jwt_user does (verify an HS256 token, look the user up in the same file)
// with the standard library and golang-jwt (serve), and a tiny upstream for
// the reverse_proxy scenarios (upstream).
package main

import (
	"log"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: benchtool gen|serve|upstream [flags]")
	}
	switch os.Args[1] {
	case "gen":
		gen(os.Args[2:])
	case "serve":
		serve(os.Args[2:])
	case "upstream":
		upstream(os.Args[2:])
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}
