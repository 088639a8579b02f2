package jwtuser

import "fmt"

// flask-jwt-extended's wrong-token errors, through on_invalid_token; the
// metrics count them as wrong_type.
var (
	errRefreshNotAllowed = &failure{kind: invalidToken, reason: "Only non-refresh tokens are allowed", outcome: outcomeWrongType}
	errRefreshRequired   = &failure{kind: invalidToken, reason: "Only refresh tokens are allowed", outcome: outcomeWrongType}
)

// tokenTypeSetting checks token_type at load: "", access or refresh.
func tokenTypeSetting(value string) (string, error) {
	v, err := resolveAtLoad("token_type", value)
	if err != nil {
		return "", err
	}
	switch v {
	case "", "access", "refresh":
		return v, nil
	}
	return "", fmt.Errorf("token_type: %q is neither access nor refresh", v)
}

// checkType reads flask-jwt-extended's type claim as its verify_token_type
// does: where access tokens are wanted, only a type of "refresh" is
// refused (a token without type counts as access); where refresh tokens
// are wanted, only "refresh" passes.
func (v *verifier) checkType(tok *token) *failure {
	if v.tokenType == "" {
		return nil
	}
	isRefresh := false
	if raw, ok := tok.payload.Member("type"); ok && raw.Kind() == '"' {
		isRefresh = raw.Unquote() == "refresh"
	}
	switch {
	case v.tokenType == "access" && isRefresh:
		return errRefreshNotAllowed
	case v.tokenType == "refresh" && !isRefresh:
		return errRefreshRequired
	}
	return nil
}
