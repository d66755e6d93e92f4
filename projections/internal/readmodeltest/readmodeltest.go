// Package readmodeltest is the contract every read model runs, as every event store runs storetest.Run:
// the same rows under any batching, its poison policy, no personal data in its tables, a rebuild equal to
// the live model, and the tables it declares equal to the ones its migrations create. It runs over the
// model's own hand-made history and over a realistic district generated through the domain's decisions
// (infra/workload, through decodetest.Generate), against a real PostgreSQL (DATABASE_URL).
package readmodeltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Model is what Run needs of a read model.
type Model struct {
	// New returns a fresh model.
	New func() runtime.ReadModel
	// Sample is the model's own hand-made history; the batching contract runs over it as well as over
	// the generated district.
	Sample []eventlog.Recorded
	// Redelivery says whether Apply must also be idempotent (decodetest.Idempotent).
	Redelivery decodetest.Redelivery
	// Handles is the wire name of an event type the model applies: the poison events are made from the
	// first such event of the generated history.
	Handles string
	// Poison, when set, makes the events the model can never apply out of an event of type Handles, each
	// with the words its poison report must contain. Default: the event at an unsupported schema version,
	// and with a payload that does not decode.
	Poison func(e eventlog.Recorded) []Poison
	// SampleSecrets are personal data in Sample that no row may hold once Sample is applied.
	SampleSecrets []string
	// Private lists the personal data the model's tables may hold by design, by kind ("subject": the
	// person ids of objectors, topic raisers and payees): none for a public model.
	Private []string
}

// Poison is an event a model can never apply and what its report says.
type Poison struct {
	Event  eventlog.Recorded
	Reason string
}

// Declared is a model that declares its tables (projections/internal/tables): what the bulk writer and
// the loaders use, checked against what the migrations create.
type Declared interface {
	Tables() []*tables.Table
}

// Run runs the contract over m.
func Run(t *testing.T, m Model) {
	t.Helper()
	t.Run("SameRowsUnderAnyBatching", func(t *testing.T) {
		t.Parallel()
		if len(m.Sample) > 0 {
			decodetest.SameRowsUnderAnyBatching(t, pg.Migrator, m.New, m.Sample, m.Redelivery)
		}
		decodetest.SameRowsUnderAnyBatching(t, pg.Migrator, m.New, History(t, small), m.Redelivery)
	})
	t.Run("PoisonPolicy", func(t *testing.T) { t.Parallel(); poisonPolicy(t, m) })
	t.Run("NoPersonalData", func(t *testing.T) { t.Parallel(); noPersonalData(t, m) })
	t.Run("RebuildEqualsLive", func(t *testing.T) { t.Parallel(); rebuildEqualsLive(t, m) })
	t.Run("DeclaredTablesEqualMigrations", func(t *testing.T) { t.Parallel(); declaredTables(t, m) })
}

var (
	historiesMu sync.Mutex
	histories   = map[int][]eventlog.Recorded{}
)

// History is a generated district of the given number of communities (decodetest.Generate, seed 5: the
// year up to July 2026, about 950 events a community), the same on every call; callers must not modify it.
func History(tb testing.TB, communities int) []eventlog.Recorded {
	tb.Helper()
	historiesMu.Lock()
	defer historiesMu.Unlock()
	if h, ok := histories[communities]; ok {
		return h
	}
	h := decodetest.Generate(decodetest.GenConfig{Seed: 5, Communities: communities}).Events
	histories[communities] = h
	return h
}

// Sizes of the generated histories: small for the batching and poison contracts (each runs several
// databases), larger for the personal-data scan and the rebuild.
const (
	small = 2
	large = 4
)

// Projected is a database of the test's own with m migrated and evs applied in batches of size (all at
// once when size <= 0).
func Projected(t *testing.T, m runtime.ReadModel, evs []eventlog.Recorded, size int) *pgxpool.Pool {
	t.Helper()
	pool := decodetest.NewPool(t)
	decodetest.Migrate(t, pg.Migrator(pool), m)
	decodetest.MustApply(t, pool, m, evs, size)
	return pool
}

