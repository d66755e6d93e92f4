package workload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// TestTheHistoryNamesRealDocuments: every document the demo's history names by hash — a notice's
// attachment, a meeting's minutes — is a real PDF handed to Options.Documents, whose SHA-256 is the hash
// named; the history is the same with or without the hand-over.
func TestTheHistoryNamesRealDocuments(t *testing.T) {
	ctx := context.Background()
	opts := workload.Options{Seed: 11, Communities: 2, Years: 1, Until: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Concurrency: 4}
	var mu sync.Mutex
	docs := map[string][]byte{}
	named := map[string]bool{}
	sink := newMemSink(func(_ string, _ eventlog.Event, e kernel.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch p := e.(type) {
		case disclosure.Published:
			for _, a := range p.Attachments {
				named[a.SHA256] = true
			}
		case meeting.MinutesRecorded:
			named[p.DocumentSHA256] = true
		}
	})
	with := opts
	with.Documents = func(pdf []byte) {
		sum := sha256.Sum256(pdf)
		mu.Lock()
		docs[hex.EncodeToString(sum[:])] = bytes.Clone(pdf)
		mu.Unlock()
	}
	stats, err := workload.Generate(ctx, with, sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) == 0 {
		t.Fatal("the history names no document")
	}
	for sha := range named {
		pdf, ok := docs[sha]
		if !ok {
			t.Fatalf("the history names %s, never handed over", sha)
		}
		if http.DetectContentType(pdf) != "application/pdf" || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
			t.Fatalf("document %s is not a PDF: %q", sha, pdf[:min(len(pdf), 40)])
		}
	}
	without, err := workload.Generate(ctx, opts, newMemSink(nil))
	if err != nil {
		t.Fatal(err)
	}
	if without.Digest != stats.Digest {
		t.Fatalf("the history differs with the documents handed over: %s vs %s", stats.Digest, without.Digest)
	}
}
