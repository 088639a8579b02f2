package jwtuser

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// The admin API's revocation routes, flask-jwt-extended's blocklist as an
// operator edits it:
//
//	POST   /jwt-user/revocations        {"jti": "<id>", "exp": <unix seconds>}
//	DELETE /jwt-user/revocations/<jti>  take one off (path-escaped)
//	GET    /jwt-user/revocations        counts: the admin list's and each file's
//
// A posted revocation applies at once to every jwt_user handler of this
// Caddy, and leaves the list at exp, when the token would have expired
// anyway. With shared_cache, a POST or DELETE also goes to every shared
// cache in use here and so to every instance sharing it
// (revocation_shared.go); the answer's shared_caches says how many took it.
// The GET's admin count is this process's list: what was posted here and
// what it heard from or loaded out of its shared caches, still in force. exp is required: a revocation kept for ever would grow the list
// without bound. An exp already past is accepted and changes nothing.
const adminRevocationsPath = "/jwt-user/revocations"

// maxRevocationBody bounds a POST's body.
const maxRevocationBody = 64 << 10

func (a adminAPI) serveRevocations(w http.ResponseWriter, r *http.Request) error {
	escaped, one := strings.CutPrefix(r.URL.EscapedPath(), adminRevocationsPath+"/")
	switch {
	case r.Method == http.MethodGet && !one:
		return writeJSON(w, map[string]any{
			"admin": map[string]int{"entries": adminRevocations.count(time.Now())},
			"files": revocationStats(),
		})
	case r.Method == http.MethodPost && !one:
		return postRevocation(w, r)
	case r.Method == http.MethodDelete && one:
		jti, err := url.PathUnescape(escaped)
		if err != nil || jti == "" {
			return badRequest("the jti must be one path-escaped segment")
		}
		removed := 0
		if adminRevocations.unrevoke(jti) {
			removed = 1
		}
		resp := map[string]any{"removed": removed}
		if shared := shareRevocation(func(r sharedRevoker) error { return r.unrevokeShared(jti) }); shared != nil {
			resp["shared_caches"] = shared
		}
		return writeJSON(w, resp)
	}
	return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
}

func postRevocation(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		JTI *string  `json:"jti"`
		Exp *float64 `json:"exp"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRevocationBody))
	if err != nil {
		return badRequest("the body is too large or unreadable")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return badRequest(`the body must be {"jti": "<id>", "exp": <unix seconds>}`)
	}
	switch {
	case req.JTI == nil || *req.JTI == "":
		return badRequest("jti: give the token's jti, a non-empty string")
	case req.Exp == nil || math.IsNaN(*req.Exp) || *req.Exp <= 0 || *req.Exp > math.MaxInt32*16:
		return badRequest("exp: give the token's exp, in Unix seconds")
	}
	// A fraction of a second rounds up: the entry stays until the token
	// has certainly expired.
	exp := time.Unix(int64(math.Ceil(*req.Exp)), 0)
	now := time.Now()
	if err := adminRevocations.revoke(*req.JTI, exp, now); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInsufficientStorage, Err: err}
	}
	resp := map[string]any{"revoked": exp.After(now), "entries": adminRevocations.count(now)}
	if exp.After(now) {
		jti := *req.JTI
		if shared := shareRevocation(func(r sharedRevoker) error { return r.revokeShared(jti, exp) }); shared != nil {
			resp["shared_caches"] = shared
		}
	}
	return writeJSON(w, resp)
}

func badRequest(msg string) error {
	return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New(msg)}
}
