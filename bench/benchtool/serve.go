package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// serve answers GET /users/<id> with the user's JSON, GET /auth (for
// forward_auth) with 200 and X-User-Id / X-User-Roles when the Bearer token
// verifies and its user exists, 401 otherwise, and GET /stats with
// {"user_requests":N}, the /users/ requests so far, so load.sh can report
// how many requests a store scenario sent.
func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:19000", "listen address")
	usersPath := fs.String("users", "users.json", "users file")
	secret := fs.String("secret", "", "HMAC secret")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*usersPath)
	if err != nil {
		log.Fatal(err)
	}
	var users map[string]json.RawMessage
	if err := json.Unmarshal(raw, &users); err != nil {
		log.Fatal(err)
	}
	key := []byte(*secret)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	var userRequests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		userRequests.Add(1)
		user, ok := users[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(user)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, "{\"user_requests\":%d}\n", userRequests.Load())
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		tokenText, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tok, err := parser.Parse(tokenText, func(*jwt.Token) (any, error) { return key, nil })
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sub, _ := tok.Claims.GetSubject()
		user, ok := users[sub]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var u struct {
			Roles []string `json:"roles"`
		}
		_ = json.Unmarshal(user, &u)
		w.Header().Set("X-User-Id", sub)
		w.Header().Set("X-User-Roles", strings.Join(u.Roles, ","))
		w.WriteHeader(http.StatusOK)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
