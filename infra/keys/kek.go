// Package keys is crypto-shredding of the personal data in events: every "personal" object of an event
// (kernel.PersonalData) is sealed before the event is hashed and appended — AES-256-GCM under a data key
// of its subject, with the subject and the event id as associated data — so the store, its hash chains
// and the transparency log only ever hold ciphertext. The data keys live in PostgreSQL (schema keystore),
// wrapped by a key-encryption key (KEK) that is a file beside the ledger's data, never in the database.
// Erasing a subject destroys its data keys: the history stays whole and verifiable, the data is gone.
//
// Three things read personal data, through Open: the auditors' exports, and the read models that keep a
// masked name (the finances model's individual payees). Everything else decodes the sealed objects and
// sees a subject id, a key id and ciphertext.
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/grassroots-ledger/ledger/infra/secret"
)

// KEKFile is the key-encryption key's file name under the data directory, unless LEDGER_KEK_FILE names
// another place (it should: a KEK kept beside a backup of the database protects nothing in that backup).
const KEKFile = "ledger-kek.key"

// KEKFileEnv is the environment variable that names the KEK's file.
const KEKFileEnv = "LEDGER_KEK_FILE"

// KEKPath is where the KEK of the ledger whose data directory is dataDir lives: LEDGER_KEK_FILE, or
// dataDir/KEKFile.
func KEKPath(dataDir string) string {
	if p := os.Getenv(KEKFileEnv); p != "" {
		return p
	}
	return filepath.Join(dataDir, KEKFile)
}

const kekPrefix = "ledger-kek-v1:"

// KEK is a key-encryption key: it wraps and unwraps data keys. ID names it without revealing it.
type KEK struct {
	ID   string
	aead cipher.AEAD
}

func newKEK(raw []byte) (*KEK, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("keys: a key-encryption key is 32 bytes, not %d", len(raw))
	}
	a, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("grassroots-ledger/kek-id/v1\x00"), raw...))
	return &KEK{ID: hex.EncodeToString(sum[:8]), aead: a}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// LoadKEK reads the KEK at path (fs.ErrNotExist when there is none). A file others may read is refused.
func LoadKEK(path string) (*KEK, error) {
	b, err := secret.Read(path)
	if err != nil {
		return nil, fmt.Errorf("keys: the key-encryption key: %w", err)
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(string(b)), kekPrefix)
	if !ok {
		return nil, fmt.Errorf("keys: %s is not a ledger key-encryption key (it must start %q)", path, kekPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	return newKEK(raw)
}

// CreateKEK makes a new random KEK at path (mode 0600), or loads the one already there.
func CreateKEK(path string) (*KEK, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	if err := secret.Create(path, []byte(kekPrefix+base64.StdEncoding.EncodeToString(raw)+"\n")); err != nil {
		return nil, fmt.Errorf("keys: create the key-encryption key %s: %w", path, err)
	}
	return LoadKEK(path)
}

// wrapAAD binds a wrapped data key to its id and subject: a wrapped key copied onto another row does not
// unwrap.
func wrapAAD(keyID, subject string) []byte {
	return []byte("grassroots-ledger/data-key/v1\x00" + keyID + "\x00" + subject)
}

func (k *KEK) wrap(keyID, subject string, dek []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, dek, wrapAAD(keyID, subject)), nil
}

// ErrTampered means a wrapped key or a sealed object does not authenticate: it was altered, or moved to
// another subject, key or event. Nothing is returned in its place.
var ErrTampered = errors.New("keys: authentication failed: the key store or the sealed data was altered")

func (k *KEK) unwrap(keyID, subject string, wrapped []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("%w (data key %s of %s is too short)", ErrTampered, keyID, subject)
	}
	dek, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], wrapAAD(keyID, subject))
	if err != nil {
		return nil, fmt.Errorf("%w (data key %s of %s)", ErrTampered, keyID, subject)
	}
	return dek, nil
}

// exists reports whether a file is at path.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
