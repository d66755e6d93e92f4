package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// The framework is tested with test-only commands that reach every outcome through the real executor
// and the real store: noted is the one event they record.

type noted struct {
	Text string `json:"text"`
}

func (noted) EventName() string  { return "test.noted" }
func (noted) SchemaVersion() int { return 1 }

func testRegistry() *kernel.Registry {
	r, err := kernel.Build(func(r *kernel.Registry) error { return kernel.Register[noted](r) })
	if err != nil {
		panic(err)
	}
	return r
}

// Two communities of one street, and the paths tokens are scoped to.
const (
	street     = "33/3303/330303/330303001"
	communityA = "330303001001"
	communityB = "330303001002"
	pathA      = street + "/" + communityA
	pathB      = street + "/" + communityB
)

var communityPaths = map[string]string{communityA: pathA, communityB: pathB}

// noteCommand exercises the decoder: required and optional fields, nested objects, arrays, an enum, a
// pattern and a bound. Outcome picks what the domain step does.
type noteCommand struct {
	Community string     `json:"community" pattern:"^[0-9]{1,20}$" doc:"community id"`
	Text      string     `json:"text" maxLength:"200"`
	Count     int        `json:"count,omitempty" minimum:"0"`
	Tags      []string   `json:"tags,omitempty"`
	Payee     *notePayee `json:"payee,omitempty"`
	Outcome   string     `json:"outcome,omitempty" enum:"ok,invalid,not-found,forbidden,rejected,conflict,store-conflict,boom,panic"`
}

type notePayee struct {
	Name    string `json:"name"`
	Account int64  `json:"account"`
}

// secretInError is in the chain of the "boom" outcome's error; it must reach the log only.
const secretInError = "13800138000 internal detail"

// noteRun runs a noteCommand through the executor as action. The stream is the community's; the path is
// looked up from the community id as a real handler looks it up from the registry.
func noteRun(x *commands.Executor, store commands.EventStore, action commands.Action) func(context.Context, commands.Meta, noteCommand) (commands.Result, error) {
	return func(ctx context.Context, m commands.Meta, c noteCommand) (commands.Result, error) {
		path, ok := communityPaths[c.Community]
		if !ok {
			return commands.Result{}, kernel.NotFound("community-not-found", "社区(村) "+c.Community+" 尚未登记").WithField("community")
		}
		t := commands.Target{Stream: eventlog.StreamName("note", c.Community, "1"), CommunityID: kernel.CommunityID(c.Community), Path: kernel.JurisdictionPath(path)}
		return x.Execute(ctx, m, t, action, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
			switch c.Outcome {
			case "invalid":
				return nil, kernel.Invalid("text-invalid", "text", "内容不合要求")
			case "not-found":
				return nil, kernel.NotFound("note-not-found", "没有这条记录")
			case "forbidden":
				return nil, fmt.Errorf("check: %w", kernel.Forbidden("not-your-note", "无权修改这条记录"))
			case "rejected":
				return nil, fmt.Errorf("decide: %w", kernel.Rejected("major-spending-needs-resolution", "支出超过5万元,须先经村民(代表)会议决议"))
			case "conflict":
				return nil, kernel.Conflict("note-exists", "这条记录已经存在")
			case "store-conflict":
				// Someone else appends to the stream between our load and our append.
				other := eventlog.Event{ID: eventlog.DeriveID("other-"+m.CommandID, 0), Type: "test.noted", Data: []byte(`{"text":"other"}`),
					Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: c.Community, Jurisdiction: path, Actor: "test:other", CommandID: "other-" + m.CommandID, OccurredAt: now}}
				if _, err := store.Append(ctx, t.Stream, eventlog.Any(), []eventlog.Event{other}); err != nil {
					return nil, err
				}
			case "boom":
				return nil, fmt.Errorf("write ledger: %w", errors.New(secretInError))
			case "panic":
				panic(secretInError)
			}
			return []kernel.Event{noted{Text: c.Text}}, nil
		})
	}
}

// startNotes starts a server with the test commands: note (record affairs) and admin.note (administer).
func startNotes(tb testing.TB) *apitest.Server {
	tb.Helper()
	return apitest.Start(tb, apitest.Config{
		Registry: testRegistry(),
		Register: func(s *apitest.Server) {
			httpapi.RegisterCommand(s.Commands, "note", "Record a note", noteRun(s.Executor, s.Store, commands.RecordAffairs))
			httpapi.RegisterCommand(s.Commands, "admin.note", "Record an administrative note", noteRun(s.Executor, s.Store, commands.Administer))
		},
	})
}

func authToken(role commands.Role, scope string) auth.NewToken {
	return auth.NewToken{Subject: "test-" + string(role), Role: role, Scope: scope, CreatedBy: "test"}
}
