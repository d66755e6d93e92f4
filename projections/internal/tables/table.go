// Package tables is the PostgreSQL side of the read models: each table declared once (its columns and
// types, the key an upsert conflicts on), the bulk writes of a batch (binary COPY and multi-row upserts,
// sent together), and the conversions and query helpers their loaders and query functions share.
// Turning a batch of recorded events into domain events is projections/internal/decode's job.
package tables

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Table describes a read-model table for the bulk writes of a batch: its columns in order with their
// PostgreSQL types, the key an upsert conflicts on, and what an upsert does to the existing row.
//
// A batch writes a table's rows in one of two ways. Rows the model knows are not in the table yet (it
// loaded their key and found nothing, in the same transaction) go in with a binary COPY, the cheapest way
// to add rows to PostgreSQL. Rows that may exist go in with one INSERT … SELECT FROM unnest(…) ON CONFLICT
// statement per table; a batch's statements go to the server together (Writer). Values are encoded
// straight into PostgreSQL's binary format as they are added: no reflection, no allocation per value.
type Table struct {
	name    string
	columns []string
	types   []colType
	upsert  string
	missing string
	copySQL string
	loads   []string // loads[n-1]: the read of the rows under the first n key columns (text keys only)
	// spare holds Rows that Writer.Flush has sent (a few: a batch takes one or two of a table): the next
	// batch's rows are written into their buffers instead of growing new ones (growing and copying them
	// was about a seventh of a rebuild's CPU). Not a sync.Pool, which a rebuild's many collections empty.
	spare chan *Rows
}

type colType struct {
	name          string
	oid, arrayOID uint32
}

var colTypes = map[string]colType{
	"text":        {"text", pgtype.TextOID, pgtype.TextArrayOID},
	"jsonb":       {"jsonb", pgtype.JSONBOID, pgtype.JSONBArrayOID},
	"int2":        {"int2", pgtype.Int2OID, pgtype.Int2ArrayOID},
	"int4":        {"int4", pgtype.Int4OID, pgtype.Int4ArrayOID},
	"int8":        {"int8", pgtype.Int8OID, pgtype.Int8ArrayOID},
	"bool":        {"bool", pgtype.BoolOID, pgtype.BoolArrayOID},
	"uuid":        {"uuid", pgtype.UUIDOID, pgtype.UUIDArrayOID},
	"timestamptz": {"timestamptz", pgtype.TimestamptzOID, pgtype.TimestamptzArrayOID},
	"bytea":       {"bytea", pgtype.ByteaOID, pgtype.ByteaArrayOID},
}

// spareRows is how many sent Rows a table keeps for the next batches.
const spareRows = 4

