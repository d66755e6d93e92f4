package audittrail

import (
	"testing"
	"unicode/utf8"
)

// FuzzChainHash: every UTF-8 text reads back from the bytes the trail keeps for it, a ledger hash (64
// lower-case hex digits) and only it takes 32 bytes, and text that is not UTF-8 is refused.
func FuzzChainHash(f *testing.F) {
	for _, s := range []string{"", "h5", "fb798fda0b73bb189486cbe4cfa1cb97bca015c5fae6b0d27a946d2e1fe3795b",
		"FB798FDA0B73BB189486CBE4CFA1CB97BCA015C5FAE6B0D27A946D2E1FE3795B", "0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef", "\xff\xfe", "链上哈希"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := chainHash(nil, s)
		if !utf8.ValidString(s) {
			if ok {
				t.Fatalf("%q is not UTF-8 but was kept as %x", s, b)
			}
			return
		}
		if !ok {
			t.Fatalf("%q refused", s)
		}
		if got := chainText(b); got != s {
			t.Fatalf("%q kept as %x reads back as %q", s, b, got)
		}
		if canonical := len(s) == 64 && isHex(s); (len(b) == hashSize) != canonical {
			t.Fatalf("%q kept in %d bytes", s, len(b))
		}
	})
}

func isHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// BenchmarkChainHash is the trail's cost of keeping one ledger hash as bytes.
func BenchmarkChainHash(b *testing.B) {
	s := "fb798fda0b73bb189486cbe4cfa1cb97bca015c5fae6b0d27a946d2e1fe3795b"
	var buf [hashSize]byte
	for b.Loop() {
		if _, ok := chainHash(buf[:0], s); !ok {
			b.Fatal("refused")
		}
	}
}
