package jwtuser

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
)

// RevokedTokens is where revoked token IDs (jti, RFC 7519 §4.1.7) are read
// besides the admin API, flask-jwt-extended's token_in_blocklist_loader.
//
// A token whose jti is on a list gets the on_revoked_token response. A
// token without jti is never revoked (`require_claims jti` refuses it
// instead).
type RevokedTokens struct {
	// A file of revoked jti values, one a line: blank lines and lines
	// starting with # are ignored, spaces around a value are trimmed, a
	// leading UTF-8 byte order mark is skipped. The file is watched like
	// users_file: a change is loaded once it has held still for a poll
	// interval (1s); a removed file or one that does not load keeps the
	// last good list and logs one error. Global placeholders are resolved at
	// load; any other is refused. Refused at load: an empty path, a file
	// that cannot be read. Handlers naming the same file share one copy.
	File string `json:"file,omitempty"`
}

// revocationList holds revoked jti values that leave when the token they
// revoke would have expired anyway. It is in this process's memory; with
// shared_cache, revocation_shared.go keeps it in step with the other
// instances through Redis, so the request path never waits on Redis.
type revocationList interface {
	// revoked reports whether jti is revoked at now. It is called on every
	// request once maybeAny is true, so it must be fast and not allocate.
	revoked(jti string, now time.Time) bool
	// maybeAny is false only when nothing at all is revoked, so a request
	// skips the check: the hit path pays one atomic load.
	maybeAny() bool
	// revoke adds jti until exp; an error means the list is full.
	revoke(jti string, exp, now time.Time) error
	// unrevoke removes jti, reporting whether it was there.
	unrevoke(jti string) bool
	// count is how many entries are still in force at now.
	count(now time.Time) int
}

// maxAdminRevocations bounds the admin API's list: entries leave at their
// exp, and a list that is full refuses more until some do.
const maxAdminRevocations = 1 << 20

// adminRevocations is the list the admin API edits: one per process, so a
// revocation reaches every jwt_user handler of this Caddy, across reloads.
// The shared caches in use add to it what other instances revoke.
var adminRevocations revocationList = newMemRevocations(maxAdminRevocations)

// memRevocations is a revocationList in memory.
type memRevocations struct {
	mu      sync.RWMutex
	entries map[string]int64 // jti → exp, in Unix seconds
	size    atomic.Int64     // len(entries), read without the lock
	max     int
}

func newMemRevocations(max int) *memRevocations {
	return &memRevocations{entries: map[string]int64{}, max: max}
}

func (m *memRevocations) maybeAny() bool { return m.size.Load() > 0 }

func (m *memRevocations) revoked(jti string, now time.Time) bool {
	m.mu.RLock()
	exp, ok := m.entries[jti]
	m.mu.RUnlock()
	return ok && exp > now.Unix()
}

func (m *memRevocations) revoke(jti string, exp, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if _, ok := m.entries[jti]; !ok && len(m.entries) >= m.max {
		return fmt.Errorf("the list holds %d revocations, its most; they leave as their tokens expire", m.max)
	}
	if exp.After(now) {
		m.entries[jti] = exp.Unix()
	}
	m.size.Store(int64(len(m.entries)))
	return nil
}

func (m *memRevocations) unrevoke(jti string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.entries[jti]
	delete(m.entries, jti)
	m.size.Store(int64(len(m.entries)))
	return ok
}

func (m *memRevocations) count(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	m.size.Store(int64(len(m.entries)))
	return len(m.entries)
}

// sweep drops the entries whose tokens have expired; the lock is held.
func (m *memRevocations) sweep(now time.Time) {
	for jti, exp := range m.entries {
		if exp <= now.Unix() {
			delete(m.entries, jti)
		}
	}
}

// revocationPool holds the revoked-tokens files, shared by every
// configuration that names the same file.
var revocationPool = caddy.NewUsagePool()

// revokedFile is a revoked-tokens file held in memory, swapped atomically
// when the file changes.
type revokedFile struct {
	fileWatcher
	jtis atomic.Pointer[map[string]struct{}]
}

func newRevokedFile(path string, logger *zap.Logger) (*revokedFile, error) {
	f := &revokedFile{}
	f.fileWatcher = fileWatcher{path: path, what: "revoked tokens file", items: "revocations", reload: func() (int, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		jtis := parseRevokedTokens(string(b))
		f.jtis.Store(&jtis)
		return len(jtis), nil
	}}
	if err := f.start(logger); err != nil {
		return nil, err
	}
	return f, nil
}

// parseRevokedTokens reads one jti a line.
func parseRevokedTokens(text string) map[string]struct{} {
	jtis := map[string]struct{}{}
	for _, line := range strings.Split(rawjson.TrimBOM(text), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			jtis[line] = struct{}{}
		}
	}
	return jtis
}

func (f *revokedFile) revoked(jti string) bool {
	_, ok := (*f.jtis.Load())[jti]
	return ok
}

// Destruct stops the watcher when no configuration uses the file any more.
func (f *revokedFile) Destruct() error {
	f.stopAndWait()
	return nil
}

// revokedTokensLog names the revoked-tokens file's logger like the guest
// modules' (http.jwt_user.*), so a log that includes http.jwt_user hears
// about the file as it does about the users file. It is no module of its
// own: nothing loads it.
type revokedTokensLog struct{}

func (revokedTokensLog) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.jwt_user.revoked_tokens"}
}

// revocationCheck is the handler's revocation state, set at provision.
type revocationCheck struct {
	file *revokedFile
	ref  poolRef
}

// provisionRevocations takes the revoked-tokens file, if one is named.
func (h *Handler) provisionRevocations(logger *zap.Logger) error {
	if h.RevokedTokens == nil {
		return nil
	}
	path, err := resolvePathAtLoad("revoked_tokens", h.RevokedTokens.File)
	if err != nil {
		return err
	}
	v, err := h.revocations.ref.take(revocationPool, path, func() (caddy.Destructor, error) {
		return newRevokedFile(path, logger)
	})
	if err != nil {
		return fmt.Errorf("revoked_tokens: %v", err)
	}
	h.revocations.file = v.(*revokedFile)
	h.revocations.file.logger.Store(logger)
	return nil
}

// errRevoked answers a revoked token.
var errRevoked = &failure{kind: revokedToken, reason: "Token has been revoked"}

// revoked tells whether tok is revoked. It reads the jti only when a list
// may hold something, so a configuration without revocations pays one
// atomic load and a nil check.
func (rc *revocationCheck) revoked(tok *token, now func() time.Time) bool {
	if rc.file == nil && !adminRevocations.maybeAny() {
		return false
	}
	raw, ok := tok.payload.Member("jti")
	if !ok {
		return false // verify refused a jti that is not a string
	}
	jti := raw.Unquote()
	return (rc.file != nil && rc.file.revoked(jti)) || adminRevocations.revoked(jti, now())
}

// revocationStats lists the revoked-tokens files in use, for the admin API.
func revocationStats() []map[string]any {
	files := []map[string]any{}
	revocationPool.Range(func(_, v any) bool {
		if f, ok := v.(*revokedFile); ok {
			files = append(files, map[string]any{"file": f.path, "entries": len(*f.jtis.Load())})
		}
		return true
	})
	sort.Slice(files, func(i, j int) bool { return files[i]["file"].(string) < files[j]["file"].(string) })
	return files
}

// Interface guard
var _ caddy.Destructor = (*revokedFile)(nil)
