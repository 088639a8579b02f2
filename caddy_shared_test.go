package jwtuser

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Three Caddy processes, one Redis of the test's own, one user service:
// what shared_cache promises across instances. The Caddy binary is built
// once; the processes listen on ports derived from JWT_USER_TEST_PORT_SHIFT
// (admin 3010+shift+i, HTTP 9110+shift+i).

// versionedUsers answers /users/<id> with {"id":<id>,"v":<version>} (404 for
// ids starting with "nobody") and counts what it is asked.
type versionedUsers struct {
	*httptest.Server
	calls   atomic.Int64
	version atomic.Int64
}

func newVersionedUsers(t *testing.T) *versionedUsers {
	s := &versionedUsers{}
	s.version.Store(1)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		id := strings.TrimPrefix(r.URL.Path, "/users/")
		if strings.HasPrefix(id, "nobody") {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"v":%d}`, id, s.version.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// caddyProc is one Caddy process.
type caddyProc struct {
	admin, http int
	cmd         *exec.Cmd
	log         string // its stderr
}

// redisTestPassword is the test Redis's password, which no log may show.
var redisTestPassword = "redis-test-password-" + strconv.FormatInt(time.Now().UnixNano(), 36)

// startRedis starts a redis-server child on port, killed at the test's end.
func startRedis(t *testing.T, bin string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--requirepass", redisTestPassword)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitTCP(t, port)
	return cmd
}

func waitTCP(t *testing.T, port int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %d", port)
		}
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// siteConfig is instance p's Caddyfile: shared_cache when prefix is not "".
func (p *caddyProc) siteConfig(dir, users string, redisPort int, prefix string) string {
	shared := ""
	if prefix != "" {
		shared = fmt.Sprintf("shared_cache redis 127.0.0.1:%d {\n\t\t\tpassword {env.JWTUSER_REDIS_PASSWORD}\n\t\t\tprefix %s\n\t\t}", redisPort, prefix)
	}
	return fmt.Sprintf(`{
	admin localhost:%d
	auto_https off
	grace_period 1ns
	storage file_system %s
}
:%d {
	jwt_user {
		secret %s
		users_url %s/users/{jwt.identity}
		cache_ttl 1h
		%s
	}
	respond "{jwt.user.v}"
}
`, p.admin, filepath.Join(dir, strconv.Itoa(p.admin)), p.http, testSecret, users, shared)
}

// load gives p a new configuration through its admin API.
func (p *caddyProc) load(t *testing.T, config string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/load", p.admin), strings.NewReader(config))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("load on %d: %d %s", p.admin, resp.StatusCode, body)
	}
}

// ask sends identity's token to p: the user's version, or the status.
func (p *caddyProc) ask(t *testing.T, identity string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://localhost:%d/", p.http), nil)
	req.Header.Set("Authorization", "Bearer "+hs256(t, claimsFor(identity)))
	return p.do(t, req)
}

// do sends req: the user's version, or the status.
func (p *caddyProc) do(t *testing.T, req *http.Request) string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return strconv.Itoa(resp.StatusCode)
	}
	return "v" + string(body)
}

// purgeReaches purges identity through from's admin API and waits until
// every one of others answers want for it: how long that took, at most 2s.
func purgeReaches(t *testing.T, from *caddyProc, identity, want string, others ...*caddyProc) time.Duration {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://localhost:%d/jwt-user/cache/%s", from.admin, identity), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	purged := time.Now()
	var latency time.Duration
	for _, p := range others {
		for p.ask(t, identity) != want {
			if time.Since(purged) > 2*time.Second {
				t.Fatalf("the purge did not reach %d within 2s", p.http)
			}
			time.Sleep(5 * time.Millisecond)
		}
		latency = max(latency, time.Since(purged))
	}
	return latency
}

func TestSharedCacheAcrossProcesses(t *testing.T) {
	needRedis(t)
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH: the multi-instance test starts its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	caddyBin := filepath.Join(dir, "caddy")
	build := exec.CommandContext(ctx, "go", "build", "-o", caddyBin, "./cmd/caddy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	redisPort := freePort(t)
	redisCmd := startRedis(t, redisBin, redisPort)
	users := newVersionedUsers(t)
	shift, _ := strconv.Atoi(os.Getenv("JWT_USER_TEST_PORT_SHIFT"))
	procs := make([]*caddyProc, 3)
	prefix := testPrefix(t)
	for i := range procs {
		p := &caddyProc{admin: 3010 + shift + i, http: 9110 + shift + i}
		cfg := filepath.Join(dir, fmt.Sprintf("Caddyfile%d", i))
		writeFile(t, cfg, p.siteConfig(dir, users.URL, redisPort, prefix))
		p.cmd = exec.CommandContext(ctx, caddyBin, "run", "--config", cfg, "--adapter", "caddyfile")
		p.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir,
			"JWTUSER_REDIS_PASSWORD="+redisTestPassword)
		p.log = filepath.Join(dir, fmt.Sprintf("log%d", i))
		logFile, err := os.Create(p.log)
		if err != nil {
			t.Fatal(err)
		}
		defer logFile.Close()
		p.cmd.Stderr = logFile
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
		procs[i] = p
	}
	for _, p := range procs {
		waitTCP(t, p.http)
	}
	a, b, c := procs[0], procs[1], procs[2]

	// Loaded by A, served by B and C without asking the store.
	for _, p := range procs {
		if got := p.ask(t, "foo"); got != "v1" {
			t.Fatalf("foo on %d: %s", p.http, got)
		}
	}
	if n := users.calls.Load(); n != 1 {
		t.Fatalf("the store was asked %d times for one user on three instances", n)
	}

	// A purge through C's admin API reaches A and B within a second.
	users.version.Store(2)
	latency := purgeReaches(t, c, "foo", "v2", a, b)
	t.Logf("purge through C seen by A and B after %v", latency)

	// A revocation posted through A is refused by B and C (and A) within
	// a second; the same user's other token passes.
	exp := time.Now().Add(time.Hour).Unix()
	revokedTok, otherTok := hs256(t, withJTI("foo", "shared-rev-1")), hs256(t, withJTI("foo", "shared-rev-2"))
	t.Logf("revocation through A refused by B, C and A after %v",
		revocationReaches(t, a, "shared-rev-1", exp, revokedTok, "401", b, c, a))
	if got := b.askToken(t, otherTok); got != "v2" {
		t.Fatalf("the same user's other token on B: %s", got)
	}

	// Redis killed mid-traffic: every instance answers correctly.
	stop, done := make(chan struct{}), make(chan struct{})
	var wrong, served atomic.Int64
	for i, p := range procs {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id, want := fmt.Sprintf("user%d-%d", i, n), "v2"
				if n%5 == 0 {
					id, want = fmt.Sprintf("nobody%d", n%7), "401"
				}
				served.Add(1)
				if got := p.ask(t, id); got != want {
					wrong.Add(1)
					t.Errorf("%s on %d: %s, want %s", id, p.http, got, want)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	_ = redisCmd.Process.Kill()
	_ = redisCmd.Wait()
	time.Sleep(500 * time.Millisecond)
	startRedis(t, redisBin, redisPort)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	for range procs {
		<-done
	}
	if wrong.Load() > 0 {
		t.Fatalf("%d wrong answers of %d while Redis was killed", wrong.Load(), served.Load())
	}
	t.Logf("%d requests answered right around Redis's kill and restart", served.Load())
	// The restarted Redis lost the key (no persistence): every instance
	// still refuses the token from its own list.
	revokedEverywhere(t, revokedTok, "after Redis restarted", procs...)

	// They share again after Redis restarts.
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		id := fmt.Sprintf("after-restart-%d", i)
		before := users.calls.Load()
		for _, p := range procs {
			if got := p.ask(t, id); got != "v2" {
				t.Fatalf("%s on %d: %s", id, p.http, got)
			}
		}
		if users.calls.Load()-before == 1 {
			// and purges go through again
			users.version.Store(3)
			t.Logf("after the restart, a purge through B seen by A and C after %v", purgeReaches(t, b, id, "v3", a, c))
			users.version.Store(2)
			// and revocations: one posted through C, then lifted through B.
			t.Logf("after the restart, a revocation through C refused by A and B after %v",
				revocationReaches(t, c, "shared-rev-2", exp, otherTok, "401", a, b))
			t.Logf("after the restart, its DELETE through B seen by A and C after %v",
				revocationReaches(t, b, "shared-rev-2", 0, otherTok, "v2", a, c, b))
			revokedEverywhere(t, revokedTok, "after a DELETE of another jti", procs...)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instances do not share within 5s of Redis restarting")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The trouble was logged when it started and when it ended, without
	// the password or a user.
	for _, p := range procs {
		log, _ := os.ReadFile(p.log)
		failing := strings.Count(string(log), "shared cache failing")
		again := strings.Count(string(log), "shared cache answering again")
		t.Logf("instance %d: trouble logged %d times, its end %d times", p.http, failing, again)
		if failing < 1 || again < 1 || failing > 3 || strings.Contains(string(log), `"v":2`) ||
			strings.Contains(string(log), redisTestPassword) || namesJTI(string(log), "shared-rev-") {
			t.Errorf("instance %d logged trouble %d times and its end %d times", p.http, failing, again)
		}
	}

	// Store requests per distinct user, with 1, 2 and 3 instances, with
	// and without shared_cache (SCALING.md's table).
	for _, shared := range []bool{false, true} {
		for n := 1; n <= 3; n++ {
			round := fmt.Sprintf("%t-%d", shared, n)
			roundPrefix := ""
			if shared {
				roundPrefix = testPrefix(t) + round + ":"
			}
			for _, p := range procs[:n] {
				p.load(t, p.siteConfig(dir, users.URL, redisPort, roundPrefix))
			}
			before := users.calls.Load()
			const distinct = 20
			for u := range distinct {
				for _, p := range procs[:n] {
					for range 3 {
						p.ask(t, fmt.Sprintf("table-%s-%d", round, u))
					}
				}
			}
			t.Logf("instances %d, shared_cache %t: %.2f store requests per distinct user",
				n, shared, float64(users.calls.Load()-before)/distinct)
		}
	}
}
