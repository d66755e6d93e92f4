package decode_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var place = decodetest.Community("33/3303/330303/330303001", "330303001001")

func published(id string) disclosure.Published {
	t := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	return disclosure.Published{NoticeID: id, Category: disclosure.Finance, Period: disclosure.Period{From: t, To: t}, Title: "t", Text: "x",
		Window: disclosure.Window{Start: t, End: t.Add(time.Hour)}, PublishedAt: t}
}

// TestBatchDecodesInOrderAndNamesTheFirstPoison decodes a batch large enough to be decoded on several
// cores: the events come back in order, other models' events are left out, and of two poison events the
// earlier one is reported, whichever core met it.
func TestBatchDecodesInOrderAndNamesTheFirstPoison(t *testing.T) {
	t.Parallel()
	d := decode.New(events.MustRegistry(), disclosure.Published{})
	h := &decodetest.History{}
	for i := range 3000 {
		if i%3 == 0 {
			h.Record(eventlog.StreamName("budget", place.ID, "2026"), place, time.Now(), funds.BudgetAllocated{FiscalYear: 2026,
				AllocationID: fmt.Sprint(i), Source: funds.Department, Category: funds.Project, Amount: 1})
			continue
		}
		h.Record(eventlog.StreamName("disclosure", place.ID, fmt.Sprint("n-", i)), place, time.Now(), published(fmt.Sprint("n-", i)))
	}
	evs, err := d.Batch(h.Events)
	if err != nil || len(evs) != 2000 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, e := range evs {
		if want := fmt.Sprint("n-", i+1+i/2); e.Payload.(disclosure.Published).NoticeID != want || e.Rec.Type != "disclosure.published" {
			t.Fatalf("event %d is %s, want %s", i, e.Payload.(disclosure.Published).NoticeID, want)
		}
	}
	bad := h.Events
	later, earlier := 2701, 400 // in different halves of the batch: decoded on different cores
	orig := bad[earlier].Data
	bad[earlier].Data = []byte(`{"notice_id": 1}`)
	bad[later].Meta.SchemaVersion = 7
	_, err = d.Batch(bad)
	var pe *runtime.PoisonError
	if !errors.As(err, &pe) || pe.Position != bad[earlier].Position || !errors.Is(err, kernel.ErrMalformedEvent) || !errors.Is(err, runtime.ErrPoison) {
		t.Fatalf("want the poison at %s (malformed), got %v", bad[earlier].Position, err)
	}
	bad[earlier].Data = orig
	if _, err = d.Batch(bad); !errors.As(err, &pe) || pe.Position != bad[later].Position || !errors.Is(err, kernel.ErrUnsupportedVersion) {
		t.Fatalf("want the poison at %s (version 7), got %v", bad[later].Position, err)
	}
}

func TestCheckStreamAndCounts(t *testing.T) {
	t.Parallel()
	h := &decodetest.History{}
	e := decode.Event{Rec: &h.Record(eventlog.StreamName("disclosure", place.ID, "n-1"), place, time.Now(), published("n-1"))[0]}
	if err := decode.CheckStream(e, "disclosure", "n-1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, id string }{{"disclosure", "n-2"}, {"expenditure", "n-1"}, {"disclosure", "n-"}, {"disclosure", "1"}} {
		err := decode.CheckStream(e, c.kind, c.id)
		var pe *runtime.PoisonError
		if !errors.As(err, &pe) || pe.Position != e.Rec.Position || !errors.Is(err, decode.ErrEnvelope) {
			t.Errorf("%s-%s: want poison, got %v", c.kind, c.id, err)
		}
	}
	other := *e.Rec
	other.Meta.CommunityID = "330303001002" // an event of another community in this community's stream
	if err := decode.CheckStream(decode.Event{Rec: &other}, "disclosure", "n-1"); !errors.Is(err, runtime.ErrPoison) {
		t.Errorf("another community's event: %v", err)
	}
	if err := decode.Int32s(e, 0, -5, math.MaxInt32); err != nil {
		t.Error(err)
	}
	if err := decode.Int32s(e, 1, math.MaxInt32+1); !errors.Is(err, runtime.ErrPoison) {
		t.Errorf("a count beyond an integer: %v", err)
	}
}

