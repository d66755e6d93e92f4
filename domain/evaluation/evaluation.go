// Package evaluation is the democratic evaluation of cadres (民主评议, seed 003 第三篇 四3(2)): every half
// year the township organises it — the committee's members report on their work (述职), then cadres, party
// members and residents' representatives evaluate each of them 称职, 基本称职 or 不称职. The ledger records
// the tallies per member, never a vote by a person. Watched: an evaluation at least every six months
// (cadre-evaluation-interval) and members found 不称职 by a share of their evaluations at or above the
// rulebook's (cadre-incompetent, red: one breach naming them all).
//
// One stream per evaluation: evaluation-<communityID>-<evaluationID>.
package evaluation

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Result is one member's evaluation: the member (by person and the public name the roster shows, with
// the role), the hash of the work report (述职报告) if filed, and the tallies.
type Result struct {
	Person       kernel.PersonID `json:"person"`
	PublicName   string          `json:"public_name,omitempty"`
	Role         community.Role  `json:"role"`
	ReportSHA256 string          `json:"report_sha256,omitempty"`
	Competent    int             `json:"competent"`
	Basically    int             `json:"basically"`
	Incompetent  int             `json:"incompetent"`
}

// Votes is the number of evaluations the member received.
func (r Result) Votes() int { return r.Competent + r.Basically + r.Incompetent }

// Held records a half year's evaluation: the period ("2026-H1"), when, how many evaluated, and each
// member's result. It carries cadre-incompetent when members were found 不称职 by the rule's share.
type Held struct {
	EvaluationID string    `json:"evaluation_id"`
	Period       string    `json:"period"`
	Evaluators   int       `json:"evaluators"`
	Results      []Result  `json:"results"`
	HeldAt       time.Time `json:"held_at"`
	kernel.Watch
}

func (Held) EventName() string  { return "evaluation.held" }
func (Held) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error { return kernel.RegisterAll(r, kernel.Register[Held]) }

// Stream is the stream of one evaluation, evaluation-<communityID>-<evaluationID>.
func Stream(c kernel.CommunityID, id string) string {
	return eventlog.StreamName("evaluation", string(c), id)
}

// Evaluation is one evaluation. The zero value is one not yet held.
type Evaluation struct{ id string }

// Rehydrate rebuilds an evaluation from its history.
func Rehydrate(history []kernel.Event) *Evaluation { return kernel.Rehydrate(&Evaluation{}, history) }

// Apply changes state only.
func (e *Evaluation) Apply(ev kernel.Event) {
	if h, ok := ev.(Held); ok {
		e.id = h.EvaluationID
	}
}

// Errors of evaluations.
var (
	ErrExists    = kernel.Conflict("evaluation-already-held", "这次民主评议已记录")
	ErrNotMember = kernel.Invalid("not-a-committee-member", "", "民主评议的对象须为现任村(居)委会成员")
)

// Tally is one member's tallies as the command gives them.
type Tally struct {
	Person                            kernel.PersonID
	ReportSHA256                      string
	Competent, Basically, Incompetent int
}

// Hold is the command to record an evaluation. Roster is the community's sitting committee the handler
// read: every member evaluated must be on it (the result takes the public name and role from it).
type Hold struct {
	EvaluationID string
	Period       string
	Evaluators   int
	Tallies      []Tally
	HeldAt       time.Time
	Roster       []community.Seat
}

// ParsePeriod reads a half year, "2026-H1" or "2026-H2".
func ParsePeriod(s string) (year, half int, ok bool) {
	if len(s) != 7 || s[4:6] != "-H" || (s[6] != '1' && s[6] != '2') {
		return 0, 0, false
	}
	y, err := strconv.Atoi(s[:4])
	return y, int(s[6] - '0'), err == nil && y >= 1949
}

// Hold records the evaluation at now.
func (e *Evaluation) Hold(cmd Hold, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if e.id != "" {
		return nil, ErrExists
	}
	if err := kernel.Required(cmd.EvaluationID, "evaluation_id", "评议编号"); err != nil {
		return nil, err
	}
	if _, _, ok := ParsePeriod(cmd.Period); !ok {
		return nil, kernel.Invalid("invalid-period", "period", "评议期间须写作 2026-H1 或 2026-H2")
	}
	if cmd.Evaluators < 1 || cmd.Evaluators > 100000 {
		return nil, kernel.Invalid("invalid-evaluators", "evaluators", "参加评议人数须为1—100000")
	}
	if len(cmd.Tallies) == 0 {
		return nil, kernel.Invalid("required", "results", "请填写评议结果")
	}
	seats := map[kernel.PersonID]community.Seat{}
	for _, s := range cmd.Roster {
		seats[s.Person] = s
	}
	at, err := kernel.At(cmd.HeldAt, now, "held_at")
	if err != nil {
		return nil, err
	}
	out := Held{EvaluationID: cmd.EvaluationID, Period: cmd.Period, Evaluators: cmd.Evaluators, HeldAt: at}
	seen := map[kernel.PersonID]bool{}
	limit := p.Threshold(rulebook.CadreIncompetent, rulebook.ParamIncompetentShare)
	var found []string
	for i, t := range cmd.Tallies {
		field := fmt.Sprintf("results[%d]", i)
		seat, ok := seats[t.Person]
		if !ok {
			return nil, ErrNotMember.WithField(field + ".person")
		}
		if seen[t.Person] {
			return nil, kernel.Invalid("duplicate-person", field+".person", "同一成员重复评议")
		}
		seen[t.Person] = true
		r := Result{Person: t.Person, PublicName: seat.PublicName, Role: seat.Role, ReportSHA256: t.ReportSHA256, Competent: t.Competent,
			Basically: t.Basically, Incompetent: t.Incompetent}
		if t.Competent < 0 || t.Basically < 0 || t.Incompetent < 0 || r.Votes() == 0 || r.Votes() > cmd.Evaluators {
			return nil, kernel.Invalid("invalid-tally", field, fmt.Sprintf("评议票数须为非负数，合计1—%d(参加评议人数)", cmd.Evaluators))
		}
		if t.ReportSHA256 != "" {
			if err := kernel.CheckSHA256(t.ReportSHA256, field+".report_sha256"); err != nil {
				return nil, err
			}
		}
		out.Results = append(out.Results, r)
		if limit.Met(int64(r.Incompetent), int64(r.Votes())) {
			name := r.PublicName
			if name == "" {
				name = "一名成员"
			}
			found = append(found, fmt.Sprintf("%s被%d人(共%d票)评为不称职", name, r.Incompetent, r.Votes()))
		}
	}
	if len(found) > 0 {
		out.Breaches = []kernel.Breach{{Rule: rulebook.CadreIncompetent, Detail: fmt.Sprintf("%s民主评议中，%s(不称职票%s即预警)",
			cmd.Period, strings.Join(found, "；"), limit.Chinese())}}
	}
	return []kernel.Event{out}, nil
}
