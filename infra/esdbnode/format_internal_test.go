package esdbnode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func sampleEvent() event {
	return event{
		position:    42,
		revision:    7,
		created:     17_000_000_000_000_000,
		id:          [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		stream:      []byte("disbursement-330303001001-2026-0042"),
		eventType:   []byte("funds.disbursement-approved"),
		contentType: []byte("application/json"),
		metadata:    []byte(`{"actor":"clerk"}`),
		data:        []byte(`{"amount":125000}`),
	}
}

func TestEventRecordRoundTrip(t *testing.T) {
	in := sampleEvent()
	rec := appendEvent(nil, &in)
	if len(rec) != encodedEventLen(&in) {
		t.Fatalf("encoded %d bytes, predicted %d", len(rec), encodedEventLen(&in))
	}
	var out event
	if err := decodeEvent(positionKey(42), rec, &out); err != nil {
		t.Fatal(err)
	}
	if out.position != in.position || out.revision != in.revision || out.created != in.created || out.id != in.id ||
		!bytes.Equal(out.stream, in.stream) || !bytes.Equal(out.eventType, in.eventType) ||
		!bytes.Equal(out.contentType, in.contentType) || !bytes.Equal(out.metadata, in.metadata) || !bytes.Equal(out.data, in.data) {
		t.Fatalf("round trip: got %+v", out)
	}
}

// Every single-byte change to a record, and a record under the wrong key, is detected.
func TestEventRecordChecksumCatchesEveryFlip(t *testing.T) {
	in := sampleEvent()
	rec := appendEvent(nil, &in)
	var out event
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 0x01
		if err := decodeEvent(positionKey(42), bad, &out); err == nil {
			t.Errorf("flip at byte %d not detected", i)
		}
	}
	if err := decodeEvent(positionKey(43), rec, &out); err == nil {
		t.Error("record under the wrong position not detected")
	}
	if err := decodeEvent(positionKey(42), rec[:len(rec)-1], &out); err == nil {
		t.Error("truncated record not detected")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	in := sampleEvent()
	f.Add(appendEvent(nil, &in))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e event
		_ = decodeEvent(positionKey(42), b, &e) // must not panic
	})
}

func TestIndexAndHeadValuesCarryChecksums(t *testing.T) {
	k := revKey(3, 9)
	v := indexValue(k, 1234)
	if p, err := decodeIndexValue(k, v); err != nil || p != 1234 {
		t.Fatalf("index value: %d, %v", p, err)
	}
	if _, err := decodeIndexValue(revKey(3, 10), v); err == nil {
		t.Error("index value under another key not detected")
	}
	h := headValue([]byte("s"), streamHead{num: 5, lastRev: 8})
	if got, err := decodeHeadValue([]byte("s"), h); err != nil || got.num != 5 || got.lastRev != 8 {
		t.Fatalf("head value: %+v, %v", got, err)
	}
	h[10] ^= 1
	if _, err := decodeHeadValue([]byte("s"), h); err == nil {
		t.Error("damaged head not detected")
	}
}

func TestOpenRefusesUnknownFormatVersion(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := Open(context.Background(), Config{Dir: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, dataFileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyHeader, headerValue(99))
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_, err = Open(context.Background(), Config{Dir: dir, Logger: logger})
	if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("got %v, want ErrUnsupportedFormat naming %s and version 99", err, path)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "Dir") {
		t.Errorf("empty config: %v", err)
	}
	if err := (Config{Dir: "x", Listen: "nonsense"}).Validate(); err == nil {
		t.Error("bad listen address accepted")
	}
	// The node has no authentication: beyond loopback only when allowed.
	for listen, ok := range map[string]bool{"127.0.0.1:2113": true, "[::1]:2113": true, "localhost:2113": true, "127.0.0.2:0": true,
		"0.0.0.0:2113": false, ":2113": false, "[::]:2113": false, "192.168.1.10:2113": false, "ledger.example:2113": false} {
		err := (Config{Dir: "x", Listen: listen}).Validate()
		if (err == nil) != ok || !ok && !strings.Contains(err.Error(), "not loopback") {
			t.Errorf("listen %s: %v", listen, err)
		}
		if err := (Config{Dir: "x", Listen: listen, AllowRemote: true}).Validate(); err != nil {
			t.Errorf("listen %s allowed remote: %v", listen, err)
		}
	}
	if err := (Config{Dir: "x", MaxBatch: -1}).Validate(); err == nil {
		t.Error("negative MaxBatch accepted")
	}
	c := Config{Dir: "x"}
	c.setDefaults()
	if err := c.Validate(); err != nil || c.Listen != "127.0.0.1:0" || c.MaxBatch != DefaultMaxBatch || c.Logger == nil {
		t.Errorf("defaults %+v: %v", c, err)
	}
}
