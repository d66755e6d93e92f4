package keys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

const (
	nationalID = "330303198505121237"
	phone      = "13912345671"
	address    = "龙湾区永中街道永宁路18号"
)

func open(t testing.TB, pool *pgxpool.Pool, path string) *keys.Store {
	t.Helper()
	s, err := keys.Open(context.Background(), pool, path, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// event is an expenditure with an individual payee, and a roster whose seats hold personal data in a
// list: the two shapes personal objects take.
func event(cmd, subject string) eventlog.Event {
	data := `{"expenditure_id":"x1","payee":{"kind":"individual","person":"` + subject + `","personal":{"subject":"` + subject +
		`","name":"张三","national_id":"` + nationalID + `","phone":"` + phone + `","address":"` + address + `"}},` +
		`"seats":[{"person":"p9","personal":{"subject":"p9","name":"李四"}},{"person":"p8"}],"amount_fen":1200}`
	return eventlog.Event{ID: eventlog.DeriveID(cmd, 0), Type: "funds.expenditure-requested", Data: []byte(data),
		Meta: eventlog.Metadata{CommunityID: "c1", Jurisdiction: "33/3303/330303/330303001/330303001001"}}
}

func recorded(evs ...eventlog.Event) []eventlog.Recorded {
	out := make([]eventlog.Recorded, len(evs))
	for i, e := range evs {
		out[i] = eventlog.Recorded{Event: e}
	}
	return out
}

func TestSealedDataHoldsNoPersonalDataAndOpensForAuditors(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := open(t, pool, filepath.Join(t.TempDir(), "kek"))
	ev := event("cmd-1", "p1")
	clear := bytes.Clone(ev.Data)
	evs := []eventlog.Event{ev, {ID: eventlog.DeriveID("cmd-2", 0), Type: "x", Data: []byte(`{"a":1}`)}}
	if err := s.Seal(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"张三", "李四", nationalID, phone, address} {
		if bytes.Contains(evs[0].Data, []byte(secret)) {
			t.Fatalf("sealed payload still holds %q: %s", secret, evs[0].Data)
		}
	}
	if string(evs[1].Data) != `{"a":1}` {
		t.Fatalf("an event without personal data changed: %s", evs[1].Data)
	}
	if !json.Valid(evs[0].Data) || !bytes.Contains(evs[0].Data, []byte(`"amount_fen":1200`)) || !bytes.Contains(evs[0].Data, []byte(`{"person":"p8"}`)) {
		t.Fatalf("the rest of the payload must stay as it was: %s", evs[0].Data)
	}
	// Sealing again (a copy of a sealed store) changes nothing.
	again := bytes.Clone(evs[0].Data)
	if err := s.Seal(ctx, evs[:1]); err != nil || !bytes.Equal(again, evs[0].Data) {
		t.Fatalf("sealing a sealed payload changed it (%v)", err)
	}
	opened, err := s.OpenPayloads(ctx, recorded(evs...))
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(clear, &want)
	_ = json.Unmarshal(opened[0], &got)
	if !equalJSON(want, got) {
		t.Fatalf("opened payload\n%s\nwant\n%s", opened[0], clear)
	}
	// One live key per subject: a second event of p1 is sealed with the same key.
	ev2 := event("cmd-3", "p1")
	if err := s.Seal(ctx, []eventlog.Event{ev2}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.data_keys`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("data keys: %d (%v), want one for p1 and one for p9", n, err)
	}
	paths, live, err := s.Holdings(ctx, "p1")
	if err != nil || len(live) != 1 || len(paths) != 1 || paths[0] != ev.Meta.Jurisdiction {
		t.Fatalf("holdings of p1: %v %v %v", paths, live, err)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestErasedSubjectReadsAsErasedAndNewDataGetsANewKey(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := open(t, pool, filepath.Join(t.TempDir(), "kek"))
	before := []eventlog.Event{event("cmd-1", "p1")}
	if err := s.Seal(ctx, before); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Destroy(ctx, "p1", "erasure-1"); err != nil || n != 1 {
		t.Fatalf("destroy: %d %v", n, err)
	}
	if n, err := s.Destroy(ctx, "p1", "erasure-2"); err != nil || n != 0 {
		t.Fatalf("a second destroy: %d %v, want nothing", n, err)
	}
	after := []eventlog.Event{event("cmd-2", "p1")}
	if err := s.Seal(ctx, after); err != nil {
		t.Fatal(err)
	}
	opened, err := s.OpenPayloads(ctx, recorded(before[0], after[0]))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(opened[0], []byte(nationalID)) || !bytes.Contains(opened[0], []byte(`{"subject":"p1","erased":true}`)) {
		t.Fatalf("data recorded before the erasure must read as erased, also once the subject has a new key: %s", opened[0])
	}
	if !bytes.Contains(opened[1], []byte(nationalID)) {
		t.Fatalf("data recorded after the erasure reads under the new key: %s", opened[1])
	}
	// The typed path the read models use says the same.
	sealed := sealedOf(t, before[0])
	got, err := s.Open(ctx, []runtime.SealedPersonal{{Event: before[0].ID, Data: sealed}, {Data: kernel.PersonalData{Subject: "p2", Name: "王五"}}})
	if err != nil || !got[0].Erased || got[0].Name != "" || got[1].Name != "王五" {
		t.Fatalf("open: %+v %v", got, err)
	}
}

// sealedOf is the payee's sealed personal object of an expenditure event.
func sealedOf(t *testing.T, e eventlog.Event) kernel.PersonalData {
	t.Helper()
	var v struct {
		Payee struct {
			Personal kernel.PersonalData `json:"personal"`
		} `json:"payee"`
	}
	if err := json.Unmarshal(e.Data, &v); err != nil || !v.Payee.Personal.IsSealed() {
		t.Fatalf("no sealed payee in %s (%v)", e.Data, err)
	}
	return v.Payee.Personal
}

func TestTamperingIsAnAuthenticationError(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := open(t, pool, filepath.Join(t.TempDir(), "kek"))
	evs := []eventlog.Event{event("cmd-1", "p1"), event("cmd-2", "p2")}
	if err := s.Seal(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// The sealed object moved to another event does not open.
	moved := evs[1]
	moved.ID = evs[0].ID
	if _, err := s.OpenPayloads(ctx, recorded(moved)); !errors.Is(err, keys.ErrTampered) {
		t.Fatalf("a sealed object moved to another event: %v, want ErrTampered", err)
	}
	// A flipped ciphertext byte does not open.
	p := sealedOf(t, evs[0])
	flipped := p
	raw := []byte(p.Sealed)
	raw[20] ^= 1
	if raw[20] == '=' || raw[20] == '+' {
		raw[20] = 'A'
	}
	flipped.Sealed = string(raw)
	if _, err := s.Open(ctx, []runtime.SealedPersonal{{Event: evs[0].ID, Data: flipped}}); !errors.Is(err, keys.ErrTampered) {
		t.Fatalf("altered ciphertext: %v, want ErrTampered", err)
	}
	// A key store row altered, or swapped with another subject's: authentication fails, never garbage.
	if _, err := pool.Exec(ctx, `UPDATE keystore.data_keys SET wrapped = set_byte(wrapped, 20, get_byte(wrapped, 20) # 1) WHERE subject = 'p1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenPayloads(ctx, recorded(evs[0])); !errors.Is(err, keys.ErrTampered) || strings.Contains(err.Error(), "张三") {
		t.Fatalf("an altered key store row: %v, want ErrTampered", err)
	}
	if _, err := pool.Exec(ctx, `UPDATE keystore.data_keys SET wrapped = (SELECT wrapped FROM keystore.data_keys WHERE subject = 'p9') WHERE subject = 'p2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenPayloads(ctx, recorded(evs[1])); !errors.Is(err, keys.ErrTampered) {
		t.Fatalf("another subject's key copied onto a row: %v, want ErrTampered", err)
	}
	// A key id the store never held.
	p.Key = "dk-00"
	if _, err := s.Open(ctx, []runtime.SealedPersonal{{Event: evs[0].ID, Data: p}}); !errors.Is(err, keys.ErrUnknownKey) {
		t.Fatalf("an unknown key: %v, want ErrUnknownKey", err)
	}
}

func TestMissingOrWrongKEKIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	s := open(t, pool, path)
	if err := s.Seal(ctx, []eventlog.Event{event("cmd-1", "p1")}); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM keystore.data_keys) + (SELECT count(*) FROM keystore.kek)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n0 := count()
	if _, err := keys.Open(ctx, pool, filepath.Join(dir, "elsewhere"), true); !errors.Is(err, keys.ErrNoKEK) ||
		!strings.Contains(err.Error(), keys.KEKFileEnv) {
		t.Fatalf("a missing KEK: %v, want ErrNoKEK saying what to do", err)
	}
	if exists(filepath.Join(dir, "elsewhere")) {
		t.Fatal("a missing KEK must not be replaced by a new one while keys exist")
	}
	other := filepath.Join(dir, "other")
	if _, err := keys.CreateKEK(other); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(ctx, pool, other, true); !errors.Is(err, keys.ErrWrongKEK) {
		t.Fatalf("another KEK: %v, want ErrWrongKEK", err)
	}
	if count() != n0 {
		t.Fatal("a refused start wrote to the key store")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(ctx, pool, path, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable KEK: %v, want a refusal saying chmod 600", err)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestRotateKEKRewrapsEveryKeyWithoutTouchingTheData(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	path := filepath.Join(t.TempDir(), "kek")
	s := open(t, pool, path)
	var evs []eventlog.Event
	for i := range 30 {
		evs = append(evs, event("cmd-"+string(rune('a'+i)), "p"+string(rune('a'+i))))
	}
	if err := s.Seal(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Destroy(ctx, "pa", "erasure-1"); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	oldID := s.KEKID()
	// A second process with the old KEK loaded keeps working through the rotation.
	other := open(t, pool, path)
	var calls int
	newID, moved, err := s.Rotate(ctx, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if moved != 30 || calls == 0 || newID == oldID { // 29 live subjects + p9
		t.Fatalf("rotated %d keys (%d progress calls), new %s old %s", moved, calls, newID, oldID)
	}
	if now, _ := os.ReadFile(path); bytes.Equal(now, old) || exists(path+".new") {
		t.Fatal("the new KEK must replace the old one at its path")
	}
	for _, st := range []*keys.Store{s, other, open(t, pool, path)} {
		opened, err := st.OpenPayloads(ctx, recorded(evs...))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(opened[0], []byte(`"erased":true`)) || !bytes.Contains(opened[1], []byte(nationalID)) {
			t.Fatalf("after rotation: %s / %s", opened[0], opened[1])
		}
	}
	// The process that still had the old KEK seals new data under the new one.
	if err := other.Seal(ctx, []eventlog.Event{event("cmd-new", "pnew")}); err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.data_keys WHERE kek_id IS NOT NULL AND kek_id <> $1`, newID).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d keys under another KEK than the new one (%v)", stale, err)
	}
	// The old KEK opens nothing any more.
	oldPath := filepath.Join(t.TempDir(), "old")
	if err := os.WriteFile(oldPath, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(ctx, pool, oldPath, true); !errors.Is(err, keys.ErrWrongKEK) {
		t.Fatalf("the retired KEK: %v, want ErrWrongKEK", err)
	}
}

func TestSealingIsSafeUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := open(t, pool, filepath.Join(t.TempDir(), "kek"))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				if err := s.Seal(ctx, []eventlog.Event{event("cmd-"+string(rune('a'+w))+string(rune('a'+i)), "shared")}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var live int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.data_keys WHERE subject = 'shared' AND wrapped IS NOT NULL`).Scan(&live); err != nil || live != 1 {
		t.Fatalf("%d live keys for one subject (%v), want 1", live, err)
	}
}

// TestRecordingWhileErasingLeavesNothingReadableFromBefore: writers keep sealing data of one person while
// the person is erased. Everything sealed before the erasure began reads as erased afterwards, whatever
// key the person got since; at no time are two keys of the person live.
func TestRecordingWhileErasingLeavesNothingReadableFromBefore(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := open(t, pool, filepath.Join(t.TempDir(), "kek"))
	type sealed struct {
		ev     eventlog.Event
		before bool // sealing ended before the erasure began
	}
	var mu sync.Mutex
	var all []sealed
	erasing := make(chan struct{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := []eventlog.Event{event(fmt.Sprintf("w%d-%d", w, i), "p1")}
				if err := s.Seal(ctx, ev); err != nil {
					t.Error(err)
					return
				}
				before := true
				select {
				case <-erasing:
					before = false
				default:
				}
				mu.Lock()
				all = append(all, sealed{ev[0], before})
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(erasing)
	if _, err := s.Destroy(ctx, "p1", "erasure-1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	var live int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM keystore.data_keys WHERE subject = 'p1' AND wrapped IS NOT NULL`).Scan(&live); err != nil || live > 1 {
		t.Fatalf("%d live keys for p1 (%v)", live, err)
	}
	var before, after, readableAfter int
	for _, x := range all {
		opened, err := s.OpenPayloads(ctx, recorded(x.ev))
		if err != nil {
			t.Fatal(err)
		}
		readable := bytes.Contains(opened[0], []byte(nationalID))
		switch {
		case x.before && readable:
			t.Fatalf("data sealed before the erasure began is readable: %s", opened[0])
		case x.before:
			before++
		case readable:
			readableAfter++
			after++
		default:
			after++
		}
	}
	if before == 0 || after == 0 || readableAfter == 0 {
		t.Fatalf("the writers did not overlap the erasure: %d before, %d after (%d readable)", before, after, readableAfter)
	}
}

// listening runs s.Listen until the test ends and waits until the key cache is on.
func listening(tb testing.TB, s *keys.Store) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Listen(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); !s.Caching(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the key cache did not turn on")
		}
	}
}

