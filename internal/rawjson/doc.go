// Package rawjson reads JSON text in place: a checker that accepts exactly
// one well-formed value, readers that walk accepted text and hand back parts
// of it, and exact plain-decimal rendering of JSON numbers.
//
// # Why a scanner of our own on the request path
//
// Token headers, token payloads and users are kept as their JSON text, not
// decoded into maps. A claim lookup is then a scan of bytes the request
// already holds and costs no allocation: every reader returns a substring of
// the text it was given. A stored user costs its own bytes and nothing more,
// and one representation serves verification, placeholders and the upstream
// alike.
//
// The checker is stricter than encoding/json in three ways. It refuses
// invalid UTF-8 in strings. It refuses nesting deeper than 64 arrays and
// objects, so hostile input cannot exhaust the stack. And it refuses an
// object that names a member twice, at any depth and compared after
// unescaping ("sub" and "s\u0075b" are the same name): with a duplicate,
// two readers of the same token — this package, a library upstream — could
// each pick a different value and disagree about who the caller is.
//
// Numbers render exactly from their literal, in plain decimal: 42 stays
// "42", never "4.2e+01"; 1e3 becomes "1000"; a 20-digit id keeps every digit
// rather than passing through a float64.
//
// # The rule
//
// encoding/json at the edges — configuration, JWK Sets, the admin API, the
// command line — where convenience matters and inputs are small or trusted.
// This package on the request path, where every request pays for each
// allocation.
//
// Check skips no byte order mark: a token must not carry one. Documents
// that operators and services write may ([TrimBOM], RFC 8259 §8.1). Errors
// name in words what stands where it should not: a whole character, a
// byte that is not UTF-8, a byte order mark.
//
// # Checked text
//
// The readers do not re-check what they scan: given malformed text they
// could return garbage or panic. So they only take a [Text], and
// the only ways to get a non-zero Text are [Check], [CheckEach] and the
// readers themselves, which return parts of a Text, or a copy of one
// ([Text.Compact], [Text.Clone], [Index.Lookup]). Every method is also
// safe on the zero Text, which reads as no value at all.
package rawjson
