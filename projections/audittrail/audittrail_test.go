package audittrail_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// testPool is a database of the test's own on DATABASE_URL's server (shared helper; the test fails
// without DATABASE_URL: `make test` always sets it).
func testPool(t *testing.T) *pgxpool.Pool { return decodetest.NewPool(t) }

var base = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// sample is a synthetic history: 60 events over three communities (two under district 330303, one under
// 330304, whose code shares a prefix with no other), three actors, two types, one per hour.
func sample() []eventlog.Recorded {
	comms := []struct{ id, path string }{
		{"330303001001", "33/3303/330303/330303001/330303001001"},
		{"330303001002", "33/3303/330303/330303001/330303001002"},
		{"3303030010021", "33/3303/330303/330303001/3303030010021"}, // shares a prefix with 330303001002
	}
	var out []eventlog.Recorded
	for i := 0; i < 60; i++ {
		c := comms[i%3]
		typ := "funds.expenditure-requested"
		if i%4 == 0 {
			typ = "meetings.meeting-held"
		}
		stream := eventlog.StreamName("x", c.id, "1")
		e := eventlog.Recorded{
			Event: eventlog.Event{ID: eventlog.DeriveID(fmt.Sprint("cmd-", i), 0), Type: typ, Data: []byte(`{}`),
				Meta: eventlog.Metadata{SchemaVersion: 1 + i%2, CommunityID: c.id, Jurisdiction: c.path,
					Actor: fmt.Sprintf("clerk:%d", i%3+i%5), CommandID: fmt.Sprint("cmd-", i), CorrelationID: fmt.Sprint("corr-", i/2),
					OccurredAt: base.Add(time.Duration(i) * time.Hour), PrevHash: fmt.Sprintf("h%d", i-1), Hash: fmt.Sprintf("h%d", i)}},
			Stream: stream, Revision: uint64(i / 3), Position: eventlog.Position{Commit: uint64(100 + i*10), Prepare: uint64(100 + i*10)},
			Created: base.Add(time.Duration(i)*time.Hour + time.Minute),
		}
		if i == 7 {
			e.Meta.CommunityID, e.Meta.OccurredAt = "", time.Time{} // a district-level event with no time of its own
		}
		out = append(out, e)
	}
	return out
}

