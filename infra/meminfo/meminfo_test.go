package meminfo

import (
	"errors"
	"os"
	"testing"
)

func TestParseReadsAFieldInBytes(t *testing.T) {
	text := []byte("MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\nBad:   lots\n")
	for name, want := range map[string]int64{"MemTotal": 24576000 << 10, "MemAvailable": 20000000 << 10, "MemFree": 1000 << 10} {
		if got, err := parse(text, name); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := parse(text, "Bad"); err == nil {
		t.Error("a field that is not a size read without an error")
	}
	if _, err := parse(text, "Mem"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing field (a prefix of others): %v, want ErrNotExist", err)
	}
}

func TestFieldOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo (not Linux)")
	}
	if n, err := Field("MemTotal"); err != nil || n <= 0 {
		t.Fatalf("MemTotal = %d, %v", n, err)
	}
}
