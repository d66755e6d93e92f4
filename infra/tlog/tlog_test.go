package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

const origin = "ledger.example/龙湾区"

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// step is one event of a scripted history: appended to stream, in $all order.
type step struct {
	stream string
	event  eventlog.Event
}

// script is a genuine history: five streams of ten events, interleaved round by round, so leaf
// 5*round+s is the round-th event of stream s.
func script(tag string) []step {
	var out []step
	for round := range 10 {
		for s := range 5 {
			out = append(out, stepOf(s, round, tag))
		}
	}
	return out
}

func stepOf(s, round int, tag string) step {
	cid := fmt.Sprintf("33030300100%d", s%2)
	cmd := fmt.Sprintf("%s-%d-%d", tag, s, round)
	return step{stream: eventlog.StreamName("expenditure", cid, fmt.Sprint(s)), event: eventlog.Event{
		ID: eventlog.DeriveID(cmd, 0), Type: "funds.expenditure-requested",
		Data: fmt.Appendf(nil, `{"round":%d,"amount_fen":%d,"purpose":"村道硬化"}`, round, 1000*(s+1)),
		Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: cid, Jurisdiction: "33/3303/330303/330303001/" + cid,
			Actor: "clerk:test", CommandID: cmd, OccurredAt: time.Date(2026, 3, 1, round, s, 0, 0, time.UTC)},
	}}
}

// store is a real embedded node reached through the adapter.
type store struct {
	node *esdbnode.Node
	*eventstore.Store
}

func newStore(t *testing.T) store {
	node, st := nodetest.Start(t, nil)
	return store{node: node, Store: st}
}

// write appends steps through the adapter, which seals each stream's chain: the same content after the
// same predecessor gets the same hash as in any other store.
func (s store) write(t *testing.T, steps []step) {
	t.Helper()
	for _, st := range steps {
		if _, err := s.Append(context.Background(), st.stream, eventlog.Any(), []eventlog.Event{st.event}); err != nil {
			t.Fatalf("append to %s: %v", st.stream, err)
		}
	}
}

// logDB is the ledger's PostgreSQL with the tree projected from a store and the log's key.
type logDB struct {
	pool *pgxpool.Pool
	key  *tlog.Key
	pub  *tlog.Publisher
}

