package jwtuser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// BenchmarkVerify measures verification per alg family, with the verified-
// token cache (hit: a repeated token) and without it (miss: a new token
// every time, as the first request of each token pays).
func BenchmarkVerify(b *testing.B) {
	k := getKeys(b)
	families := []struct {
		alg    string
		config Handler
		key    any
	}{
		{"HS256", Handler{KeysRaw: secretKeys(testSecret)}, []byte(testSecret)},
		{"RS256", Handler{KeysRaw: publicKeyKeys(pkixPEM(b, k.rsa))}, k.rsa},
		{"ES256", Handler{KeysRaw: publicKeyKeys(pkixPEM(b, k.p256))}, k.p256},
		{"EdDSA", Handler{KeysRaw: publicKeyKeys(pkixPEM(b, k.ed))}, k.ed},
	}
	for _, f := range families {
		v := newVerifier(b, f.config)
		b.Run(f.alg+"/hit", func(b *testing.B) {
			raw := signToken(b, f.alg, f.key, claimsFor("foo"), nil)
			now := time.Now().Add(time.Second) // after the token's iat
			b.ReportAllocs()
			for b.Loop() {
				if _, fail := v.verify(raw, now); fail != nil {
					b.Fatal(fail)
				}
			}
		})
		b.Run(f.alg+"/miss", func(b *testing.B) {
			// Distinct tokens, signed before the timer starts.
			tokens := make([]string, 512)
			for i := range tokens {
				c := claimsFor("foo")
				c["jti"] = strconv.Itoa(i)
				tokens[i] = signToken(b, f.alg, f.key, c, nil)
			}
			uncached := *v
			uncached.cache = nil
			now := time.Now().Add(time.Second)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, fail := uncached.verify(tokens[i%len(tokens)], now); fail != nil {
					b.Fatal(fail)
				}
				i++
			}
		})
	}
}

// benchRequest is what Caddy hands a handler: a request whose context holds
// a fresh replacer and vars map.
func benchRequest(header string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", header)
	return r
}

func withCaddyContext(r *http.Request) *http.Request {
	// As Caddy's server does: a vars map, then a replacer with the http.*
	// placeholders, which records the start time in the vars.
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	caddyhttp.NewTestReplacer(r)
	return r
}

var nopHandler = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// BenchmarkServeHTTP runs the whole request path with a file store; "bare"
// is the same request set-up reaching a no-op handler, the floor every
// Caddy handler pays.
func BenchmarkServeHTTP(b *testing.B) {
	k := getKeys(b)
	store := provisionedUsersFile(b, `{"foo":{"username":"foo","roles":["admin","staff"],"address":{"city":"Paris"}}}`)
	b.Run("bare", func(b *testing.B) {
		base := benchRequest("Bearer x")
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			_ = nopHandler.ServeHTTP(w, withCaddyContext(base))
		}
	})
	for _, c := range []struct {
		alg    string
		config Handler
		key    any
	}{
		{"HS256", Handler{KeysRaw: secretKeys(testSecret)}, []byte(testSecret)},
		{"RS256", Handler{KeysRaw: publicKeyKeys(pkixPEM(b, k.rsa))}, k.rsa},
		{"ES256", Handler{KeysRaw: publicKeyKeys(pkixPEM(b, k.p256))}, k.p256},
	} {
		h := provisionedHandler(b, c.config, store)
		base := benchRequest("Bearer " + signToken(b, c.alg, c.key, claimsFor("foo"), nil))
		w := httptest.NewRecorder()
		b.Run(c.alg, func(b *testing.B) {
			reached := 0
			next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { reached++; return nil })
			b.ReportAllocs()
			for b.Loop() {
				if err := h.ServeHTTP(w, withCaddyContext(base), next); err != nil {
					b.Fatal(err)
				}
			}
			if reached != b.N {
				b.Fatalf("%d of %d requests refused", b.N-reached, b.N)
			}
		})
	}
}

// BenchmarkPlaceholders reads user and claim placeholders as a Caddyfile's
// matchers and request_header lines would.
func BenchmarkPlaceholders(b *testing.B) {
	st := &requestState{
		tok:  &token{identity: "foo", identityValue: "foo", payload: mustJSON(`{"sub":"foo","type":"access","org":{"name":"Acme"},"exp":1800000000}`)},
		user: mustJSON(`{"username":"foo","roles":["admin","staff"],"level":3,"address":{"city":"Paris","zip":"75001"}}`),
	}
	// computed: a token seen once; remembered: a token requests reuse,
	// whose memo holds the value from the second read on.
	for _, mode := range []string{"computed", "remembered"} {
		if mode == "remembered" {
			st.tok.markReused()
		}
		for _, key := range []string{"jwt.identity", "jwt.user.username", "jwt.user.roles", "jwt.user.level", "jwt.user.address.city", "jwt.user", "jwt.claims.org.name"} {
			b.Run(mode+"/"+key, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					v, _ := st.placeholder(key)
					_ = caddy.ToString(v)
				}
			})
		}
	}
}

