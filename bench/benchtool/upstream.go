package main

import (
	"flag"
	"log"
	"net/http"
)

// upstreamHeaders are the fields the proxy scenarios set from the user (or
// from vars); the upstream refuses a request missing one, so a scenario
// whose placeholders came out empty fails the load instead of timing it.
var upstreamHeaders = []string{"X-User-Id", "X-User-Roles", "X-User-Email"}

// upstream serves the reverse_proxy scenarios: 200 "ok" when every
// upstreamHeaders field is present and not empty, 400 otherwise.
func upstream(args []string) {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:19001", "listen address")
	_ = fs.Parse(args)
	body := []byte("ok")
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range upstreamHeaders {
			if r.Header.Get(h) == "" {
				http.Error(w, "missing "+h, http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})))
}
