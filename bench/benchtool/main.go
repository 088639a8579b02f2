// Command benchtool supports bench/load.sh: it writes users and tokens for
// the load scenarios, and serves the two services they compare against: a
// user service for users_url, and an auth service for Caddy's forward_auth
// that does what jwt_user does (verify an HS256 token, look the user up in
// the same file) with the standard library and golang-jwt.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: benchtool gen|serve [flags]")
	}
	switch os.Args[1] {
	case "gen":
		gen(os.Args[2:])
	case "serve":
		serve(os.Args[2:])
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

// gen writes users.json (an object keyed by identity) and one token per
// line for each alg asked for.
func gen(args []string) {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", ".", "output directory")
	n := fs.Int("users", 10000, "number of users")
	tokens := fs.Int("tokens", 10000, "number of HS256 tokens (one per user, from the first)")
	secret := fs.String("secret", "", "HMAC secret")
	withKeys := fs.Bool("keys", false, "also write RSA and P-256 public keys and a token signed by each")
	_ = fs.Parse(args)
	users := make(map[string]any, *n)
	for i := 0; i < *n; i++ {
		id := fmt.Sprintf("user%06d", i)
		users[id] = map[string]any{
			"username": id,
			"email":    id + "@example.com",
			"roles":    []string{"reader", "writer"},
			"level":    i % 7,
			"address":  map[string]string{"city": "Paris"},
		}
	}
	writeJSON(filepath.Join(*dir, "users.json"), users)
	var lines []string
	exp := time.Now().Add(24 * time.Hour).Unix()
	for i := 0; i < *tokens && i < *n; i++ {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": fmt.Sprintf("user%06d", i), "exp": exp, "type": "access",
		}).SignedString([]byte(*secret))
		if err != nil {
			log.Fatal(err)
		}
		lines = append(lines, tok)
	}
	if err := os.WriteFile(filepath.Join(*dir, "tokens.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	if *withKeys {
		writeKeyAndToken(*dir, "rsa", jwt.SigningMethodRS256, mustKey(rsa.GenerateKey(rand.Reader, 2048)), exp)
		writeKeyAndToken(*dir, "ec", jwt.SigningMethodES256, mustKey(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), exp)
	}
}

func mustKey[K crypto.Signer](k K, err error) crypto.Signer {
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// writeKeyAndToken writes <name>.pub.pem and <name>.token, a token for
// user000000 signed with the key.
func writeKeyAndToken(dir, name string, method jwt.SigningMethod, key crypto.Signer, exp int64) {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		log.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name+".pub.pem"), pub, 0o644); err != nil {
		log.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(method, jwt.MapClaims{"sub": "user000000", "exp": exp, "type": "access"}).SignedString(key)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".token"), []byte(tok+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}

func writeJSON(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// serve answers GET /users/<id> with the user's JSON, and GET /auth (for
// forward_auth) with 200 and X-User-Id / X-User-Roles when the Bearer token
// verifies and its user exists, 401 otherwise.
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		user, ok := users[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(user)
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