// load applies events with the model's own Apply inside a transaction on its schema, as the runtime does.
func load(t *testing.T, pool *pgxpool.Pool, events []eventlog.Recorded) {
	t.Helper()
	ctx := context.Background()
	m := audittrail.Model{}
	if err := pg.Migrate(ctx, pool, audittrail.Schema, "schema_migrations", m.Migrations()); err != nil {
		t.Fatal(err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL search_path TO rm_audittrail, public"); err != nil {
			return err
		}
		return m.Apply(ctx, tx, events)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFindFiltersAndPagesByPosition(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	events := sample()
	load(t, pool, events)
	ctx := context.Background()

	want := func(keep func(e eventlog.Recorded) bool) []eventlog.Position {
		var out []eventlog.Position
		for _, e := range events {
			if keep(e) {
				out = append(out, e.Position)
			}
		}
		return out
	}
	cases := map[string]struct {
		f    audittrail.Filter
		want []eventlog.Position
	}{
		"everything": {audittrail.Filter{}, want(func(eventlog.Recorded) bool { return true })},
		"community":  {audittrail.Filter{Community: "330303001002"}, want(func(e eventlog.Recorded) bool { return e.Meta.CommunityID == "330303001002" })},
		"under a community is not its prefix-sharing neighbour": {audittrail.Filter{Under: "33/3303/330303/330303001/330303001002"},
			want(func(e eventlog.Recorded) bool { return e.Meta.Jurisdiction == "33/3303/330303/330303001/330303001002" })},
		"under a street": {audittrail.Filter{Under: "33/3303/330303/330303001/"}, want(func(eventlog.Recorded) bool { return true })},
		"under nothing":  {audittrail.Filter{Under: "33/3304"}, nil},
		"actor":          {audittrail.Filter{Actor: "clerk:2"}, want(func(e eventlog.Recorded) bool { return e.Meta.Actor == "clerk:2" })},
		"type and time": {audittrail.Filter{Type: "meetings.meeting-held", OccurredFrom: base.Add(10 * time.Hour), OccurredBefore: base.Add(40 * time.Hour)},
			want(func(e eventlog.Recorded) bool {
				return e.Type == "meetings.meeting-held" && !e.Meta.OccurredAt.Before(base.Add(10*time.Hour)) && e.Meta.OccurredAt.Before(base.Add(40*time.Hour))
			})},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// Page through with a small page size; the pages must join up to exactly the expected list.
			var got []eventlog.Position
			f := c.f
			f.Limit = 7
			for pages := 0; ; pages++ {
				page, err := audittrail.Find(ctx, pool, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Entries {
					got = append(got, e.Position)
				}
				if !page.More {
					break
				}
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				f.After = page.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestEntryKeepsTheEnvelope(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	events := sample()
	load(t, pool, events)
	page, err := audittrail.Find(context.Background(), pool, audittrail.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != len(events) || page.More {
		t.Fatalf("%d entries (more %v), want %d", len(page.Entries), page.More, len(events))
	}
	for i, got := range page.Entries {
		e := events[i]
		want := audittrail.Entry{Position: e.Position, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type,
			CommunityID: e.Meta.CommunityID, Jurisdiction: e.Meta.Jurisdiction, Actor: e.Meta.Actor, CommandID: e.Meta.CommandID,
			CorrelationID: e.Meta.CorrelationID, CausationID: e.Meta.CausationID, OccurredAt: e.Meta.OccurredAt, RecordedAt: e.Created,
			PrevHash: e.Meta.PrevHash, Hash: e.Meta.Hash, SchemaVersion: e.Meta.SchemaVersion}
		if got != want {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestProjectedFromTheStore runs the audit trail in the projection runtime over the real embedded node and
// adapter: every entry carries the stored event's hash-chain links, so an auditor can verify each stream's
// chain from the trail alone.
func TestProjectedFromTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, store := nodetest.Start(t, logger)
	var head eventlog.Position
	for s := 0; s < 3; s++ {
		stream := eventlog.StreamName("disbursement", "330303001001", fmt.Sprint("2026-", s))
		evs := make([]eventlog.Event, 4)
		for i := range evs {
			evs[i] = eventlog.Event{ID: eventlog.DeriveID(fmt.Sprint(stream, i), 0), Type: "funds.expenditure-requested", Data: []byte(`{"amount_fen":1}`),
				Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: "330303001001", Jurisdiction: "33/3303/330303/330303001/330303001001",
					Actor: "clerk:1", CommandID: fmt.Sprint(stream, i), OccurredAt: base}}
		}
		res, err := store.Append(ctx, stream, eventlog.NoStream(), evs)
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	rt, err := runtime.New(runtime.Config{Pool: pool, Source: store, Migrate: pg.Migrator(pool), Models: []runtime.ReadModel{audittrail.Model{}}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for rt.Status()[0].Checkpoint != head {
		if time.Now().After(deadline) {
			t.Fatalf("audit trail did not reach %s: %+v", head, rt.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	page, err := audittrail.Find(ctx, pool, audittrail.Filter{Community: "330303001001"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 12 {
		t.Fatalf("%d entries, want 12", len(page.Entries))
	}
	// Rebuild each stream's chain from the trail: prev_hash links and revisions must be intact.
	tails := map[string]string{}
	next := map[string]uint64{}
	for _, e := range page.Entries {
		if e.PrevHash != tails[e.Stream] || e.Revision != next[e.Stream] || e.Hash == "" {
			t.Fatalf("chain broken in the trail at %+v", e)
		}
		tails[e.Stream], next[e.Stream] = e.Hash, e.Revision+1
	}
}

// TestContract: the read-model contract (readmodeltest) over a generated district. The trail does not
// decode payloads: what it can never store is a position or revision beyond a bigint, and it halts there.
func TestContract(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return audittrail.Model{} },
		Redelivery: decodetest.OnlyOnceEach, Handles: "disclosure.published",
		Poison: func(e eventlog.Recorded) []readmodeltest.Poison {
			e.Revision = math.MaxInt64 + 1
			return []readmodeltest.Poison{{Event: e, Reason: "does not fit a bigint"}}
		}})
}

// hashForms are chain hashes of every form the trail keeps: the ledger's own (64 lower-case hex digits),
// the empty previous hash of a stream's first event, and text a chain check rejects, among it text of 31
// and 32 bytes (beside the 32 bytes of a real hash) and hex that is not lower-case or not 64 digits.
var hashForms = []string{
	"fb798fda0b73bb189486cbe4cfa1cb97bca015c5fae6b0d27a946d2e1fe3795b",
	"00000000000000000000000000000000000000000000000000000000000000ff",
	"",
	"h5",
	"FB798FDA0B73BB189486CBE4CFA1CB97BCA015C5FAE6B0D27A946D2E1FE3795B",
	"fb798fda0b73bb189486cbe4cfa1cb97bca015c5fae6b0d27a946d2e1fe3795",
	"fb798fda0b73bb189486cbe4cfa1cb97bca015c5fae6b0d27a946d2e1fe3795b00",
	"0123456789abcdef0123456789abcde",  // 31 bytes
	"0123456789abcdef0123456789abcdef", // 32 bytes
	"链上哈希不是十六进制",
	"\u00fe\u00ff",
}

// TestEveryHashFormReadsBack: whatever a chain hash is, Find gives it back as the event has it, and a
// ledger hash takes its 32 bytes in the table, not 64 characters.
func TestEveryHashFormReadsBack(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	events := sample()[:len(hashForms)]
	for i := range events {
		events[i].Meta.Hash, events[i].Meta.PrevHash = hashForms[i], hashForms[(i+1)%len(hashForms)]
	}
	load(t, pool, events)
	checkHashes(t, pool, events)
	if n := decodetest.Count(t, pool, "SELECT count(*) FROM rm_audittrail.audit_events WHERE octet_length(hash) = 32"); n != 2 {
		t.Errorf("%d hashes kept in 32 bytes, want the 2 ledger hashes", n)
	}
}

// TestHashesKeptAsTextBeforeReadBackAfterTheUpgrade: rows written by the trail before it kept hashes as
// bytes (migrations 0001–0003) read back the same after migration 0004.
func TestHashesKeptAsTextBeforeReadBackAfterTheUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	all := audittrail.Model{}.Migrations()
	old := fstest.MapFS{}
	for _, name := range []string{"0001_audit_events.sql", "0002_public_content.sql", "0003_no_public_content.sql"} {
		b, err := fs.ReadFile(all, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	if err := pg.Migrate(ctx, pool, audittrail.Schema, "schema_migrations", old); err != nil {
		t.Fatal(err)
	}
	events := sample()[:len(hashForms)]
	for i, e := range events {
		events[i].Meta.Hash, events[i].Meta.PrevHash = hashForms[i], hashForms[(i+1)%len(hashForms)]
		if _, err := pool.Exec(ctx, `INSERT INTO rm_audittrail.audit_events (commit_pos, prepare_pos, stream, revision, event_id,
			event_type, community_id, jurisdiction, actor, command_id, correlation_id, causation_id, occurred_at, recorded_at,
			prev_hash, hash, schema_version) VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), $8, $9, $10, NULLIF($11, ''), NULLIF($12, ''),
			$13, $14, $15, $16, $17)`, int64(e.Position.Commit), int64(e.Position.Prepare), e.Stream, int64(e.Revision), e.ID.String(),
			e.Type, e.Meta.CommunityID, e.Meta.Jurisdiction, e.Meta.Actor, e.Meta.CommandID, e.Meta.CorrelationID, e.Meta.CausationID,
			pgtype.Timestamptz{Time: e.Meta.OccurredAt, Valid: !e.Meta.OccurredAt.IsZero()}, e.Created,
			events[i].Meta.PrevHash, events[i].Meta.Hash, e.Meta.SchemaVersion); err != nil {
			t.Fatal(err)
		}
	}
	if err := pg.Migrate(ctx, pool, audittrail.Schema, "schema_migrations", all); err != nil {
		t.Fatal(err)
	}
	checkHashes(t, pool, events)
}

func checkHashes(t *testing.T, pool *pgxpool.Pool, events []eventlog.Recorded) {
	t.Helper()
	page, err := audittrail.Find(context.Background(), pool, audittrail.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != len(events) {
		t.Fatalf("%d entries, want %d", len(page.Entries), len(events))
	}
	for i, got := range page.Entries {
		if want := events[i].Meta; got.Hash != want.Hash || got.PrevHash != want.PrevHash {
			t.Errorf("entry %d: hash %q, previous %q; want %q, %q", i, got.Hash, got.PrevHash, want.Hash, want.PrevHash)
		}
	}
}

// TestIdsOfTheCommandKeptOnce: a correlation or causation id that is the event's command id (every event a
// command records) is not kept a second time in the row, and Find gives every form back as the event has
// it: the command's id, another id, none; a row written before (the id itself) reads back the same.
func TestIdsOfTheCommandKeptOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	events := sample()[:4]
	for i := range events {
		m := &events[i].Meta
		switch i {
		case 0:
			m.CorrelationID, m.CausationID = m.CommandID, m.CommandID
		case 1:
			m.CorrelationID, m.CausationID = m.CommandID, "evt-0"
		case 2:
			m.CorrelationID, m.CausationID = "", m.CommandID
		}
	}
	load(t, pool, events)
	if _, err := pool.Exec(ctx, "UPDATE rm_audittrail.audit_events SET correlation_id = command_id WHERE commit_pos = $1",
		int64(events[3].Position.Commit)); err != nil {
		t.Fatal(err)
	}
	events[3].Meta.CorrelationID = events[3].Meta.CommandID
	if n := decodetest.Count(t, pool, `SELECT count(*) FROM rm_audittrail.audit_events
		WHERE correlation_id = command_id OR causation_id = command_id`); n != 1 {
		t.Errorf("%d rows keep the command's id again, want only the one written before", n)
	}
	page, err := audittrail.Find(ctx, pool, audittrail.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != len(events) {
		t.Fatalf("%d entries, want %d", len(page.Entries), len(events))
	}
	for i, got := range page.Entries {
		m := events[i].Meta
		if got.CommandID != m.CommandID || got.CorrelationID != m.CorrelationID || got.CausationID != m.CausationID {
			t.Errorf("entry %d: command %q correlation %q causation %q, want %q %q %q", i, got.CommandID,
				got.CorrelationID, got.CausationID, m.CommandID, m.CorrelationID, m.CausationID)
		}
	}
}
