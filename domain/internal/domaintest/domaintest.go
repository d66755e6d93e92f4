// Package domaintest holds the given/when/then runner and the golden-file
// checks shared by the tests of the domain packages.
package domaintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

var update = flag.Bool("update", false, "rewrite the golden JSON of the latest event versions from the samples")

// Case is one given/when/then row: given past events, when a command, then
// these events (exactly, or by wire names) with these breaches, or this error.
type Case[A any] struct {
	Name  string
	Given []kernel.Event
	When  func(A) ([]kernel.Event, error)
	// Then, when not nil, must equal the events exactly.
	Then []kernel.Event
	// ThenNames, when not nil, must equal the wire names of the events.
	ThenNames []string
	// ThenBreaches are the rules breached by the events, in order; nil means
	// no breach at all (unless Then is set: exact events carry their breaches).
	ThenBreaches []kernel.RuleID
	// ThenErr, when set, is the expected error (matched with errors.Is; for a
	// domain error that means by code) and no event may be returned.
	ThenErr error
}

// Run runs the cases against a fresh aggregate each. Every event a command
// returns must also survive the registry (encode, decode, equal) and apply
// to the aggregate.
func Run[A interface{ Apply(kernel.Event) }](t *testing.T, reg *kernel.Registry, fresh func() A, cases []Case[A]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Helper()
			a := kernel.Rehydrate(fresh(), c.Given)
			got, err := c.When(a)
			if c.ThenErr != nil {
				if !errors.Is(err, c.ThenErr) {
					t.Fatalf("want error %v, got %v (events %v)", c.ThenErr, err, kernel.Names(got))
				}
				if len(got) != 0 {
					t.Fatalf("an error must come without events, got %v", kernel.Names(got))
				}
				var de kernel.Error
				if errors.As(err, &de) && (de.Msg == "" || de.Kind == "") {
					t.Fatalf("domain error without kind or message: %#v", de)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.Then != nil && (len(got) != 0 || len(c.Then) != 0) && !reflect.DeepEqual(got, c.Then) {
				t.Fatalf("events differ\n got: %s\nwant: %s", dump(got), dump(c.Then))
			}
			if c.ThenNames != nil && !slices.Equal(kernel.Names(got), c.ThenNames) {
				t.Fatalf("event names: got %v, want %v", kernel.Names(got), c.ThenNames)
			}
			if rules := BreachedRules(got); (c.Then == nil || c.ThenBreaches != nil) && !slices.Equal(rules, c.ThenBreaches) {
				t.Fatalf("breaches: got %v, want %v\n%s", rules, c.ThenBreaches, dump(got))
			}
			for _, e := range got {
				RoundTrip(t, reg, e)
				a.Apply(e)
			}
		})
	}
}

// BreachedRules lists the rules breached by the events, in order.
func BreachedRules(events []kernel.Event) []kernel.RuleID {
	var out []kernel.RuleID
	for _, e := range events {
		if w, ok := e.(kernel.Watched); ok {
			for _, b := range w.Breached() {
				if b.Rule == "" || b.Detail == "" {
					panic(fmt.Sprintf("%s: breach without rule or detail", e.EventName()))
				}
				out = append(out, b.Rule)
			}
		}
	}
	return out
}

// RoundTrip checks that e encodes and decodes to itself through reg.
func RoundTrip(t *testing.T, reg *kernel.Registry, e kernel.Event) {
	t.Helper()
	if !reg.Knows(e) {
		t.Fatalf("%T (%s v%d) is not registered", e, e.EventName(), e.SchemaVersion())
	}
	name, v, data, err := kernel.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := reg.Decode(name, v, data)
	if err != nil {
		t.Fatalf("decode %s: %v\n%s", name, err, data)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("%s does not survive the round trip\n got: %#v\nwant: %#v", name, back, e)
	}
}

var goldenName = regexp.MustCompile(`^([a-z]+\.[a-z0-9-]+)\.v([0-9]+)\.json$`)

// Goldens checks the package's golden payloads in dir against reg, which
// must hold exactly the package's events: samples holds one fully populated
// value of every event type; each must equal testdata/<name>.v<latest>.json
// both ways (run the tests with -update to rewrite those files); every file
// in dir must decode; every version 1..latest of every event must have one.
func Goldens(t *testing.T, reg *kernel.Registry, dir string, samples []kernel.Event) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range samples {
		if seen[s.EventName()] {
			t.Errorf("two samples of %s", s.EventName())
		}
		seen[s.EventName()] = true
		if !reg.Knows(s) {
			t.Errorf("sample %T is not registered as %s v%d", s, s.EventName(), s.SchemaVersion())
		}
	}
	for _, et := range reg.Types() {
		if !seen[et.Name] {
			t.Errorf("no sample of %s", et.Name)
		}
	}
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			data, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s.v%d.json", s.EventName(), s.SchemaVersion()))
			if err := os.WriteFile(file, append(data, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range samples {
		file := filepath.Join(dir, fmt.Sprintf("%s.v%d.json", s.EventName(), s.SchemaVersion()))
		data, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("golden of %s: %v", s.EventName(), err)
			continue
		}
		got, err := reg.Decode(s.EventName(), s.SchemaVersion(), data)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%s decodes to\n%#v\nwant the sample\n%#v", file, got, s)
		}
		enc, _ := json.Marshal(s)
		if !sameJSON(enc, data) {
			t.Errorf("%s differs from the encoded sample (run go test -update):\n%s", file, enc)
		}
	}
	have := map[kernel.EventType]bool{}
	for _, f := range GoldenFiles(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Decode(f.Name, f.Version, data); err != nil {
			t.Errorf("%s: %v", f.File, err)
		}
		have[kernel.EventType{Name: f.Name, Version: f.Version}] = true
	}
	for _, et := range reg.Types() {
		for v := 1; v <= et.Version; v++ {
			if !have[kernel.EventType{Name: et.Name, Version: v}] {
				t.Errorf("no golden for %s v%d in %s", et.Name, v, dir)
			}
		}
	}
}

// Golden is one golden payload file.
type Golden struct {
	File    string
	Name    string
	Version int
}

// GoldenFiles lists the golden payloads in dir; other files are an error.
func GoldenFiles(t *testing.T, dir string) []Golden {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []Golden
	for _, e := range entries {
		m := goldenName.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("%s: not a golden name <wire-name>.v<N>.json", filepath.Join(dir, e.Name()))
			continue
		}
		v, _ := strconv.Atoi(m[2])
		out = append(out, Golden{File: e.Name(), Name: m[1], Version: v})
	}
	return out
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func dump(events []kernel.Event) string {
	var b bytes.Buffer
	for _, e := range events {
		data, _ := json.Marshal(e)
		fmt.Fprintf(&b, "  %s %s\n", e.EventName(), data)
	}
	return b.String()
}

// Registry builds a registry from one package's registrar, failing the test
// on error.
func Registry(t *testing.T, register kernel.Registrar) *kernel.Registry {
	t.Helper()
	r, err := kernel.Build(register)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
