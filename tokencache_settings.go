package jwtuser

import (
	"fmt"
	"math"
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
)

// TokenCache sizes the verified-token cache (the handler's and each issuer
// block's "token_cache"; Caddyfile `token_cache <entries> [<max_bytes>]`
// or `token_cache off`). Each handler without issuer blocks has one cache;
// with blocks, each block has its own, sized by the block's token_cache or,
// without one, by the handler's. An entry holds one token that passed every
// check; an RSA or ECDSA token found there skips its signature check (tens
// of microseconds) on every request after its first. Size it for the tokens
// in use at once: one entry per active token.
type TokenCache struct {
	// The most tokens held. Default: 10000. 0 turns the cache off: every
	// request verifies its token's signature. When full, the least recently
	// used go first (second chance: a token used since the last eviction
	// pass is kept over one that was not). Refused at load: negative, or
	// over 10000000.
	Entries *int `json:"entries,omitempty"`
	// The most bytes the entries take, each counted as its token's length
	// plus its decoded header and payload and about 240 bytes of
	// bookkeeping (an ordinary access token: 700 to 1500 bytes). Default:
	// 1600 bytes per entry, and at least 16777216 (16MiB): 16MiB up to
	// 10485 entries, 160000000 for 100000. A token taking more than a
	// sixteenth of it is verified every time and never cached. Not counted:
	// the placeholder values a reused token remembers for its user, about
	// 250 bytes plus the user's JSON plus the values and at most 2KiB per
	// token (500 bytes for a 135-byte user read through one placeholder).
	// Refused at load: under 65536 (64KiB) or over 17179869184 (16GiB).
	MaxBytes *int64 `json:"max_bytes,omitempty"`
}

const (
	defaultTokenCacheEntries = 10000
	defaultTokenCacheBytes   = 16 << 20
	maxTokenCacheEntries     = 10_000_000
	minTokenCacheBytes       = 64 << 10
	maxTokenCacheBytes       = 16 << 30
	// Without max_bytes, entries of ordinary tokens, with room to spare,
	// so the entries given are the bound that applies.
	defaultBytesPerEntry = 1600
)

// newCache builds the cache s describes (the defaults for a nil s); nil
// when it is off.
func (s *TokenCache) newCache() (*tokenCache, error) {
	entries := defaultTokenCacheEntries
	if s != nil && s.Entries != nil {
		entries = *s.Entries
	}
	maxBytes := min(max(int64(entries)*defaultBytesPerEntry, defaultTokenCacheBytes), maxTokenCacheBytes)
	if s != nil && s.MaxBytes != nil {
		maxBytes = *s.MaxBytes
	}
	switch {
	case entries < 0 || entries > maxTokenCacheEntries:
		return nil, fmt.Errorf("token_cache: %d entries: give 0 (off) to 10000000", entries)
	case maxBytes < minTokenCacheBytes || maxBytes > maxTokenCacheBytes:
		return nil, fmt.Errorf("token_cache: max_bytes %d: give 64KiB to 16GiB", maxBytes)
	case entries == 0:
		return nil, nil
	}
	// A 32-bit build cannot address more anyway.
	return newTokenCache(entries, int(min(maxBytes, math.MaxInt))), nil
}

// parseTokenCache reads `token_cache off` or `token_cache <entries>
// [<max_bytes>]`; max_bytes takes sizes such as 64MiB. The bounds are
// Provision's.
func parseTokenCache(d *caddyfile.Dispenser) (*TokenCache, error) {
	args := d.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return nil, d.ArgErr()
	}
	entries := 0
	if args[0] != "off" {
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return nil, d.Errf("token_cache: %q is not a number of entries (or off)", args[0])
		}
		entries = n
	} else if len(args) == 2 {
		return nil, d.Errf("token_cache: off takes no size")
	}
	s := &TokenCache{Entries: &entries}
	if len(args) == 2 {
		n, err := humanize.ParseBytes(args[1])
		if err != nil || n > math.MaxInt64 {
			return nil, d.Errf("token_cache: %q is not a size in bytes (64MiB, 100MB, 1048576)", args[1])
		}
		b := int64(n)
		s.MaxBytes = &b
	}
	return s, nil
}
