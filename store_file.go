package jwtuser

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(UsersFile{})
}

// UsersFile is the store http.jwt_user.stores.file: users from a JSON file
// held in memory. The file is either an object whose keys are identities
// and whose values are user objects ({"foo": {"roles": ["admin"]}}), or an
// array of user objects, each found by its KeyField.
//
// The file is watched: a change is loaded and swapped in atomically once it
// has held still for a poll interval (1s), so within about two seconds. A
// change that does not parse, a removed file, or a directory in its place
// keeps the last good users and logs one error; a file created again is
// loaded. A leading UTF-8 byte order mark is skipped. Refused at load: a
// file that cannot be read or parsed, naming the file and the error's
// line:column, and a duplicate identity.
//
// The users are held as their compact JSON in one block with a table of
// offsets that holds no pointer (rawjson.Index): about the file's size in
// memory, nothing for the garbage collector to scan, and a lookup that does
// not allocate. After a load of a file of 16 MiB or more, the file's bytes
// and the users a reload replaced are returned to the system at once.
//
// The store is in memory (InMemoryStore): no cache stands in front of it,
// so the cache settings are refused with it. Configurations naming the same
// file share one copy of the users, so a caddy reload does not reread it.
//
// Caddyfile: `users_file <path> [<key-field>]` in jwt_user, or
// `store file <path> [<key-field>]`.
type UsersFile struct {
	// Path of the JSON file. Global placeholders are resolved at load; any
	// other is refused.
	Path string `json:"path"`
	// With an array, the field of each user that holds its identity (a
	// non-empty string or a whole number). Default: id. Global placeholders
	// are resolved at load; any other is refused.
	KeyField string `json:"key_field,omitempty"`

	shared *fileStore
	ref    poolRef
}

// CaddyModule returns the Caddy module information.
func (UsersFile) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.jwt_user.stores.file",
		New: func() caddy.Module { return new(UsersFile) },
	}
}

// Provision takes the users from storePool, loading the file when no
// configuration holds it yet.
func (f *UsersFile) Provision(ctx caddy.Context) error {
	path, err := resolvePathAtLoad("users_file", f.Path)
	if err != nil {
		return err
	}
	keyField, err := resolveAtLoad("users_file", f.KeyField)
	if err != nil {
		return err
	}
	logger := ctx.Logger()
	key := "users_file:" + path + "\x00" + keyField
	v, err := f.ref.take(storePool, key, func() (caddy.Destructor, error) {
		return newFileStore(path, keyField, logger)
	})
	if err != nil {
		return fmt.Errorf("users_file: %v", err)
	}
	f.shared = v.(*fileStore)
	f.shared.logger.Store(logger)
	return nil
}

// Cleanup lets go of the users; the last configuration using the file
// stops its watcher.
func (f *UsersFile) Cleanup() error { return f.ref.release() }

// LoadUser looks the identity up in memory.
func (f *UsersFile) LoadUser(_ context.Context, tok Token) (User, error) {
	user, ok := f.shared.users.Load().users.Lookup(tok.Identity())
	if !ok {
		return User{}, ErrUserNotFound
	}
	return User{JSON: user.String(), text: user}, nil
}

// loadUser is LoadUser for the handler, which passes the token itself and
// learns which load of the file the user comes from, the serial a new
// placeholder memo records. A token whose memo holds its user from the
// current load gets that copy back, with no lookup: the same JSON the
// lookup would find, as a load's number is never reused. (Under a rotation
// of many tokens, the lookup reads the users index from cold memory.)
// After a reload, a user found the same as the memo's is stamped with the
// new load, so the next request skips the lookup again.
//
// The load is read once: the serial returned, and any stamped on the memo,
// must be that of the users looked up, or a memo could claim a load whose
// user differs.
func (f *UsersFile) loadUser(tok *token) (User, uint64, error) {
	cur := f.shared.users.Load()
	m := tok.memo.Load()
	if m != nil && m.load == cur.serial {
		return User{JSON: m.user.String(), text: m.user}, cur.serial, nil
	}
	user, ok := cur.users.Lookup(tok.identity)
	if !ok {
		return User{}, cur.serial, ErrUserNotFound
	}
	if m != nil && m.load < cur.serial && m.user.String() == user.String() {
		// Loads only grow: an older request never stamps over a newer
		// load. A lost race leaves the stamp to a later request.
		next := *m
		next.load = cur.serial
		tok.memo.CompareAndSwap(m, &next)
		user = m.user // the same JSON; the memo's check is then one pointer
	}
	return User{JSON: user.String(), text: user}, cur.serial, nil
}

// InMemory marks the store as needing no cache.
func (*UsersFile) InMemory() {}

// Describe names the file.
func (f *UsersFile) Describe() string { return f.shared.path }

// UnmarshalCaddyfile reads `users_file <path> [<key-field>]`.
func (f *UsersFile) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	_, args, err := guestArgs(d, 1, 2)
	if err != nil {
		return err
	}
	f.Path = args[0]
	if len(args) == 2 {
		f.KeyField = args[1]
	}
	return nil
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
	fileWatcher
	keyField string
	users    atomic.Pointer[usersLoad]
}

// usersLoad is one good load of a users file: its users, and its serial
// number, which no other load of any users file in the process has (1 and
// up), so that "the user of this load" names one JSON text for good.
type usersLoad struct {
	users  *rawjson.Index
	serial uint64
}

// usersLoads numbers the loads of every users file.
var usersLoads atomic.Uint64

// freeOSMemoryAt is the size of users file from which a load gives the
// memory it no longer needs back to the system at once: the file's bytes
// and, after a reload, the users it replaced. Below it the runtime's own
// pace is enough.
const freeOSMemoryAt = 16 << 20

// newFileStore loads path and starts watching it; a file that does not load
// is an error, naming the file and, for bad JSON, the line:column.
func newFileStore(path, keyField string, logger *zap.Logger) (*fileStore, error) {
	if keyField == "" {
		keyField = "id"
	}
	s := &fileStore{keyField: keyField}
	s.fileWatcher = fileWatcher{path: path, what: "users file", items: "users", reload: func() (int, error) {
		users, size, err := readUsersFile(path, s.keyField)
		if size >= freeOSMemoryAt {
			// Once per load, never per request: a full collection, then
			// the freed pages returned. Without it the runtime keeps them
			// (its heap goal is twice the live heap), and the users
			// replaced by a reload would stay in the RSS next to the new.
			defer debug.FreeOSMemory()
		}
		if err != nil {
			return 0, err
		}
		s.users.Store(&usersLoad{users: users, serial: usersLoads.Add(1)}) // the old index is garbage from here
		return users.Len(), nil
	}}
	if err := s.start(logger); err != nil {
		return nil, err
	}
	return s, nil
}

// Destruct stops the watcher when no configuration uses the file any more.
func (s *fileStore) Destruct() error {
	s.stopAndWait()
	return nil
}

// stats reports the users held, for the admin API.
func (s *fileStore) stats() StoreStats {
	return StoreStats{Kind: "file", Store: s.path, Entries: s.users.Load().users.Len()}
}

// Interface guards
var (
	_ InMemoryStore         = (*UsersFile)(nil)
	_ StoreDescriber        = (*UsersFile)(nil)
	_ caddy.Provisioner     = (*UsersFile)(nil)
	_ caddy.CleanerUpper    = (*UsersFile)(nil)
	_ caddyfile.Unmarshaler = (*UsersFile)(nil)
	_ statsReporter         = (*fileStore)(nil)
	_ caddy.Destructor      = (*fileStore)(nil)
)
