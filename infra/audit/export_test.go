package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// exportHistory writes community A's events, B's, and district-level ones, in two rounds recorded across
// a wall-clock boundary, which it returns.
func exportHistory(t *testing.T, st *eventstore.Store) time.Time {
	t.Helper()
	street := synth("street", "community.jurisdiction-registered", "", streetPath, 1)
	mustAppend(t, st, "jurisdiction-330303001-node", eventlog.NoStream(), street)
	mustAppend(t, st, "community-"+commA+"-profile", eventlog.NoStream(), synth("regA", "community.registered", commA, pathA, 1))
	mustAppend(t, st, "community-"+commB+"-profile", eventlog.NoStream(), synth("regB", "community.registered", commB, pathB, 1))
	mustAppend(t, st, "expenditure-"+commA+"-1", eventlog.NoStream(), synth("xa1", "funds.expenditure-requested", commA, pathA, 3))
	mustAppend(t, st, "expenditure-"+commB+"-1", eventlog.NoStream(), synth("xb1", "funds.expenditure-requested", commB, pathB, 2))
	time.Sleep(5 * time.Millisecond)
	boundary := time.Now()
	time.Sleep(5 * time.Millisecond)
	mustAppend(t, st, "expenditure-"+commA+"-2", eventlog.NoStream(), synth("xa2", "funds.expenditure-requested", commA, pathA, 2))
	alerts := append(synth("alA", "supervision.alert-raised", commA, pathA, 1), synth("alB", "supervision.alert-raised", commB, pathB, 1)...)
	mustAppend(t, st, "alerts-330303", eventlog.NoStream(), alerts)
	mustAppend(t, st, "rulebook-330303-overrides", eventlog.NoStream(), synth("rb", "rulebook.override-set", "", "33/3303/330303", 1))
	return boundary
}

// expected picks from $all the events of community A (own: its streams and its alerts; with the
// district's: the street node and the district's overrides) in the time range.
func expected(t *testing.T, st *eventstore.Store, own bool, from, to time.Time) []eventlog.Recorded {
	t.Helper()
	var out []eventlog.Recorded
	for _, r := range readAll(t, st) {
		mine := strings.Contains(r.Stream, "-"+commA+"-") || r.Meta.CommunityID == commA
		district := r.Stream == "jurisdiction-330303001-node" || r.Stream == "rulebook-330303-overrides"
		if (mine || (!own && district)) && (from.IsZero() || !r.Created.Before(from)) && (to.IsZero() || r.Created.Before(to)) {
			out = append(out, r)
		}
	}
	return out
}

// row is an exported event as read back.
type row map[string]string

func checkRows(t *testing.T, format string, got []row, want []eventlog.Recorded) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", format, len(got), len(want))
	}
	for i, r := range want {
		g := got[i]
		exp := map[string]string{
			"commit_position": strconv.FormatUint(r.Position.Commit, 10), "stream": r.Stream, "revision": strconv.FormatUint(r.Revision, 10),
			"event_id": r.ID.String(), "type": r.Type, "community_id": r.Meta.CommunityID, "actor": r.Meta.Actor,
			"command_id": r.Meta.CommandID, "prev_hash": r.Meta.PrevHash, "hash": r.Meta.Hash,
			"occurred_at": r.Meta.OccurredAt.Format(time.RFC3339Nano), "recorded_at": r.Created.UTC().Format(time.RFC3339Nano),
			"recorded_at_shanghai": r.Created.Add(8 * time.Hour).UTC().Format("2006-01-02 15:04:05"),
			"payload":              string(r.Data),
		}
		for k, v := range exp {
			if g[k] != v {
				t.Fatalf("%s row %d (%s@%d): %s = %q, want %q", format, i, r.Stream, r.Revision, k, g[k], v)
			}
		}
		// The hash in the export is the chain hash of the exported content.
		if eventlog.HashOf(r.Stream, r.Event) != g["hash"] {
			t.Fatalf("%s row %d: hash does not verify", format, i)
		}
	}
}

func export(t *testing.T, a *Auditor, req ExportRequest) []byte {
	t.Helper()
	var buf bytes.Buffer
	res, err := a.Export(context.Background(), req, &buf)
	if err != nil {
		t.Fatalf("export %s: %v", req.Format, err)
	}
	if res.Community != commA || res.Jurisdiction != pathA {
		t.Fatalf("%+v", res)
	}
	return buf.Bytes()
}