// NewTable describes table name. key is the conflict target; set is the upsert's action on conflict:
// "" sets every column that is not part of the key to the new row's value, "nothing" does nothing,
// anything else is used as the SET list (the existing row is "t", the new one "excluded"). columns are
// "name type" pairs (types: text, jsonb, int2, int4, int8, bool, uuid, timestamptz), in the order rows
// give their values. It panics on an unknown type: tables are described once, at start.
func New(name string, key []string, set string, columns ...string) *Table {
	t := &Table{name: name, spare: make(chan *Rows, spareRows)}
	for _, c := range columns {
		n, typ, _ := strings.Cut(c, " ")
		ct, ok := colTypes[typ]
		if !ok {
			panic("tables.New: column " + c + " of " + name + " has no known type")
		}
		t.columns, t.types = append(t.columns, n), append(t.types, ct)
	}
	params := make([]string, len(t.types))
	for i, ct := range t.types {
		params[i] = fmt.Sprintf("$%d::%s[]", i+1, ct.name)
	}
	action := "NOTHING"
	switch set {
	case "nothing":
	case "":
		isKey := map[string]bool{}
		for _, k := range key {
			isKey[k] = true
		}
		var sets []string
		for _, c := range t.columns {
			if !isKey[c] {
				sets = append(sets, c+" = excluded."+c)
			}
		}
		action = "UPDATE SET " + strings.Join(sets, ", ")
	default:
		action = "UPDATE SET " + set
	}
	t.upsert = fmt.Sprintf("INSERT INTO %s AS t (%s) SELECT * FROM unnest(%s) ON CONFLICT (%s) DO %s",
		name, strings.Join(t.columns, ", "), strings.Join(params, ", "), strings.Join(key, ", "), action)
	t.missing = fmt.Sprintf("INSERT INTO %s AS t (%s) SELECT * FROM unnest(%s) ON CONFLICT (%s) DO NOTHING",
		name, strings.Join(t.columns, ", "), strings.Join(params, ", "), strings.Join(key, ", "))
	t.copySQL = fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", name, strings.Join(t.columns, ", "))
	// A read by whole keys finds one row a key (LIMIT 1), a read by a prefix every row under it (OFFSET 0
	// keeps the planner from flattening the lateral join): an index scan a key either way.
	var keyParams, names, conds []string
	for i, k := range key {
		if j := slices.Index(t.columns, k); j < 0 || t.types[j].name != "text" {
			break
		}
		keyParams, names = append(keyParams, fmt.Sprintf("$%d::text[]", i+1)), append(names, fmt.Sprintf("k%d", i))
		conds = append(conds, fmt.Sprintf("r.%s = k.k%d", k, i))
		limit := "OFFSET 0"
		if i == len(key)-1 {
			limit = "LIMIT 1"
		}
		t.loads = append(t.loads, fmt.Sprintf("SELECT %s FROM unnest(%s) AS k(%s) CROSS JOIN LATERAL (SELECT * FROM %s r WHERE %s %s) r",
			t.Select("r"), strings.Join(keyParams, ", "), strings.Join(names, ", "), name, strings.Join(conds, " AND "), limit))
	}
	return t
}

// LoadSQL is the read QueueLoad queues for the first n key columns: one text array parameter a column.
func (t *Table) LoadSQL(n int) string {
	if n < 1 || n > len(t.loads) {
		panic(fmt.Sprintf("tables: %s has no load by %d text key columns", t.name, n))
	}
	return t.loads[n-1]
}

// QueueLoad queues on b the read of the rows whose first key columns equal, position by position, the
// values in keys (one slice a key column, in the key's order, all of one length): with the whole key one
// row a position, with a prefix every row under it. Each row found, its columns in Select's order, goes to
// scan. It panics when keys name more columns than the table's text key has.
func (t *Table) QueueLoad(b *pgx.Batch, scan func(pgx.Rows) error, keys ...[]string) {
	sql := t.LoadSQL(len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	b.Queue(sql, args...).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			if err := scan(rs); err != nil {
				return err
			}
		}
		return rs.Err()
	})
}

// Name is the table's name.
func (t *Table) Name() string { return t.name }

// Declaration is the table's columns as "name type" pairs, in the order rows give their values.
func (t *Table) Declaration() []string {
	out := make([]string, len(t.columns))
	for i, c := range t.columns {
		out[i] = c + " " + t.types[i].name
	}
	return out
}

// Select is the table's columns as a SELECT list in the declared order, the order a loader scans them in,
// each qualified by alias when one is given; jsonb columns are read as text.
func (t *Table) Select(alias string) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		if alias != "" {
			c = alias + "." + c
		}
		if t.types[i].name == "jsonb" {
			c += "::text"
		}
		cols[i] = c
	}
	return strings.Join(cols, ", ")
}

// UpsertSQL is the table's multi-row upsert: one array parameter per column, in the declared order, each
// of the column's type (a model that builds its arrays itself queues it with pgx).
func (t *Table) UpsertSQL() string { return t.upsert }

// InsertMissingSQL is UpsertSQL that leaves a row already there as it is.
func (t *Table) InsertMissingSQL() string { return t.missing }

// Columns is the table's column names, in the order rows give their values.
func (t *Table) Columns() []string { return slices.Clone(t.columns) }

// Rows collects rows for t.
func (t *Table) Rows() *Rows {
	select {
	case r := <-t.spare:
		r.reset()
		return r
	default:
	}
	return &Rows{t: t, cols: make([]column, len(t.types)), next: len(t.types)}
}