func newLogDB(t *testing.T) *logDB {
	t.Helper()
	pool, err := pg.Connect(context.Background(), pg.Config{URL: pgtest.NewDatabase(t), MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	key, err := tlog.LoadOrCreateKey(t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	pub, err := tlog.NewPublisher(tlog.Config{Pool: pool, Key: key, Origin: origin, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return &logDB{pool: pool, key: key, pub: pub}
}

// project rebuilds rm_tlog from src, as `ledger rebuild tlog` does.
func (l *logDB) project(t *testing.T, src store) {
	t.Helper()
	rt, err := runtime.New(runtime.Config{Pool: l.pool, Source: src.Store, Migrate: pg.Migrator(l.pool),
		Models: []runtime.ReadModel{ptlog.Model{}}, Registerer: prometheus.NewRegistry(), Logger: quiet(), RebuildBatch: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := rt.Rebuild(context.Background(), ptlog.Model{}, nil); err != nil {
		t.Fatal(err)
	}
}

func (l *logDB) publish(t *testing.T) []byte {
	t.Helper()
	if _, _, err := l.pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	msg, err := tlog.LatestNote(context.Background(), l.pool)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// genuine is the ledger's real history in a store, projected, with checkpoints signed at 30 and 50.
func genuine(t *testing.T) (store, *logDB, [][]byte) {
	t.Helper()
	st, db := newStore(t), newLogDB(t)
	steps := script("genuine")
	st.write(t, steps[:30])
	db.project(t, st)
	cp30 := db.publish(t)
	st.write(t, steps[30:])
	db.project(t, st)
	cp50 := db.publish(t)
	return st, db, [][]byte{cp30, cp50}
}

func verify(t *testing.T, src store, db *logDB, cps [][]byte, withTree bool) tlog.VerifyReport {
	t.Helper()
	cfg := tlog.VerifyConfig{Store: src.Store, Verifier: db.key.Verifier(), Origin: origin, Checkpoints: cps}
	if withTree {
		cfg.Tree = ptlog.NewTree(db.pool)
	}
	rep, err := tlog.Verify(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// wantDiff checks that the checkpoint of size 50 is reported as kind with first differing leaf first,
// the store's event there being want (nil: the store ends before it).
func wantDiff(t *testing.T, rep tlog.VerifyReport, kind tlog.Kind, first int64, want *step, wantRev uint64) {
	t.Helper()
	if rep.Intact || len(rep.Checkpoints) != 2 {
		t.Fatalf("want a %s history, report says intact or has no two checkpoints: %+v", kind, rep)
	}
	got := rep.Checkpoints[1]
	if got.Size != 50 || got.Kind != kind || got.FirstDiff != first {
		t.Fatalf("checkpoint 50: %s at leaf %d, want %s at leaf %d: %s", got.Kind, got.FirstDiff, kind, first, got.Message)
	}
	if !strings.Contains(got.Message, fmt.Sprintf("first differing leaf %d", first)) || !strings.Contains(rep.Message, "first differing leaf") {
		t.Fatalf("messages %q, %q", got.Message, rep.Message)
	}
	if want == nil {
		if got.Store != nil {
			t.Fatalf("the store has %s at %d, want nothing", got.Store, first)
		}
	} else if got.Store == nil || got.Store.Stream != want.stream || got.Store.Revision != wantRev || got.Store.Index != uint64(first) {
		t.Fatalf("the store's leaf %d is %v, want %s@%d", first, got.Store, want.stream, wantRev)
	}
}

func TestVerifyIntactHistory(t *testing.T) {
	t.Parallel()
	st, db, cps := genuine(t)
	rep := verify(t, st, db, cps, true)
	if !rep.Intact || rep.Size != 50 || len(rep.Checkpoints) != 2 || rep.Altered != nil {
		t.Fatalf("%+v", rep)
	}
	for _, c := range rep.Checkpoints {
		if c.Kind != tlog.Consistent {
			t.Fatalf("%+v", c)
		}
	}
	if mm, err := tlog.CheckStored(context.Background(), db.pool); err != nil || len(mm) != 0 {
		t.Fatalf("stored checkpoints after a rebuild of the same history: %v, %v", mm, err)
	}
}

// A stream rewritten from one event on with a consistent chain (every hash link valid): the first
// rewritten event is the first differing leaf, proved against the checkpoint from the stored model.
func TestVerifyFindsAStreamRewrittenWithAConsistentChain(t *testing.T) {
	t.Parallel()
	st, db, cps := genuine(t)
	forged := script("genuine")
	for round := 6; round < 10; round++ {
		forged[5*round+2].event.Data = fmt.Appendf(nil, `{"round":%d,"amount_fen":9900000,"purpose":"村道硬化"}`, round)
	}
	fst := newStore(t)
	fst.write(t, forged)
	rep := verify(t, fst, db, cps, true)
	wantDiff(t, rep, tlog.Rewritten, 32, &forged[32], 6)
	if rep.Checkpoints[0].Kind != tlog.Consistent {
		t.Fatalf("checkpoint 30 comes before the rewrite: %+v", rep.Checkpoints[0])
	}
	signed := rep.Checkpoints[1].Signed
	if want := readAt(t, st, 32); signed == nil || signed.Hash != want.Meta.Hash || signed.Position != want.Position {
		t.Fatalf("signed leaf %+v, want the genuine event %s at %s", signed, want.Meta.Hash, want.Position)
	}
	if rep.Altered != nil {
		t.Fatalf("a resealed rewrite hashes consistently, yet %s is reported altered", rep.Altered)
	}

	// Without the model, the first differing leaf is bounded by the checkpoints that still hold.
	rep = verify(t, fst, db, cps, false)
	if c := rep.Checkpoints[1]; c.Kind != tlog.Rewritten || c.FirstDiff != -1 || !strings.Contains(c.Message, "between 30 and 50") {
		t.Fatalf("%+v", c)
	}

	// The read model rebuilt from the forged store: the stored checkpoint of 50 no longer holds, and the
	// publisher refuses to sign the forged tree.
	db.project(t, fst)
	mm, err := tlog.CheckStored(context.Background(), db.pool)
	if err != nil || len(mm) != 1 || mm[0].Checkpoint.Size != 50 || mm[0].Checkpoint.Origin != origin {
		t.Fatalf("stored checkpoints after a rebuild of a forged history: %v, %v", mm, err)
	}
	fst.write(t, []step{stepOf(0, 10, "genuine")})
	db.project(t, fst)
	if _, _, err := db.pub.Publish(context.Background()); !errors.Is(err, tlog.ErrForked) {
		t.Fatalf("publish over a forked tree: %v, want ErrForked", err)
	}
	if rep := verify(t, fst, db, cps, true); rep.Checkpoints[1].FirstDiff != -1 {
		t.Fatalf("a model built from the forged store named leaf %d", rep.Checkpoints[1].FirstDiff)
	}
}

func readAt(t *testing.T, st store, index int) eventlog.Recorded {
	t.Helper()
	return ledgerEvents(t, st)[index]
}

// ledgerEvents is every ledger event of the store, in $all order.
func ledgerEvents(t *testing.T, st store) []eventlog.Recorded {
	t.Helper()
	var out []eventlog.Recorded
	if err := st.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		if !eventlog.SystemStream(r.Stream) {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The last two events of one stream cut off: the events after them move up a leaf.
func TestVerifyFindsTheLastEventsOfAStreamCutOff(t *testing.T) {
	t.Parallel()
	_, db, cps := genuine(t)
	var forged []step
	for i, s := range script("genuine") {
		if i != 5*8+3 && i != 5*9+3 {
			forged = append(forged, s)
		}
	}
	fst := newStore(t)
	fst.write(t, forged)
	rep := verify(t, fst, db, cps, true)
	wantDiff(t, rep, tlog.Truncated, 43, &forged[43], 8)
	if rep.Size != 48 || rep.Checkpoints[1].Signed == nil {
		t.Fatalf("%+v", rep)
	}
}

// The end of $all cut off: the store is a prefix of the signed history, found even without the model
// when a smaller checkpoint still holds.
func TestVerifyFindsTheEndCutOff(t *testing.T) {
	t.Parallel()
	_, db, cps := genuine(t)
	fst := newStore(t)
	fst.write(t, script("genuine")[:30])
	for _, withTree := range []bool{true, false} {
		rep := verify(t, fst, db, cps, withTree)
		wantDiff(t, rep, tlog.Truncated, 30, nil, 0)
		if !strings.Contains(rep.Message, "the store ends before it") {
			t.Fatal(rep.Message)
		}
	}
}

// Another history of the same length.
func TestVerifyFindsAReplacedHistory(t *testing.T) {
	t.Parallel()
	_, db, cps := genuine(t)
	forged := script("other")
	fst := newStore(t)
	fst.write(t, forged)
	rep := verify(t, fst, db, cps, true)
	wantDiff(t, rep, tlog.Replaced, 0, &forged[0], 0)
	if rep.Checkpoints[0].Kind != tlog.Replaced || rep.Checkpoints[0].FirstDiff != 0 {
		t.Fatalf("%+v", rep.Checkpoints[0])
	}
}

// An event edited in the store with its recorded hash kept (written with the raw client): the tree is
// unchanged, but the event no longer hashes to its leaf, and that leaf is named.
func TestVerifyFindsAnEditedEvent(t *testing.T) {
	t.Parallel()
	st, db, cps := genuine(t)
	fst := newStore(t)
	raw := nodetest.Raw(t, fst.node)
	all := ledgerEvents(t, st)
	for i, r := range all {
		e := r.Event
		if i == 17 {
			e.Data = bytes.Replace(e.Data, []byte(`"amount_fen":3000`), []byte(`"amount_fen":3999`), 1)
		}
		nodetest.AppendRaw(t, raw, r.Stream, esdb.Any{}, e)
	}
	rep := verify(t, fst, db, cps, true)
	if rep.Intact || rep.Altered == nil || rep.Altered.Index != 17 || rep.Altered.EventID != all[17].ID.String() {
		t.Fatalf("want leaf 17 reported altered: %+v", rep)
	}
	for _, c := range rep.Checkpoints {
		if c.Kind != tlog.Consistent {
			t.Fatalf("the recorded hashes are the signed ones: %+v", c)
		}
	}
	if !strings.Contains(rep.Message, "leaf 17") {
		t.Fatal(rep.Message)
	}
}

// A checkpoint that does not verify with the log's key is refused, naming it.
func TestVerifyRefusesACheckpointOfAnotherKey(t *testing.T) {
	t.Parallel()
	st, db, cps := genuine(t)
	other, err := tlog.LoadOrCreateKey(t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: 50, Root: make([]byte, 32)}, other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tlog.Verify(context.Background(), tlog.VerifyConfig{Store: st.Store, Verifier: db.key.Verifier(), Checkpoints: [][]byte{cps[0], forged}})
	if !errors.Is(err, tlog.ErrBadCheckpoint) || !strings.Contains(err.Error(), "checkpoint 2") {
		t.Fatalf("%v, want ErrBadCheckpoint naming checkpoint 2", err)
	}
}

// The served checkpoint is a C2SP checkpoint signed by the log's key, with witness cosignatures after.
func TestCheckpointNoteVerifiesWithTheVerifierKey(t *testing.T) {
	t.Parallel()
	_, db, _ := genuine(t)
	ctx := context.Background()
	v, err := note.NewVerifier(db.key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tlog.LatestNote(ctx, db.pool)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("open %q: %v", msg, err)
	}
	root, err := ptlog.NewTree(db.pool).Root(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tlog.Checkpoint{Origin: origin, Size: 50, Root: root}).Body(); n.Text != want || !strings.HasPrefix(n.Text, origin+"\n50\n") {
		t.Fatalf("body %q, want %q", n.Text, want)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != origin {
		t.Fatalf("signatures %+v", n.Sigs)
	}

	// A witness cosigns (C2SP cosignature/v1): its signature line is served after the log's.
	witness, err := tlog.LoadOrCreateKey(t.TempDir(), "witness.example/民政局")
	if err != nil {
		t.Fatal(err)
	}
	wv, err := fnote.NewVerifierForCosignatureV1(witness.CosignerKey())
	if err != nil {
		t.Fatal(err)
	}
	c50, err := tlog.ParseBody(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	line, err := witness.Cosign(c50)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.AddCosignature(ctx, db.pool, 49, wv, line); !errors.Is(err, tlog.ErrNoSuchCheckpoint) {
		t.Fatalf("a cosignature of an unsigned size: %v", err)
	}
	if err := tlog.AddCosignature(ctx, db.pool, 30, wv, line); !errors.Is(err, tlog.ErrBadCosignature) {
		t.Fatalf("a cosignature of another checkpoint: %v", err)
	}
	if err := tlog.AddCosignature(ctx, db.pool, 50, wv, line); err != nil {
		t.Fatal(err)
	}
	msg, err = tlog.LatestNote(ctx, db.pool)
	if err != nil {
		t.Fatal(err)
	}
	n, err = note.Open(msg, note.VerifierList(v, wv))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("cosigned checkpoint %q: %v, %+v", msg, err, n)
	}
	if c, _, err := tlog.Open(msg, v, origin); err != nil || c.Size != 50 || !bytes.Equal(c.Root, root) {
		t.Fatalf("open the cosigned checkpoint with the log's key alone: %+v, %v", c, err)
	}
}

func TestKeyIsCreatedPrivateAndRefusedWhenNot(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	k, err := tlog.LoadOrCreateKey(dir, origin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, tlog.KeyFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v: want mode 0600", fi, err)
	}
	again, err := tlog.LoadOrCreateKey(dir, "another.name")
	if err != nil || again.VerifierKey() != k.VerifierKey() || again.Name() != origin {
		t.Fatalf("reloaded key %v (%v), want the one created", again, err)
	}
	if !strings.HasPrefix(k.VerifierKey(), origin+"+") {
		t.Fatalf("verifier key %q", k.VerifierKey())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.LoadOrCreateKey(dir, origin); !errors.Is(err, tlog.ErrKeyPermissions) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key: %v, want ErrKeyPermissions saying what to do", err)
	}
}

func TestParseBodyRefusesWhatIsNoCheckpoint(t *testing.T) {
	t.Parallel()
	good := tlog.Checkpoint{Origin: origin, Size: 7, Root: make([]byte, 32)}.Body()
	if c, err := tlog.ParseBody(good + "extension line\n"); err != nil || c.Size != 7 {
		t.Fatalf("%+v, %v", c, err)
	}
	for _, bad := range []string{"", origin + "\n7\n", "\n7\n" + good[len(origin)+3:], origin + "\n07\n" + good[len(origin)+3:],
		origin + "\n-1\n" + good[len(origin)+3:], origin + "\n7\nAAAA\n", strings.TrimSuffix(good, "\n")} {
		if _, err := tlog.ParseBody(bad); !errors.Is(err, tlog.ErrBadCheckpoint) {
			t.Errorf("%q: %v, want ErrBadCheckpoint", bad, err)
		}
	}
}

// The signer loop signs the grown tree on its own (polled, never timed: the test waits for it).
func TestRunSignsWhileTheTreeGrows(t *testing.T) {
	t.Parallel()
	st, db := newStore(t), newLogDB(t)
	st.write(t, script("genuine")[:12])
	db.project(t, st)
	pub, err := tlog.NewPublisher(tlog.Config{Pool: db.pool, Key: db.key, Origin: origin, Every: 5, Interval: 20 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pub.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	waitForSize := func(want uint64) {
		t.Helper()
		for guard := time.Now(); time.Since(guard) < 2*time.Minute; { // a hang guard, not a timing assertion
			s, err := tlog.Latest(ctx, db.pool)
			if err == nil && s.Size == want {
				return
			}
			if err != nil && !errors.Is(err, tlog.ErrNoCheckpoint) {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("no checkpoint of size %d signed", want)
	}
	waitForSize(12)
	st.write(t, script("genuine")[12:20])
	db.project(t, st)
	waitForSize(20)
}

// Two checkpoints of the log are proved consistent from the tree; a checkpoint of another tree of the
// same size, signed with the log's own key (a fork), is not.
func TestProveConsistency(t *testing.T) {
	t.Parallel()
	_, db, cps := genuine(t)
	ctx := context.Background()
	tree := ptlog.NewTree(db.pool)
	older, newer, p, err := tlog.ProveConsistency(ctx, tree, db.key.Verifier(), cps[1], cps[0])
	if err != nil || older.Size != 30 || newer.Size != 50 || len(p) == 0 {
		t.Fatalf("%v %v %d, %v", older, newer, len(p), err)
	}
	forkRoot := bytes.Clone(newer.Root)
	forkRoot[0] ^= 1
	fork, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: 50, Root: forkRoot}, db.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := tlog.ProveConsistency(ctx, tree, db.key.Verifier(), cps[0], fork); !errors.Is(err, tlog.ErrInconsistent) {
		t.Fatalf("a forked checkpoint: %v, want ErrInconsistent", err)
	}
	forkOf30, _ := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: 30, Root: forkRoot}, db.key)
	if _, _, _, err := tlog.ProveConsistency(ctx, tree, db.key.Verifier(), forkOf30, cps[1]); !errors.Is(err, tlog.ErrInconsistent) {
		t.Fatalf("a forked older checkpoint: %v, want ErrInconsistent", err)
	}
	if err := tlog.VerifyConsistency(older, older, nil); err != nil {
		t.Fatal(err)
	}
}

// The portal's read-only role reads the checkpoints once granted.
func TestGrantRead(t *testing.T) {
	t.Parallel()
	db := newLogDB(t)
	ctx := context.Background()
	role := fmt.Sprintf("tlog_reader_%d", time.Now().UnixNano())
	if _, err := db.pool.Exec(ctx, "CREATE ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.pool.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE "+role) })
	if err := tlog.GrantRead(ctx, db.pool, role); err != nil {
		t.Fatal(err)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+role); err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.LatestNote(ctx, tx); !errors.Is(err, tlog.ErrNoCheckpoint) {
		t.Fatalf("latest as the read-only role: %v, want ErrNoCheckpoint", err)
	}
}