// apply migrates a fresh database for a fresh model and applies evs in batches of size.
func apply(t *testing.T, m Model, evs []eventlog.Recorded, size int) (*pgxpool.Pool, runtime.ReadModel) {
	t.Helper()
	rm := m.New()
	return Projected(t, rm, evs, size), rm
}

// defaultPoison: an unsupported schema version, and a payload that does not decode.
func defaultPoison(e eventlog.Recorded) []Poison {
	v, mal := e, e
	v.Meta.SchemaVersion = 99
	mal.Data = []byte(`[]`)
	return []Poison{{v, "unsupported event schema version"}, {mal, "malformed event payload"}}
}

// withPoison is the generated history with m's poison events inserted after the first event of type
// m.Handles that has something before it, $all renumbered; it returns the history, the poison events'
// places in it, and the history without them.
func withPoison(t *testing.T, m Model) (all []eventlog.Recorded, at []int, reasons []string, clean []eventlog.Recorded) {
	t.Helper()
	h := History(t, small)
	k := slices.IndexFunc(h, func(r eventlog.Recorded) bool { return r.Type == m.Handles })
	if k < 0 {
		t.Fatalf("the generated history has no %s event", m.Handles)
	}
	k = max(k, len(h)/3) // well inside the history, after events of every kind
	for h[k].Type != m.Handles {
		k++
	}
	poison := m.Poison
	if poison == nil {
		poison = defaultPoison
	}
	ps := poison(h[k])
	all = append(all, h[:k+1]...)
	for i, p := range ps {
		p.Event.ID[15] ^= byte(0x80 + i) // an event of its own
		at, reasons = append(at, len(all)), append(reasons, p.Reason)
		all = append(all, p.Event)
	}
	all = append(all, h[k+1:]...)
	for i := range all {
		n := uint64(i + 1)
		all[i].Position = eventlog.Position{Commit: n, Prepare: n}
	}
	for i, r := range all {
		if !slices.Contains(at, i) {
			clean = append(clean, r)
		}
	}
	return all, at, reasons, clean
}

