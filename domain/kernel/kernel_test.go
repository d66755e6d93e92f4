package kernel_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

func TestFenString(t *testing.T) {
	for f, want := range map[kernel.Fen]string{
		0: "¥0.00", 5: "¥0.05", 123456: "¥1,234.56", 100000000: "¥1,000,000.00",
		-5: "-¥0.05", -123456789: "-¥1,234,567.89", kernel.Yuan(50000): "¥50,000.00",
	} {
		if got := f.String(); got != want {
			t.Errorf("Fen(%d) = %q, want %q", int64(f), got, want)
		}
	}
}

func TestParseYuan(t *testing.T) {
	for s, want := range map[string]kernel.Fen{"1234.56": 123456, "0.5": 50, "3": 300, "-3.01": -301, "0": 0} {
		got, err := kernel.ParseYuan(s)
		if err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "1.", ".5", "1.234", "1,234.00", "1e3", "abc", "99999999999999999999", "--1"} {
		if _, err := kernel.ParseYuan(s); err == nil {
			t.Errorf("ParseYuan(%q) succeeded", s)
		}
	}
}

func TestJurisdictionPath(t *testing.T) {
	p := kernel.JurisdictionPath("33/3303/330303/330303001/330303001001")
	if err := p.Validate("path"); err != nil {
		t.Fatal(err)
	}
	if p.Depth() != kernel.LevelCommunity || p.Last() != "330303001001" {
		t.Fatalf("depth %d last %s", p.Depth(), p.Last())
	}
	parent, ok := p.Parent()
	if !ok || parent != "33/3303/330303/330303001" {
		t.Fatalf("parent %q", parent)
	}
	if _, ok := kernel.JurisdictionPath("33").Parent(); ok {
		t.Fatal("the root has no parent")
	}
	district := kernel.JurisdictionPath("33/3303/330303")
	if !district.Contains(p) || !p.Under(district) || !p.Contains(p) {
		t.Fatal("a community is under its district, and contains itself")
	}
	if kernel.JurisdictionPath("33/3303/33030").Contains(p) {
		t.Fatal("a prefix that is not a whole segment does not contain")
	}
	if p.Contains(district) {
		t.Fatal("a community does not contain its district")
	}
	want := []kernel.JurisdictionPath{"33", "33/3303", "33/3303/330303", "33/3303/330303/330303001", p}
	if got := p.Ancestors(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ancestors %v", got)
	}
	for _, bad := range []kernel.JurisdictionPath{"", "33//3303", "/33", "33/", "33/a b", "1/2/3/4/5/6/7/8", "33/三"} {
		err := bad.Validate("jurisdiction")
		var de kernel.Error
		if !errors.As(err, &de) || de.Field != "jurisdiction" || de.Kind != kernel.KindInvalid {
			t.Errorf("Validate(%q) = %v", bad, err)
		}
	}
}

func TestMasking(t *testing.T) {
	if got := kernel.MaskName("张三"); got != "张*" {
		t.Error(got)
	}
	if got := kernel.MaskName("欧阳娜娜"); got != "欧***" {
		t.Error(got)
	}
	if got := kernel.MaskNationalID("330303199001011234"); got != "330*************34" {
		t.Error(got)
	}
}

func TestErrorIsByCode(t *testing.T) {
	sentinel := kernel.Rejected("major-spending-needs-resolution", "须先经决议")
	specific := sentinel.WithMsg("支出%s须先经决议", kernel.Yuan(60000)).WithField("amount_fen")
	wrapped := errors.Join(errors.New("approve"), specific)
	if !errors.Is(wrapped, sentinel) || !errors.Is(specific, &sentinel) {
		t.Fatal("errors.Is must match by code")
	}
	if errors.Is(specific, kernel.Rejected("other-code", "x")) {
		t.Fatal("different codes must not match")
	}
	if k, ok := kernel.KindOf(wrapped); !ok || k != kernel.KindRejected {
		t.Fatalf("KindOf = %v %v", k, ok)
	}
	var de kernel.Error
	if !errors.As(wrapped, &de) || de.Field != "amount_fen" || de.Msg != "支出¥60,000.00须先经决议" {
		t.Fatalf("As: %#v", de)
	}
}

type pingV1 struct {
	Text string `json:"text"`
}

func (pingV1) EventName() string  { return "test.ping" }
func (pingV1) SchemaVersion() int { return 1 }

type ping struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

func (ping) EventName() string  { return "test.ping" }
func (ping) SchemaVersion() int { return 3 }

