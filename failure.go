package jwtuser

// failureKind selects which configured response answers a request.
type failureKind int

const (
	missingToken failureKind = iota
	invalidToken
	expiredToken
	loadFailure
	storeError
	revokedToken
	freshRequired
	csrfFailure
	bodyTooLarge
	numFailureKinds
)

// responseDirectives names each kind's response, as the Caddyfile and the
// JSON config call it.
var responseDirectives = [numFailureKinds]string{
	missingToken:  "on_missing_token",
	invalidToken:  "on_invalid_token",
	expiredToken:  "on_expired_token",
	loadFailure:   "on_load_failure",
	storeError:    "on_store_error",
	revokedToken:  "on_revoked_token",
	freshRequired: "on_fresh_required",
	csrfFailure:   "on_csrf_failure",
	bodyTooLarge:  "body_too_large", // a fixed response: no setting
}

// failure is why a request is refused; reason becomes {jwt.error}. Reasons
// follow flask-jwt-extended and PyJWT, whose wording users already know.
type failure struct {
	kind   failureKind
	reason string
	// outcome, when set, counts the failure apart from its kind's outcome
	// (a wrong token type is an invalid token, counted as wrong_type).
	outcome outcome
}

func (f *failure) Error() string { return f.reason }

func invalid(reason string) *failure { return &failure{kind: invalidToken, reason: reason} }

// The fixed failures are allocated once.
var (
	errTooLarge          = invalid("Token is too large")
	errNotEnoughSegments = invalid("Not enough segments")
	errHeaderPadding     = invalid("Invalid header padding")
	errPayloadPadding    = invalid("Invalid payload padding")
	errCryptoPadding     = invalid("Invalid crypto padding")
	errHeaderString      = invalid("Invalid header string")
	errPayloadString     = invalid("Invalid payload string")
	errAlgNotAllowed     = invalid("The specified alg value is not allowed")
	errSignature         = invalid("Signature verification failed")
	errNotYetValidNbf    = invalid("The token is not yet valid (nbf)")
	errNotYetValidIat    = invalid("The token is not yet valid (iat)")
	errInvalidIssuer     = invalid("Invalid issuer")
	errInvalidAudience   = invalid("Invalid audience")
	errExpired           = &failure{kind: expiredToken, reason: "Token has expired"}
	errKeysUnavailable   = &failure{kind: storeError, reason: "Signing keys unavailable"}
	errStoreUnavailable  = &failure{kind: storeError, reason: "User store unavailable"}
)

// claimFailures are the failures that name a claim, built once at
// provision for every claim the configuration names.
type claimFailures struct {
	missing, invalid map[string]*failure
}

func newClaimFailures(names ...string) claimFailures {
	f := claimFailures{missing: map[string]*failure{}, invalid: map[string]*failure{}}
	for _, name := range names {
		f.missing[name] = missingClaimFailure(name)
		f.invalid[name] = invalidClaimFailure(name)
	}
	return f
}

// missingClaim and badClaim never return nil: a name provision did not
// foresee still fails the check.
func (f claimFailures) missingClaim(name string) *failure {
	if m := f.missing[name]; m != nil {
		return m
	}
	return missingClaimFailure(name)
}

func (f claimFailures) badClaim(name string) *failure {
	if m := f.invalid[name]; m != nil {
		return m
	}
	return invalidClaimFailure(name)
}

func missingClaimFailure(name string) *failure {
	return invalid(`Token is missing the "` + name + `" claim`)
}

func invalidClaimFailure(name string) *failure { return invalid(`Invalid claim "` + name + `"`) }
