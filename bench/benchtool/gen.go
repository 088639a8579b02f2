package main

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// userID is the identity of the i-th generated user; tokens name it in sub.
func userID(i int) string { return fmt.Sprintf("user%06d", i) }

// gen writes the users and tokens a load run needs, into -dir:
//
//	users.json      an object keyed by identity (-users of them), each user
//	                with username, email, roles ["admin","editor"], level
//	                and address
//	users.tsv       the same users as PostgreSQL COPY text (-tsv)
//	tokens.txt      -tokens HS256 tokens, one a line, for the first users
//	rsa.pub.pem, ec.pub.pem, rsa.token, ec.token   with -keys
//	rs_tokens.txt, es_tokens.txt   -rs-tokens / -es-tokens distinct RS256
//	                and ES256 tokens for the first users (implies -keys)
//
// Asymmetric tokens are signed on every CPU. With -keydir the private keys
// are kept there and reused, and so are the token lists signed with them
// (while they have more than two days left), since 100,000 RSA signatures
// take a minute.
func gen(args []string) {
	fset := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fset.String("dir", ".", "output directory")
	n := fset.Int("users", 10000, "number of users (0: write no users file)")
	tsv := fset.Bool("tsv", false, "also write users.tsv for PostgreSQL's COPY")
	tokens := fset.Int("tokens", 10000, "number of HS256 tokens (one per user, from the first)")
	tokensOut := fset.String("tokens-out", "tokens.txt", "file name of the HS256 tokens, in -dir")
	secret := fset.String("secret", "", "HMAC secret")
	withKeys := fset.Bool("keys", false, "also write RSA and P-256 public keys and a token signed by each")
	rsTokens := fset.Int("rs-tokens", 0, "distinct RS256 tokens to write to rs_tokens.txt")
	esTokens := fset.Int("es-tokens", 0, "distinct ES256 tokens to write to es_tokens.txt")
	keyDir := fset.String("keydir", "", "keep private keys and signed token lists here, reused across runs")
	_ = fset.Parse(args)

	if *n > 0 {
		writeUsers(filepath.Join(*dir, "users.json"), *n)
		if *tsv {
			writeUsersTSV(filepath.Join(*dir, "users.tsv"), *n)
		}
	}
	if *tokens > 0 {
		key := []byte(*secret)
		toks := signAll(*tokens, jwt.SigningMethodHS256, key, time.Now().Add(24*time.Hour).Unix())
		writeLines(filepath.Join(*dir, *tokensOut), toks)
	}
	if *withKeys || *rsTokens > 0 || *esTokens > 0 {
		exp := time.Now().Add(30 * 24 * time.Hour).Unix()
		rsaKey := loadOrMakeKey(*keyDir, "rsa", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
		ecKey := loadOrMakeKey(*keyDir, "ec", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
		writeKeyAndToken(*dir, "rsa", jwt.SigningMethodRS256, rsaKey, exp)
		writeKeyAndToken(*dir, "ec", jwt.SigningMethodES256, ecKey, exp)
		if *rsTokens > 0 {
			writeLines(filepath.Join(*dir, "rs_tokens.txt"), cachedTokens(*keyDir, "rs256", *rsTokens, jwt.SigningMethodRS256, rsaKey, exp))
		}
		if *esTokens > 0 {
			writeLines(filepath.Join(*dir, "es_tokens.txt"), cachedTokens(*keyDir, "es256", *esTokens, jwt.SigningMethodES256, ecKey, exp))
		}
	}
}

// writeUsers streams n users as one JSON object keyed by identity: a
// million users is about 130 MB, built without holding them as values.
func writeUsers(path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		id := userID(i)
		fmt.Fprintf(w, `"%s":{"username":"%s","email":"%s@example.com","roles":["admin","editor"],"level":%d,"address":{"city":"Paris"}}`, id, id, id, i%7)
	}
	w.WriteByte('}')
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// writeUsersTSV writes the users as COPY text rows: id, username, email,
// roles (jsonb), level, address (jsonb). The values hold no tab, newline
// or backslash, so nothing needs escaping.
func writeUsersTSV(path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		id := userID(i)
		fmt.Fprintf(w, "%s\t%s\t%s@example.com\t[\"admin\",\"editor\"]\t%d\t{\"city\":\"Paris\"}\n", id, id, id, i%7)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// signAll signs n tokens, for users 0..n-1, on every CPU.
func signAll(n int, method jwt.SigningMethod, key any, exp int64) []string {
	out := make([]string, n)
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				tok, err := jwt.NewWithClaims(method, jwt.MapClaims{"sub": userID(i), "exp": exp, "type": "access"}).SignedString(key)
				if err != nil {
					log.Fatal(err)
				}
				out[i] = tok
			}
		}(w)
	}
	wg.Wait()
	return out
}

// cachedTokens returns n tokens signed with key: from keyDir when a list
// signed by this very key (named by its public key's hash) is there with
// two days left, else freshly signed and saved there.
func cachedTokens(keyDir, alg string, n int, method jwt.SigningMethod, key crypto.Signer, exp int64) []string {
	if keyDir == "" {
		return signAll(n, method, key, exp)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(der)
	path := filepath.Join(keyDir, fmt.Sprintf("%s-%s-%d.txt", alg, hex.EncodeToString(sum[:6]), n))
	if raw, err := os.ReadFile(path); err == nil {
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) == n && tokenExp(lines[0]) > time.Now().Add(48*time.Hour).Unix() {
			log.Printf("reusing %d %s tokens from %s", n, alg, path)
			return lines
		}
	}
	start := time.Now()
	toks := signAll(n, method, key, exp)
	log.Printf("signed %d %s tokens in %s on %d CPUs; kept in %s", n, alg, time.Since(start).Round(time.Millisecond), runtime.NumCPU(), path)
	writeLines(path, toks)
	return toks
}

// tokenExp reads a token's exp without verifying it (0 if unreadable): the
// token came from our own cache.
func tokenExp(tok string) int64 {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return 0
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	_ = json.Unmarshal(payload, &c)
	return c.Exp
}

// loadOrMakeKey reads keyDir/<name>.key.pem (PKCS#8), or makes a key and
// writes it there; with no keyDir, a fresh key each run.
func loadOrMakeKey(keyDir, name string, generate func() (crypto.Signer, error)) crypto.Signer {
	path := filepath.Join(keyDir, name+".key.pem")
	if keyDir != "" {
		raw, err := os.ReadFile(path)
		switch {
		case err == nil:
			block, _ := pem.Decode(raw)
			if block == nil {
				log.Fatalf("%s: not PEM", path)
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				log.Fatalf("%s: %v", path, err)
			}
			return k.(crypto.Signer)
		case !errors.Is(err, fs.ErrNotExist):
			log.Fatal(err)
		}
	}
	k, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if keyDir != "" {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(keyDir, 0o700); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			log.Fatal(err)
		}
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
	writeLines(filepath.Join(dir, name+".token"), signAll(1, method, key, exp))
}

func writeLines(path string, lines []string) {
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
}