func testRegistry(t *testing.T) *kernel.Registry {
	r := kernel.NewRegistry()
	if err := kernel.Register[ping](r); err != nil {
		t.Fatal(err)
	}
	if err := r.Upcast("test.ping", 1, func(raw json.RawMessage) (json.RawMessage, error) {
		var v1 pingV1
		if err := json.Unmarshal(raw, &v1); err != nil {
			return nil, err
		}
		if v1.Text == "" {
			return nil, errors.New("v1 without text")
		}
		return json.Marshal(map[string]string{"message": v1.Text})
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.Upcast("test.ping", 2, func(raw json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		m["count"] = 1
		return json.Marshal(m)
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegistryUpcastsInSequence(t *testing.T) {
	r := testRegistry(t)
	e, err := r.Decode("test.ping", 1, []byte(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	if e != (ping{Message: "hi", Count: 1}) {
		t.Fatalf("got %#v", e)
	}
	e, err = r.Decode("test.ping", 3, []byte(`{"message":"yo","count":7}`))
	if err != nil || e != (ping{Message: "yo", Count: 7}) {
		t.Fatalf("latest: %#v %v", e, err)
	}
	if !reflect.DeepEqual(r.Types(), []kernel.EventType{{Name: "test.ping", Version: 3}}) {
		t.Fatal(r.Types())
	}
}

// A payload decodes as encoding/json decodes it: names matched regardless of case, the last of two equal
// names kept, white space around the object allowed.
func TestRegistryDecodesWithEncodingJSONSemantics(t *testing.T) {
	r := testRegistry(t)
	for _, data := range []string{`{"Message":"yo","COUNT":7}`, `{"message":"no","message":"yo","count":7}`, " \n{\"message\":\"yo\",\"count\":7}\t "} {
		if e, err := r.Decode("test.ping", 3, []byte(data)); err != nil || e != (ping{Message: "yo", Count: 7}) {
			t.Errorf("Decode(%s) = %#v, %v", data, e, err)
		}
	}
}

func TestRegistryDecodeErrors(t *testing.T) {
	r := testRegistry(t)
	for _, c := range []struct {
		name    string
		version int
		data    string
		want    error
	}{
		{"test.nope", 1, `{}`, kernel.ErrUnknownEvent},
		{"test.ping", 4, `{}`, kernel.ErrUnsupportedVersion},
		{"test.ping", 0, `{}`, kernel.ErrUnsupportedVersion},
		{"test.ping", 3, `{"message":`, kernel.ErrMalformedEvent},
		{"test.ping", 3, `null`, kernel.ErrMalformedEvent},
		{"test.ping", 3, `[]`, kernel.ErrMalformedEvent},
		{"test.ping", 3, `{"message":1}`, kernel.ErrMalformedEvent},
		{"test.ping", 3, `{"message":"x","extra":1}`, kernel.ErrMalformedEvent},
		{"test.ping", 3, `{"message":"x"} {}`, kernel.ErrMalformedEvent},
		{"test.ping", 1, `{"text":""}`, kernel.ErrMalformedEvent},
	} {
		_, err := r.Decode(c.name, c.version, []byte(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("Decode(%s v%d %s) = %v, want %v", c.name, c.version, c.data, err, c.want)
		}
		var de *kernel.DecodeError
		if !errors.As(err, &de) || de.Name != c.name || de.Version != c.version {
			t.Errorf("not a DecodeError naming the event: %v", err)
		}
		for _, other := range []error{kernel.ErrUnknownEvent, kernel.ErrUnsupportedVersion, kernel.ErrMalformedEvent} {
			if other != c.want && errors.Is(err, other) {
				t.Errorf("%v also matches %v", err, other)
			}
		}
	}
}

func TestRegistryRefusesMistakes(t *testing.T) {
	r := kernel.NewRegistry()
	if err := kernel.Register[ping](r); err != nil {
		t.Fatal(err)
	}
	if err := kernel.Register[pingV1](r); err == nil {
		t.Fatal("a wire name registered twice must be refused")
	}
	if err := r.Validate(); err == nil {
		t.Fatal("missing upcasters must be reported")
	}
	if err := r.Upcast("test.ping", 3, func(json.RawMessage) (json.RawMessage, error) { return nil, nil }); err == nil {
		t.Fatal("an upcaster from the latest version must be refused")
	}
	if err := kernel.Register[*ping](r); err == nil {
		t.Fatal("pointer event types must be refused")
	}
	if _, err := r.Decode("test.ping", 1, []byte(`{"text":"x"}`)); !errors.Is(err, kernel.ErrUnsupportedVersion) {
		t.Fatalf("a missing upcaster is an unsupported version: %v", err)
	}
}

func TestBreaches(t *testing.T) {
	b := &kernel.Breach{Rule: "r", Detail: "d"}
	if got := kernel.Breaches(nil, b, nil); len(got) != 1 || got[0] != *b {
		t.Fatal(got)
	}
	if kernel.Breaches(nil) != nil {
		t.Fatal("no breach is nil, so that it is omitted from JSON")
	}
}

// TestAt: a fact's time is the given one, or now when none is given or the clerk's device is ahead by no
// more than ClockSkew; further ahead it is refused naming the field.
func TestAt(t *testing.T) {
	now := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want time.Time
	}{
		{time.Time{}, now},
		{now.Add(-72 * time.Hour), now.Add(-72 * time.Hour)},
		{now.Add(kernel.ClockSkew), now},
	} {
		if got, err := kernel.At(c.at, now, "held_at"); err != nil || !got.Equal(c.want) {
			t.Errorf("At(%s): %s, %v; want %s", c.at, got, err, c.want)
		}
	}
	_, err := kernel.At(now.Add(kernel.ClockSkew+time.Second), now, "held_at")
	var ke kernel.Error
	if !errors.As(err, &ke) || ke.Code != "time-in-future" || ke.Field != "held_at" {
		t.Fatalf("a time beyond the skew: %v", err)
	}
}
