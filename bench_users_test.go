package jwtuser

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// usersText is a users file like bench/load.sh's (bench/benchtool gen): n
// users of about 130 bytes each, keyed user000000, user000001 and so on.
func usersText(n int) string {
	var sb strings.Builder
	sb.Grow(n * 140)
	sb.WriteString("{")
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		id := fmt.Sprintf("user%06d", i)
		fmt.Fprintf(&sb, `%q:{"username":%q,"email":"%s@example.com","roles":["reader","writer"],"level":%d,"address":{"city":"Paris"}}`, id, id, id, i%7)
	}
	sb.WriteString("}")
	return sb.String()
}

// BenchmarkLoadUsers100k reads and parses 100,000 users from a real file,
// and reports what the loaded users keep on the heap per byte of file.
func BenchmarkLoadUsers100k(b *testing.B) { benchLoadUsers(b, 100_000) }

// BenchmarkLoadUsers1M is BenchmarkLoadUsers100k with a million users (a
// 137 MB file), the size the users file is built for. Writing the file and
// loading it twice takes 3 to 5 s even once (-benchtime=1x), so it runs
// only with JWTUSER_BENCH_1M=1 in the environment.
func BenchmarkLoadUsers1M(b *testing.B) {
	needMillion(b)
	benchLoadUsers(b, 1_000_000)
}

// needMillion skips a benchmark of a million users unless JWTUSER_BENCH_1M
// is set: each takes seconds to set up, too long for CI's run of every
// benchmark once.
func needMillion(b *testing.B) {
	if os.Getenv("JWTUSER_BENCH_1M") == "" {
		b.Skip("a million users; set JWTUSER_BENCH_1M=1 to run")
	}
}

func benchLoadUsers(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "users.json")
	text := usersText(n)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	size := len(text)
	text = ""
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := readUsersFile(path, "id"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	users, _, err := readUsersFile(path, "id")
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(size), "kept/filebyte")
	// What a collection costs with the users alive: they hold no pointer,
	// so it should not grow with them.
	start := time.Now()
	runtime.GC()
	b.ReportMetric(float64(time.Since(start).Microseconds()), "µs/GC")
	runtime.KeepAlive(users)
}

// BenchmarkUsersFileLookup is the file store's lookup on the request path,
// with 10,000 and with 1,000,000 users: "same" asks for one user again and
// again, as a hit on one token does; "rotate" asks for every user in turn,
// in an order that defeats the CPU caches, as many clients do. 1M runs
// only with JWTUSER_BENCH_1M=1 (see needMillion).
func BenchmarkUsersFileLookup(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 100_000 {
				needMillion(b)
			}
			users, err := parseUsers(usersText(n), "id")
			if err != nil {
				b.Fatal(err)
			}
			store := &UsersFile{shared: &fileStore{}}
			store.shared.users.Store(&usersLoad{users: users, serial: usersLoads.Add(1)})
			tokens := make([]Token, 1<<16)
			for i := range tokens {
				// a stride coprime with n, so that neighbours are far apart
				tokens[i] = Token{tokenFor(fmt.Sprintf("user%06d", (i*7919)%n))}
			}
			b.Run("same", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := store.LoadUser(nil, tokens[1]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("rotate", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := store.LoadUser(nil, tokens[i&(len(tokens)-1)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
