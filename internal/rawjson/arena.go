package rawjson

import "unsafe"

// Arena copies strings and compact Texts into large shared blocks, for a
// caller that keeps very many small ones: 100,000 users cost a block or
// two, not 200,000 allocations, and nothing points into the text they were
// read from, which can go once it is read.
//
// Bytes handed out are never written again; when a block cannot take the
// next copy, it is left to the strings in it and a new one begun, of the
// size of the last one (or of the copy, if larger; at least 4096 bytes).
// An Arena is not safe for concurrent use, and must not be copied once used
// (both copies would write into one block). The zero Arena is ready to use
// and begins with a 4096-byte block; [NewArena] sizes the first one.
type Arena struct{ block []byte }

// NewArena returns an Arena whose first block holds size bytes: for the
// users of a file, the length of the file (a compact copy is never longer
// than its source) plus room for the identities that are not in it as such.
func NewArena(size int) *Arena {
	return &Arena{block: make([]byte, 0, max(size, 0))}
}

// AddString returns a copy of s held in the arena; "" for "".
func (a *Arena) AddString(s string) string {
	if len(s) == 0 {
		return ""
	}
	a.reserve(len(s))
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}

// AddCompact returns a copy of t held in the arena, without insignificant
// white space, as [Text.Compact] gives it: the same value, so still a Text.
// It returns the zero Text for the zero Text.
func (a *Arena) AddCompact(t Text) Text {
	if t.s == "" {
		return Text{}
	}
	a.reserve(len(t.s)) // compact is never longer
	start := len(a.block)
	a.block = appendCompact(a.block, t.s)
	return Text{unsafe.String(&a.block[start], len(a.block)-start)}
}

// reserve makes room for n more bytes, beginning a new block if need be.
func (a *Arena) reserve(n int) {
	if len(a.block)+n > cap(a.block) {
		a.block = make([]byte, 0, max(cap(a.block), n, 4096))
	}
}
