package rulebook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// TestReadmeNamesEveryRuleAndParameter: the README's rulebook table lists every rule with its kind and
// every parameter with its default, so that what operators read is what the code does.
func TestReadmeNamesEveryRuleAndParameter(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			id, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			rows[id] = line
		}
	}
	for _, r := range rulebook.Rules() {
		row, ok := rows[string(r.ID)]
		if !ok {
			t.Errorf("the README's rulebook table has no row for %s", r.ID)
			continue
		}
		if !strings.Contains(row, "| "+string(r.Kind)+" |") {
			t.Errorf("%s: the README does not say it is %s: %s", r.ID, r.Kind, row)
		}
		for _, p := range r.Params {
			if p.Name == rulebook.ParamSeverity {
				continue
			}
			if !strings.Contains(row, "`"+p.Name+"` = "+p.Default) {
				t.Errorf("%s: the README does not give %s = %s", r.ID, p.Name, p.Default)
			}
		}
	}
}
