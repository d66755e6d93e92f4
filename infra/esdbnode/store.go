package esdbnode

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/grassroots-ledger/ledger/infra/secret"
)

// dataFileName is the store file inside Config.Dir.
const dataFileName = "events.db"

// boltMagic is bbolt's meta-page magic (offset 16 of page 0 and page 1). Looking for it ourselves lets Open tell
// "this is not a bbolt file at all" (foreign) from "a bbolt file whose meta pages are damaged" (corrupt).
const boltMagic = 0xED0CDAED

// boltOptions are chosen for an append-mostly event log whose reads dominate:
//
//   - FreelistType map: O(1) allocation and free however fragmented the file gets; the array freelist degrades
//     badly on large files.
//   - NoFreelistSync false (the freelist is written with every commit): measured at 1 000 000 events (a 660 MB
//     file) opening takes 2–6 ms with a synced freelist against 0.4–0.8 s without one, because bbolt then
//     rebuilds the freelist at open by walking every page — a cost that grows with the history. Commit cost was
//     indistinguishable within this machine's noise (an append-mostly file has a small freelist, one page).
//     Opening must stay fast whatever the size of the history, so the freelist is synced.
//   - InitialMmapSize 1 GiB: bbolt must remap when the file outgrows the mapping, and a remap waits for every
//     open read transaction. Mapping generously up front (address space, not memory) makes remaps rare, and
//     readers use short transactions (bounded chunks) so a remap never waits long.
//   - Timeout: a second process opening the same directory fails fast with ErrLocked instead of hanging.
//   - NoSync and NoGrowSync stay false: acknowledged means fsynced.
func boltOptions() *bolt.Options {
	return &bolt.Options{
		Timeout:         time.Second,
		NoFreelistSync:  false,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	}
}

// Read chunking: a read transaction covers at most this many events or bytes before it is closed and the
// events are sent, so a slow client never pins old pages (and never blocks a remap) for long.
const (
	readChunkEvents = 1024
	readChunkBytes  = 4 << 20
)

// store is the durable event log on bbolt. Writes go through the single writer (writer.go); reads use short
// read transactions through the scan helpers below.
type store struct {
	db   *bolt.DB
	path string
	log  *slog.Logger
	idx  *index // the in-memory tail of the indexes (index.go)
	warm warmer // reads the file ahead of a large read (warm.go)
}

// openStore opens or creates the store file in dir and returns it with the last committed position.
func openStore(ctx context.Context, dir string, logger *slog.Logger) (*store, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("esdbnode: create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, dataFileName)
	fresh := true
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, 0, fmt.Errorf("%w: %s is not a regular file", ErrForeign, path)
		}
		fresh = fi.Size() == 0
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("esdbnode: stat data file %s: %w", path, err)
	}
	if !fresh {
		// Check identity read-only first so a foreign bbolt file is never written to (a read-write open may
		// commit to it).
		if err := preflight(path); err != nil {
			return nil, 0, err
		}
	}

	var db *bolt.DB
	err := guard(path, "open", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, boltOptions())
		return err
	})
	if err != nil {
		return nil, 0, classifyOpenError(path, err)
	}
	s := &store{db: db, path: path, log: logger}
	s.warm.done = func(r warmResult) {
		if r.err != nil {
			logger.Debug("esdbnode: no read-ahead of the store file", "path", path, "err", r.err)
			return
		}
		logger.Debug("esdbnode: read-ahead of the store file for a large read", "path", path, "bytes", r.size,
			"available_bytes", r.available, "asked", r.asked, "ms", r.took.Milliseconds())
	}
	head, err := s.init()
	if err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	if fresh {
		// bbolt fsyncs the file, not the directories naming it: make the new file's entry, and its
		// directory's, durable before the first append is acknowledged.
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := secret.SyncDir(d); err != nil {
				_ = db.Close()
				return nil, 0, fmt.Errorf("esdbnode: sync directory %s: %w", d, err)
			}
		}
	}
	return s, head, nil
}

// preflight checks, without writing, that path is a bbolt file carrying our header and a known version.
func preflight(path string) error {
	if err := checkBoltMagic(path); err != nil {
		return err
	}
	var db *bolt.DB
	err := guard(path, "open read-only", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		return err
	})
	if err != nil {
		return classifyOpenError(path, err)
	}
	defer db.Close()
	return guard(path, "read header", func() error {
		return db.View(func(tx *bolt.Tx) error {
			_, err := checkHeader(tx, path)
			return err
		})
	})
}

// checkBoltMagic refuses files that carry bbolt's magic in neither meta page.
func checkBoltMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("esdbnode: open data file %s: %w", path, err)
	}
	defer f.Close()
	// The second meta page sits one page in; bbolt's page size is a power of two between 1 KiB and 64 KiB.
	for _, off := range []int64{0, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		var b [20]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("esdbnode: read data file %s: %w", path, err)
		}
		if binary.LittleEndian.Uint32(b[16:]) == boltMagic {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not a bbolt database (no bbolt magic in its meta pages)", ErrForeign, path)
}

