// Package docstore keeps the documents the ledger's records name by SHA-256 — minutes, vouchers, audit
// reports, notice attachments — in a content-addressed store under the data directory. The events hold
// only the hashes; the files live here, one per document, named by its hash, written once (a temporary
// file, fsynced, renamed into place, the directory fsynced: acknowledged means durable) and read back only
// after their hash is checked, so a file altered on disk is refused, never served. Only PDF, PNG and
// JPEG documents are taken (sniffed from the bytes, not trusted from a header), up to a size limit.
package docstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"github.com/grassroots-ledger/ledger/infra/secret"
)

// DefaultMax is the largest document taken by default: 10 MiB.
const DefaultMax = 10 << 20

var (
	// ErrTooLarge: the document is over the store's limit.
	ErrTooLarge = errors.New("docstore: the document is too large")
	// ErrType: the document is not a PDF, PNG or JPEG.
	ErrType = errors.New("docstore: only PDF, PNG and JPEG documents are kept")
	// ErrNotFound: no document with that hash was stored.
	ErrNotFound = errors.New("docstore: no such document")
	// ErrCorrupt: the file stored under a hash no longer has that hash.
	ErrCorrupt = errors.New("docstore: the stored document does not match its hash")
	// ErrBadHash: not a SHA-256 in lower-case hex.
	ErrBadHash = errors.New("docstore: not a SHA-256 (64 lower-case hex digits)")
)

// Doc describes a stored document.
type Doc struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// Store is a directory of documents by hash. It is safe for concurrent use.
type Store struct {
	dir string
	max int64
}

// Open opens (creating it) the store in dir, taking documents of at most max bytes (DefaultMax when 0).
func Open(dir string, max int64) (*Store, error) {
	if max <= 0 {
		max = DefaultMax
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	return &Store{dir: dir, max: max}, nil
}

// Max is the largest document taken.
func (s *Store) Max() int64 { return s.max }

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Store) path(sha string) string { return filepath.Join(s.dir, sha[:2], sha) }

// allowed are the types kept, as http.DetectContentType names them.
var allowed = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true}

// Put stores the document read from r and returns what it is. Storing a document already there changes
// nothing and returns the same Doc.
func (s *Store) Put(r io.Reader) (Doc, error) {
	b, err := io.ReadAll(io.LimitReader(r, s.max+1))
	if err != nil {
		return Doc{}, fmt.Errorf("docstore: read the document: %w", err)
	}
	if int64(len(b)) > s.max {
		return Doc{}, fmt.Errorf("%w (at most %d bytes)", ErrTooLarge, s.max)
	}
	ct := http.DetectContentType(b)
	if !allowed[ct] {
		return Doc{}, fmt.Errorf("%w (this one reads as %s)", ErrType, ct)
	}
	sum := sha256.Sum256(b)
	d := Doc{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), ContentType: ct}
	final := s.path(d.SHA256)
	if _, err := os.Stat(final); err == nil {
		return d, nil
	}
	dir := filepath.Dir(final)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Doc{}, fmt.Errorf("docstore: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) { // a new directory: its own entry must be durable too
		if err := secret.SyncDir(filepath.Dir(dir)); err != nil {
			return Doc{}, fmt.Errorf("docstore: sync %s: %w", filepath.Dir(dir), err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return Doc{}, fmt.Errorf("docstore: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return Doc{}, fmt.Errorf("docstore: write %s: %w", d.SHA256, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return Doc{}, fmt.Errorf("docstore: sync %s: %w", d.SHA256, err)
	}
	if err := tmp.Close(); err != nil {
		return Doc{}, fmt.Errorf("docstore: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o440); err != nil {
		return Doc{}, fmt.Errorf("docstore: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Doc{}, fmt.Errorf("docstore: %w", err)
	}
	if err := secret.SyncDir(dir); err != nil {
		return Doc{}, fmt.Errorf("docstore: sync %s: %w", dir, err)
	}
	return d, nil
}

// Has reports whether a document is stored under sha (its content not checked).
func (s *Store) Has(sha string) bool {
	if !hexHash.MatchString(sha) {
		return false
	}
	_, err := os.Stat(s.path(sha))
	return err == nil
}

// Each calls fn with the hash of every document stored, shard by shard; an error from fn stops it.
func (s *Store) Each(fn func(sha string) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("docstore: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, sh.Name()))
		if err != nil {
			return fmt.Errorf("docstore: %w", err)
		}
		for _, f := range files {
			if f.Type().IsRegular() && hexHash.MatchString(f.Name()) && f.Name()[:2] == sh.Name() {
				if err := fn(f.Name()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Get reads the document stored under sha, its hash checked: ErrNotFound when there is none, ErrCorrupt
// when the file was altered.
func (s *Store) Get(sha string) ([]byte, Doc, error) {
	if !hexHash.MatchString(sha) {
		return nil, Doc{}, ErrBadHash
	}
	b, err := os.ReadFile(s.path(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Doc{}, ErrNotFound
	}
	if err != nil {
		return nil, Doc{}, fmt.Errorf("docstore: %w", err)
	}
	sum := sha256.Sum256(b)
	if !bytes.Equal([]byte(hex.EncodeToString(sum[:])), []byte(sha)) {
		return nil, Doc{}, fmt.Errorf("%w: %s", ErrCorrupt, sha)
	}
	return b, Doc{SHA256: sha, Size: int64(len(b)), ContentType: http.DetectContentType(b)}, nil
}