func parseCSV(t *testing.T, b []byte) []row {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], ExportColumns) {
		t.Fatalf("header %v", recs[0])
	}
	return rows(recs[0], recs[1:])
}

func rows(header []string, recs [][]string) []row {
	out := make([]row, len(recs))
	for i, rec := range recs {
		out[i] = row{}
		for j, h := range header {
			if j < len(rec) {
				out[i][h] = rec[j]
			}
		}
	}
	return out
}

func parseJSONL(t *testing.T, b []byte) []row {
	t.Helper()
	var out []row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			jsonlRow
			Payload json.RawMessage `json:"payload"`
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, row{"commit_position": strconv.FormatUint(l.Position.Commit, 10), "stream": l.Stream,
			"revision": strconv.FormatUint(l.Revision, 10), "event_id": l.EventID, "type": l.Type, "community_id": l.CommunityID,
			"actor": l.Actor, "command_id": l.CommandID, "prev_hash": l.PrevHash, "hash": l.Hash, "occurred_at": l.OccurredAt,
			"recorded_at": l.RecordedAt, "recorded_at_shanghai": l.RecordedAtShanghai, "payload": string(l.Payload)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseXLSX(t *testing.T, b []byte) []row {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := f.GetRows(SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], ExportColumns) {
		t.Fatalf("header %v", recs[0])
	}
	return rows(recs[0], recs[1:])
}

func TestExportFormatsParseBack(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	boundary := exportHistory(t, n.store)
	a := newAuditor(t, n.store, nil)
	parsers := map[ExportFormat]func(*testing.T, []byte) []row{CSV: parseCSV, JSONL: parseJSONL, XLSX: parseXLSX}
	cases := map[string]struct {
		req  ExportRequest
		want []eventlog.Recorded
	}{
		"everything":           {ExportRequest{}, expected(t, n.store, false, time.Time{}, time.Time{})},
		"own events only":      {ExportRequest{OwnOnly: true}, expected(t, n.store, true, time.Time{}, time.Time{})},
		"recorded before":      {ExportRequest{To: boundary}, expected(t, n.store, false, time.Time{}, boundary)},
		"recorded from":        {ExportRequest{From: boundary}, expected(t, n.store, false, boundary, time.Time{})},
		"nothing in the range": {ExportRequest{From: boundary.Add(time.Hour)}, nil},
	}
	for name, c := range cases {
		for format, parse := range parsers {
			t.Run(name+"/"+string(format), func(t *testing.T) {
				req := c.req
				req.Community, req.Format = commA, format
				checkRows(t, string(format), parse(t, export(t, a, req)), c.want)
			})
		}
	}
	if len(cases["recorded before"].want) == 0 || len(cases["recorded from"].want) == 0 ||
		len(cases["own events only"].want) == len(cases["everything"].want) {
		t.Fatal("the fixture does not exercise the filters")
	}
}

func TestExportByOccurredTime(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	exportHistory(t, n.store)
	a := newAuditor(t, n.store, nil)
	// synth's events occur an hour apart from baseTime: the first two hours hold events 0 and 1 of each
	// command.
	got := parseJSONL(t, export(t, a, ExportRequest{Community: commA, Format: JSONL, By: ByOccurred, To: baseTime.Add(90 * time.Minute)}))
	var want []eventlog.Recorded
	for _, r := range expected(t, n.store, false, time.Time{}, time.Time{}) {
		if r.Meta.OccurredAt.Before(baseTime.Add(90 * time.Minute)) {
			want = append(want, r)
		}
	}
	checkRows(t, "jsonl", got, want)
}

func TestExportRefusesBadRequests(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	exportHistory(t, n.store)
	a := newAuditor(t, n.store, nil)
	for name, req := range map[string]ExportRequest{
		"format":   {Community: commA, Format: "pdf"},
		"range":    {Community: commA, Format: CSV, From: baseTime, To: baseTime},
		"basis":    {Community: commA, Format: CSV, By: "written"},
		"id":       {Community: "a-b", Format: CSV},
		"no store": {Community: "999", Format: CSV},
	} {
		_, err := a.Export(context.Background(), req, &bytes.Buffer{})
		want := ErrInvalid
		if name == "no store" {
			want = ErrCommunityNotFound
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
}
