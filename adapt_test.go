package jwtuser

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

var updateGolden = flag.Bool("update", false, "rewrite the JSON half of testdata/caddyfile_adapt/*.caddyfiletest")

// TestCaddyfileAdapt pins the JSON every Caddyfile form adapts to: each
// testdata/caddyfile_adapt/*.caddyfiletest holds a Caddyfile, a line of
// dashes, and the JSON `caddy adapt` must print for it. After a deliberate
// change, `go test -run TestCaddyfileAdapt -update` rewrites the JSON.
func TestCaddyfileAdapt(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/caddyfile_adapt/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, expected, _ := strings.Cut(string(data), "----------")
			caddyfile = strings.TrimSpace(caddyfile) + "\n"
			if *updateGolden {
				adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
				if err != nil {
					t.Fatal(err)
				}
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, adapted, "", "\t"); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(caddyfile+"----------\n"+pretty.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !caddytest.CompareAdapt(t, file, caddyfile, "caddyfile", strings.TrimSpace(expected)) {
				t.Errorf("%s: the adapted JSON differs (diff above)", file)
			}
		})
	}
}
