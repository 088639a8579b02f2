package jwtuser

import (
	"strings"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// placeholderMemo is what {jwt.user.*} and {jwt.claims.*} resolved to for
// one verified token and one user, kept on the token so that the requests
// that reuse the token (from the verified-token cache) read the values back
// instead of finding the path in the JSON and building the value again:
// {jwt.user.roles} costs about 0.4 µs and three allocations computed, a
// comparison and no allocation remembered.
//
// A memo never changes once published; remembering one more value
// publishes a copy. It is valid for one user, compared by content, so a
// reload or a store answer that changes the user starts a new memo. It
// keeps its own copy of the user's JSON and reads the values from that copy
// (and from the token's payload, which the token holds anyway), never from
// the store's memory: a value pointing into the users file would keep a
// replaced file's whole block alive for as long as the token stays cached.
//
// Only a token that a request reused gets a memo: under a rotation of
// tokens that each come once (or with token_cache off), a memo would be
// work and memory no request reads back. And a memo stays within
// memoMaxBytes, its copy of the user included: it costs memory per cached
// token that token_cache's max_bytes does not count, so a large user or a
// large value (a claim listing hundreds of groups) is worked out on every
// read instead.
type placeholderMemo struct {
	user rawjson.Text // a copy of the user's JSON these values come from
	// load is the users file load (usersLoad's serial) whose user for the
	// token's identity is user, so that UsersFile.loadUser can answer
	// with the copy while that load is current (and stamp a newer load
	// that holds the same user); 0 when no load is known to hold it
	// (another store's user).
	load   uint64
	n      int
	names  [memoSize]string // the placeholder after "jwt.": "user.roles"
	values [memoSize]any
	bytes  int // what the memo takes, as memoCost counts it
}

// memoSize is how many placeholders a token's memo holds: a route reads a
// few. Beyond it, values are computed on each request, as without a memo.
const memoSize = 6

// memoMaxBytes bounds a memo: 2 KiB, its copy of the user and its values
// included, so a full default token_cache (10,000 tokens) adds at most
// about 20 MB. An ordinary memo is far under it: about 500 bytes for a
// user of 135 bytes read through one placeholder.
const memoMaxBytes = 2048

// memoStructBytes is the memo's own size, rounded up to its allocation.
const memoStructBytes = 240

// memoCost approximates what remembering v under name adds to a memo: the
// name's copy, the value's box, and the value's memory, its strings
// counted whole even where they share the user's copy or the payload.
func memoCost(name string, v any) int {
	n := len(name) + 16
	switch v := v.(type) {
	case string:
		n += len(v)
	case stringList:
		n += 24 + 16*(len(v)+1) // the slice, its elements and the text
		for _, e := range v {
			n += len(e) + 1 // the elements are cut from the text (withText)
		}
	case valueList:
		n += 24 + 16*len(v)
		for _, e := range v {
			if s, ok := e.(string); ok {
				n += len(s)
			} else {
				n += 16
			}
		}
	}
	return n
}

// memoValue returns the value of the placeholder name ("user",
// "user.roles", "claims", "claims.tenant": the part after "jwt.") for the
// request's token and user, remembering it on the token when requests
// reuse the token.
func (st *requestState) memoValue(name string) any {
	tok := st.tok
	if tok == nil || st.user.IsZero() {
		return resolve(name, st.user, payloadOf(tok))
	}
	cur := tok.memo.Load()
	m := cur
	if m != nil && m.user.String() == st.user.String() {
		for i := range m.n {
			if m.names[i] == name {
				return m.values[i]
			}
		}
	} else {
		m = nil // another user's values: a new memo replaces it
	}
	if !tok.reused.Load() || m != nil && m.n == memoSize ||
		m == nil && memoStructBytes+len(st.user.String()) > memoMaxBytes {
		return resolve(name, st.user, tok.payload)
	}
	next := &placeholderMemo{}
	if m != nil {
		*next = *m
	} else {
		next.user, next.load = st.user.Clone(), st.load
		next.bytes = memoStructBytes + len(next.user.String())
	}
	v := withText(resolve(name, next.user, tok.payload))
	cost := memoCost(name, v)
	if next.bytes+cost > memoMaxBytes {
		return v // read from the copy, which nothing keeps
	}
	next.names[next.n], next.values[next.n] = strings.Clone(name), v
	next.n++
	next.bytes += cost
	// A concurrent request may have published first; its memo stands and
	// this value is remembered the next time.
	tok.memo.CompareAndSwap(cur, next)
	return v
}

// withText gives a list of strings its text once, for a memo: String()
// then answers without joining on every read (see stringList). The
// elements are cut from the text itself, so String()'s check that the
// text is still the list's join reads one block, the text, instead of the
// text and the user's copy the elements would otherwise point into (and
// where an element and the text's bytes are the same memory, the
// comparison is answered from the pointers): under a rotation of many
// tokens, that is one cold read fewer.
func withText(v any) any {
	l, ok := v.(stringList)
	if !ok || len(l) < 2 {
		return v
	}
	text := strings.Join(l, ",")
	joined := make(stringList, len(l), len(l)+1)
	at := 0
	for i, e := range l {
		joined[i] = text[at : at+len(e)]
		at += len(e) + 1
	}
	joined[:len(l)+1][len(l)] = text
	return joined
}

func payloadOf(tok *token) rawjson.Text {
	if tok == nil {
		return rawjson.Text{}
	}
	return tok.payload
}
