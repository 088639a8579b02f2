package jwtuser

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtuser/caddy-jwt-user/internal/rawjson"
)

// userChecks are the token checks that compare the token with the loaded
// user, so they run after the load, on every request: revoke_issued_before
// and the claim rules naming {jwt.user.*}. A handler using neither has none
// (nil), and pays one nil check.
type userChecks struct {
	// issuedBefore is revoke_issued_before's user path; "" for none.
	issuedBefore string
	claims       []userClaimRule
	claimFailures
}

// userClaimRule is a `claim` rule with at least one {jwt.user.*} value.
type userClaimRule struct {
	name string
	// fixed are the rule's other values; paths, the user fields named.
	fixed, paths []string
}

// userPlaceholder reads a value that is one whole {jwt.user.<path>}
// placeholder.
func userPlaceholder(v string) (path string, ok bool) {
	path, ok = strings.CutPrefix(v, "{jwt.user.")
	if !ok || !strings.HasSuffix(path, "}") {
		return "", false
	}
	path = strings.TrimSuffix(path, "}")
	if path == "" || strings.ContainsAny(path, "{}\\") {
		return "", false
	}
	return path, true
}

// newUserChecks builds the checks from settings whose global placeholders
// are resolved (the {jwt.user.*} values kept as written); nil when the
// configuration has none.
func (h *Handler) newUserChecks() (*userChecks, error) {
	c := &userChecks{}
	if h.RevokeIssuedBefore != "" {
		path, ok := userPlaceholder(h.RevokeIssuedBefore)
		if !ok {
			return nil, errors.New("revoke_issued_before: give one {jwt.user.<path>} placeholder, the loaded user's field holding the cut-off")
		}
		c.issuedBefore = path
	}
	var names []string
	for _, name := range slices.Sorted(maps.Keys(h.Claims)) {
		rule := userClaimRule{name: name}
		for _, v := range h.Claims[name] {
			if path, ok := userPlaceholder(v); ok {
				rule.paths = append(rule.paths, path)
			} else {
				rule.fixed = append(rule.fixed, v)
			}
		}
		if len(rule.paths) > 0 {
			c.claims = append(c.claims, rule)
			names = append(names, name)
		}
	}
	if c.issuedBefore == "" && len(c.claims) == 0 {
		return nil, nil
	}
	c.claimFailures = newClaimFailures(names...)
	return c, nil
}

// hasUserValue tells a claim rule the verifier leaves to userChecks.
func hasUserValue(values []string) bool {
	return slices.ContainsFunc(values, func(v string) bool {
		_, ok := userPlaceholder(v)
		return ok
	})
}

// check runs the checks on a verified token and its loaded user.
func (c *userChecks) check(tok *token, user rawjson.Text) *failure {
	if c.issuedBefore != "" {
		// A user without the field (or with null) is not affected.
		if v, ok := presentPath(user, c.issuedBefore); ok {
			cut, ok := cutOff(v)
			// A field that is no time, or a token without iat, cannot show
			// the token came after the cut-off: it is refused, failing closed.
			if !ok || !tok.hasIat || tok.iat < cut {
				return errRevoked
			}
		}
	}
	for _, rule := range c.claims {
		value, ok := tok.payload.Path(rule.name)
		if !ok {
			return c.missingClaim(rule.name)
		}
		if !rule.matches(value, user) {
			return c.badClaim(rule.name)
		}
	}
	return nil
}

// matches compares the claim with the fixed values and the user's fields;
// a user field that is absent, null or not a scalar matches nothing.
func (r *userClaimRule) matches(value, user rawjson.Text) bool {
	if claimMatches(value, r.fixed) {
		return true
	}
	for _, path := range r.paths {
		field, ok := presentPath(user, path)
		if !ok {
			continue
		}
		if text, ok := scalarText(field); ok && claimMatches(value, []string{text}) {
			return true
		}
	}
	return false
}

// cutOff reads a cut-off: a NumericDate (seconds since the epoch) or an
// RFC 3339 time, as seconds since the epoch.
func cutOff(v rawjson.Text) (float64, bool) {
	if v.IsNumber() {
		// Out-of-range literals saturate to ±Inf, which compares as it should.
		f, _ := strconv.ParseFloat(v.String(), 64)
		return f, true
	}
	if v.Kind() != '"' {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, v.Unquote())
	if err != nil {
		return 0, false
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9, true
}
