// Package tlog publishes and verifies the ledger's transparency log (the tree itself is the read model
// projections/tlog): the log's Ed25519 note key, kept under the data directory; C2SP tlog-checkpoint
// bodies signed as notes (golang.org/x/mod/sumdb/note); the signer loop that stores a new checkpoint while
// the tree grows, in schema tlog, which `ledger rebuild` never drops; the check that stored checkpoints
// still hold after a rebuild; and the auditors' verification that recomputes the tree from the event store
// and compares it with signed checkpoints, naming the first leaf that differs.
package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// DefaultOrigin is the log's origin when none is configured. A deployment names its ledger instead
// (e.g. "ledger.example/龙湾区"): the origin is the first line of every checkpoint and tells logs apart.
const DefaultOrigin = "ledger.local/district"

// Checkpoint is a C2SP tlog-checkpoint: the log's origin, a tree size and the root hash of the tree of
// that size.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Body is the checkpoint's note text: origin, decimal size and base64 root, each line ending in "\n".
func (c Checkpoint) Body() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root) + "\n"
}

func (c Checkpoint) String() string {
	return fmt.Sprintf("%s checkpoint of size %d, root %s", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// ErrBadCheckpoint means a note is not a checkpoint of this log: it does not parse as a signed note, its
// signature does not verify with the log's key, or its body is not a tlog-checkpoint. Nothing it says can
// be trusted; it is evidence of nothing.
var ErrBadCheckpoint = errors.New("tlog: not a valid checkpoint of this log")

// ParseBody reads a tlog-checkpoint body. Extension lines after the root are allowed and ignored.
func ParseBody(text string) (Checkpoint, error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 4 || !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and root lines, each ending in a newline", ErrBadCheckpoint)
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	sizeText := strings.TrimSuffix(lines[1], "\n")
	rootText := strings.TrimSuffix(lines[2], "\n")
	if origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin line", ErrBadCheckpoint)
	}
	size, err := strconv.ParseUint(sizeText, 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != sizeText {
		return Checkpoint{}, fmt.Errorf("%w: tree size %q is not a decimal number", ErrBadCheckpoint, sizeText)
	}
	root, err := base64.StdEncoding.Strict().DecodeString(rootText)
	if err != nil || len(root) != ptlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root %q is not a base64 SHA-256 hash", ErrBadCheckpoint, rootText)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root}, nil
}

// Sign signs c as a note with the log's key: the signed checkpoint as served and stored.
func Sign(c Checkpoint, k *Key) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.Body()}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("tlog: sign %s: %w", c, err)
	}
	return msg, nil
}

// Open verifies a signed checkpoint with the log's verifier and parses it. Signatures by other keys (a
// witness's cosignatures) are allowed and left unverified in the returned note. When origin is not empty,
// the checkpoint must name it.
func Open(msg []byte, v note.Verifier, origin string) (Checkpoint, *note.Note, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	c, err := ParseBody(n.Text)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if origin != "" && c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("%w: origin %q, this log is %q", ErrBadCheckpoint, c.Origin, origin)
	}
	return c, n, nil
}

// Equal reports whether two checkpoints name the same origin, size and root.
func (c Checkpoint) Equal(d Checkpoint) bool {
	return c.Origin == d.Origin && c.Size == d.Size && bytes.Equal(c.Root, d.Root)
}