// BenchmarkFailureResponse renders the default and a custom JSON body.
func BenchmarkFailureResponse(b *testing.B) {
	repl := caddy.NewReplacer()
	st := &requestState{tok: &token{identity: `foo"bar`}, reason: "Error loading the user foo\"bar"}
	repl.Map(st.placeholder)
	for name, cfg := range map[string]*Response{
		"default": nil,
		"custom":  {StatusCode: 404, Body: strPtr(`{"msg":"User {jwt.identity} not found","why":"{jwt.error}"}`)},
	} {
		resp, err := compileResponse(loadFailure, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				w.Body.Reset()
				resp.write(w, repl)
			}
		})
	}
}

// BenchmarkUserCache is the users_url cache: a hit, and a miss that asks a
// local user service.
func BenchmarkUserCache(b *testing.B) {
	svc := httptest.NewServer(http.HandlerFunc(jsonUser))
	defer svc.Close()
	s, _ := newTestHTTPStore(b, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Hour, notFoundTTL: time.Hour, size: 100000})
	s.cache.now = time.Now
	tok := tokenFor("foo")
	ctx := context.Background()
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.lookup(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.cache.purge("")
			if _, err := s.lookup(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkColdLookup is a lookup the cache cannot answer, per store: the
// caching layer in front, purged before each lookup, so each costs one
// query to a local database (one request to a local user service for
// users_url). A warm lookup is BenchmarkUserCache/hit whatever the store:
// the same caching layer answers. PostgreSQL and MySQL are skipped unless
// JWTUSER_TEST_POSTGRES and JWTUSER_TEST_MYSQL are set.
func BenchmarkColdLookup(b *testing.B) {
	svc := httptest.NewServer(http.HandlerFunc(jsonUser))
	defer svc.Close()
	stores := map[string]func(b *testing.B) Store{
		"users_url": func(b *testing.B) Store {
			s := &UsersURL{URL: svc.URL + "/users/{jwt.identity}"}
			if err := s.Provision(testContext(b)); err != nil {
				b.Fatal(err)
			}
			return s
		},
		"sqlite": func(b *testing.B) Store {
			f := sqliteFixture(b)
			return f.mustStore(b, f.jsonQuery(), nil)
		},
	}
	for _, driver := range []string{"postgres", "mysql"} {
		stores[driver] = func(b *testing.B) Store {
			f := needServer(b, driver)
			return f.mustStore(b, f.jsonQuery(), nil)
		}
	}
	for _, name := range []string{"users_url", "sqlite", "postgres", "mysql"} {
		b.Run(name, func(b *testing.B) {
			benchColdLoads(b, stores[name](b), name, b.Name()+strconv.FormatInt(time.Now().UnixNano(), 10), nil)
		})
	}
}

// benchColdLoads loads one user through a caching layer over store whose
// local entries are emptied before each load; level, when not nil, is the
// shared cache behind them.
func benchColdLoads(b *testing.B, store Store, kind, identity string, level *sharedLevel) {
	levelID := ""
	if level != nil {
		levelID = identity
	}
	cs, err := newCachedStore(testContext(b), store, kind, identity,
		cacheSettings{ttl: time.Hour, notFoundTTL: time.Hour, size: 100}, level, levelID, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cs.release() }()
	tok := Token{tokenFor("foo")}
	b.ReportAllocs()
	for b.Loop() {
		cs.shared.purgeLocal("")
		if _, err := cs.LoadUser(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAgainstFloor is bench/load.sh's comparison without the network:
// each case runs a route of two handlers over the same request set-up, so
// the difference between a case and "floor" is what jwt_user adds to a
// Caddy that merely sets a variable and reads it back
// (`vars roles admin,editor` + `respond "ok {http.vars.roles}"`).
// floor_rotate10k and rotate10k do the same over 10,000 users and their
// tokens in turn, as load.sh's rotate10k: what a cold cache line costs
// shows there. Allocations are exact; ns/op is as noisy as the machine.
func BenchmarkAgainstFloor(b *testing.B) {
	user := `{"username":"foo","email":"foo@example.com","level":1,"roles":["admin","editor"],"address":{"city":"Paris"}}`
	file := provisionedUsersFile(b, `{"foo":`+user+`}`)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, user) }))
	defer svc.Close()
	remote, _ := newTestHTTPStore(b, svc.URL+"/users/{jwt.identity}", storeOptions{ttl: time.Hour, notFoundTTL: time.Hour, size: 100})
	remote.cache.now = time.Now

	respond := func(body string) caddyhttp.Handler {
		return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return caddyhttp.StaticResponse{Body: body}.ServeHTTP(w, r, nopHandler)
		})
	}
	floor := caddyhttp.VarsMiddleware{"roles": "admin,editor"}
	base := benchRequest("Bearer " + signToken(b, "HS256", []byte(testSecret), claimsFor("foo"), nil))
	run := func(name string, serve func(*http.Request) error) {
		b.Run(name, func(b *testing.B) {
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				w.Body.Reset()
				if err := serve(withCaddyContext(base)); err != nil {
					b.Fatal(err)
				}
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
	w := httptest.NewRecorder()
	floorNext := respond("ok {http.vars.roles}")
	run("floor", func(r *http.Request) error { return floor.ServeHTTP(w, r, floorNext) })
	userNext := respond("ok {jwt.user.roles}")
	for _, c := range []struct {
		name  string
		store Store
	}{{"users_file", file}, {"users_url", remote}} {
		h := provisionedHandler(b, Handler{KeysRaw: secretKeys(testSecret)}, c.store)
		run(c.name, func(r *http.Request) error { return h.ServeHTTP(w, r, userNext) })
	}

	// load.sh's rotate10k: 10,000 users, each with its own token, asked in
	// an order that keeps neighbours apart, so the token cache, the tokens
	// and the users index are read from colder memory than one token's.
	const n = 10_000
	many := provisionedUsersFile(b, usersText(n))
	tokens := make([][]byte, n)
	for i := range tokens {
		id := fmt.Sprintf("user%06d", (i*7919)%n)
		tokens[i] = []byte("Bearer " + signToken(b, "HS256", []byte(testSecret), claimsFor(id), nil))
	}
	// One request whose Authorization field gets the next token, copied
	// into new memory as Caddy's parser would: the request itself is as
	// warm as on a server, only the module's caches and users rotate.
	rotating := benchRequest("")
	field := rotating.Header["Authorization"]
	rotate := func(name string, serve func(*http.Request) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w.Body.Reset()
				field[0] = string(tokens[i%n])
				if err := serve(withCaddyContext(rotating)); err != nil {
					b.Fatal(err)
				}
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				i++
			}
		})
	}
	rotate("floor_rotate10k", func(r *http.Request) error { return floor.ServeHTTP(w, r, floorNext) })
	h := provisionedHandler(b, Handler{KeysRaw: secretKeys(testSecret)}, many)
	for _, t := range tokens { // every token verified and cached, as after load.sh's warm-up
		field[0] = string(t)
		if err := h.ServeHTTP(w, withCaddyContext(rotating), userNext); err != nil || w.Code != http.StatusOK {
			b.Fatalf("warm-up: %v, status %d", err, w.Code)
		}
	}
	rotate("rotate10k", func(r *http.Request) error { return h.ServeHTTP(w, r, userNext) })
}

