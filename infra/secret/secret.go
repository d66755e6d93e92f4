// Package secret keeps the ledger's secret files (the transparency log's signing key, the key-encryption
// key of the personal data): created once, readable by their owner only, installed atomically so that of
// two processes starting at once one file wins and both use it, and refused when others could read them.
package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrPermissions means a secret file is readable or writable by others than its owner: make it private
// (chmod 600), and consider the secret compromised if others did read it.
var ErrPermissions = errors.New("secret file is accessible to others than its owner")

// Create writes data to path, mode 0600 (its directory 0700 if missing), unless a file is there already:
// then it leaves that file alone and returns nil (read it back with Read). The file appears whole or not
// at all, and is synced to disk, its directory entry too.
func Create(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Link, not rename: of two processes creating it at once, one file wins and both use it.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return SyncDir(dir)
}

// Replace atomically puts the file from over the file to (a rename), and syncs their directory.
func Replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(to))
}

// Install is Replace for a file written without a sync: its content is made durable first, so that once
// Install returns the file at to is on disk whole.
func Install(from, to string) error {
	if err := syncPath(from); err != nil {
		return err
	}
	return Replace(from, to)
}

// SyncDir makes the directory's entries durable.
func SyncDir(dir string) error { return syncPath(dir) }

// syncPath fsyncs a file's content or a directory's entries.
func syncPath(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Read reads a secret file, refusing one that group or others may read or write (ErrPermissions, with
// the chmod that fixes it). A missing file is an error that errors.Is fs.ErrNotExist.
func Read(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrPermissions, path, perm, path)
	}
	return os.ReadFile(path)
}