func classifyOpenError(path string, err error) error {
	switch {
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrForeign), errors.Is(err, ErrUnsupportedFormat):
		return err
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s (is another node running on this directory?)", ErrLocked, path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("%w: %s: bbolt refused its meta pages: %w", ErrCorrupt, path, err)
	default:
		return fmt.Errorf("esdbnode: open data file %s: %w", path, err)
	}
}

// checkHeader validates the meta bucket; it reports whether the file holds no buckets at all (a brand-new
// bbolt file that crashed before our first transaction), which init treats as new.
func checkHeader(tx *bolt.Tx, path string) (empty bool, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty = true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if empty {
			return true, nil
		}
		return false, fmt.Errorf("%w: %s: a bbolt file written by another program (no %q bucket)", ErrForeign, path, bucketMeta)
	}
	v := meta.Get(keyHeader)
	if v == nil {
		return false, fmt.Errorf("%w: %s: a bbolt file written by another program (no header)", ErrForeign, path)
	}
	version, err := decodeHeader(v)
	switch {
	case errors.Is(err, errNotOurs):
		return false, fmt.Errorf("%w: %s: a bbolt file written by another program (%w)", ErrForeign, path, err)
	case err != nil:
		return false, fmt.Errorf("%w: %s: meta header: %w", ErrCorrupt, path, err)
	}
	if version != formatVersion {
		return false, fmt.Errorf("%w: %s has format version %d, this node reads version %d",
			ErrUnsupportedFormat, path, version, formatVersion)
	}
	for _, b := range [][]byte{bucketLog, bucketStreams, bucketRevs, bucketIDs} {
		if tx.Bucket(b) == nil {
			return false, fmt.Errorf("%w: %s: bucket %q is missing", ErrCorrupt, path, b)
		}
	}
	return false, nil
}

// init creates the buckets of a new store, or checks an existing one and returns its head position. It reads
// only the header and the tail record, so opening does not depend on the size of the history.
func (s *store) init() (uint64, error) {
	var head uint64
	s.idx = newIndex()
	err := guard(s.path, "initialise", func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			empty, err := checkHeader(tx, s.path)
			if err != nil {
				return err
			}
			if empty {
				meta, err := tx.CreateBucket(bucketMeta)
				if err != nil {
					return fmt.Errorf("esdbnode: create meta bucket in %s: %w", s.path, err)
				}
				if err := meta.Put(keyHeader, headerValue(formatVersion)); err != nil {
					return fmt.Errorf("esdbnode: write header to %s: %w", s.path, err)
				}
				for _, b := range [][]byte{bucketLog, bucketStreams, bucketRevs, bucketIDs} {
					if _, err := tx.CreateBucket(b); err != nil {
						return fmt.Errorf("esdbnode: create bucket %q in %s: %w", b, s.path, err)
					}
				}
				s.log.Info("esdbnode: created store", "path", s.path)
				return nil
			}
			// Nothing to write: returning an error rolls the transaction back so the file is untouched.
			var last *event
			if head, last, err = s.lastRecord(tx); err != nil {
				return err
			}
			if s.idx, err = s.loadIndex(tx, head); err != nil {
				return err
			}
			if err := s.checkTail(tx, last); err != nil {
				return err
			}
			return errNoChange
		})
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return head, err
}

var errNoChange = errors.New("no change")

// lastRecord reads and verifies the last record of $all; head is 0 and last nil for an empty store.
func (s *store) lastRecord(tx *bolt.Tx) (head uint64, last *event, err error) {
	k, v := tx.Bucket(bucketLog).Cursor().Last()
	if k == nil {
		return 0, nil, nil
	}
	e := &event{}
	if err := decodeEvent(k, v, e); err != nil {
		return 0, nil, s.corrupt(fmt.Sprintf("last record (key %x)", k), err)
	}
	return e.position, e, nil
}

// checkTail verifies that the indexes agree with the last record: its stream's head reaches its revision and
// the revision index points at it (from the buckets, or from the tail rebuilt from the log).
func (s *store) checkTail(tx *bolt.Tx, e *event) error {
	if e == nil {
		return nil
	}
	h, found, err := s.idx.streamHead(s, tx, e.stream)
	if err != nil {
		return err
	}
	if !found || h.lastRev < e.revision {
		return s.corrupt(fmt.Sprintf("head of stream %q does not reach its last record", e.stream), errBadRecord)
	}
	if p, err := s.idx.revPosition(s, tx, e.stream, h, e.revision); err != nil || p != e.position {
		return s.corrupt(fmt.Sprintf("revision index of stream %q at %d", e.stream, e.revision), errBadRecord)
	}
	return nil
}

func (s *store) corrupt(what string, err error) error {
	return fmt.Errorf("%w: %s: %s: %w", ErrCorrupt, s.path, what, err)
}

func (s *store) close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("esdbnode: close %s: %w", s.path, err)
	}
	return nil
}

