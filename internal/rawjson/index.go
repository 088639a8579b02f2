package rawjson

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// Index holds compact Texts found by a string key, for a caller that keeps
// very many of them: the users of a file of a million users. It holds no
// pointer the garbage collector has to follow: every key and value is a
// record in one byte block, and the table that finds them is a block of
// uint64 offsets into it. A map of a million strings would cost every GC
// cycle a scan of two million pointers; an Index costs it nothing.
//
// A record is uvarint(len(key)) key uvarint(len(value)) value, the value
// compact (as [Text.Compact] gives it). The table is open addressing with
// linear probing, at most three quarters full: a slot is 0 when empty, or
// the top 24 bits of the key's hash above the record's offset plus one, so
// a probe reads a record only when those bits match, and a key is found
// only when it equals the record's key in full: two keys with the same hash
// are two entries.
//
// An Index is built once by an [IndexBuilder] and never changed; Lookup is
// safe for concurrent use. The zero Index holds nothing.
type Index struct {
	data  []byte
	slots []uint64
	mask  uint64
	seed  maphash.Seed
	n     int
	// collide makes every key hash alike, for tests of the probing.
	collide bool
}

const (
	offsetBits = 40 // a record's offset plus one; data up to 1 TiB
	offsetMask = 1<<offsetBits - 1
)

// MaxIndexBytes is the most record bytes an Index holds (1 TiB).
const MaxIndexBytes = offsetMask - 1

func (ix *Index) hash(key string) uint64 {
	if ix.collide {
		return 0
	}
	return maphash.String(ix.seed, key)
}

// Len is how many entries the index holds.
func (ix *Index) Len() int { return ix.n }

// Bytes is the memory the index holds: its record block and its table.
func (ix *Index) Bytes() int { return cap(ix.data) + 8*len(ix.slots) }

// Lookup returns the value stored for key. It does not allocate; the Text
// shares the index's memory, which stays alive as long as the Text does.
func (ix *Index) Lookup(key string) (Text, bool) {
	if ix.n == 0 {
		return Text{}, false
	}
	h := ix.hash(key)
	tag := h >> offsetBits
	for i := h & ix.mask; ; i = (i + 1) & ix.mask {
		slot := ix.slots[i]
		if slot == 0 {
			return Text{}, false
		}
		if slot>>offsetBits != tag {
			continue
		}
		// The key first: most records a probe reads are not the one.
		if k, rest := ix.recordKey(slot&offsetMask - 1); k == key {
			return Text{ix.recordValue(rest)}, true
		}
	}
}

// record returns the key and value of the record at off.
func (ix *Index) record(off uint64) (key, value string) {
	key, value, _ = ix.recordEnd(off)
	return key, value
}

// recordKey returns the key of the record at off, and where the rest of
// the record begins.
func (ix *Index) recordKey(off uint64) (key string, rest uint64) {
	d := ix.data[off:]
	kl, n := uvarint(d)
	return unsafe.String(unsafe.SliceData(d[n:]), int(kl)), off + uint64(n) + kl
}

// recordValue returns the value of the record whose rest begins at rest.
func (ix *Index) recordValue(rest uint64) string {
	d := ix.data[rest:]
	vl, n := uvarint(d)
	return unsafe.String(unsafe.SliceData(d[n:]), int(vl))
}

// recordEnd is record also giving the offset just past the record.
func (ix *Index) recordEnd(off uint64) (key, value string, end uint64) {
	key, rest := ix.recordKey(off)
	d := ix.data[rest:]
	vl, n := uvarint(d)
	return key, unsafe.String(unsafe.SliceData(d[n:]), int(vl)), rest + uint64(n) + vl
}

// uvarint is binary.Uvarint, inlined for the lengths under 128 that most
// keys have.
func uvarint(d []byte) (uint64, int) {
	if len(d) > 0 && d[0] < 0x80 {
		return uint64(d[0]), 1
	}
	return binary.Uvarint(d)
}

