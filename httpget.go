package jwtuser

import (
	"context"
	"errors"
	"io"
	"net/http"
)

// userAgent is sent with every request the module makes: to user services
// and to JWK Set endpoints.
const userAgent = "caddy-jwt-user (Caddy jwt_user handler)"

// errBodyTooLarge is an answer longer than the caller's bound.
var errBodyTooLarge = errors.New("the answer is larger than allowed")

// getAnswer is what boundedGet read: the status and header fields, and the
// body of a 200 answer.
type getAnswer struct {
	status int
	header http.Header
	body   []byte
}

// boundedGet sends one GET and reads at most maxBody bytes of a 200 answer;
// a longer one is errBodyTooLarge. The body of any other answer is read
// only up to 4KiB and dropped, which lets the connection be reused. A
// transport error comes back as the client returned it, for the caller to
// classify; it names the URL, so callers must not log it as it is when the
// URL holds an identity.
func boundedGet(ctx context.Context, client *http.Client, url string, header http.Header, maxBody int64) (getAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return getAnswer{}, err
	}
	req.Header = header.Clone()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return getAnswer{}, err
	}
	defer resp.Body.Close()
	ans := getAnswer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		return ans, nil
	}
	ans.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return getAnswer{}, err
	}
	if int64(len(ans.body)) > maxBody {
		return getAnswer{}, errBodyTooLarge
	}
	return ans, nil
}