// reset empties rows taken from the spares, keeping their buffers.
func (r *Rows) reset() {
	for j := range r.cols {
		c := &r.cols[j]
		c.data, c.start, c.nulls = c.data[:0], c.start[:0], false
	}
	r.n, r.next, r.released = 0, len(r.cols), false
}

// release gives rows that have been sent back to their table's spares (once, however often they were
// queued).
func (r *Rows) release() {
	if r.released {
		return
	}
	r.released = true
	select {
	case r.t.spare <- r:
	default:
	}
}

// column is one column of a batch of rows in binary wire format: each value as a 4-byte length (-1 for
// NULL) and its bytes, one after the other — what both an array parameter and a COPY row are made of.
type column struct {
	data  []byte
	start []int32 // where each row's value begins in data
	nulls bool
}

// Rows are rows of one table. Add a row with Row, then one value per column in the table's order with
// the typed methods; a value of the wrong type or a row with too few or too many values panics: a
// programming error every test of the model finds.
type Rows struct {
	t    *Table
	cols []column
	n    int
	next int // the column the next value goes to
	// scratch holds a fixed-size value while it is encoded: no allocation per value.
	scratch [8]byte
	// copyBuf holds the rows in COPY format (copyData), kept with the rows for their next batch.
	copyBuf  []byte
	released bool // given back to the table (release)
}

// Len is the number of rows.
func (r *Rows) Len() int { return r.n }

// Row starts a new row.
func (r *Rows) Row() *Rows {
	if r.next != len(r.cols) {
		panic(fmt.Sprintf("tables: row %d of %s has %d of its %d values", r.n, r.t.name, r.next, len(r.cols)))
	}
	r.n++
	r.next = 0
	return r
}

func (r *Rows) col(typ string) *column {
	if r.next >= len(r.cols) {
		panic(fmt.Sprintf("tables: too many values for a row of %s", r.t.name))
	}
	if got := r.t.types[r.next].name; got != typ && !(typ == "text" && got == "jsonb") {
		panic(fmt.Sprintf("tables: column %s of %s is %s, given %s", r.t.columns[r.next], r.t.name, got, typ))
	}
	c := &r.cols[r.next]
	r.next++
	c.start = append(c.start, int32(len(c.data)))
	return c
}

// fixed adds a value of type typ in binary format: its length, then its bytes (b may be r.scratch).
func (r *Rows) fixed(typ string, b []byte) *Rows {
	c := r.col(typ)
	c.data = binary.BigEndian.AppendUint32(c.data, uint32(len(b)))
	c.data = append(c.data, b...)
	return r
}

// nullOr adds the value add adds when valid, a NULL of type typ otherwise.
func (r *Rows) nullOr(valid bool, typ string, add func()) *Rows {
	if valid {
		add()
	} else {
		r.col(typ).null()
	}
	return r
}

func (c *column) null() {
	c.data, c.nulls = binary.BigEndian.AppendUint32(c.data, math.MaxUint32), true
}

// Text adds a text (or jsonb) value.
func (r *Rows) Text(s string) *Rows {
	isJSON := r.next < len(r.cols) && r.t.types[r.next].name == "jsonb"
	c := r.col("text")
	if isJSON { // jsonb's binary format is a version byte, then the text
		c.data = binary.BigEndian.AppendUint32(c.data, uint32(len(s)+1))
		c.data = append(c.data, 1)
	} else {
		c.data = binary.BigEndian.AppendUint32(c.data, uint32(len(s)))
	}
	c.data = append(c.data, s...)
	return r
}

// NullText adds a text value, NULL when not valid.
func (r *Rows) NullText(s pgtype.Text) *Rows {
	return r.nullOr(s.Valid, "text", func() { r.Text(s.String) })
}

// Int2 adds a smallint.
func (r *Rows) Int2(n int16) *Rows {
	return r.fixed("int2", binary.BigEndian.AppendUint16(r.scratch[:0], uint16(n)))
}

