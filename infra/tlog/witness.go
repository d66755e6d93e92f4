package tlog

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// CosignaturesPath is where a witness posts its cosignature of a checkpoint.
const CosignaturesPath = "/api/v1/log/cosignatures"

// Cosign cosigns the checkpoint with k (a witness's key) as a C2SP tlog-cosignature (cosignature/v1:
// an Ed25519 signature over "cosignature/v1\ntime <unix seconds>\n" and the checkpoint's text, the
// 8-byte timestamp before the signature) and returns the note signature line, as a witness posts it and
// the log serves it after its own signature. It verifies with CosignatureVerifier(k.CosignerKey()).
func (k *Key) Cosign(c Checkpoint) ([]byte, error) {
	s, err := fnote.NewSignerForCosignatureV1(k.skey)
	if err != nil {
		return nil, fmt.Errorf("tlog: the cosigning key %s: %w", k.Name(), err)
	}
	msg, err := note.Sign(&note.Note{Text: c.Body()}, s)
	if err != nil {
		return nil, fmt.Errorf("tlog: cosign %s: %w", c, err)
	}
	_, sig, _ := bytes.Cut(msg, []byte("\n\n"))
	return sig, nil
}

// CosignerKey is the verifier key of k's cosignatures (Cosign): the note verifier key of type 0x04
// (Ed25519 cosignature/v1), whose key hash differs from VerifierKey's. A witness prints it; the ledger's
// operator gives it to serve --witness.
func (k *Key) CosignerKey() string { return k.cosigner }

// CosignatureVerifier reads a witness's verifier key (CosignerKey's form; a plain Ed25519 note key is
// taken as the same key's cosignature/v1 key) into the verifier of its C2SP cosignatures.
func CosignatureVerifier(vkey string) (note.Verifier, error) {
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return nil, fmt.Errorf("tlog: a witness's cosignature/v1 verifier key: %w", err)
	}
	return v, nil
}

// ErrFork is what a witness answers when the log shows it a checkpoint that is not consistent with the
// last one it cosigned: two validly signed, incompatible histories. The witness keeps both as evidence
// and cosigns nothing more.
var ErrFork = errors.New("tlog: the log forked")

// Witness is an independent party (another district, the civil-affairs bureau) that keeps the last
// checkpoint of a log it cosigned and cosigns a newer one only when the log proves the newer extends it.
// Two people shown two different histories would need the witness to cosign both: it never does.
type Witness struct {
	Log      string        // the ledger's base URL, http(s)://host:port
	Verifier note.Verifier // the log's key
	Origin   string        // when set, the origin the log's checkpoints must name
	Key      *Key          // the witness's own key (LoadOrCreateKey under State)
	State    string        // directory: the witness's key, the last checkpoint it cosigned, evidence of forks
	Client   *http.Client
}

// StateFile is the last checkpoint a witness cosigned, under its state directory.
const StateFile = "cosigned.checkpoint"

// WitnessResult is what one round of a witness did.
type WitnessResult struct {
	Previous, Latest uint64 // the sizes of the last cosigned checkpoint and of the one the log shows
	Cosigned         bool   // a new cosignature was posted
}

// Step fetches the log's latest checkpoint, checks it with the log's key, and when it is newer than the
// last one cosigned, fetches and verifies the consistency proof between them, cosigns the new one, posts
// the cosignature, and only then keeps it as its last. A checkpoint that does not extend the last one is
// ErrFork: both are written under State as evidence, nothing is cosigned.
func (w *Witness) Step(ctx context.Context) (WitnessResult, error) {
	var res WitnessResult
	if w.Client == nil {
		w.Client = &http.Client{Timeout: 30 * time.Second}
	}
	latestNote, err := w.get(ctx, CheckpointPath, nil)
	if err != nil {
		return res, err
	}
	latest, _, err := Open(latestNote, w.Verifier, w.Origin)
	if err != nil {
		return res, fmt.Errorf("the log's checkpoint: %w", err)
	}
	res.Latest = latest.Size
	lastNote, err := os.ReadFile(filepath.Join(w.State, StateFile))
	var last Checkpoint
	switch {
	case errors.Is(err, os.ErrNotExist): // the first checkpoint this witness sees: trust on first use
	case err != nil:
		return res, err
	default:
		if last, _, err = Open(lastNote, w.Verifier, w.Origin); err != nil {
			return res, fmt.Errorf("the witness's own last checkpoint: %w", err)
		}
		res.Previous = last.Size
		if latest.Size < last.Size || latest.Size == last.Size && !latest.Equal(last) {
			return res, w.fork(lastNote, latestNote, fmt.Errorf("the log shows size %d after %d was cosigned", latest.Size, last.Size))
		}
		if latest.Equal(last) {
			return res, nil
		}
		var cp ConsistencyProof
		body, err := w.get(ctx, ConsistencyPath, url.Values{"from": {strconv.FormatUint(last.Size, 10)}, "to": {strconv.FormatUint(latest.Size, 10)}})
		if err != nil {
			return res, err
		}
		if err := json.Unmarshal(body, &cp); err != nil {
			return res, fmt.Errorf("the log's consistency proof: %w", err)
		}
		p, err := DecodeProof(cp.Proof)
		if err != nil {
			return res, fmt.Errorf("the log's consistency proof: %w", err)
		}
		if err := VerifyConsistency(last, latest, p); err != nil {
			return res, w.fork(lastNote, latestNote, err)
		}
	}
	line, err := w.Key.Cosign(latest)
	if err != nil {
		return res, err
	}
	if err := w.post(ctx, append([]byte(latest.Body()+"\n"), line...)); err != nil {
		return res, err
	}
	if err := writeFileAtomic(filepath.Join(w.State, StateFile), latestNote); err != nil {
		return res, err
	}
	res.Cosigned = true
	return res, nil
}

