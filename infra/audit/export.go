package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// ExportFormat is the file format of an export.
type ExportFormat string

const (
	// CSV is RFC 4180 comma-separated values with a header row, UTF-8; streamed.
	CSV ExportFormat = "csv"
	// JSONL is one JSON object per line (JSON Lines); streamed. The payload is embedded as JSON.
	JSONL ExportFormat = "jsonl"
	// XLSX is an Office Open XML workbook with one sheet, written with a streaming writer; it is sent
	// when complete (the zip container is written last). A sheet holds at most 1 048 575 events.
	XLSX ExportFormat = "xlsx"
)

// ParseExportFormat accepts csv, jsonl and xlsx.
func ParseExportFormat(s string) (ExportFormat, error) {
	switch f := ExportFormat(s); f {
	case CSV, JSONL, XLSX:
		return f, nil
	}
	return "", invalid("format %q: want csv, jsonl or xlsx", s)
}

// ContentType is the media type of the format.
func (f ExportFormat) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case JSONL:
		return "application/jsonl; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/octet-stream"
}

// ExportRequest selects the events of one community to export.
type ExportRequest struct {
	Community string
	// From and To bound the events' time, [From, To); zero leaves that side open.
	From, To time.Time
	// By says which time of an event From and To compare with. Default ByRecorded.
	By TimeBasis
	// OwnOnly leaves out the district-level events above the community (its jurisdictions' nodes and
	// rule overrides, district-wide alerts), which are exported by default because its state depends on
	// them.
	OwnOnly bool
	Format  ExportFormat
	// Progress, when set, is called as events are read (as ReplayRequest.Progress).
	Progress func(done, total uint64)
}

// ExportResult says what was exported.
type ExportResult struct {
	Community    string
	Jurisdiction string
	Rows         int
	Head         eventlog.Position
}

// ExportColumns are the columns of a CSV or XLSX export (and the keys of a JSON Lines one, where the
// positions form one "position" object and the payload is JSON rather than text). Times are UTC (RFC 3339
// with nanoseconds) with a China-time (Asia/Shanghai) display column beside each.
var ExportColumns = []string{"commit_position", "prepare_position", "stream", "revision", "event_id", "type",
	"community_id", "jurisdiction", "actor", "command_id", "correlation_id", "causation_id", "schema_version",
	"occurred_at", "occurred_at_shanghai", "recorded_at", "recorded_at_shanghai", "prev_hash", "hash", "payload"}

// ErrTooManyRows means an XLSX export would exceed a sheet's rows: export CSV or JSON Lines, or a
// shorter time range.
var ErrTooManyRows = errors.New("audit: too many events for one spreadsheet (at most 1 048 575): export csv or jsonl, or a shorter time range")

// maxCellChars is the most characters a spreadsheet cell holds.
const maxCellChars = 32767