// TestACachedKeyIsDroppedWhenAnotherProcessDestroysIt: a process that caches a person's key learns of the
// key's destruction by another process and seals what it records next under a new key, readable; what it
// sealed before stays erased.
func TestACachedKeyIsDroppedWhenAnotherProcessDestroysIt(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	path := filepath.Join(t.TempDir(), "kek")
	a := open(t, pool, path)
	listening(t, a)
	// Recorded as the command side records (the first record may take a spare key: which person took it is
	// learnt from the store before the erasure, as the erasure command does through an Eraser).
	_, store := nodetest.Start(t, nil)
	if _, err := a.Append(ctx, store, "expenditure-c1-x1", eventlog.NoStream(), []eventlog.Event{event("cmd-1", "p1")}); err != nil {
		t.Fatal(err)
	}
	b := open(t, pool, path) // another process
	if n, err := (keys.Eraser{Store: b, Records: store}).Destroy(ctx, "p1", "erasure-1"); err != nil || n != 1 {
		t.Fatalf("destroy: %d %v", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		ev := []eventlog.Event{event(fmt.Sprint("after-", i), "p1")}
		if err := a.Seal(ctx, ev); err != nil {
			t.Fatal(err)
		}
		opened, err := b.OpenPayloads(ctx, recorded(ev...))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(opened[0], []byte(nationalID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process kept sealing with the destroyed key")
		}
		time.Sleep(10 * time.Millisecond)
	}
	opened, err := a.OpenPayloads(ctx, readAll(t, store))
	if err != nil || !bytes.Contains(opened[0], []byte(`"erased":true`)) {
		t.Fatalf("what was sealed before the destruction: %s %v", opened, err)
	}
}

// The sealed store keeps the store's Append contract: the caller's events come back holding the chain's
// hashes, so a caller that continues a stream from its own last event continues the chain. The demo
// generator does (it appends a stream in segments while others are in flight); generated through the
// sealed store, as `ledger demo` and `serve --demo` do, every stream of its history verifies. From
// 2026-12-05 to this test it did not: each stream's second segment was chained to an empty hash.
func TestTheSealedStoreKeepsTheChain(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	ks := open(t, pgtest.NewPool(t), filepath.Join(t.TempDir(), "kek"))
	listening(t, ks)

	evs := []eventlog.Event{event("chain-1", "p1"), event("chain-2", "p2")}
	if _, err := ks.Append(ctx, store, "expenditure-c1-chain", eventlog.NoStream(), evs); err != nil {
		t.Fatal(err)
	}
	recs, err := store.Load(ctx, "expenditure-c1-chain")
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].Meta.Hash != recs[i].Meta.Hash || evs[i].Meta.PrevHash != recs[i].Meta.PrevHash {
			t.Fatalf("event %d came back with hash %q after %q; the store holds %q after %q", i,
				evs[i].Meta.Hash, evs[i].Meta.PrevHash, recs[i].Meta.Hash, recs[i].Meta.PrevHash)
		}
	}
	if string(evs[0].Data) == string(recs[0].Data) {
		t.Fatal("the personal data was not sealed")
	}

	stats, err := workload.Generate(ctx, workload.Options{Seed: 5, Communities: 2, Years: 1,
		Until: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Concurrency: 4}, sealedSink{ks, store})
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]*eventlog.ChainVerifier{}
	continued := 0 // streams written in more than one append
	n := 0
	err = store.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		v := chains[r.Stream]
		if v == nil {
			v = &eventlog.ChainVerifier{}
			chains[r.Stream] = v
		}
		if r.Revision > 0 && r.Meta.PrevHash != "" && v.Tail() != "" {
			continued++
		}
		n++
		return v.Next(r)
	})
	if err != nil {
		t.Fatalf("the demo's history, appended through the sealed store: %v", err)
	}
	if n != stats.Events+len(evs) || continued == 0 {
		t.Fatalf("read %d events (%d continuing a stream), generated %d", n, continued, stats.Events+len(evs))
	}
}

