package seal_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	sha      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	doc      = seal.Document{Title: "村道保洁服务合同", Date: t0, Purpose: "签订保洁服务合同", Counterparty: "温州市洁美物业有限公司", Amount: kernel.Yuan(36000)}
	big      = seal.Document{Title: "村集体厂房租赁合同", Date: t0, Purpose: "出租村集体厂房", Counterparty: "温州市某机械有限公司", Amount: kernel.Yuan(120000)}
	res      = &seal.Resolution{ID: "r-1", MeetingID: "m-1", MeetingKind: meeting.Representatives, AdoptedAt: t0.Add(-48 * time.Hour)}
)

var (
	registered = seal.Registered{SealID: "s-1", Kind: seal.CommitteeSeal, Name: "罗西社区居民委员会印章", Custodian: "p-1", CustodianName: "陈文书",
		RegisteredAt: t0}
	requested = seal.UseRequested{SealID: "s-1", UseID: "u-1", Document: doc, RequestedAt: t0}
	byHead    = seal.UseApproved{SealID: "s-1", UseID: "u-1", Approver: "p-2", ApproverName: "张主任", Role: seal.CommitteeHead, ApprovedAt: t0}
	bySuper   = seal.UseApproved{SealID: "s-1", UseID: "u-1", Approver: "p-3", ApproverName: "李监督", Role: seal.Supervision, ApprovedAt: t0}
)

func samples() []kernel.Event {
	return []kernel.Event{
		registered,
		seal.CustodianChanged{SealID: "s-1", Custodian: "p-4", CustodianName: "王会计", Reason: "原保管人调岗", ChangedAt: t0},
		seal.UseRequested{SealID: "s-1", UseID: "u-2", Document: big, Resolution: res, RequestedAt: t0},
		byHead,
		seal.Used{SealID: "s-1", UseID: "u-1", Document: doc, DocumentSHA256: sha, Approved: false, UsedAt: t0.Add(72 * time.Hour),
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.SealUse, Detail: "未经审批"}, {Rule: rulebook.LateRecording, Detail: "补登"}}}},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, seal.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*seal.Seal]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, seal.RegisterEvents), func() *seal.Seal { return &seal.Seal{} }, cases)
}

func register(id string) func(*seal.Seal) ([]kernel.Event, error) {
	return func(s *seal.Seal) ([]kernel.Event, error) {
		return s.Register(seal.Register{SealID: id, Kind: seal.CommitteeSeal, Name: "罗西社区居民委员会印章", Custodian: "p-1", CustodianName: "陈文书"}, t0)
	}
}

func request(d seal.Document, r *seal.Resolution) func(*seal.Seal) ([]kernel.Event, error) {
	return func(s *seal.Seal) ([]kernel.Event, error) {
		return s.RequestUse(seal.RequestUse{UseID: "u-1", Document: d, Resolution: r}, defaults, t0)
	}
}

func record(d seal.Document, at time.Time) func(*seal.Seal) ([]kernel.Event, error) {
	return func(s *seal.Seal) ([]kernel.Event, error) {
		return s.RecordUse(seal.RecordUse{UseID: "u-1", Document: d, DocumentSHA256: sha}, defaults, at)
	}
}

func TestSealRegister(t *testing.T) {
	approve := func(p kernel.PersonID, r seal.Role) func(*seal.Seal) ([]kernel.Event, error) {
		return func(s *seal.Seal) ([]kernel.Event, error) { return s.ApproveUse("u-1", p, "某人", r, t0) }
	}
	run(t, []domaintest.Case[*seal.Seal]{
		{Name: "register", When: register("s-1"), Then: []kernel.Event{registered}},
		{Name: "register twice", Given: []kernel.Event{registered}, When: register("s-1"), ThenErr: seal.ErrSealExists},
		{Name: "a seal needs a kind", When: func(s *seal.Seal) ([]kernel.Event, error) {
			return s.Register(seal.Register{SealID: "s-1", Kind: "round", Name: "x", Custodian: "p-1", CustodianName: "x"}, t0)
		}, ThenErr: kernel.Invalid("invalid-seal-kind", "kind", "")},
		{Name: "custodian handed over", Given: []kernel.Event{registered}, When: func(s *seal.Seal) ([]kernel.Event, error) {
			return s.ChangeCustodian("p-4", "王会计", "调岗", t0)
		}, ThenNames: []string{"seal.custodian-changed"}},
		{Name: "handed to the same custodian", Given: []kernel.Event{registered}, When: func(s *seal.Seal) ([]kernel.Event, error) {
			return s.ChangeCustodian("p-1", "陈文书", "调岗", t0)
		}, ThenErr: seal.ErrSameCustodian},
		{Name: "use of a seal not registered", When: request(doc, nil), ThenErr: seal.ErrSealNotFound},
		{Name: "request", Given: []kernel.Event{registered}, When: request(doc, nil), Then: []kernel.Event{requested}},
		{Name: "a request names the counterparty", Given: []kernel.Event{registered},
			When: request(seal.Document{Title: "x", Date: t0, Purpose: "y"}, nil), ThenErr: kernel.Invalid("required", "document.counterparty", "")},
		{Name: "request twice", Given: []kernel.Event{registered, requested}, When: request(doc, nil), ThenErr: seal.ErrUseExists},
		{Name: "approve", Given: []kernel.Event{registered, requested}, When: approve("p-2", seal.CommitteeHead), ThenNames: []string{"seal.use-approved"}},
		{Name: "approve twice by one person", Given: []kernel.Event{registered, requested, byHead}, When: approve("p-2", seal.Supervision),
			ThenErr: seal.ErrAlreadyApproved},
		{Name: "approve what was not requested", Given: []kernel.Event{registered}, When: approve("p-2", seal.CommitteeHead), ThenErr: seal.ErrUseNotFound},
		{Name: "approve in no known capacity", Given: []kernel.Event{registered, requested}, When: approve("p-2", "mayor"),
			ThenErr: kernel.Invalid("invalid-approver-role", "role", "")},
		{Name: "used with the joint approval, on time", Given: []kernel.Event{registered, requested, byHead, bySuper}, When: record(seal.Document{}, t0.Add(time.Hour)),
			Then: []kernel.Event{seal.Used{SealID: "s-1", UseID: "u-1", Document: doc, DocumentSHA256: sha, Approved: true, UsedAt: t0.Add(time.Hour)}}},
		{Name: "recorded twice", Given: []kernel.Event{registered, requested, byHead, bySuper, seal.Used{SealID: "s-1", UseID: "u-1", Document: doc,
			DocumentSHA256: sha, Approved: true, UsedAt: t0}}, When: record(seal.Document{}, t0), ThenErr: seal.ErrUsedTwice},
		{Name: "approve after use", Given: []kernel.Event{registered, requested, seal.Used{SealID: "s-1", UseID: "u-1", Document: doc,
			DocumentSHA256: sha, UsedAt: t0}}, When: approve("p-3", seal.Supervision), ThenErr: seal.ErrAlreadyUsed},
		{Name: "a use needs the document's hash", Given: []kernel.Event{registered, requested, byHead, bySuper}, When: func(s *seal.Seal) ([]kernel.Event, error) {
			return s.RecordUse(seal.RecordUse{UseID: "u-1", DocumentSHA256: "abc"}, defaults, t0)
		}, ThenErr: kernel.Invalid("invalid-sha256", "document_sha256", "")},
	})
}