// Int4 adds an integer.
func (r *Rows) Int4(n int32) *Rows {
	return r.fixed("int4", binary.BigEndian.AppendUint32(r.scratch[:0], uint32(n)))
}

// NullInt4 adds an integer, NULL when not valid.
func (r *Rows) NullInt4(n pgtype.Int4) *Rows {
	return r.nullOr(n.Valid, "int4", func() { r.Int4(n.Int32) })
}

// Int8 adds a bigint.
func (r *Rows) Int8(n int64) *Rows {
	return r.fixed("int8", binary.BigEndian.AppendUint64(r.scratch[:0], uint64(n)))
}

// NullInt8 adds a bigint, NULL when not valid.
func (r *Rows) NullInt8(n pgtype.Int8) *Rows {
	return r.nullOr(n.Valid, "int8", func() { r.Int8(n.Int64) })
}

// Bool adds a boolean.
func (r *Rows) Bool(b bool) *Rows {
	v := byte(0)
	if b {
		v = 1
	}
	return r.fixed("bool", append(r.scratch[:0], v))
}

// NullBool adds a boolean, NULL when not valid.
func (r *Rows) NullBool(b pgtype.Bool) *Rows {
	return r.nullOr(b.Valid, "bool", func() { r.Bool(b.Bool) })
}

// Bytea adds a bytea value.
func (r *Rows) Bytea(b []byte) *Rows { return r.fixed("bytea", b) }

// UUID adds a uuid, NULL when not valid.
func (r *Rows) UUID(u pgtype.UUID) *Rows {
	return r.nullOr(u.Valid, "uuid", func() { r.fixed("uuid", u.Bytes[:]) })
}

// microsecondsToY2K is PostgreSQL's epoch (2000-01-01 UTC) in Unix microseconds.
const microsecondsToY2K = 946_684_800_000_000

// Time adds a timestamptz (microsecond precision, as PostgreSQL keeps it).
func (r *Rows) Time(t time.Time) *Rows {
	return r.fixed("timestamptz", binary.BigEndian.AppendUint64(r.scratch[:0], uint64(t.UnixMicro()-microsecondsToY2K)))
}

// NullTime adds a timestamptz, NULL when not valid.
func (r *Rows) NullTime(t pgtype.Timestamptz) *Rows {
	return r.nullOr(t.Valid, "timestamptz", func() { r.Time(t.Time) })
}

func (r *Rows) complete() {
	if r.next != len(r.cols) {
		panic(fmt.Sprintf("tables: the last row of %s has %d of its %d values", r.t.name, r.next, len(r.cols)))
	}
}

// value returns row i's value of column j, length prefix included.
func (c *column) value(i int) []byte {
	end := len(c.data)
	if i+1 < len(c.start) {
		end = int(c.start[i+1])
	}
	return c.data[c.start[i]:end]
}

// array is column j as a one-dimensional binary array parameter.
func (r *Rows) array(j int) []byte {
	c := &r.cols[j]
	b := make([]byte, 0, 20+len(c.data))
	b = binary.BigEndian.AppendUint32(b, 1) // dimensions
	hasNull := uint32(0)
	if c.nulls {
		hasNull = 1
	}
	b = binary.BigEndian.AppendUint32(b, hasNull)
	b = binary.BigEndian.AppendUint32(b, r.t.types[j].oid)
	b = binary.BigEndian.AppendUint32(b, uint32(r.n)) // length
	b = binary.BigEndian.AppendUint32(b, 1)           // lower bound
	return append(b, c.data...)
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyData is the rows in PostgreSQL's binary COPY format.
func (r *Rows) copyData() []byte {
	size := len(copyHeader) + 2 + r.n*2
	for j := range r.cols {
		size += len(r.cols[j].data)
	}
	b := slices.Grow(r.copyBuf[:0], size)
	b = append(b, copyHeader...)
	for i := 0; i < r.n; i++ {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.cols)))
		for j := range r.cols {
			b = append(b, r.cols[j].value(i)...)
		}
	}
	r.copyBuf = binary.BigEndian.AppendUint16(b, math.MaxUint16) // trailer: -1
	return r.copyBuf
}