// fork keeps both checkpoints as evidence and returns ErrFork.
func (w *Witness) fork(last, shown []byte, why error) error {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for name, b := range map[string][]byte{"fork-" + stamp + "-cosigned.checkpoint": last, "fork-" + stamp + "-shown.checkpoint": shown} {
		if err := writeFileAtomic(filepath.Join(w.State, name), b); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: %v (both checkpoints kept in %s as fork-%s-*)", ErrFork, why, w.State, stamp)
}

func (w *Witness) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	return getFrom(ctx, w.Client, w.Log, path, q)
}

// getFrom GETs path (with query q) of the log at base and returns the body of a 200 answer.
func getFrom(ctx context.Context, client *http.Client, base, path string, q url.Values) ([]byte, error) {
	u := strings.TrimSuffix(base, "/") + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return do(client, req)
}

func (w *Witness) post(ctx context.Context, cosigned []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(w.Log, "/")+CosignaturesPath, bytes.NewReader(cosigned))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	_, err = do(w.Client, req)
	return err
}

func do(client *http.Client, req *http.Request) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	if _, err = tmp.Write(b); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// ErrNotIncluded means the log does not prove the event is in it: the leaf it has at that position is
// another event's, or the proof does not lead to the signed root.
var ErrNotIncluded = errors.New("tlog: the event is not proved in the log")

// CheckInclusion checks, against the log at base and without trusting it, that the event with hash
// eventHash at $all position pos is in the log: it verifies the signed checkpoint (the latest the log
// serves, or signed when not nil) with v, asks for the inclusion proof at its size, and checks that the
// proved leaf is eventHash and the proof leads to the signed root. It returns the checkpoint and the
// proof.
func CheckInclusion(ctx context.Context, client *http.Client, base string, v note.Verifier, origin string, signed []byte, pos eventlog.Position, eventHash []byte) (Checkpoint, InclusionProof, error) {
	var ip InclusionProof
	if signed == nil {
		var err error
		if signed, err = getFrom(ctx, client, base, CheckpointPath, nil); err != nil {
			return Checkpoint{}, ip, err
		}
	}
	c, _, err := Open(signed, v, origin)
	if err != nil {
		return Checkpoint{}, ip, err
	}
	body, err := getFrom(ctx, client, base, InclusionPath, url.Values{"position": {pos.String()}, "tree_size": {strconv.FormatUint(c.Size, 10)}})
	if err != nil {
		return c, ip, err
	}
	if err := json.Unmarshal(body, &ip); err != nil {
		return c, ip, fmt.Errorf("the log's inclusion proof: %w", err)
	}
	leaf, err := hex.DecodeString(ip.Leaf)
	if err != nil || !bytes.Equal(leaf, eventHash) || ip.TreeSize != c.Size {
		return c, ip, fmt.Errorf("%w: the log's leaf at %s is %s, the notice's event hash is %x", ErrNotIncluded, pos, ip.Leaf, eventHash)
	}
	p, err := DecodeProof(ip.Proof)
	if err != nil {
		return c, ip, fmt.Errorf("the log's inclusion proof: %w", err)
	}
	if err := proof.VerifyInclusion(ptlog.Hasher, ip.LeafIndex, c.Size, ptlog.Hasher.HashLeaf(leaf), p, c.Root); err != nil {
		return c, ip, fmt.Errorf("%w: %v", ErrNotIncluded, err)
	}
	return c, ip, nil
}
