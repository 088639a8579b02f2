package jwtuser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// userStore loads the user a verified token names. The file store and the
// HTTP store are interchangeable behind it.
type userStore interface {
	// lookup returns the user as a compact JSON object. errUserNotFound
	// means the store knows no such user; any other error means the store
	// could not answer.
	lookup(ctx context.Context, tok *token) (string, error)
}

var errUserNotFound = errors.New("user not found")

// storePool shares stores across configurations with the same settings, so
// a reload neither rereads a users file nor empties a cache.
var storePool = caddy.NewUsagePool()

// pooledStore is a store that storePool can hold.
type pooledStore interface {
	userStore
	caddy.Destructor
	// setLogger points the store's logs at the newest configuration's log.
	setLogger(*zap.Logger)
}

// UsersFile is the `users_file` store.
type UsersFile struct {
	// Path of a JSON file: an object whose keys are identities and whose
	// values are user objects, or an array of user objects.
	Path string `json:"path"`
	// With an array, the field of each user that holds its identity.
	// Default: id.
	KeyField string `json:"key_field,omitempty"`
}

// usersFilePoll is how often the users file is checked for changes. A change
// is loaded once it has been stable for one interval, so a reader never
// catches an editor halfway through writing.
var usersFilePoll atomic.Int64 // nanoseconds

func init() { usersFilePoll.Store(int64(time.Second)) }

// fileStore serves users from a JSON file held in memory, swapped atomically
// when the file changes. A change that does not load keeps the last good
// users.
type fileStore struct {
	path, keyField string
	logger         atomic.Pointer[zap.Logger]
	users          atomic.Pointer[map[string]string]

	// watch state, owned by the watching goroutine
	loaded, seen fileStamp
	missing      bool
	// stop ends the watcher; done closes when it has returned.
	stop context.CancelFunc
	done chan struct{}
}

// fileStamp tells whether a file changed since it was last read.
type fileStamp struct{ info os.FileInfo }

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == b.info
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

func statFile(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{info: info}, nil
}

// newFileStore loads path and starts watching it; a file that does not load
// is an error, naming the file and, for bad JSON, the line:column.
func newFileStore(path, keyField string, logger *zap.Logger) (*fileStore, error) {
	if keyField == "" {
		keyField = "id"
	}
	s := &fileStore{path: path, keyField: keyField, done: make(chan struct{})}
	s.logger.Store(logger)
	stamp, err := statFile(path)
	if err != nil {
		return nil, err
	}
	users, err := readUsersFile(path, keyField)
	if err != nil {
		return nil, err
	}
	s.loaded, s.seen = stamp, stamp
	s.users.Store(&users)
	// The store is shared by every configuration that names the same file
	// and outlives each of them, so the watcher has its own lifetime,
	// ended by Destruct.
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.watch(ctx)
	return s, nil
}

func (s *fileStore) setLogger(l *zap.Logger) { s.logger.Store(l) }

// Destruct stops the watcher when no configuration uses the file any more.
func (s *fileStore) Destruct() error {
	s.stop()
	<-s.done
	return nil
}

func (s *fileStore) lookup(_ context.Context, tok *token) (string, error) {
	user, ok := (*s.users.Load())[tok.identity]
	if !ok {
		return "", errUserNotFound
	}
	return user, nil
}

// watch reloads the file when it changes, until ctx ends.
func (s *fileStore) watch(ctx context.Context) {
	defer close(s.done)
	ticker := time.NewTicker(time.Duration(usersFilePoll.Load()))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.check()
		}
	}
}

// check is one poll: it loads the file once a change has held still for a
// poll interval, and reports each failure once.
func (s *fileStore) check() {
	stamp, err := statFile(s.path)
	if err != nil {
		if !s.missing {
			s.missing = true
			s.logger.Load().Error("users file unavailable; keeping the last good users",
				zap.String("file", s.path), zap.Error(err))
		}
		s.loaded, s.seen = fileStamp{}, fileStamp{}
		return
	}
	s.missing = false
	if stamp.same(s.loaded) {
		return
	}
	if !stamp.same(s.seen) {
		s.seen = stamp
		return
	}
	s.loaded = stamp
	users, err := readUsersFile(s.path, s.keyField)
	if err != nil {
		s.logger.Load().Error("users file did not load; keeping the last good users",
			zap.String("file", s.path), zap.Error(err))
		return
	}
	s.users.Store(&users)
	s.logger.Load().Info("users file reloaded", zap.String("file", s.path), zap.Int("users", len(users)))
}