// release gives every rows queued back to its table's spares and empties the Writer.
func (w *Writer) release() {
	for _, s := range w.stmts {
		if s.rows != nil {
			s.rows.release()
		}
	}
	for _, r := range w.copies {
		r.release()
	}
	w.stmts, w.copies = nil, nil
}

// Writer sends a batch's writes: statements (upserts, deletes) all together in one round trip, then the
// COPYs. Use one per Apply.
type Writer struct {
	stmts  []stmt
	copies []*Rows
}

type stmt struct {
	rows    *Rows // the rows an upsert sends (nil for Exec)
	sql     string
	params  [][]byte
	oids    []uint32
	formats []int16
	what    string
}

// Upsert queues the rows' multi-row upsert (nothing when there are no rows).
func (w *Writer) Upsert(r *Rows) {
	if r.n == 0 {
		return
	}
	r.complete()
	s := stmt{rows: r, sql: r.t.upsert, what: "upsert " + r.t.name}
	for j, ct := range r.t.types {
		s.params, s.oids, s.formats = append(s.params, r.array(j)), append(s.oids, ct.arrayOID), append(s.formats, pgx.BinaryFormatCode)
	}
	w.stmts = append(w.stmts, s)
}

// Exec queues a statement with text array parameters (each a []string), such as a DELETE … = ANY($1).
func (w *Writer) Exec(sql string, textArrays ...[]string) {
	s := stmt{sql: sql, what: sql}
	for _, a := range textArrays {
		rows := &Rows{t: &Table{name: "param", types: []colType{colTypes["text"]}}, cols: make([]column, 1), next: 1}
		for _, v := range a {
			rows.Row().Text(v)
		}
		s.params, s.oids, s.formats = append(s.params, rows.array(0)), append(s.oids, pgtype.TextArrayOID), append(s.formats, pgx.BinaryFormatCode)
	}
	w.stmts = append(w.stmts, s)
}

// Copy queues the rows' COPY (nothing when there are no rows). Use it only for rows that cannot be in
// the table yet: a duplicate key fails the whole batch, which the runtime then retries.
func (w *Writer) Copy(r *Rows) {
	if r.n == 0 {
		return
	}
	r.complete()
	w.copies = append(w.copies, r)
}

// Flush sends the statements in one pipeline, then the COPYs, in the order they were queued. An error is
// the first statement's that failed (a database error: the runtime rolls the batch back and retries).
// (Sending a live batch's few rows as INSERT … SELECT FROM unnest(…) in the statements' round trip instead
// of a COPY each was tried: at 2 000 events/s it raised PostgreSQL's CPU and the p99, 2026-12-06.)
//
// Once Flush returns, the rows queued are the table's again (Table.Rows hands out their buffers anew): a
// model must not touch them after the Flush, and the Writer is empty.
func (w *Writer) Flush(ctx context.Context, tx pgx.Tx) error {
	defer w.release()
	conn := tx.Conn().PgConn()
	if len(w.stmts) > 0 {
		p := conn.StartPipeline(ctx)
		for _, s := range w.stmts {
			p.SendQueryParams(s.sql, s.params, s.oids, s.formats, nil)
		}
		var first error
		if err := p.Sync(); err != nil {
			first = err
		}
		for i := 0; first == nil; {
			res, err := p.GetResults()
			if err != nil {
				first = fmt.Errorf("%s: %w", w.stmts[min(i, len(w.stmts)-1)].what, err)
				break
			}
			if rr, ok := res.(*pgconn.ResultReader); ok {
				if _, err := rr.Close(); err != nil {
					first = fmt.Errorf("%s: %w", w.stmts[i].what, err)
				}
				i++
				continue
			}
			break // the PipelineSync, or nothing left
		}
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
		if first != nil {
			return first
		}
	}
	for _, r := range w.copies {
		if _, err := conn.CopyFrom(ctx, bytes.NewReader(r.copyData()), r.t.copySQL); err != nil {
			return fmt.Errorf("copy %d rows into %s: %w", r.n, r.t.name, err)
		}
	}
	return nil
}
