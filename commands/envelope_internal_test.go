package commands

import "testing"

func TestEncodesNUL(t *testing.T) {
	for data, want := range map[string]bool{
		`{"a":"x\u0000y"}`:        true,
		`{"a":"\\u0000"}`:         false, // a backslash, then the letters u0000
		`{"a":"\\\u0000"}`:        true,  // a backslash, then NUL
		`{"a":"\u00001"}`:         true,
		`{"a":"plain"}`:           false,
		`{"a":"\\\\u0000"}`:       false,
		`{"a":"\\","b":"\u0000"}`: true,
	} {
		if got := encodesNUL([]byte(data)); got != want {
			t.Errorf("encodesNUL(%s) = %v, want %v", data, got, want)
		}
	}
}