// BenchmarkTokenCache measures the verified-token cache alone, at the size
// a site with 100,000 active tokens would give it: a hit on one token, hits
// spread over all 100,000 (the entries no longer in the CPU's caches), and
// a miss that must evict (a new token into the full cache, what each
// request beyond the cache's size pays on top of verifying its signature).
func BenchmarkTokenCache(b *testing.B) {
	const n = 100_000
	tok := &token{header: mustJSON(`{"alg":"RS256","typ":"JWT"}`),
		payload: mustJSON(`{"sub":"user-000000","iat":1800000000,"exp":1800000900,"jti":"x"}`), identity: "user-000000"}
	// Tokens of an ordinary length (about 400 bytes).
	key := func(i int) string { return fmt.Sprintf("%0400d", i) }
	full := newTokenCache(n, 1<<30)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key(i)
		full.put(keys[i], tok, 1)
	}
	b.Run("hit-in-100k", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if full.get(keys[7], 1) == nil {
				b.Fatal("miss")
			}
		}
	})
	b.Run("hit-in-100k-spread", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if full.get(keys[i%n], 1) == nil {
				b.Fatal("miss")
			}
			i += 7919 // a prime: every entry in turn, never neighbours
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				full.get(keys[11], 1)
			}
		})
	})
	b.Run("miss-with-eviction", func(b *testing.B) {
		fresh := make([]string, n) // new tokens, made before the timer
		for i := range fresh {
			fresh[i] = key(n + i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			full.put(fresh[i%n], tok, 1) // the full cache evicts one
			i++
		}
	})
}
