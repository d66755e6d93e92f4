package keys_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// sparesReady waits until every recording process has made its first batch of spare keys and holds them
// (as serve does while it starts): the batch is durable in keystore.key_pool a moment before the process
// has it in memory, and a record taken in between makes its keys on the spot.
func sparesReady(t testing.TB, recorders ...*keys.Store) {
	t.Helper()
	for _, r := range recorders {
		for deadline := time.Now().Add(10 * time.Second); keys.SparesHeld(r) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no spare keys were made")
			}
		}
	}
}

func readAll(t *testing.T, store *eventstore.Store) []eventlog.Recorded {
	t.Helper()
	var out []eventlog.Recorded
	if err := store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		if !eventlog.SystemStream(r.Stream) {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestASpareKeyTakenBeforeACrashIsErasedWithThePerson: a recording process seals a new person's first
// record with a spare key, writing nothing to the key store on the way; the record is readable by any
// process at once. The process then dies without a word (nothing it knew reaches the key store), and
// another erases the person: the erasure learns from the store of record which key the person got and
// in which community, so the administrator's scope is checked against it and the key is destroyed.
func TestASpareKeyTakenBeforeACrashIsErasedWithThePerson(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	pool := pgtest.NewPool(t)
	path := filepath.Join(t.TempDir(), "kek")
	recorder := open(t, pool, path)
	listening(t, recorder)
	sparesReady(t, recorder)

	ev := event("cmd-1", "p-new")
	if _, err := recorder.Append(ctx, store, "expenditure-c1-x1", eventlog.NoStream(), []eventlog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	var known int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM keystore.data_keys) + (SELECT count(*) FROM keystore.subjects)`).Scan(&known); err != nil || known != 0 {
		t.Fatalf("the first record wrote %d rows to the key store (%v); a spare key needs none", known, err)
	}
	other := open(t, pool, path) // another process: an auditor's export
	recs := readAll(t, store)
	opened, err := other.OpenPayloads(ctx, recs)
	if err != nil || !bytes.Contains(opened[0], []byte(nationalID)) {
		t.Fatalf("the record sealed with a spare key, read by another process: %s %v", opened, err)
	}

	// The recorder is gone (a crash: its cache and what it took are lost); an administrator erases.
	eraser := keys.Eraser{Store: other, Records: store}
	paths, live, err := eraser.Holdings(ctx, "p-new")
	if err != nil || len(paths) != 1 || paths[0] != ev.Meta.Jurisdiction || len(live) != 1 {
		t.Fatalf("holdings of p-new: %v %v %v, want its community and one live key", paths, live, err)
	}
	if n, err := eraser.Destroy(ctx, "p-new", "erasure-1"); err != nil || n != 1 {
		t.Fatalf("destroy: %d %v", n, err)
	}
	opened, err = open(t, pool, path).OpenPayloads(ctx, recs)
	if err != nil || bytes.Contains(opened[0], []byte(nationalID)) || !bytes.Contains(opened[0], []byte(`"subject":"p-new","erased":true`)) {
		t.Fatalf("after the erasure: %s %v", opened, err)
	}
	if !bytes.Contains(opened[0], []byte("李四")) {
		t.Fatalf("the other person of the record must stay readable: %s", opened[0])
	}
	// The recorder, had it lived, seals the person's next record under a new key, readable.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		next := []eventlog.Event{event("after-"+string(rune('a'+i%26))+time.Now().Format("150405.000000"), "p-new")}
		if err := recorder.Seal(ctx, next); err != nil {
			t.Fatal(err)
		}
		got, err := other.OpenPayloads(ctx, recorded(next...))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got[0], []byte(nationalID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorder kept sealing with the destroyed key")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSparesFollowARotationAndUntakenOnesAreDeleted: the spare keys a process holds are re-wrapped by a
// KEK rotation like every data key, so a record sealed with one after the rotation opens with the new KEK
// alone; when the process stops, the spares it never took are deleted.
func TestSparesFollowARotationAndUntakenOnesAreDeleted(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	pool := pgtest.NewPool(t)
	path := filepath.Join(t.TempDir(), "kek")
	recorder := open(t, pool, path)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); recorder.Listen(lctx) }()
	for !recorder.Caching() {
		time.Sleep(5 * time.Millisecond)
	}
	sparesReady(t, recorder)
	newID, moved, err := open(t, pool, path).Rotate(ctx, nil)
	if err != nil || moved == 0 {
		t.Fatalf("rotate: %d keys, %v", moved, err)
	}
	if _, err := recorder.Append(ctx, store, "expenditure-c1-x2", eventlog.NoStream(), []eventlog.Event{event("cmd-2", "p-after")}); err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.key_pool WHERE kek_id <> $1`, newID).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d spare keys under the old KEK (%v)", stale, err)
	}
	opened, err := open(t, pool, path).OpenPayloads(ctx, readAll(t, store))
	if err != nil || !bytes.Contains(opened[0], []byte(nationalID)) {
		t.Fatalf("a record sealed with a spare after the rotation: %s %v", opened, err)
	}
	if err := open(t, pool, path).CheckStore(ctx, store); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.key_pool`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d spare keys left after the recorder stopped (%v); the taken ones are learnt, the others deleted", left, err)
	}
}

// TestRecordingWithSparesWhileErasingLeavesNothingReadableFromBefore: two recording processes, each with
// its key cache and spare keys, keep appending records of one person while a third process erases the
// person (keys.Eraser, as serve's erase-personal-data does). Every record appended before the erasure
// began reads as erased afterwards, whichever spare key sealed it and though neither recorder ever wrote
// which person took it; records appended after it are readable under new keys.
func TestRecordingWithSparesWhileErasingLeavesNothingReadableFromBefore(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	pool := pgtest.NewPool(t)
	path := filepath.Join(t.TempDir(), "kek")
	recorders := []*keys.Store{open(t, pool, path), open(t, pool, path)}
	for _, r := range recorders {
		listening(t, r)
	}
	sparesReady(t, recorders...)
	before := map[eventlog.ID]bool{}
	var mu sync.Mutex
	erasing, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		rec := recorders[w%2]
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cmd := fmt.Sprintf("w%d-%d", w, i)
				ev := event(cmd, "p1")
				if _, err := rec.Append(ctx, store, "expenditure-c1-"+cmd, eventlog.NoStream(), []eventlog.Event{ev}); err != nil {
					t.Error(err)
					return
				}
				appendedBefore := true
				select {
				case <-erasing:
					appendedBefore = false
				default:
				}
				mu.Lock()
				before[ev.ID] = appendedBefore
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	close(erasing)
	eraser := keys.Eraser{Store: open(t, pool, path), Records: store}
	if _, err := eraser.Destroy(ctx, "p1", "erasure-1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	recs := readAll(t, store)
	opened, err := open(t, pool, path).OpenPayloads(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	var nBefore, nAfter, readableAfter int
	for i, r := range recs {
		wasBefore, ok := before[r.ID]
		if !ok {
			continue
		}
		readable := bytes.Contains(opened[i], []byte(nationalID))
		switch {
		case wasBefore && readable:
			t.Fatalf("a record appended before the erasure began is readable: %s", opened[i])
		case wasBefore:
			nBefore++
		default:
			nAfter++
			if readable {
				readableAfter++
			}
		}
	}
	if nBefore == 0 || nAfter == 0 || readableAfter == 0 {
		t.Fatalf("the recorders did not overlap the erasure: %d before, %d after (%d readable)", nBefore, nAfter, readableAfter)
	}
	t.Logf("%d records before the erasure (all erased), %d after (%d readable)", nBefore, nAfter, readableAfter)
}
