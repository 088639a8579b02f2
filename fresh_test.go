package jwtuser

import (
	"testing"
	"time"
)

func TestIsFresh(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	for payload, want := range map[string]bool{
		`{"fresh":true}`:            true,
		`{"fresh":1000.5}`:          true,
		`{"fresh":1e300}`:           true,
		`{"fresh":1000}`:            false,
		`{"fresh":999}`:             false,
		`{"fresh":false}`:           false,
		`{"fresh":null}`:            false,
		`{"fresh":"true"}`:          false,
		`{"fresh":[true]}`:          false,
		`{}`:                        false,
		`{"nested":{"fresh":true}}`: false,
	} {
		if got := isFresh(&token{payload: mustJSON(payload)}, now); got != want {
			t.Errorf("%s: %v, want %v", payload, got, want)
		}
	}
}