// Export writes the trail of one community, oldest first in $all order, with each event's envelope, its
// hash-chain links and its payload as stored, in req.Format to w.
//
// It reads the store of record, not the audit trail read model: the trail keeps envelopes without
// payloads, and may lag or be mid-rebuild. The events are those Replay applies: the community's own
// streams and the district-level events above it (OwnOnly leaves those out). Payloads are exported as
// stored, except that sealed personal data is opened when the auditor has the key store (Config.Personal):
// auditors see everything (DOMAIN.md), and a person whose data was erased as erased.
//
// CSV and JSON Lines are written as the events are read; nothing is held. XLSX is staged by the
// spreadsheet library (in memory and temporary files) and written to w at the end.
func (a *Auditor) Export(ctx context.Context, req ExportRequest, w io.Writer) (ExportResult, error) {
	by, err := ParseTimeBasis(string(req.By))
	if err != nil {
		return ExportResult{}, err
	}
	if _, err := ParseExportFormat(string(req.Format)); err != nil {
		return ExportResult{}, err
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return ExportResult{}, invalid("the time range ends (%s) before it starts (%s)", req.To.Format(time.RFC3339), req.From.Format(time.RFC3339))
	}
	sc, err := a.communityScope(ctx, req.Community)
	if err != nil {
		return ExportResult{}, err
	}
	head, err := a.cfg.Store.Head(ctx)
	if err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", req.Community, err)
	}
	res := ExportResult{Community: sc.community, Jurisdiction: sc.path, Head: head}
	var sink rowSink
	switch req.Format {
	case CSV:
		sink = newCSVSink(w)
	case JSONL:
		sink = newJSONLSink(w)
	case XLSX:
		if sink, err = newXLSXSink(w); err != nil {
			return res, err
		}
	}
	defer sink.Close()
	out := &opening{sink: sink, personal: a.cfg.Personal}
	n := 0
	err = a.cfg.Store.ReadAllFiltered(ctx, eventlog.Start, sc.filter(), func(r eventlog.Recorded) error {
		if n++; req.Progress != nil && n%1000 == 0 {
			req.Progress(r.Position.Commit, head.Commit)
		}
		if eventlog.SystemStream(r.Stream) || !sc.includes(&r) || (req.OwnOnly && !sc.own(&r)) {
			return nil
		}
		t := r.Created
		if by == ByOccurred && !r.Meta.OccurredAt.IsZero() {
			t = r.Meta.OccurredAt
		}
		if (!req.From.IsZero() && t.Before(req.From)) || (!req.To.IsZero() && !t.Before(req.To)) {
			return nil
		}
		res.Rows++
		return out.add(ctx, r)
	})
	if err == nil {
		err = out.flush(ctx)
	}
	if err != nil {
		return res, fmt.Errorf("export %s: %w", req.Community, err)
	}
	if req.Progress != nil {
		req.Progress(head.Commit, head.Commit)
	}
	if err := sink.Finish(); err != nil {
		return res, fmt.Errorf("export %s: %w", req.Community, err)
	}
	return res, nil
}

// opening writes rows to sink with their personal data opened for the auditor, a batch at a time (one
// round trip to the key store per batch of events that hold personal data).
type opening struct {
	sink     rowSink
	personal PayloadOpener
	pending  []eventlog.Recorded
}

const openBatch = 512

func (o *opening) add(ctx context.Context, r eventlog.Recorded) error {
	if o.personal == nil {
		return o.sink.Row(&r)
	}
	o.pending = append(o.pending, r)
	if len(o.pending) < openBatch {
		return nil
	}
	return o.flush(ctx)
}

func (o *opening) flush(ctx context.Context) error {
	if len(o.pending) == 0 {
		return nil
	}
	data, err := o.personal.OpenPayloads(ctx, o.pending)
	if err != nil {
		return fmt.Errorf("open the personal data: %w", err)
	}
	for i := range o.pending {
		o.pending[i].Data = data[i]
		if err := o.sink.Row(&o.pending[i]); err != nil {
			return err
		}
	}
	o.pending = o.pending[:0]
	return nil
}

// rowSink writes rows in one format.
type rowSink interface {
	Row(r *eventlog.Recorded) error
	// Finish completes the file; Close releases what an unfinished one holds.
	Finish() error
	Close()
}

func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func shanghai(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(kernel.ChinaTime()).Format("2006-01-02 15:04:05")
}

// fields renders r as the text cells of ExportColumns.
func fields(r *eventlog.Recorded, dst []string) []string {
	m := &r.Meta
	return append(dst[:0], strconv.FormatUint(r.Position.Commit, 10), strconv.FormatUint(r.Position.Prepare, 10), r.Stream,
		strconv.FormatUint(r.Revision, 10), r.ID.String(), r.Type, m.CommunityID, m.Jurisdiction, m.Actor, m.CommandID,
		m.CorrelationID, m.CausationID, strconv.Itoa(m.SchemaVersion), utc(m.OccurredAt), shanghai(m.OccurredAt),
		utc(r.Created), shanghai(r.Created), m.PrevHash, m.Hash, string(r.Data))
}

type csvSink struct {
	w    *csv.Writer
	rec  []string
	rows int
}

func newCSVSink(w io.Writer) *csvSink {
	s := &csvSink{w: csv.NewWriter(w)}
	_ = s.w.Write(ExportColumns)
	return s
}

func (s *csvSink) Row(r *eventlog.Recorded) error {
	s.rec = fields(r, s.rec)
	if err := s.w.Write(s.rec); err != nil {
		return err
	}
	if s.rows++; s.rows%256 == 0 {
		s.w.Flush()
		return s.w.Error()
	}
	return nil
}

