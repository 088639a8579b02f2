package jwtuser

// Real-Caddy tests, and the helpers they share.
//
// A test in a caddy_*_test.go file drives a real Caddy, started in this test
// process by caddytest on its first use and then reconfigured by each test
// through its admin endpoint, as `caddy reload` would. There is one such
// Caddy per test process and it listens on fixed ports (admin
// localhost:2999, HTTP 9080, HTTPS 9443; JWT_USER_TEST_PORT_SHIFT=N adds N
// to each, for a second work tree testing on the same host), so:
//
//   - every test that starts or reconfigures the Caddy lives in a
//     caddy_*_test.go file, and no test elsewhere does;
//   - these tests never call t.Parallel: each owns the Caddy, and the
//     process-wide state it sets (setPoll, t.Setenv, the metrics it reads),
//     while it runs. Go starts the parallel unit tests only once every
//     serial test has returned, so the Caddy is never reconfigured under
//     them;
//   - only one test process of this package may run at a time on a host
//     with the same port shift.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// The test Caddy's ports.
var (
	adminPort, httpPort, httpsPort = shiftedPorts()
	siteURL                        = fmt.Sprintf("http://localhost:%d", httpPort)
)

// shiftedPorts are 2999, 9080 and 9443, each plus JWT_USER_TEST_PORT_SHIFT.
func shiftedPorts() (admin, http, https int) {
	shift, _ := strconv.Atoi(os.Getenv("JWT_USER_TEST_PORT_SHIFT"))
	return 2999 + shift, 9080 + shift, 9443 + shift
}

// caddytest checks the admin endpoint it was told of.
func init() { caddytest.Default.AdminPort = adminPort }

// The same, for the tests of package jwtuser_test.
var (
	TestAdminPort = adminPort
	TestHTTPPort  = httpPort
	TestHTTPSPort = httpsPort
)

// readmeCaddyfiles are README.md's ```caddyfile blocks, in order.
func readmeCaddyfiles(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	var out []string
	for _, b := range blocks {
		out = append(out, b[1])
	}
	return out
}

// ReadmeCaddyfiles is readmeCaddyfiles, for the tests of package jwtuser_test.
var ReadmeCaddyfiles = readmeCaddyfiles

// adminURL is the test Caddy's admin endpoint.
var adminURL = fmt.Sprintf("http://localhost:%d", adminPort)

// globalOptions start every test Caddyfile.
var globalOptions = fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	skip_install_trust
}
`, adminPort, httpPort, httpsPort)

// seedUsers are the seed's users, plus fields for the placeholder forms.
const seedUsers = `{
	"foo": {"username": "foo", "roles": ["admin"], "level": 3, "address": {"city": "Paris"}},
	"bar": {"username": "bar", "roles": ["peasant"], "level": 1},
	"baz": {"username": "baz", "roles": ["peasant"]},
	"norole": {"username": "norole"},
	"42": {"username": "numeric"},
	"evil": {"username": "evil\r\nX-Injected: yes\u0000", "roles": ["a\nb"]},
	"quote\"d": {"username": "q"}
}`

// startCaddy loads a Caddyfile (after the global options) into the test Caddy.
func startCaddy(t *testing.T, caddyfile string) *caddytest.Tester {
	t.Helper()
	return startCaddyWith(t, "", caddyfile)
}

// startCaddyWith adds more global options.
func startCaddyWith(t *testing.T, globals, caddyfile string) *caddytest.Tester {
	t.Helper()
	options := strings.TrimSuffix(globalOptions, "}\n") + globals + "\n}\n"
	tc := caddytest.NewTester(t)
	tc.InitServer(options+caddyfile, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	return tc
}

// setPoll sets the users-file poll interval of the file stores created
// from now on, until restore. The interval is process-wide (Caddy creates
// the stores), so only the real-Caddy tests, which never run in parallel,
// may change it.
func setPoll(d time.Duration) (restore func()) {
	old := usersFilePoll.Swap(int64(d))
	return func() { usersFilePoll.Store(old) }
}

// usersFile writes content to a new users file and returns its path.
func usersFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	writeFile(t, path, content)
	return path
}

// logOption is the global option sending jwt_user's log lines to the file
// at path.
func logOption(path string) string {
	return fmt.Sprintf(`
	log jwtuser {
		output file %s
		include http.jwt_user
	}`, path)
}

// fileHolds reports whether the file at path (a Caddy log) holds text yet.
func fileHolds(path, text string) bool {
	b, _ := os.ReadFile(path)
	return strings.Contains(string(b), text)
}

type reply struct {
	status int
	body   string
	header http.Header
}

// get sends a request with the given header fields ("Name: value").
func get(t *testing.T, tc *caddytest.Tester, method, path string, fields ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, siteURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		name, value, _ := strings.Cut(f, ": ")
		req.Header.Add(name, value)
	}
	// Redirects are answers under test, not to follow.
	client := *tc.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(body), resp.Header}
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

// hammer sends requests from workers until stop closes, handing each
// answer to check; it returns how many requests were made.
func hammer(t *testing.T, workers int, stop <-chan struct{}, send func() reply, check func(reply)) int64 {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				check(send())
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load()
}

// scrape reads the jwt_user series from Caddy's /metrics.
func scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	series := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "caddy_jwt_user_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		series[line[:i]] = v
	}
	return series
}

// AdminCall is admin, for the tests of package jwtuser_test.
var AdminCall = admin

// admin sends a request to the admin endpoint and decodes the JSON answer.
func admin(t *testing.T, method, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, adminURL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %s", method, path, body)
		}
	}
	return resp.StatusCode
}
