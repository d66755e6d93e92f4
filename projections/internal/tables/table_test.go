package tables_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// TestRowsRoundTrip writes every column type the models use — NULLs, extremes, text with multi-byte
// characters, jsonb, bytea, times before and after 2000 — through both paths (COPY, small and large, and
// the multi-row upsert), and reads them back through pgx unchanged.
func TestRowsRoundTrip(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE rt (k text COLLATE "C" PRIMARY KEY, s text, j jsonb, i2 int2, i4 int4, i8 int8, b bool, u uuid, ts timestamptz, y bytea)`); err != nil {
		t.Fatal(err)
	}
	tbl := tables.New("rt", []string{"k"}, "", "k text", "s text", "j jsonb", "i2 int2", "i4 int4", "i8 int8", "b bool", "u uuid", "ts timestamptz", "y bytea")
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
		y  []byte
	}
	rows := []row{
		{"a", pgtype.Text{String: "罗西社区 — 张*", Valid: true}, `{"x": [1, "二"]}`, math.MinInt16, pgtype.Int4{Int32: math.MaxInt32, Valid: true},
			pgtype.Int8{Int64: math.MinInt64, Valid: true}, pgtype.Bool{Bool: true, Valid: true}, pgtype.UUID{Bytes: [16]byte{1, 2, 3, 15: 255}, Valid: true},
			pgtype.Timestamptz{Time: time.Date(1999, 12, 31, 23, 59, 59, 999_999_000, time.UTC), Valid: true}, []byte{0, 1, 0xff, '\\', 0}},
		{"b", pgtype.Text{String: "", Valid: true}, `[]`, 0, pgtype.Int4{Int32: -1, Valid: true}, pgtype.Int8{Int64: math.MaxInt64, Valid: true},
			pgtype.Bool{Bool: false, Valid: true}, pgtype.UUID{}, pgtype.Timestamptz{Time: time.Date(2026, 3, 2, 1, 0, 0, 123_456_000, time.UTC), Valid: true}, []byte{}},
		{"c", pgtype.Text{}, `null`, math.MaxInt16, pgtype.Int4{}, pgtype.Int8{}, pgtype.Bool{}, pgtype.UUID{}, pgtype.Timestamptz{}, []byte("字")},
	}
	add := func(r *tables.Rows, x row, suffix string) {
		r.Row().Text(x.k + suffix).NullText(x.s).Text(x.j).Int2(x.i2).NullInt4(x.i4).NullInt8(x.i8).NullBool(x.b).UUID(x.u).NullTime(x.ts).Bytea(x.y)
	}
	// The copied rows come in a large COPY (with more rows), the inserted ones in a small one.
	copied, inserted, upserted := tbl.Rows(), tbl.Rows(), tbl.Rows()
	for _, x := range rows {
		add(copied, x, "-copy")
		add(inserted, x, "-insert")
		add(upserted, x, "-upsert")
	}
	for i := range 300 {
		add(copied, rows[2], fmt.Sprintf("-z%03d", i))
	}
	var w, few tables.Writer
	w.Upsert(upserted)
	w.Copy(copied)
	w.Exec(`DELETE FROM rt WHERE k = ANY($1)`, []string{"nothing"})
	few.Copy(inserted)
	for _, w := range []*tables.Writer{&w, &few} {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w.Flush(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pool.Query(ctx, `SELECT k, s, j::text, i2, i4, i8, b, u, ts, y FROM rt WHERE k NOT LIKE '%-z%' ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for got.Next() {
		var x row
		if err := got.Scan(&x.k, &x.s, &x.j, &x.i2, &x.i4, &x.i8, &x.b, &x.u, &x.ts, &x.y); err != nil {
			t.Fatal(err)
		}
		want := rows[n/3] // a-copy, a-insert, a-upsert, b-copy …
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
	if err := got.Err(); err != nil || n != 9 {
		t.Fatalf("%d rows, %v", n, err)
	}
	var fill int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rt WHERE k LIKE '%-z%'`).Scan(&fill); err != nil || fill != 300 {
		t.Fatalf("%d rows of the large batch, %v", fill, err)
	}

	// An upsert updates what exists; a failing statement is reported with the table it was writing.
	again := tbl.Rows()
	again.Row().Text("a-copy").NullText(pgtype.Text{String: "新", Valid: true}).Text(`{}`).Int2(1).NullInt4(pgtype.Int4{}).NullInt8(pgtype.Int8{}).
		NullBool(pgtype.Bool{}).UUID(pgtype.UUID{}).NullTime(pgtype.Timestamptz{}).Bytea(nil)
	var w2 tables.Writer
	w2.Upsert(again)
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w2.Flush(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	var c int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rt WHERE k = 'a-copy' AND s = '新' AND i2 = 1`).Scan(&c); err != nil || c != 1 {
		t.Fatal("the upsert did not update the existing row")
	}
	// A duplicate key fails the batch as a database error naming the table, in a small COPY or a large.
	for _, extra := range []int{0, 300} {
		dup := tbl.Rows()
		add(dup, rows[0], "-copy")
		for i := range extra {
			add(dup, rows[2], fmt.Sprintf("-y%03d", i))
		}
		var w3 tables.Writer
		w3.Copy(dup)
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return w3.Flush(ctx, tx) })
		if err == nil || !strings.Contains(err.Error(), "into rt") || errors.Is(err, runtime.ErrPoison) {
			t.Fatalf("a duplicate key among %d rows added must fail as a database error naming the table, got %v", extra+1, err)
		}
	}
}

