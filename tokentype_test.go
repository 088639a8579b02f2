package jwtuser

import (
	"strings"
	"testing"
)

func TestCheckType(t *testing.T) {
	t.Parallel()
	payloads := []string{`{"type":"access"}`, `{"type":"refresh"}`, `{}`, `{"type":null}`, `{"type":"other"}`, `{"type":["refresh"]}`}
	want := map[string][]string{
		"":        {"", "", "", "", "", ""},
		"access":  {"", "Only non-refresh tokens are allowed", "", "", "", ""},
		"refresh": {"Only refresh tokens are allowed", "", "Only refresh tokens are allowed", "Only refresh tokens are allowed", "Only refresh tokens are allowed", "Only refresh tokens are allowed"},
	}
	for setting, reasons := range want {
		v := &verifier{tokenType: setting}
		for i, p := range payloads {
			got := ""
			if f := v.checkType(&token{payload: mustJSON(p)}); f != nil {
				got = f.reason
				if f.kind != invalidToken || f.outcome != outcomeWrongType {
					t.Errorf("%s %s: kind %d, outcome %d", setting, p, f.kind, f.outcome)
				}
			}
			if got != reasons[i] {
				t.Errorf("token_type %q, %s: %q, want %q", setting, p, got, reasons[i])
			}
		}
	}
	for _, bad := range []string{"Access", "id", "{http.request.host}"} {
		if _, err := tokenTypeSetting(bad); err == nil || !strings.HasPrefix(err.Error(), "token_type: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
