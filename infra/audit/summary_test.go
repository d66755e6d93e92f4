package audit

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// summaryLike has what a summary's sections hold: nested structs, pointers (nil and not), lists (empty
// and nil), a map, event ids, times (zero and not), bytes, text that JSON escapes, json tags.
type summaryLike struct {
	Community *struct {
		Name, Path string
		Households int
	}
	Missing  *struct{ Name string }
	Notices  []noticeLike
	None     []noticeLike
	Empty    []string
	Counts   map[string]int
	Nested   map[string][]noticeLike
	Tagged   string `json:"renamed,omitempty"`
	Skipped  string `json:"-"`
	Digest   []byte
	FloatAmt float64
}

type noticeLike struct {
	ID        eventlog.ID
	NoID      eventlog.ID
	Title     string
	At        time.Time
	Never     time.Time
	Amount    int64
	Withdrawn bool
	Refs      []string
}

func sampleSummary(n int) summaryLike {
	s := summaryLike{
		Community: &struct {
			Name, Path string
			Households int
		}{"龙湾区<蒲州>街道 & \"社区\"", "33/3303/330303/330303001/330303001001", 1234},
		Empty:    []string{},
		Counts:   map[string]int{"b": 2, "a": 1, "中": 3},
		Nested:   map[string][]noticeLike{},
		Tagged:   "tag\u2028line \x01\xff",
		Skipped:  "never shown",
		Digest:   []byte{0xde, 0xad, 0xbe, 0xef},
		FloatAmt: 0.1,
	}
	for i := range n {
		nt := noticeLike{ID: eventlog.DeriveID(fmt.Sprint("cmd-", i), i), Title: fmt.Sprintf("第%d期 财务公开 <%d>", i, i),
			At: time.Date(2026, 3, 1, 9, 30, i, 123456789, time.FixedZone("CST", 8*3600)), Amount: int64(i) * 1250000,
			Withdrawn: i%3 == 0, Refs: []string{"a\tb", strings.Repeat("x", i%5)}}
		s.Notices = append(s.Notices, nt)
		s.Nested[fmt.Sprint("k", i%4)] = append(s.Nested[fmt.Sprint("k", i%4)], nt)
	}
	return s
}

// marshalOneByOne is how an object was written before: every member's value marshalled on its own, so
// that encoding/json checks and copies each nested object again at every level. It is the reference the
// one-buffer writer must match byte for byte.
func marshalOneByOne(o object) ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m.key)
		v, err := json.Marshal(reference(m.value))
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// referenceObject marshals with marshalOneByOne.
type referenceObject object

func (o referenceObject) MarshalJSON() ([]byte, error) { return marshalOneByOne(object(o)) }

// reference turns the objects in v into referenceObjects.
func reference(v any) any {
	switch v := v.(type) {
	case object:
		return referenceObject(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = reference(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = reference(e)
		}
		return out
	}
	return v
}

func TestSummaryJSONIsWrittenAsBeforeInOneBuffer(t *testing.T) {
	for _, n := range []int{0, 1, 7, 200} {
		v := jsonable(sampleSummary(n))
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(reference(v))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%d notices: %v in\n%s", n, err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%d notices: written\n%s\nwant (member by member)\n%s", n, got, want)
		}
		// In the same order, and the same bytes but for invalid UTF-8 (U+FFFD as itself, not escaped).
		if fixed := strings.ReplaceAll(string(want), `\ufffd`, "\uFFFD"); string(got) != fixed {
			t.Fatalf("%d notices: written\n%s\nwant\n%s", n, got, fixed)
		}
		if strings.Contains(string(got), "<") || strings.Contains(string(got), "\u2028") {
			t.Fatalf("%d notices: HTML or a line separator left unescaped in %s", n, got)
		}
		var back map[string]any
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%d notices: %v", n, err)
		}
		if back["skipped"] != nil || back["renamed"] != "tag\u2028line \x01\ufffd" || back["missing"] != nil {
			t.Fatalf("%d notices: tags and nil pointers not kept: %v", n, back)
		}
		if notices, _ := back["notices"].([]any); len(notices) != n {
			t.Fatalf("%d notices: %d written", n, len(notices))
		}
	}
}

func TestSummaryStringsReadBackAsEncodingJSONWritesThem(t *testing.T) {
	cases := []string{"", "plain", "龙湾区", "<script>&amp;</script>", "a\"b\\c", "\b\f\n\r\t\x00\x01\x1f\x7f",
		"line\u2028para\u2029end", "bad \xff\xfe utf-8 \xe4\xb8", "\xed\xa0\x80 surrogate", "emoji 😀 ok", "\u00e9\u0301"}
	for c := range 256 { // every byte alone, valid or not
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		if got, want := readBack(t, object{{"s", s}}), readBack(t, map[string]string{"s": s}); got != want {
			t.Errorf("%q reads back as %q, written by encoding/json as %q", s, got, want)
		}
	}
}

// readBack writes v with encoding/json, as the report is written, and reads its member s back.
func readBack(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ S string }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return back.S
}

func FuzzSummaryString(f *testing.F) {
	f.Add("龙湾区<社区>&\u2028")
	f.Add("\xff\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := readBack(t, object{{"s", s}}), readBack(t, map[string]string{"s": s}); got != want {
			t.Fatalf("%q reads back as %q, written by encoding/json as %q", s, got, want)
		}
	})
}

func TestSummaryJSONReportsAValueThatCannotBeWritten(t *testing.T) {
	_, err := json.Marshal(object{{"ok", 1}, {"bad", object{{"inner", make(chan int)}}}})
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("err = %v, want one naming the member", err)
	}
}

// BenchmarkSummaryJSON writes the summary of a community with a few thousand rows, as an as-of replay's
// report holds; -bench with the reference (member by member) shows what writing in one buffer saves.
func BenchmarkSummaryJSON(b *testing.B) {
	v := jsonable(sampleSummary(3000))
	for _, c := range []struct {
		name string
		v    any
	}{{"one-buffer", v}, {"member-by-member", reference(v)}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if _, err := json.Marshal(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
