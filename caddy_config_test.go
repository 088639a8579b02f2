package jwtuser

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// The field report's configuration, a per-request placeholder in a
// users_url header, is refused by a real Caddy's load, naming the
// subdirective and the placeholder, and the running configuration stays.
func TestPerRequestPlaceholderRefusedByCaddy(t *testing.T) {
	users := usersFile(t, seedUsers)
	t.Setenv("JWT_SECRET", testSecret)
	tc := startCaddy(t, fmt.Sprintf(":%d {\n\tjwt_user {\n\t\tsecret {env.JWT_SECRET}\n\t\tusers_file %s\n\t}\n\trespond \"{jwt.identity}\"\n}\n", httpPort, users))
	for _, c := range []struct{ directives, want string }{
		{"users_url https://users.internal/{jwt.identity} {\n\t\t\theader X-Tenant-ID {http.request.header.X-Tenant-ID}\n\t\t}",
			"users_url: header X-Tenant-Id: unrecognized placeholder {http.request.header.X-Tenant-ID}"},
		{"users_file " + users + "\n\t\tissuer https://{http.request.host}", "issuer: unrecognized placeholder {http.request.host}"},
	} {
		caddyfile := globalOptions + fmt.Sprintf(":%d {\n\tjwt_user {\n\t\tsecret {env.JWT_SECRET}\n\t\t%s\n\t}\n}\n", httpPort, c.directives)
		cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(adminURL+"/load", "application/json", bytes.NewReader(cfg))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), c.want) {
			t.Errorf("load: %d %s, want a refusal holding %q", resp.StatusCode, body, c.want)
		}
	}
	if got := get(t, tc, "GET", "/", bearer(hs256(t, claimsFor("foo")))); got.status != 200 || got.body != "foo" {
		t.Errorf("the running configuration after refused loads: %d %q", got.status, got.body)
	}
}
