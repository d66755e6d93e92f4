package audit

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// summaryLimit bounds each list of the summary; the tables of a snapshot hold everything.
const summaryLimit = 1000

// summary is a community as the read models' own queries show it. A section is empty when its model is
// not among those replayed.
type summary struct {
	Community   *directory.Community
	Disclosures []board.Notice
	Finances    []fiscalYear
	Elections   []elections.Election
	Meetings    []meetings.Meeting
	Resolutions []meetings.Resolution
	// Rating and OpenAlerts are the supervision view (督查预警): the community's red/yellow/green rating
	// and its open alerts.
	Rating     *alerts.CommunityRating
	OpenAlerts []alerts.Alert
	// Ratings are the ratings recorded at the end of each month and quarter (红黄绿 with what made them),
	// and FrozenYears the annual assessments frozen, as of the instant: the rating of that time.
	Ratings     []directory.RatingEntry
	FrozenYears []directory.FrozenYear
}

// fiscalYear is one fiscal year of a community's budget, by category.
type fiscalYear struct {
	Year       int
	Categories []finances.CategoryTotals
}

// summaryPart returns the queries of model's section of the summary, which fill it in s; nil for a model
// with no section. Each reads its own model's tables only, so a replay runs it as soon as that model has
// applied the history, while the others still apply theirs.
func summaryPart(q schemaQuerier, model, community, path string, s *summary) func(context.Context) error {
	switch model {
	case directory.Name:
		return func(ctx context.Context) error {
			c, err := directory.CommunityByID(ctx, q, community)
			switch {
			case err == nil:
				s.Community = &c
			case !errors.Is(err, directory.ErrNotFound):
				return err
			}
			if s.Ratings, err = directory.RatingHistory(ctx, q, community); err != nil {
				return err
			}
			s.FrozenYears, err = directory.FrozenYears(ctx, q, community)
			return err
		}
	case board.Name:
		return func(ctx context.Context) (err error) {
			if err := board.AnalyzeNoticeTables(ctx, q); err != nil {
				return err
			}
			s.Disclosures, err = board.CurrentNotices(ctx, q, community, summaryLimit)
			return err
		}
	case finances.Name:
		return func(ctx context.Context) error {
			years, err := finances.FiscalYears(ctx, q, community)
			if err != nil {
				return err
			}
			slices.Reverse(years) // the earliest first
			for _, y := range years {
				cats, err := finances.YearSummary(ctx, q, community, y)
				if err != nil {
					return err
				}
				s.Finances = append(s.Finances, fiscalYear{Year: y, Categories: cats})
			}
			return nil
		}
	case elections.Name:
		return func(ctx context.Context) (err error) {
			s.Elections, err = elections.Elections(ctx, q, community)
			return err
		}
	case meetings.Name:
		return func(ctx context.Context) (err error) {
			if s.Meetings, err = meetings.Register(ctx, q, community, summaryLimit); err != nil {
				return err
			}
			s.Resolutions, err = meetings.Resolutions(ctx, q, community, summaryLimit)
			return err
		}
	case alerts.Name:
		return func(ctx context.Context) error {
			r, err := alerts.RatingOf(ctx, q, kernel.CommunityID(community))
			if err != nil {
				return fmt.Errorf("alerts: rating: %w", err)
			}
			s.Rating = &r
			s.OpenAlerts, err = alerts.OpenAlerts(ctx, q, kernel.JurisdictionPath(path), summaryLimit)
			return err
		}
	}
	return nil
}

// dumpSchema counts the rows of each of schema's tables and, when all is set, returns every row as JSON,
// ordered by primary key (by the whole row where there is none).
func dumpSchema(ctx context.Context, q querier, schema string, tables []table, all bool) (map[string]int64, map[string]any, error) {
	counts := map[string]int64{}
	if len(tables) > 0 { // every table's count in one round trip
		parts := make([]string, len(tables))
		for i, t := range tables {
			parts[i] = "SELECT " + strconv.Itoa(i) + ", count(*) FROM " + pgx.Identifier{schema, t.name}.Sanitize()
		}
		rows, err := q.Query(ctx, strings.Join(parts, " UNION ALL "))
		if err != nil {
			return nil, nil, err
		}
		var i int
		var n int64
		if _, err := pgx.ForEachRow(rows, []any{&i, &n}, func() error { counts[tables[i].name] = n; return nil }); err != nil {
			return nil, nil, err
		}
	}
	if !all {
		return counts, nil, nil
	}
	dump := map[string]any{}
	for _, t := range tables {
		id := pgx.Identifier{schema, t.name}.Sanitize()
		order := t.key
		if order == "" {
			order = "t::text"
		}
		var raw []byte
		if err := queryRow(ctx, q, "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY "+order+"), '[]')::text FROM "+id+" t", &raw); err != nil {
			return nil, nil, err
		}
		dump[t.name] = json.RawMessage(raw)
	}
	return counts, dump, nil
}

func queryRow(ctx context.Context, q querier, sql string, dst any) error {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return err
	}
	_, err = pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (struct{}, error) { return struct{}{}, r.Scan(dst) })
	return err
}

// jsonable turns a read model's query results into plain JSON values: structs become objects with
// snake_case keys in field order (a field's json tag, when it has one), event ids their UUID text, times RFC 3339 in UTC (null when zero).
// The models' result types carry no JSON tags (they are Go APIs), and an event id is a [16]byte that
// encoding/json would print as sixteen numbers.
func jsonable(v any) any { return toJSON(reflect.ValueOf(v)) }

var (
	idType        = reflect.TypeFor[eventlog.ID]()
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

func toJSON(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Type() {
	case idType:
		id := v.Interface().(eventlog.ID)
		if id.IsZero() {
			return nil
		}
		return id.String()
	case timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return toJSON(v.Elem())
	case reflect.Struct:
		if v.Type().Implements(marshalerType) || v.Type().Implements(textType) {
			return v.Interface()
		}
		obj := make(object, 0, v.NumField())
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := snake(f.Name)
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
			obj = append(obj, member{name, toJSON(v.Field(i))})
		}
		return obj
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%x", v.Interface())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = toJSON(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[fmt.Sprint(it.Key().Interface())] = toJSON(it.Value())
		}
		return out
	}
	return v.Interface()
}

// object is a JSON object that keeps its members in order.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the object and everything in it into one buffer: a nested object or list is
// written in place, not marshalled on its own and copied (and checked again by encoding/json) at every
// level of the summary, which made the report of a 10 000-event community cost ~40 ms to encode.
func (o object) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// appendJSON appends v, a value toJSON made, to b.
func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case object:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, m.key); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, m.value); err != nil {
				return nil, fmt.Errorf("%s: %w", m.key, err)
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v)) // as encoding/json orders a map's keys
		o := make(object, len(keys))
		for i, k := range keys {
			o[i] = member{k, v[k]}
		}
		return appendJSON(b, o)
	case nil:
		return append(b, "null"...), nil
	case string:
		// RFC 8785's minimal escaping; encoding/json, which writes the report, escapes <, > and & and the
		// line and paragraph separators in it as it always does. Invalid UTF-8 becomes U+FFFD either way.
		b, _ = jsontext.AppendQuote(b, v)
		return b, nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// snake turns a Go field name into snake_case: CommunityID → community_id, MinutesSHA256 → minutes_sha256.
func snake(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