// poisonPolicy: Apply names the first poison event; through the runtime, a Halt model stops just before
// it with the rows of what came before, a SkipAndReport model records every poison event and goes on to
// the head with the rows of the history without them.
func poisonPolicy(t *testing.T, m Model) {
	all, at, reasons, clean := withPoison(t, m)
	ctx := context.Background()

	pool := decodetest.NewPool(t)
	rm := m.New()
	decodetest.Migrate(t, pg.Migrator(pool), rm)
	for i, k := range at { // each poison event after what comes before the first: Apply rolls back
		err := decodetest.Apply(ctx, pool, rm, append(slices.Clone(all[:at[0]]), all[k]))
		var pe *runtime.PoisonError
		if !errors.As(err, &pe) || !errors.Is(err, runtime.ErrPoison) || pe.Position != all[k].Position {
			t.Fatalf("Apply: want a poison error at %s, got %v", all[k].Position, err)
		}
		if !strings.Contains(err.Error(), reasons[i]) {
			t.Fatalf("Apply: the poison error does not say %q: %v", reasons[i], err)
		}
	}

	pool = decodetest.NewPool(t)
	rt := decodetest.NewRuntime(t, pool, decodetest.NewMemSource(all), pg.Migrator(pool), []runtime.ReadModel{m.New()})
	decodetest.Start(t, rt)
	name, schema := rm.Name(), runtime.SchemaOf(rm.Name())
	var want string
	switch rm.Poison() {
	case runtime.Halt:
		decodetest.WaitFor(t, 60*time.Second, name+" to halt", func() (bool, string) {
			st := rt.Status()[0]
			return st.Halted, fmt.Sprintf("%+v", st)
		})
		if cp := decodetest.Checkpoint(t, pool, schema); cp != all[at[0]-1].Position {
			t.Fatalf("checkpoint %s, want just before the poison event (%s)", cp, all[at[0]-1].Position)
		}
		if n := decodetest.Count(t, pool, `SELECT count(*) FROM rm_meta.projections WHERE name = $1 AND state = 'halted'
			AND strpos(halt_reason, $2) > 0`, name, reasons[0]); n != 1 {
			t.Fatalf("rm_meta.projections does not show %s halted for %q", name, reasons[0])
		}
		if n := decodetest.Count(t, pool, `SELECT count(*) FROM rm_meta.poison_events WHERE projection = $1 AND policy = 'halt'
			AND commit_pos = $2`, name, int64(all[at[0]].Position.Commit)); n != 1 {
			t.Fatal("the poison event is not recorded")
		}
		ref, _ := apply(t, m, all[:at[0]], 0)
		want = decodetest.Checksum(t, ref, schema)
	case runtime.SkipAndReport:
		head := all[len(all)-1].Position
		decodetest.WaitFor(t, 60*time.Second, name+" to reach the head", func() (bool, string) {
			st := rt.Status()[0]
			return st.Checkpoint == head || st.Halted, fmt.Sprintf("%+v", st)
		})
		if st := rt.Status()[0]; st.Halted {
			t.Fatalf("%s halted: %+v", name, st)
		}
		for i, k := range at {
			if n := decodetest.Count(t, pool, `SELECT count(*) FROM rm_meta.poison_events WHERE projection = $1 AND policy = 'skip-and-report'
				AND commit_pos = $2 AND strpos(reason, $3) > 0`, name, int64(all[k].Position.Commit), reasons[i]); n != 1 {
				t.Fatalf("the poison event at %s (%s) is not recorded", all[k].Position, reasons[i])
			}
		}
		ref, _ := apply(t, m, clean, 0)
		want = decodetest.Checksum(t, ref, schema)
	default:
		t.Fatalf("%s: unknown poison policy %v", name, rm.Poison())
	}
	if got := decodetest.Checksum(t, pool, schema); got != want {
		t.Fatalf("the rows after the poison events differ from the history's without them:\n got %s\nwant %s", got, want)
	}
}

// Personal is what the events of a history say about people, from every "personal" object of every
// payload (however deep), and the person ids whose identity must never be public: the subjects of
// objections and of topics raised, and individual payees.
type Personal struct {
	Values  map[string]string // value → what it is (name, national_id, phone, address)
	Secrets map[string]bool   // person ids that must not appear at all
}

// Names is the number of distinct personal names.
func (pd Personal) Names() int {
	n := 0
	for _, what := range pd.Values {
		if what == "name" {
			n++
		}
	}
	return n
}

var secretSubjects = map[string]bool{
	"disclosure.objection-raised": true, "election.objection-raised": true, "meeting.topic-collected": true,
	"funds.expenditure-requested": true,
}

// publicRoles are the events that name people in a public office: committee members and candidates
// are public by their (opaque) person ids, even when they are also paid as individuals.
var publicRoles = map[string]bool{
	"community.committee-seated": true, "community.member-joined": true, "election.candidate-nominated": true,
}

