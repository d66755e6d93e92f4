package tlog

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/secret"
)

// KeyFile is the name of the log's signing key under the data directory: the note signer key and its
// verifier key, one a line, readable by its owner only.
const KeyFile = "tlog-signer.key"

// ErrKeyPermissions means the signing key file is readable or writable by others than its owner. Whoever
// could read it could sign checkpoints of another history in the log's name: make it private
// (chmod 600), and consider the key compromised if others did read it.
var ErrKeyPermissions = errors.New("tlog: the signing key file is accessible to others than its owner")

// Key is the log's note key: it signs checkpoints; its verifier key is what the public and witnesses
// check them with.
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	skey     string // the signer key, for a witness's cosignatures (Cosign)
	cosigner string // the verifier key of its cosignatures (CosignerKey)
}

// VerifierKey is the note verifier key ("<name>+<hash>+<base64 key>"): `ledger log key` prints it, the
// portal shows it, auditors and witnesses configure it.
func (k *Key) VerifierKey() string { return k.vkey }

// Verifier checks the log's signatures.
func (k *Key) Verifier() note.Verifier { return k.verifier }

// Name is the key's name (the origin the log had when the key was made).
func (k *Key) Name() string { return k.signer.Name() }

// LoadOrCreateKey reads the log's key from dir/KeyFile, creating it (named name, mode 0600, dir 0700 if
// missing) on first use. A key file readable or writable by group or others is refused with
// ErrKeyPermissions; one whose two keys do not belong together is refused too.
func LoadOrCreateKey(dir, name string) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	k, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, fmt.Errorf("tlog: generate the signing key named %q: %w", name, err)
	}
	if err := secret.Create(path, []byte(skey+"\n"+vkey+"\n")); err != nil {
		return nil, fmt.Errorf("tlog: create the signing key: %w", err)
	}
	return loadKey(path)
}

// LoadKey reads the log's key from dir/KeyFile without creating it (fs.ErrNotExist when there is none),
// with LoadOrCreateKey's checks.
func LoadKey(dir string) (*Key, error) {
	k, err := loadKey(filepath.Join(dir, KeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tlog: no signing key in %s (ledger serve creates it on first start): %w", dir, err)
	}
	return k, err
}

func loadKey(path string) (*Key, error) {
	b, err := secret.Read(path)
	if errors.Is(err, secret.ErrPermissions) {
		return nil, fmt.Errorf("%w: %w", ErrKeyPermissions, err)
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) != 2 {
		return nil, fmt.Errorf("tlog: %s: want the signer key and the verifier key, one a line", path)
	}
	s, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, fmt.Errorf("tlog: %s: signer key: %w", path, err)
	}
	v, err := note.NewVerifier(lines[1])
	if err != nil {
		return nil, fmt.Errorf("tlog: %s: verifier key: %w", path, err)
	}
	cosigner, err := fnote.VKeyToCosignatureV1(lines[1])
	if err != nil {
		return nil, fmt.Errorf("tlog: %s: verifier key: %w", path, err)
	}
	k := &Key{signer: s, verifier: v, vkey: lines[1], skey: lines[0], cosigner: cosigner}
	// The verifier must check what the signer signs: a mismatched file would publish checkpoints nobody
	// can verify.
	probe, err := note.Sign(&note.Note{Text: "key check\n"}, s)
	if err == nil {
		_, err = note.Open(probe, note.VerifierList(v))
	}
	if err != nil {
		return nil, fmt.Errorf("tlog: %s: the verifier key does not verify the signer key's signatures: %v", path, err)
	}
	return k, nil
}