// guard runs fn and turns a panic into ErrCorrupt. bbolt panics on some structural damage (an invalid page
// type, a page id out of range); a corrupt file must surface as an error, not crash the process.
func guard(path, doing string, fn func() error) (err error) {
	// A damaged page can also send bbolt to read outside the mapping; make that fault a panic we recover
	// rather than a crash of the whole process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %s: bbolt panicked: %v", ErrCorrupt, path, doing, r)
		}
	}()
	return fn()
}

// view runs fn in a read transaction, guarded.
func (s *store) view(fn func(tx *bolt.Tx) error) error {
	return guard(s.path, "read", func() error { return s.db.View(fn) })
}

// scanAll visits $all from position from (inclusive) in the given direction, never past limit (the published
// head), and at most max events in one read transaction. fn gets events whose slices alias the page; it returns
// false to stop. scanAll returns the number of events visited and the position of the last one.
func (s *store) scanAll(from uint64, forward bool, limit uint64, max int, fn func(*event) bool) (n int, last uint64, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		var k, v []byte
		if forward {
			k, v = c.Seek(positionKey(from))
		} else {
			if from > limit {
				from = limit
			}
			k, v = c.Seek(positionKey(from))
			if k == nil {
				k, v = c.Last()
			} else if binary.BigEndian.Uint64(k) > from {
				k, v = c.Prev()
			}
		}
		var e event
		bytesRead := 0
		for ; k != nil && n < max && bytesRead < readChunkBytes; n++ {
			if err := decodeEvent(k, v, &e); err != nil {
				return s.corrupt(fmt.Sprintf("record at key %x", k), err)
			}
			if forward && e.position > limit {
				break
			}
			last = e.position
			bytesRead += len(v)
			if !fn(&e) {
				n++
				break
			}
			if forward {
				k, v = c.Next()
			} else {
				k, v = c.Prev()
			}
		}
		return nil
	})
	return n, last, err
}

// viewIndexed runs fn in a read transaction with the index tail read-locked, so that the buckets and the tail
// are seen together (index.go explains why that is consistent).
func (s *store) viewIndexed(fn func(tx *bolt.Tx) error) error {
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	return s.view(fn)
}

// lookupStream returns the head of a stream as visible at limit: found is false when the stream has no event at
// or below limit. Call it inside viewIndexed.
func (s *store) lookupStream(tx *bolt.Tx, name []byte, limit uint64) (h streamHead, found bool, err error) {
	h, found, err = s.idx.streamHead(s, tx, name)
	if err != nil || !found {
		return streamHead{}, false, err
	}
	// The head may include events committed but not yet published; step back to the last visible one.
	for {
		pos, err := s.idx.revPosition(s, tx, name, h, h.lastRev)
		if err != nil {
			return streamHead{}, false, err
		}
		if pos <= limit {
			return h, true, nil
		}
		if h.lastRev == 0 {
			return streamHead{}, false, nil
		}
		h.lastRev--
	}
}

// scanStream visits a stream from revision from (inclusive) in the given direction, never past limit, at most
// max events in one read transaction. found is false when the stream does not exist at limit. For a backwards
// scan from past the end, it starts at the last visible revision.
func (s *store) scanStream(name []byte, from uint64, forward bool, limit uint64, max int, fn func(*event) bool) (found bool, n int, last uint64, err error) {
	err = s.viewIndexed(func(tx *bolt.Tx) error {
		h, ok, err := s.lookupStream(tx, name, limit)
		if err != nil || !ok {
			return err
		}
		found = true
		if forward && from > h.lastRev {
			return nil
		}
		if !forward && from > h.lastRev {
			from = h.lastRev
		}
		logB := tx.Bucket(bucketLog)
		var e event
		bytesRead := 0
		for rev := from; n < max && bytesRead < readChunkBytes; {
			pos, err := s.idx.revPosition(s, tx, name, h, rev)
			if err != nil {
				return err
			}
			pk := positionKey(pos)
			rv := logB.Get(pk)
			if rv == nil {
				return s.corrupt(fmt.Sprintf("stream %q revision %d points at missing position %d", name, rev, pos), errBadRecord)
			}
			if err := decodeEvent(pk, rv, &e); err != nil {
				return s.corrupt(fmt.Sprintf("record at position %d", pos), err)
			}
			if e.revision != rev || !bytes.Equal(e.stream, name) {
				return s.corrupt(fmt.Sprintf("stream %q revision %d points at position %d, which holds %q revision %d",
					name, rev, pos, e.stream, e.revision), errBadRecord)
			}
			n++
			last = rev
			bytesRead += len(rv)
			if !fn(&e) {
				break
			}
			if forward {
				if rev == h.lastRev {
					break
				}
				rev++
			} else {
				if rev == 0 {
					break
				}
				rev--
			}
		}
		return nil
	})
	return found, n, last, err
}

// maxRevision stands for "the end of the stream" in backward scans.
const maxRevision = math.MaxUint64

// boltTx keeps the bbolt import in one file for the few callers outside it.
type boltTx = bolt.Tx