func (s *csvSink) Finish() error { s.w.Flush(); return s.w.Error() }
func (s *csvSink) Close()        {}

// jsonlRow is one line of a JSON Lines export.
type jsonlRow struct {
	Position           eventlog.Position `json:"position"`
	Stream             string            `json:"stream"`
	Revision           uint64            `json:"revision"`
	EventID            string            `json:"event_id"`
	Type               string            `json:"type"`
	CommunityID        string            `json:"community_id"`
	Jurisdiction       string            `json:"jurisdiction"`
	Actor              string            `json:"actor"`
	CommandID          string            `json:"command_id"`
	CorrelationID      string            `json:"correlation_id"`
	CausationID        string            `json:"causation_id"`
	SchemaVersion      int               `json:"schema_version"`
	OccurredAt         string            `json:"occurred_at"`
	OccurredAtShanghai string            `json:"occurred_at_shanghai"`
	RecordedAt         string            `json:"recorded_at"`
	RecordedAtShanghai string            `json:"recorded_at_shanghai"`
	PrevHash           string            `json:"prev_hash"`
	Hash               string            `json:"hash"`
	// Payload is the payload as stored when it is JSON (it always is for the ledger's events), else the
	// payload as a string.
	Payload any `json:"payload"`
}

type jsonlSink struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	rows int
}

func newJSONLSink(w io.Writer) *jsonlSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonlSink{bw: bw, enc: enc}
}

func (s *jsonlSink) Row(r *eventlog.Recorded) error {
	m := &r.Meta
	row := jsonlRow{Position: r.Position, Stream: r.Stream, Revision: r.Revision, EventID: r.ID.String(), Type: r.Type,
		CommunityID: m.CommunityID, Jurisdiction: m.Jurisdiction, Actor: m.Actor, CommandID: m.CommandID,
		CorrelationID: m.CorrelationID, CausationID: m.CausationID, SchemaVersion: m.SchemaVersion,
		OccurredAt: utc(m.OccurredAt), OccurredAtShanghai: shanghai(m.OccurredAt), RecordedAt: utc(r.Created),
		RecordedAtShanghai: shanghai(r.Created), PrevHash: m.PrevHash, Hash: m.Hash, Payload: string(r.Data)}
	if json.Valid(r.Data) {
		row.Payload = json.RawMessage(r.Data)
	}
	if err := s.enc.Encode(row); err != nil {
		return err
	}
	if s.rows++; s.rows%256 == 0 {
		return s.bw.Flush()
	}
	return nil
}

func (s *jsonlSink) Finish() error { return s.bw.Flush() }
func (s *jsonlSink) Close()        {}

// SheetName is the name of the one sheet of an XLSX export.
const SheetName = "audit trail"

type xlsxSink struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
	rec  []string
	cell []any
}

func newXLSXSink(w io.Writer) (*xlsxSink, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		_ = f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		_ = f.Close()
		return nil, err
	}
	header := make([]any, len(ExportColumns))
	for i, c := range ExportColumns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &xlsxSink{w: w, f: f, sw: sw, rows: 1, cell: make([]any, len(ExportColumns))}, nil
}

// numeric are the columns written as numbers (positions, revision, schema version); the rest are text,
// so that nothing an event says is ever read as a formula.
var numeric = map[int]bool{0: true, 1: true, 3: true, 12: true}

func (s *xlsxSink) Row(r *eventlog.Recorded) error {
	if s.rows >= excelize.TotalRows {
		return ErrTooManyRows
	}
	s.rows++
	s.rec = fields(r, s.rec)
	for i, v := range s.rec {
		switch {
		case numeric[i]:
			n, _ := strconv.ParseUint(v, 10, 64)
			s.cell[i] = n
		case utf8.RuneCountInString(v) > maxCellChars:
			s.cell[i] = fmt.Sprintf("(%d bytes: longer than a spreadsheet cell holds; export csv or jsonl for it)", len(v))
		default:
			s.cell[i] = v
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, s.rows)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, s.cell)
}

func (s *xlsxSink) Finish() error {
	if err := s.sw.Flush(); err != nil {
		return err
	}
	_, err := s.f.WriteTo(s.w)
	return err
}

func (s *xlsxSink) Close() { _ = s.f.Close() }
