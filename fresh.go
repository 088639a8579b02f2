package jwtuser

import (
	"strconv"
	"time"
)

// errNotFresh answers a token that is not fresh where require_fresh asks for
// one, flask-jwt-extended's jwt_required(fresh=True).
var errNotFresh = &failure{kind: freshRequired, reason: "Fresh token required"}

// isFresh reads flask-jwt-extended's fresh claim: true, or a NumericDate
// still in the future (a token freshly issued until then). Absent, false,
// null or anything else is not fresh, as flask-jwt-extended reads a token
// without the claim. The time is not cached with the token: a fresh token
// goes stale while it is still valid.
func isFresh(tok *token, now time.Time) bool {
	raw, ok := tok.payload.Member("fresh")
	switch {
	case !ok:
		return false
	case raw.Kind() == 't':
		return true
	case raw.IsNumber():
		until, _ := strconv.ParseFloat(raw.String(), 64)
		return float64(now.UnixNano())/1e9 < until
	}
	return false
}