func readUsersFile(path, keyField string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The text is only read while parsing and nothing keeps a piece of it,
	// so it shares the bytes just read instead of copying them.
	users, err := parseUsers(unsafe.String(unsafe.SliceData(data), len(data)), keyField)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	return users, nil
}

// usersError is a problem at a place in a users file.
type usersError struct {
	pos string // line:column
	msg string
}

func (e *usersError) Error() string { return e.pos + ": " + e.msg }

// parseUsers reads users from a JSON object keyed by identity, or from an
// array of user objects each found by keyField. Every user is stored as its
// compact JSON, the smallest form to hold and what {jwt.user} prints.
func parseUsers(text, keyField string) (map[string]string, error) {
	if err := checkJSONOuterNamesUnchecked(text); err != nil {
		var je *jsonError
		errors.As(err, &je)
		return nil, &usersError{pos: je.position(text), msg: je.msg}
	}
	at := func(offset int, msg string) error {
		return &usersError{pos: (&jsonError{offset: offset}).position(text), msg: msg}
	}
	start := skipJSONSpace(text, 0)
	isObject := text[start] == '{'
	if !isObject && text[start] != '[' {
		return nil, at(start, "users must be a JSON object keyed by identity or an array of user objects")
	}
	// Counted first, so the map is made once at its size.
	count := 0
	if isObject {
		jsonMembersAt(text, func(string, int, int) bool { count++; return true })
	} else {
		jsonElementsAt(text, func(int, int) bool { count++; return true })
	}
	users := make(map[string]string, count)
	// An object's identities and compact users fit in its own length; an
	// array's identities come on top of it.
	extra := 0
	if !isObject {
		extra = count * 16
	}
	arena := stringArena{block: make([]byte, 0, len(text)+extra)}
	var err error
	put := func(offset int, id, user string) bool {
		if _, dup := users[id]; dup {
			err = at(offset, "a second user with the same identity")
			return false
		}
		users[arena.add(id)] = arena.addCompactJSON(user)
		return true
	}
	if isObject {
		jsonMembersAt(text, func(name string, from, to int) bool {
			if text[from] != '{' {
				err = at(from, "a user must be a JSON object")
				return false
			}
			return put(from, jsonUnquote(name), text[from:to])
		})
	} else {
		jsonElementsAt(text, func(from, to int) bool {
			user := text[from:to]
			if user[0] != '{' {
				err = at(from, "a user must be a JSON object")
				return false
			}
			raw, ok := presentPath(user, keyField)
			if !ok {
				err = at(from, fmt.Sprintf("the user has no %q field", keyField))
				return false
			}
			id, ok := identityFromJSON(raw)
			if !ok {
				err = at(from, fmt.Sprintf("the user's %q field is not a usable identity (a non-empty string or a whole number)", keyField))
				return false
			}
			return put(from, id, user)
		})
	}
	if err != nil {
		return nil, err
	}
	return users, nil
}

// stringArena copies strings into large shared blocks: 100,000 users cost a
// block or two, not 200,000 allocations, and nothing points into the file's
// text, which can go once it is parsed. Bytes handed out are never written
// again; a full block is left to the strings in it and a new one begun.
type stringArena struct{ block []byte }

func (a *stringArena) add(s string) string {
	if len(s) == 0 {
		return ""
	}
	a.reserve(len(s))
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}

// addCompactJSON adds checked JSON text in its compact form.
func (a *stringArena) addCompactJSON(s string) string {
	a.reserve(len(s)) // compact is never longer
	start := len(a.block)
	a.block = appendCompactJSON(a.block, s)
	return unsafe.String(&a.block[start], len(a.block)-start)
}

func (a *stringArena) reserve(n int) {
	if len(a.block)+n > cap(a.block) {
		a.block = make([]byte, 0, max(cap(a.block), n, 4096))
	}
}