// CollectPersonal collects the personal data of evs. People in a public office (committee members,
// candidates) are public by their opaque person ids, even when they are also paid as individuals.
func CollectPersonal(tb testing.TB, evs []eventlog.Recorded) Personal {
	tb.Helper()
	pd := Personal{Values: map[string]string{}, Secrets: map[string]bool{}}
	publicNames := map[string]bool{} // a candidate's or member's public display name is public, as are the seal register's names
	var walk func(typ string, v any, isPersonal bool)
	walk = func(typ string, v any, isPersonal bool) {
		switch v := v.(type) {
		case map[string]any:
			// Names the records show by design: an office holder's display name, a seal's custodian and
			// the approvers of its uses as the register names them.
			for _, k := range []string{"public_name", "custodian_name", "approver_name"} {
				if s, _ := v[k].(string); s != "" {
					publicNames[s] = true
				}
			}
			if isPersonal {
				for _, f := range []string{"name", "national_id", "phone", "address"} {
					if s, _ := v[f].(string); s != "" {
						pd.Values[s] = f
					}
				}
				if s, _ := v["subject"].(string); s != "" && secretSubjects[typ] {
					pd.Secrets[s] = true
				}
			}
			for k, x := range v {
				walk(typ, x, k == "personal")
			}
		case []any:
			for _, x := range v {
				walk(typ, x, isPersonal)
			}
		}
	}
	public := map[string]bool{}
	var strs func(v any)
	strs = func(v any) {
		switch v := v.(type) {
		case string:
			public[v] = true
		case map[string]any:
			for _, x := range v {
				strs(x)
			}
		case []any:
			for _, x := range v {
				strs(x)
			}
		}
	}
	for _, e := range evs {
		var v any
		if err := json.Unmarshal(e.Data, &v); err != nil {
			tb.Fatal(err)
		}
		walk(e.Type, v, false)
		if publicRoles[e.Type] {
			strs(v)
		}
	}
	for s := range pd.Secrets {
		if public[s] {
			delete(pd.Secrets, s)
		}
	}
	for s := range publicNames {
		delete(pd.Values, s)
	}
	// A person's name inside another person's public name (毛锋 in 毛锋辉) cannot be told apart in a row.
	for v, what := range pd.Values {
		if what != "name" {
			continue
		}
		for s := range publicNames {
			if strings.Contains(s, v) {
				delete(pd.Values, v)
				break
			}
		}
	}
	return pd
}

// Scan reports the rows that hold a personal value or a secret person id. It looks every substring of
// the lengths the needles have up in a set, so it stays fast with thousands of people.
func (pd Personal) Scan(rows []string) []string {
	needles := map[string]string{}
	for v, what := range pd.Values {
		needles[v] = what
	}
	for s := range pd.Secrets {
		needles[s] = "subject"
	}
	lengths := map[int]bool{}
	for n := range needles {
		lengths[len(n)] = true
	}
	var bad []string
	for _, r := range rows {
		for l := range lengths {
			for i := 0; i+l <= len(r); i++ {
				if what, ok := needles[r[i:i+l]]; ok {
					// A person id is a whole token: "p-0000012" must not match inside "p-00000123".
					if what == "subject" && i+l < len(r) && r[i+l] >= '0' && r[i+l] <= '9' {
						continue
					}
					bad = append(bad, fmt.Sprintf("%s %q in %s", what, r[i:i+l], r))
				}
			}
		}
	}
	return bad
}

// noPersonalData projects a generated history full of personal data (names, national ID numbers,
// phones, addresses of committee members, candidates, payees, objectors and topic raisers) and scans every
// column of every table: no ID number, phone, address or full name is there, nor the person id of an
// objector, topic raiser or individual payee.
func noPersonalData(t *testing.T, m Model) {
	h := History(t, large)
	pd := CollectPersonal(t, h)
	if len(pd.Values) < 100 || len(pd.Secrets) < 30 {
		t.Fatalf("the history carries too little personal data to test: %d values, %d secret subjects", len(pd.Values), len(pd.Secrets))
	}
	for _, kind := range m.Private {
		if kind == "subject" {
			pd.Secrets = nil
		}
	}
	// The scanner itself finds what it looks for.
	for v := range pd.Values {
		if len(pd.Scan([]string{"rm_x.t (1," + v + ",2)"})) != 1 {
			t.Fatalf("the scan misses %q", v)
		}
		break
	}
	pool, rm := apply(t, m, h, 1000)
	rows := decodetest.RowText(t, pool, runtime.SchemaOf(rm.Name()))
	if len(m.SampleSecrets) > 0 {
		sp, _ := apply(t, m, m.Sample, 0)
		for _, row := range decodetest.RowText(t, sp, runtime.SchemaOf(rm.Name())) {
			for _, secret := range m.SampleSecrets {
				if strings.Contains(row, secret) {
					t.Errorf("a row of the sample holds personal data %q: %s", secret, row)
				}
			}
		}
	}
	if bad := pd.Scan(rows); len(bad) > 0 {
		for _, b := range bad[:min(len(bad), 10)] {
			t.Error(b)
		}
		t.Fatalf("%d rows hold personal data", len(bad))
	}
}

