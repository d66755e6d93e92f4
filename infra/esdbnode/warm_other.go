//go:build !linux

package esdbnode

import "os"

// fadviseWillNeed does nothing where the kernel offers no read-ahead advice to ask for.
func fadviseWillNeed(*os.File, int64, int64) error { return nil }