// A key store that never held the keys the store's personal data was sealed with (another ledger's
// database, or a key store restored from a dump older than the history) is refused by CheckStore — which
// serve runs before it serves — naming the problem, and learns nothing; the ledger's own key store,
// with a destroyed key among them, passes.
func TestAKeyStoreWithoutTheStoresKeysIsRefused(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	ks := open(t, pgtest.NewPool(t), filepath.Join(t.TempDir(), "kek"))
	for i, p := range []string{"p1", "p2"} {
		if _, err := ks.Append(ctx, store, fmt.Sprintf("expenditure-c1-k%d", i), eventlog.NoStream(), []eventlog.Event{event(fmt.Sprintf("k-%d", i), p)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ks.Destroy(ctx, "p1", "erasure-1"); err != nil {
		t.Fatal(err)
	}
	if err := ks.CheckStore(ctx, store); err != nil {
		t.Fatalf("the ledger's own key store: %v", err)
	}
	otherPool := pgtest.NewPool(t)
	other := open(t, otherPool, filepath.Join(t.TempDir(), "kek"))
	err := other.CheckStore(ctx, store)
	if !errors.Is(err, keys.ErrUnknownKeys) || !strings.Contains(err.Error(), "ledger restore") {
		t.Fatalf("another key store: %v, want ErrUnknownKeys saying what to do", err)
	}
	var learnt int
	if err := otherPool.QueryRow(ctx, `SELECT (SELECT count(*) FROM keystore.subjects) + (SELECT count(*) FROM keystore.store_check)`).Scan(&learnt); err != nil || learnt != 0 {
		t.Fatalf("the refused key store learnt %d rows (%v)", learnt, err)
	}
}