// Each calls fn with every entry, in no particular order, until fn returns
// false.
func (ix *Index) Each(fn func(key string, value Text) bool) {
	for _, slot := range ix.slots {
		if slot != 0 {
			k, v := ix.record(slot&offsetMask - 1)
			if !fn(k, Text{v}) {
				return
			}
		}
	}
}

// IndexBuilder fills an [Index]: Add appends records one after the other,
// and Finish makes the table, once, at the size of what was added. It is
// not safe for concurrent use.
type IndexBuilder struct {
	ix Index
}

// NewIndexBuilder returns a builder whose records take about size bytes:
// for entries read from a document, its length (a compact value is never
// longer than its source) plus what the keys add. The block grows if size
// was short.
func NewIndexBuilder(size int) *IndexBuilder {
	return &IndexBuilder{ix: Index{data: make([]byte, 0, max(size, 0)), seed: maphash.MakeSeed()}}
}

// Add stores a copy of key and a compact copy of value. Nothing kept
// points into key or value. A key added twice is found by Finish.
func (b *IndexBuilder) Add(key string, value Text) {
	b.add(key, value.s, firstInsignificantSpace(value.s) >= 0)
}

// AddOuter is [IndexBuilder.Add] for a value [CheckEach] handed over: it
// already knows whether the value holds white space to drop, so a value
// that has none is copied as it is, without a scan.
func (b *IndexBuilder) AddOuter(key string, o Outer) {
	b.add(key, o.Value.s, o.spaced)
}

func (b *IndexBuilder) add(key, src string, spaced bool) {
	ix := &b.ix
	// The value's compact length is known once it is written; its length
	// is written first at the size of its source's length, which is never
	// shorter, and the value moved back if the compact form needs fewer
	// bytes for it (rare: only when white space is dropped across a
	// varint size boundary).
	ix.data = binary.AppendUvarint(ix.data, uint64(len(key)))
	ix.data = append(ix.data, key...)
	lenAt := len(ix.data)
	ix.data = binary.AppendUvarint(ix.data, uint64(len(src)))
	lenSize := len(ix.data) - lenAt
	start := len(ix.data)
	if spaced {
		ix.data = appendCompact(ix.data, src)
	} else {
		ix.data = append(ix.data, src...)
	}
	vl := len(ix.data) - start
	if binary.PutUvarint(ix.data[lenAt:lenAt+lenSize], uint64(vl)) != lenSize {
		value := append([]byte(nil), ix.data[start:]...)
		ix.data = binary.AppendUvarint(ix.data[:lenAt], uint64(vl))
		ix.data = append(ix.data, value...)
	}
	ix.n++
}

// Finish makes the table and returns the index, and -1; or, when a key was
// added twice, nil and the position (from 0, in the order of Add) of its
// second Add. The builder must not be used after.
func (b *IndexBuilder) Finish() (*Index, int) {
	ix := b.ix
	b.ix = Index{}
	if len(ix.data) > MaxIndexBytes {
		panic("rawjson: IndexBuilder: more than MaxIndexBytes")
	}
	slots := 1 << bits.Len(uint(ix.n*4/3)) // > n*4/3: at most 3/4 full
	ix.slots = make([]uint64, slots)
	ix.mask = uint64(slots - 1)
	// The records lie one after the other from the start of the block.
	for off, nth := uint64(0), 0; off < uint64(len(ix.data)); nth++ {
		key, _, end := ix.recordEnd(off)
		h := ix.hash(key)
		tag := h >> offsetBits
		i := h & ix.mask
		for ; ix.slots[i] != 0; i = (i + 1) & ix.mask {
			if ix.slots[i]>>offsetBits == tag {
				if k, _ := ix.record(ix.slots[i]&offsetMask - 1); k == key {
					return nil, nth
				}
			}
		}
		ix.slots[i] = tag<<offsetBits | (off + 1)
		off = end
	}
	return &ix, -1
}
