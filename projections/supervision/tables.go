package supervision

import "github.com/grassroots-ledger/ledger/projections/internal/tables"

// The model's tables, declared for the read-model contract (projections/internal/readmodeltest), which
// checks them against what the migrations create. The engine's statements (engine.go, queries.go) still
// name their columns themselves, but for the deadlines, which a batch writes set-wise (deadlines.go).
var declared = []*tables.Table{
	tables.New("communities", []string{"community_id"}, "", "community_id text", "jurisdiction text", "kind text",
		"registered_at timestamptz", "households int4"),
	tables.New("overrides", []string{"path", "rule", "param"}, "", "path text", "rule text", "param text", "value text"),
	deadlinesTable,
	tables.New("conditions", []string{"rule", "subject"}, "", "rule text", "subject text", "broken bool", "anchor uuid"),
	tables.New("assemblies", []string{"community_id", "meeting_id"}, "nothing", "community_id text", "meeting_id text", "held_at timestamptz"),
	tables.New("alerts", []string{"alert_id"}, "", "alert_id uuid", "rule text", "severity text", "community_id text",
		"jurisdiction text", "subject text", "trigger text", "detail text", "due_at timestamptz", "raised_at timestamptz",
		"raised_commit int8", "raised_prepare int8", "cleared_at timestamptz", "clear_reason text", "clear_detail text",
		"cleared_commit int8", "cleared_prepare int8"),
	tables.New("alert_events", []string{"commit_pos", "prepare_pos"}, "nothing", "commit_pos int8", "prepare_pos int8",
		"event_id uuid", "stream text", "type text", "alert_id uuid", "jurisdiction text", "recorded_at timestamptz", "payload text"),
	tables.New("ratings", []string{"community_id"}, "", "community_id text", "jurisdiction text", "rating text", "open_red int4",
		"open_yellow int4", "changed_at timestamptz"),
	tables.New("outbox", []string{"event_id"}, "nothing", "event_id uuid", "seq int8", "kind text", "alert_id uuid", "rule text",
		"subject text", "stream text", "type text", "data text", "meta jsonb"),
	tables.New("operating_funds", []string{"community_id", "fiscal_year"}, "", "community_id text", "fiscal_year int4", "amount_fen int8"),
	tables.New("board_notices", []string{"community_id", "category", "notice_id"}, "", "community_id text", "category text",
		"notice_id text", "published_at timestamptz"),
}

// deadlinesTable is what a batch's deadline writes go through, set-wise (deadlines.go).
var deadlinesTable = tables.New("deadlines", []string{"rule", "subject"}, "", "rule text", "subject text", "community_id text",
	"jurisdiction text", "due_at timestamptz", "next_at timestamptz", "severity text", "detail text", "source_id uuid",
	"source_stream text", "source_type text", "epoch text")

// Tables are the model's tables (see declared).
func (*Model) Tables() []*tables.Table { return declared }