// TestRule_SealUse: 印章须经两委共同研究后使用，每次使用须登记 (watch, red): a use recorded without the joint
// approval of a head of the 两委 and the supervision committee (two people by default) carries the breach;
// a use recorded more than a day after the document's date is a late recording.
func TestRule_SealUse(t *testing.T) {
	byTwoHeads := seal.UseApproved{SealID: "s-1", UseID: "u-1", Approver: "p-5", ApproverName: "赵书记", Role: seal.PartySecretary, ApprovedAt: t0}
	run(t, []domaintest.Case[*seal.Seal]{
		{Name: "recorded with no request at all", Given: []kernel.Event{registered}, When: record(doc, t0.Add(time.Hour)),
			ThenBreaches: []kernel.RuleID{rulebook.SealUse}},
		{Name: "approved by the head only", Given: []kernel.Event{registered, requested, byHead}, When: record(seal.Document{}, t0.Add(time.Hour)),
			ThenBreaches: []kernel.RuleID{rulebook.SealUse}},
		{Name: "approved by two heads, no supervision", Given: []kernel.Event{registered, requested, byHead, byTwoHeads},
			When: record(seal.Document{}, t0.Add(time.Hour)), ThenBreaches: []kernel.RuleID{rulebook.SealUse}},
		{Name: "jointly approved", Given: []kernel.Event{registered, requested, byHead, bySuper}, When: record(seal.Document{}, t0.Add(time.Hour)),
			ThenNames: []string{"seal.used"}},
		{Name: "jointly approved, recorded three days after the document", Given: []kernel.Event{registered, requested, byHead, bySuper},
			When: record(seal.Document{}, t0.Add(72*time.Hour)), ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		{Name: "neither approved nor on time", Given: []kernel.Event{registered}, When: record(doc, t0.Add(72*time.Hour)),
			ThenBreaches: []kernel.RuleID{rulebook.SealUse, rulebook.LateRecording}},
	})
	three, err := defaults.With(rulebook.SealUse, rulebook.ParamApprovals, "3")
	if err != nil {
		t.Fatal(err)
	}
	if got := seal.MissingApproval(map[kernel.PersonID]seal.Role{"p-2": seal.CommitteeHead, "p-3": seal.Supervision}, three); got == "" {
		t.Fatal("two approvers where the jurisdiction asks for three")
	}
}

// TestRule_MajorMatterResolutionOfContracts: a contract at or above the major-matter threshold may be
// sealed only after a residents' (representatives') meeting resolved it (enforced), whether requested or
// recorded directly.
func TestRule_MajorMatterResolutionOfContracts(t *testing.T) {
	joint := &seal.Resolution{ID: "r-2", MeetingID: "m-2", MeetingKind: meeting.Joint, AdoptedAt: t0.Add(-48 * time.Hour)}
	late := &seal.Resolution{ID: "r-3", MeetingID: "m-3", MeetingKind: meeting.Assembly, AdoptedAt: t0.Add(time.Hour)}
	run(t, []domaintest.Case[*seal.Seal]{
		{Name: "a large contract without a resolution", Given: []kernel.Event{registered}, When: request(big, nil), ThenErr: seal.ErrContractNeedsResolution},
		{Name: "recorded directly without one", Given: []kernel.Event{registered}, When: record(big, t0), ThenErr: seal.ErrContractNeedsResolution},
		{Name: "a joint meeting cannot resolve it", Given: []kernel.Event{registered}, When: request(big, joint), ThenErr: meeting.ErrAuthorityWrongMeeting},
		{Name: "resolved after the document's date", Given: []kernel.Event{registered}, When: request(big, late), ThenErr: meeting.ErrAuthorityNotBefore},
		{Name: "resolved before", Given: []kernel.Event{registered}, When: request(big, res), ThenNames: []string{"seal.use-requested"}},
		{Name: "a small contract needs none", Given: []kernel.Event{registered}, When: request(doc, nil), ThenNames: []string{"seal.use-requested"}},
	})
}
