package docstore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/docstore"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDocumentsAreKeptByHashAndCheckedOnRead: a PNG and a PDF are kept under their SHA-256 and read
// back; storing one again changes nothing; what is not a PDF, PNG or JPEG, or is over the limit, is
// refused and nothing is written; a file altered on disk is refused on read, never served.
func TestDocumentsAreKeptByHashAndCheckedOnRead(t *testing.T) {
	dir := t.TempDir()
	s, err := docstore.Open(dir, 4096)
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	for _, doc := range [][]byte{pngBytes(t), pdf} {
		d, err := s.Put(bytes.NewReader(doc))
		sum := sha256.Sum256(doc)
		if err != nil || d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(doc)) {
			t.Fatalf("put: %+v %v", d, err)
		}
		again, err := s.Put(bytes.NewReader(doc))
		if err != nil || again != d {
			t.Fatalf("the same document again: %+v %v", again, err)
		}
		b, got, err := s.Get(d.SHA256)
		if err != nil || !bytes.Equal(b, doc) || got != d {
			t.Fatalf("get: %+v %v", got, err)
		}
	}
	if d, _ := s.Put(bytes.NewReader(pdf)); d.ContentType != "application/pdf" {
		t.Fatalf("a PDF reads as %s", d.ContentType)
	}
	before := files(t, dir)
	if _, err := s.Put(strings.NewReader("<html><script>alert(1)</script></html>")); !errors.Is(err, docstore.ErrType) {
		t.Fatalf("an HTML page: %v, want ErrType", err)
	}
	if _, err := s.Put(bytes.NewReader(append([]byte("%PDF-1.4\n"), make([]byte, 5000)...))); !errors.Is(err, docstore.ErrTooLarge) {
		t.Fatalf("a document over the limit: %v, want ErrTooLarge", err)
	}
	if after := files(t, dir); after != before {
		t.Fatalf("a refused document left files: %d → %d", before, after)
	}
	if _, _, err := s.Get(strings.Repeat("0", 64)); !errors.Is(err, docstore.ErrNotFound) {
		t.Fatalf("an unknown hash: %v", err)
	}
	if _, _, err := s.Get("../../etc/passwd"); !errors.Is(err, docstore.ErrBadHash) {
		t.Fatalf("a path for a hash: %v", err)
	}
	// Altered on disk: refused.
	d, _ := s.Put(bytes.NewReader(pngBytes(t)))
	p := filepath.Join(dir, d.SHA256[:2], d.SHA256)
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(pngBytes(t), 0), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(d.SHA256); !errors.Is(err, docstore.ErrCorrupt) {
		t.Fatalf("an altered file: %v, want ErrCorrupt", err)
	}
}

// TestConcurrentPutsOfOneDocument: many uploads of the same document at once all succeed with one file.
func TestConcurrentPutsOfOneDocument(t *testing.T) {
	dir := t.TempDir()
	s, err := docstore.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	doc := pngBytes(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := s.Put(bytes.NewReader(doc)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := files(t, dir); n != 1 {
		t.Fatalf("%d files for one document", n)
	}
}

func files(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// Each names every document stored, once, and nothing else in the directory; Has says which are there.
func TestEachNamesEveryDocument(t *testing.T) {
	dir := t.TempDir()
	s, err := docstore.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, doc := range [][]byte{pngBytes(t), []byte("%PDF-1.4\n%%EOF\n")} {
		d, err := s.Put(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		want[d.SHA256] = true
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	if err := s.Each(func(sha string) error {
		if got[sha] || !s.Has(sha) {
			t.Errorf("Each named %s twice, or Has does not know it", sha)
		}
		got[sha] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Each named %v, want %v", got, want)
	}
	for sha := range want {
		if !got[sha] {
			t.Fatalf("Each missed %s", sha)
		}
	}
	if s.Has(strings.Repeat("0", 64)) || s.Has("../notes.txt") {
		t.Fatal("Has knows a document never stored")
	}
}