func TestRowsPanicOnMisuse(t *testing.T) {
	t.Parallel()
	tbl := tables.New("x", []string{"a"}, "", "a text", "b int4")
	for name, f := range map[string]func(){
		"wrong type":     func() { tbl.Rows().Row().Text("a").Int8(1) },
		"too many":       func() { tbl.Rows().Row().Text("a").Int4(1).Int4(2) },
		"row incomplete": func() { tbl.Rows().Row().Text("a").Row() },
		"unknown type":   func() { tables.New("x", nil, "", "a money") },
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

// TestQueueLoad reads rows by whole keys (one row a key, none for a key not there) and by a key's prefix
// (every row under it), in one batch, the way the models load what a batch touches.
func TestQueueLoad(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE uses (c text, s text, u text, n int4, PRIMARY KEY (c, s, u));
		INSERT INTO uses VALUES ('c1', 's1', 'u1', 1), ('c1', 's1', 'u2', 2), ('c1', 's2', 'u1', 3), ('c2', 's1', 'u1', 4)`); err != nil {
		t.Fatal(err)
	}
	tbl := tables.New("uses", []string{"c", "s", "u"}, "", "c text", "s text", "u text", "n int4")
	read := func(into *[]string) func(pgx.Rows) error {
		return func(rs pgx.Rows) error {
			var c, s, u string
			var n int32
			if err := rs.Scan(&c, &s, &u, &n); err != nil {
				return err
			}
			*into = append(*into, fmt.Sprintf("%s/%s/%s=%d", c, s, u, n))
			return nil
		}
	}
	var whole, under []string
	b := &pgx.Batch{}
	tbl.QueueLoad(b, read(&whole), []string{"c1", "c2", "c9"}, []string{"s2", "s1", "s1"}, []string{"u1", "u1", "u1"})
	tbl.QueueLoad(b, read(&under), []string{"c1"}, []string{"s1"})
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(whole)
	slices.Sort(under)
	if got := strings.Join(whole, " "); got != "c1/s2/u1=3 c2/s1/u1=4" {
		t.Errorf("by whole keys: %s", got)
	}
	if got := strings.Join(under, " "); got != "c1/s1/u1=1 c1/s1/u2=2" {
		t.Errorf("by a prefix: %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a load by more columns than the key has must panic")
		}
	}()
	tbl.LoadSQL(4)
}
