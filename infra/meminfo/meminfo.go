// Package meminfo reads the kernel's memory figures (/proc/meminfo on Linux).
package meminfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Field returns a field of /proc/meminfo ("MemTotal", "MemAvailable", …) in bytes; an error where there
// is none (not Linux) or it does not read as a number of kB.
func Field(name string) (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parse(b, name)
}

// parse finds the field name in the text of a meminfo file.
func parse(b []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(name+":"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("meminfo: %s: %q is not a size in kB", name, bytes.TrimSpace(rest))
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("meminfo: no %s: %w", name, os.ErrNotExist)
}