// rebuildEqualsLive projects a generated history live through the runtime (batches of up to 500 as
// events arrive), rebuilds the model from scratch (shadow schema, swap), and applies the history again
// in odd-sized batches elsewhere: all three give the same rows.
func rebuildEqualsLive(t *testing.T, m Model) {
	h := History(t, large)
	src := decodetest.NewMemSource(h[:len(h)/3])
	pool := decodetest.NewPool(t)
	rm := m.New()
	rt := decodetest.NewRuntime(t, pool, src, pg.Migrator(pool), []runtime.ReadModel{rm}, func(c *runtime.Config) { c.MaxBatch = 500 })
	decodetest.Start(t, rt)
	for i := len(h) / 3; i < len(h); i += 250 { // the rest arrives while the runtime follows
		src.Append(h[i:min(i+250, len(h))]...)
		time.Sleep(5 * time.Millisecond)
	}
	head := h[len(h)-1].Position
	decodetest.WaitFor(t, 60*time.Second, rm.Name()+" to reach the head", func() (bool, string) {
		st := rt.Status()[0]
		return st.Checkpoint == head && !st.Halted, fmt.Sprintf("%+v", st)
	})
	schema := runtime.SchemaOf(rm.Name())
	live := decodetest.Checksum(t, pool, schema)
	if err := rt.Rebuild(context.Background(), m.New(), nil); err != nil {
		t.Fatalf("rebuild %s: %v", rm.Name(), err)
	}
	if got := decodetest.Checksum(t, pool, schema); got != live {
		t.Errorf("rebuilt differs from live:\n rebuilt %s\n    live %s", got, live)
	}
	other, _ := apply(t, m, h, 137)
	if got := decodetest.Checksum(t, other, schema); got != live {
		t.Errorf("in batches of 137 differs from live:\n%s\n%s", got, live)
	}
}

// declaredTables: the tables the model declares are the tables its migrations create, column for column
// with the same types (in any order; generated columns are PostgreSQL's, not written), and none is left
// undeclared.
func declaredTables(t *testing.T, m Model) {
	rm := m.New()
	d, ok := rm.(Declared)
	if !ok {
		t.Fatalf("%s declares no tables: give it a Tables method (projections/internal/tables)", rm.Name())
	}
	declared := map[string]string{}
	for _, tb := range d.Tables() {
		cols := strings.Join(slices.Sorted(slices.Values(tb.Declaration())), ", ")
		if prev, seen := declared[tb.Name()]; seen && prev != cols {
			t.Errorf("%s is declared twice, differently:\n%s\n%s", tb.Name(), prev, cols)
		}
		declared[tb.Name()] = cols
	}
	pool := decodetest.NewPool(t)
	decodetest.Migrate(t, pg.Migrator(pool), rm)
	schema := runtime.SchemaOf(rm.Name())
	rows, err := pool.Query(context.Background(), `SELECT c.table_name, c.column_name || ' ' || c.udt_name
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER'
		AND c.table_name NOT IN ('checkpoint', 'schema_migrations', 'runtime_migrations')
		ORDER BY c.table_name, c.ordinal_position`, schema)
	if err != nil {
		t.Fatal(err)
	}
	migrated := map[string][]string{}
	var table, col string
	if _, err := pgx.ForEachRow(rows, []any{&table, &col}, func() error {
		migrated[table] = append(migrated[table], col)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for name, cols := range migrated {
		slices.Sort(cols)
		got := strings.Join(cols, ", ")
		switch want, ok := declared[name]; {
		case !ok:
			t.Errorf("%s.%s is created by the migrations but not declared", schema, name)
		case want != got:
			t.Errorf("%s.%s: declared\n  %s\nthe migrations create\n  %s", schema, name, want, got)
		}
	}
	for name := range declared {
		if _, ok := migrated[name]; !ok {
			t.Errorf("%s.%s is declared but the migrations do not create it", schema, name)
		}
	}
}