// TestRowsRoundTrip writes every column type the models use — NULLs, extremes, text with multi-byte
// characters, jsonb, times before and after 2000 — through both paths (COPY and the multi-row upsert),
// and reads them back through pgx unchanged.
func TestRowsRoundTrip(t *testing.T) {
	t.Parallel()
	pool := decodetest.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE rt (k text COLLATE "C" PRIMARY KEY, s text, j jsonb, i2 int2, i4 int4, i8 int8, b bool, u uuid, ts timestamptz)`); err != nil {
		t.Fatal(err)
	}
	tbl := decode.NewTable("rt", []string{"k"}, "", "k text", "s text", "j jsonb", "i2 int2", "i4 int4", "i8 int8", "b bool", "u uuid", "ts timestamptz")
	type row struct {
		k  string
		s  pgtype.Text
		j  string
		i2 int16
		i4 pgtype.Int4
		i8 pgtype.Int8
		b  pgtype.Bool
		u  pgtype.UUID
		ts pgtype.Timestamptz
	}
	rows := []row{
		{"a", pgtype.Text{String: "罗西社区 — 张*", Valid: true}, `{"x": [1, "二"]}`, math.MinInt16, pgtype.Int4{Int32: math.MaxInt32, Valid: true},
			pgtype.Int8{Int64: math.MinInt64, Valid: true}, pgtype.Bool{Bool: true, Valid: true}, pgtype.UUID{Bytes: [16]byte{1, 2, 3, 15: 255}, Valid: true},
			pgtype.Timestamptz{Time: time.Date(1999, 12, 31, 23, 59, 59, 999_999_000, time.UTC), Valid: true}},
		{"b", pgtype.Text{String: "", Valid: true}, `[]`, 0, pgtype.Int4{Int32: -1, Valid: true}, pgtype.Int8{Int64: math.MaxInt64, Valid: true},
			pgtype.Bool{Bool: false, Valid: true}, pgtype.UUID{}, pgtype.Timestamptz{Time: time.Date(2026, 3, 2, 1, 0, 0, 123_456_000, time.UTC), Valid: true}},
		{"c", pgtype.Text{}, `null`, math.MaxInt16, pgtype.Int4{}, pgtype.Int8{}, pgtype.Bool{}, pgtype.UUID{}, pgtype.Timestamptz{}},
	}
	add := func(r *decode.Rows, x row, suffix string) {
		r.Row().Text(x.k + suffix).NullText(x.s).Text(x.j).Int2(x.i2).NullInt4(x.i4).NullInt8(x.i8).NullBool(x.b).UUID(x.u).NullTime(x.ts)
	}
	copied, upserted := tbl.Rows(), tbl.Rows()
	for _, x := range rows {
		add(copied, x, "-copy")
		add(upserted, x, "-upsert")
	}
	var w decode.Writer
	w.Upsert(upserted)
	w.Copy(copied)
	w.Exec(`DELETE FROM rt WHERE k = ANY($1)`, []string{"nothing"})
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w.Flush(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	got, err := pool.Query(ctx, `SELECT k, s, j::text, i2, i4, i8, b, u, ts FROM rt ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for got.Next() {
		var x row
		if err := got.Scan(&x.k, &x.s, &x.j, &x.i2, &x.i4, &x.i8, &x.b, &x.u, &x.ts); err != nil {
			t.Fatal(err)
		}
		want := rows[n/2] // a-copy, a-upsert, b-copy …
		k, _, _ := strings.Cut(x.k, "-")
		x.k, x.j = k, strings.ReplaceAll(x.j, " ", "")
		want.j = strings.ReplaceAll(want.j, " ", "")
		if x.ts.Valid {
			x.ts.Time = x.ts.Time.UTC()
		}
		if fmt.Sprint(x) != fmt.Sprint(want) {
			t.Errorf("row %d:\n got %v\nwant %v", n, x, want)
		}
		n++
	}
	if err := got.Err(); err != nil || n != 6 {
		t.Fatalf("%d rows, %v", n, err)
	}

	// An upsert updates what exists; a failing statement is reported with the table it was writing.
	again := tbl.Rows()
	again.Row().Text("a-copy").NullText(pgtype.Text{String: "新", Valid: true}).Text(`{}`).Int2(1).NullInt4(pgtype.Int4{}).NullInt8(pgtype.Int8{}).
		NullBool(pgtype.Bool{}).UUID(pgtype.UUID{}).NullTime(pgtype.Timestamptz{})
	var w2 decode.Writer
	w2.Upsert(again)
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w2.Flush(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	if c := decodetest.Count(t, pool, `SELECT count(*) FROM rt WHERE k = 'a-copy' AND s = '新' AND i2 = 1`); c != 1 {
		t.Fatal("the upsert did not update the existing row")
	}
	dup := tbl.Rows()
	add(dup, rows[0], "-copy")
	var w3 decode.Writer
	w3.Copy(dup)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w3.Flush(ctx, tx) })
	if err == nil || !strings.Contains(err.Error(), "into rt") || errors.Is(err, runtime.ErrPoison) {
		t.Fatalf("a duplicate COPY must fail as a database error naming the table, got %v", err)
	}
}

func TestRowsPanicOnMisuse(t *testing.T) {
	t.Parallel()
	tbl := decode.NewTable("x", []string{"a"}, "", "a text", "b int4")
	for name, f := range map[string]func(){
		"wrong type":     func() { tbl.Rows().Row().Text("a").Int8(1) },
		"too many":       func() { tbl.Rows().Row().Text("a").Int4(1).Int4(2) },
		"row incomplete": func() { tbl.Rows().Row().Text("a").Row() },
		"unknown type":   func() { decode.NewTable("x", nil, "", "a money") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
