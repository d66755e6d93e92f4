package events_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// TestRegistryMatchesGoldens enumerates the registry against the golden
// payloads of every domain package: every (name, version) from 1 to the
// latest has exactly one golden, in the directory of the package that owns
// the name, and every golden belongs to a registered event.
func TestRegistryMatchesGoldens(t *testing.T) {
	reg, err := events.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob("../*/testdata")
	if err != nil {
		t.Fatal(err)
	}
	found := map[kernel.EventType][]string{}
	for _, dir := range dirs {
		pkg := filepath.Base(filepath.Dir(dir))
		for _, g := range domaintest.GoldenFiles(t, dir) {
			et := kernel.EventType{Name: g.Name, Version: g.Version}
			found[et] = append(found[et], filepath.Join(dir, g.File))
			if prefix, _, _ := strings.Cut(g.Name, "."); prefix != pkg {
				t.Errorf("%s: wire name %s lives outside package %s", filepath.Join(dir, g.File), g.Name, prefix)
			}
		}
	}
	want := map[kernel.EventType]bool{}
	for _, et := range reg.Types() {
		for v := 1; v <= et.Version; v++ {
			want[kernel.EventType{Name: et.Name, Version: v}] = true
		}
	}
	for et := range want {
		switch files := found[et]; len(files) {
		case 0:
			t.Errorf("no golden for %s v%d", et.Name, et.Version)
		case 1:
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Decode(et.Name, et.Version, data); err != nil {
				t.Errorf("%s: %v", files[0], err)
			}
		default:
			t.Errorf("%s v%d has several goldens: %v", et.Name, et.Version, files)
		}
	}
	for et, files := range found {
		if !want[et] {
			t.Errorf("golden %v is not a registered event version", files)
		}
	}
	if len(reg.Types()) < 40 {
		t.Errorf("only %d event types registered", len(reg.Types()))
	}
}

var wireName = regexp.MustCompile(`^[a-z]+\.[a-z]+(-[a-z]+)*$`)

func TestWireNamesAreWellFormed(t *testing.T) {
	for _, et := range events.MustRegistry().Types() {
		if !wireName.MatchString(et.Name) {
			t.Errorf("wire name %q is not <package>.<kebab-case-past-tense>", et.Name)
		}
	}
}

// FuzzDecode: whatever the bytes, Decode never panics, and fails only with
// one of the three poison-event sentinels.
func FuzzDecode(f *testing.F) {
	reg := events.MustRegistry()
	dirs, _ := filepath.Glob("../*/testdata/*.json")
	for _, file := range dirs {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		i := strings.LastIndex(name, ".v")
		v := 1
		if name[i+2:] == "2" {
			v = 2
		}
		f.Add(name[:i], v, data)
	}
	f.Add("nope", 1, []byte(`{}`))
	f.Fuzz(func(t *testing.T, name string, version int, data []byte) {
		e, err := reg.Decode(name, version, data)
		if err == nil {
			if e == nil || e.EventName() != name {
				t.Fatalf("decoded %v as %v", name, e)
			}
			return
		}
		if !errors.Is(err, kernel.ErrUnknownEvent) && !errors.Is(err, kernel.ErrUnsupportedVersion) && !errors.Is(err, kernel.ErrMalformedEvent) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// Stream names are in stored data: each domain package owns its own, and none may ever change.
func TestStreamNamesAreStable(t *testing.T) {
	const c kernel.CommunityID = "330303001001"
	path := kernel.JurisdictionPath("33/3303/330303")
	for got, want := range map[string]string{
		community.JurisdictionStream(path): "jurisdiction-330303-node",
		rulebook.OverridesStream(path):     "rulebook-330303-overrides",
		community.ProfileStream(c):         "community-330303001001-profile",
		election.Stream(c, "2026"):         "election-330303001001-2026",
		meeting.Stream(c, "2026-a-1"):      "meeting-330303001001-2026-a-1",
		meeting.TopicStream(c, "t.1"):      "topic-330303001001-t.1",
		funds.BudgetStream(c, 2026):        "budget-330303001001-2026",
		funds.ExpenditureStream(c, "x-9"):  "expenditure-330303001001-x-9",
		disclosure.Stream(c, "2026-q1"):    "disclosure-330303001001-2026-q1",
		audit.Stream(c, "a1"):              "audit-330303001001-a1",
	} {
		if got != want {
			t.Errorf("stream %q, want %q", got, want)
		}
	}
}
