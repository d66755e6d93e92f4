package directory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

const street = "33/3303/330303/330303001"

var (
	t0      = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	luoxi   = decodetest.Community(street, "330303001001")
	yongc   = decodetest.Community(street, "330303001002")
	lookali = decodetest.Community(street, "3303030010021") // shares a prefix with yongc's code
)

func node(h *decodetest.History, path, name string) {
	p := kernel.JurisdictionPath(path)
	h.Record(eventlog.StreamName("jurisdiction", p.Last(), "node"), decodetest.Place{Path: path}, t0,
		community.JurisdictionRegistered{Path: p, Name: name, Level: p.Depth(), RegisteredAt: t0})
}

func profile(id string) string { return eventlog.StreamName("community", id, "profile") }

func register(h *decodetest.History, p decodetest.Place, name string, households, adults int) {
	h.Record(profile(p.ID), p, t0, community.Registered{CommunityID: kernel.CommunityID(p.ID), Name: name, Kind: kernel.Urban,
		Jurisdiction: kernel.JurisdictionPath(p.Path), Households: households, Adults: adults, RegisteredAt: t0})
}

func personal(id, name string) *kernel.PersonalData {
	return &kernel.PersonalData{Subject: kernel.PersonID(id), Name: name, NationalID: "33030319900101" + id[len(id)-4:],
		Phone: "1380000" + id[len(id)-4:], Address: "永中街道" + id + "号"}
}

// sample is a small registry: the tree down to a street, three communities (two sharing a code prefix),
// figures updated, a committee seated with personal data, one member joining and one leaving.
func sample() *decodetest.History {
	h := &decodetest.History{}
	node(h, "33", "浙江省")
	node(h, "33/3303", "温州市")
	node(h, "33/3303/330303", "龙湾区")
	node(h, street, "永中街道")
	register(h, luoxi, "罗西社区", 2400, 5200)
	register(h, yongc, "永昌社区", 1800, 4000)
	register(h, lookali, "永昌新村", 300, 700)
	h.Record(profile(luoxi.ID), luoxi, t0.Add(time.Hour), community.FiguresUpdated{CommunityID: kernel.CommunityID(luoxi.ID),
		Households: 2500, Adults: 5300, Reason: "年度人口统计", UpdatedAt: t0.Add(time.Hour)})
	seats := []community.Seat{
		{Person: "p-0001", Role: community.Chair, FullTime: true, Source: community.Elected, ElectionID: "e-2026", Personal: personal("p-0001", "张三丰")},
		{Person: "p-0002", Role: community.ViceChair, FullTime: true, Source: community.Elected, ElectionID: "e-2026", Personal: personal("p-0002", "李四海")},
		{Person: "p-0003", Role: community.Member, FullTime: false, Source: community.Elected, ElectionID: "e-2026", Personal: personal("p-0003", "王五洲")},
		{Person: "p-0004", Role: community.Member, FullTime: true, Source: community.Elected, ElectionID: "e-2026"},
	}
	h.Record(profile(luoxi.ID), luoxi, t0.Add(2*time.Hour), community.CommitteeSeated{CommunityID: kernel.CommunityID(luoxi.ID),
		Term: "2026-2031", Members: seats, SeatedAt: t0.Add(2 * time.Hour)})
	h.Record(profile(luoxi.ID), luoxi, t0.Add(3*time.Hour), community.MemberJoined{CommunityID: kernel.CommunityID(luoxi.ID),
		Member:   community.Seat{Person: "p-0005", Role: community.Member, FullTime: false, Source: community.ByElected, Personal: personal("p-0005", "赵六合")},
		JoinedAt: t0.Add(3 * time.Hour)})
	h.Record(profile(luoxi.ID), luoxi, t0.Add(4*time.Hour), community.MemberLeft{CommunityID: kernel.CommunityID(luoxi.ID),
		Person: "p-0002", Reason: community.Resigned, LeftAt: t0.Add(4 * time.Hour)})
	// An exit audit of the member who left (opened, a finding, closed) and a regular audit still open.
	as := eventlog.StreamName("audit", luoxi.ID, "2026-exit-p-0002")
	year := audit.Period{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
	h.Record(as, luoxi, t0.Add(5*time.Hour), audit.Opened{AuditID: "2026-exit-p-0002", Kind: audit.Exit, Subject: "p-0002",
		Personal: personal("p-0002", "李四海"), Auditor: "永中街道经管站", Period: year, OpenedAt: t0.Add(5 * time.Hour)})
	h.Record(as, luoxi, t0.Add(6*time.Hour), audit.FindingRecorded{AuditID: "2026-exit-p-0002", FindingID: "f-1", Severity: audit.Minor,
		Text: "李四海经手的误工补贴缺少签收", Amount: 48000, RecordedAt: t0.Add(6 * time.Hour)})
	h.Record(as, luoxi, t0.Add(7*time.Hour), audit.Closed{AuditID: "2026-exit-p-0002", Result: audit.IssuesFound,
		Summary: "补齐签收手续", ClosedAt: t0.Add(7 * time.Hour)})
	h.Record(eventlog.StreamName("audit", luoxi.ID, "2026-h1"), luoxi, t0.Add(8*time.Hour), audit.Opened{AuditID: "2026-h1",
		Kind: audit.Regular, Auditor: "永中街道经管站", Period: year, OpenedAt: t0.Add(8 * time.Hour)})
	// The committee's seal: handed over, a contract sealed with the joint approval, another recorded three
	// days late without any.
	ss := eventlog.StreamName("seal", luoxi.ID, "s-1")
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	contract := seal.Document{Title: "小区保洁服务合同", Date: at(9), Purpose: "签订保洁服务合同", Counterparty: "温州市洁美物业有限公司", Amount: 3600000}
	lease := seal.Document{Title: "车棚租赁协议", Date: at(10), Purpose: "出租车棚", Counterparty: "永中电动车服务部"}
	h.Record(ss, luoxi, at(9), seal.Registered{SealID: "s-1", Kind: seal.CommitteeSeal, Name: "罗西社区居民委员会", Custodian: "p-0003",
		CustodianName: "王文书", RegisteredAt: at(9)})
	h.Record(ss, luoxi, at(9), seal.CustodianChanged{SealID: "s-1", Custodian: "p-0004", CustodianName: "陈会计", Reason: "调岗", ChangedAt: at(9)})
	h.Record(ss, luoxi, at(9), seal.UseRequested{SealID: "s-1", UseID: "u-1", Document: contract, RequestedAt: at(9)})
	h.Record(ss, luoxi, at(10), seal.UseApproved{SealID: "s-1", UseID: "u-1", Approver: "p-0001", ApproverName: "张主任", Role: seal.CommitteeHead,
		ApprovedAt: at(10)})
	h.Record(ss, luoxi, at(10), seal.UseApproved{SealID: "s-1", UseID: "u-1", Approver: "p-0009", ApproverName: "钱监督", Role: seal.Supervision,
		ApprovedAt: at(10)})
	h.Record(ss, luoxi, at(11), seal.Used{SealID: "s-1", UseID: "u-1", Document: contract, DocumentSHA256: strings.Repeat("a", 64), Approved: true,
		UsedAt: at(11)})
	h.Record(ss, luoxi, at(82), seal.Used{SealID: "s-1", UseID: "u-2", Document: lease, DocumentSHA256: strings.Repeat("b", 64), UsedAt: at(82),
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.SealUse, Detail: "未经审批"}, {Rule: rulebook.LateRecording, Detail: "补登"}}}})
	// A shop let out quarterly (two installments received), a pond let to a farmer without bidding, an old
	// storeroom sold.
	shop, pond, store := eventlog.StreamName("asset", luoxi.ID, "a-shop"), eventlog.StreamName("asset", luoxi.ID, "a-pond"),
		eventlog.StreamName("asset", luoxi.ID, "a-store")
	term := at(12).AddDate(1, 0, 0)
	h.Record(shop, luoxi, at(12), asset.Registered{AssetID: "a-shop", Kind: asset.Fixed, Name: "临街店面1号", Location: "罗西路18号", Value: 42000000,
		RegisteredAt: at(12)})
	h.Record(shop, luoxi, at(12), asset.ContractSigned{AssetID: "a-shop", ContractID: "c-1", Counterparty: "罗西便民超市", CounterpartyKind: asset.Organisation,
		From: at(12), To: term, Rent: 600000, Every: asset.Quarterly, Total: 2400000, Method: asset.PublicBidding,
		Installments: asset.Installments(at(12), term, 600000, asset.Quarterly), SignedAt: at(12)})
	for n := 1; n <= 2; n++ {
		h.Record(shop, luoxi, at(12+n), asset.RentReceived{AssetID: "a-shop", ContractID: "c-1", Installment: n, Amount: 600000, VoucherNo: "收-1",
			ReceivedAt: at(12 + n)})
	}
	h.Record(pond, luoxi, at(15), asset.Registered{AssetID: "a-pond", Kind: asset.Resource, Name: "西塘鱼塘", Location: "西塘", RegisteredAt: at(15)})
	h.Record(pond, luoxi, at(15), asset.ContractSigned{AssetID: "a-pond", ContractID: "c-2", Counterparty: "陈**", CounterpartyKind: asset.Individual,
		From: at(15), To: at(15).AddDate(3, 0, 0), Rent: 1500000, Every: asset.Yearly, Total: 4500000, Method: asset.Negotiated,
		Installments: asset.Installments(at(15), at(15).AddDate(3, 0, 0), 1500000, asset.Yearly), SignedAt: at(15),
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.PublicBidding, Detail: "未公开招标"}}}})
	h.Record(store, luoxi, at(16), asset.Registered{AssetID: "a-store", Kind: asset.Fixed, Name: "旧仓库", Location: "罗西路2号", RegisteredAt: at(16)})
	h.Record(store, luoxi, at(17), asset.Disposed{AssetID: "a-store", How: asset.Sale, Amount: 9000000, DisposedAt: at(17),
		Resolution: &asset.Resolution{ID: "r-1", MeetingID: "m-1", AdoptedAt: at(1)}})
	// The district's admission list: two duties, one taken off; one task admitted, one refused; the
	// community receives the admitted one and one nobody admitted.
	district := kernel.JurisdictionPath("33/3303/330303")
	list, place := worklist.ListStream(district), decodetest.Place{Path: string(district)}
	h.Record(list, place, at(18), worklist.DutyListed{District: district, DutyID: "d-01", List: worklist.Assists, Title: "协助开展人口普查",
		Basis: "《全国人口普查条例》", ListedAt: at(18)})
	h.Record(list, place, at(18), worklist.DutyListed{District: district, DutyID: "d-02", List: worklist.Performs, Title: "组织居民议事协商",
		Basis: "组织法", ListedAt: at(18)})
	h.Record(list, place, at(19), worklist.DutyDelisted{District: district, DutyID: "d-02", Reason: "并入", DelistedAt: at(19)})
	h.Record(list, place, at(19), worklist.TaskApplied{District: district, TaskID: "t-01", Department: "区市场监管局", Title: "食品安全宣传",
		LegalBasis: "《食品安全法》", Funding: 300000, AppliedAt: at(19)})
	h.Record(list, place, at(19), worklist.TaskApplied{District: district, TaskID: "t-02", Department: "区住建局", Title: "统计电梯",
		LegalBasis: "无", AppliedAt: at(19)})
	h.Record(list, place, at(20), worklist.TaskDecided{District: district, TaskID: "t-01", Admitted: true, DecidedAt: at(20)})
	h.Record(list, place, at(20), worklist.TaskDecided{District: district, TaskID: "t-02", Reason: "属部门自身职责", DecidedAt: at(20)})
	tasks := worklist.TasksStream(kernel.CommunityID(luoxi.ID))
	h.Record(tasks, luoxi, at(21), worklist.TaskReceived{RecordID: "w-1", Department: "区市场监管局", Title: "食品安全宣传", TaskID: "t-01",
		Funding: 300000, ReceivedAt: at(21)})
	h.Record(tasks, luoxi, at(22), worklist.TaskReceived{RecordID: "w-2", Department: "区住建局", Title: "统计电梯", ReceivedAt: at(22),
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.WorkAdmission, Detail: "未经准入"}}}})
	// The roster: three workers hired (one a committee member), one promoted, two trainings, one leaves.
	roster := worker.Stream(kernel.CommunityID(luoxi.ID))
	hire := func(id, person, name string, post worker.Post, member bool, n int) {
		h.Record(roster, luoxi, at(n), worker.Hired{WorkerID: id, Person: kernel.PersonID(person), Post: post, Member: member, HiredAt: at(n), Posts: 8,
			Personal: &kernel.PersonalData{Subject: kernel.PersonID(person), Name: name, Phone: "13800009999"}})
	}
	hire("w-1", "p-0001", "张三丰", worker.Post{Series: worker.Head, Grade: 9}, true, 23)
	hire("w-2", "p-0101", "周晓梅", worker.Post{Series: worker.Staff, Grade: 4}, false, 23)
	hire("w-3", "p-0102", "吴小燕", worker.Post{Series: worker.Staff, Grade: 4}, false, 24)
	h.Record(roster, luoxi, at(25), worker.PostChanged{WorkerID: "w-2", From: worker.Post{Series: worker.Staff, Grade: 4},
		To: worker.Post{Series: worker.Staff, Grade: 5}, Reason: "年度考核优秀", ChangedAt: at(25)})
	h.Record(roster, luoxi, at(26), worker.Trained{WorkerID: "w-2", TrainingID: "t-1", Course: "岗位培训", Hours: 16, TrainedAt: at(26)})
	h.Record(roster, luoxi, at(26), worker.Trained{WorkerID: "w-3", TrainingID: "t-1", Course: "岗位培训", Hours: 16, TrainedAt: at(26)})
	h.Record(roster, luoxi, at(27), worker.Left{WorkerID: "w-3", Reason: worker.Transferred, LeftAt: at(27), Posts: 9})
	// Casework: an inspection with two findings, both ordered put right (one reported late), an audit
	// finding ordered put right, and the district's bulletin citing the inspection.
	h.Record(inspection.Stream(kernel.CommunityID(luoxi.ID), "2026-r1"), luoxi, at(28), inspection.Conducted{InspectionID: "2026-r1",
		Inspectors: "区民政局督查组", Round: "2026年第1轮", Methods: []inspection.Method{inspection.SiteVisit, inspection.Interview}, HeldAt: at(28),
		Findings: []inspection.Finding{{FindingID: "f-1", Severity: inspection.Minor, Text: "公开栏未更新"}, {FindingID: "f-2", Severity: inspection.Major,
			Text: "议事记录缺失"}}})
	order := func(id string, kind rectification.Kind, src, finding, text string, n int) {
		h.Record(rectification.Stream(kernel.CommunityID(luoxi.ID), id), luoxi, at(n), rectification.Ordered{RectificationID: id,
			Source: rectification.Source{Kind: kind, ID: src, FindingID: finding, Finding: text}, Requirement: "限期整改", Due: at(n + 24*7), OrderedAt: at(n)})
	}
	order("z-1", rectification.Inspection, "2026-r1", "f-1", "公开栏未更新", 29)
	order("z-2", rectification.Inspection, "2026-r1", "f-2", "议事记录缺失", 29)
	order("z-3", rectification.Audit, "2026-exit-p-0002", "f-1", "审计发现的一项问题", 30)
	h.Record(rectification.Stream(kernel.CommunityID(luoxi.ID), "z-1"), luoxi, at(29+24*8), rectification.Reported{RectificationID: "z-1",
		Response: "已更新", Late: true, ReportedAt: at(29 + 24*8)})
	h.Record(bulletin.Stream(district, "2026-1"), place, at(31), bulletin.Published{BulletinID: "2026-1", Jurisdiction: district,
		Title: "2026年第1轮督查通报", Text: "本轮督查发现问题2个。", Cites: []bulletin.Cite{{CommunityID: kernel.CommunityID(luoxi.ID), InspectionID: "2026-r1"}},
		PublishedAt: at(31)})
	// A satisfaction survey, closed with its tallies, and a half year's evaluation.
	sv := survey.Stream(kernel.CommunityID(luoxi.ID), "2026")
	h.Record(sv, luoxi, at(32), survey.Opened{SurveyID: "2026", Title: "2026年度居民满意度测评", Audience: []survey.Audience{survey.Residents},
		Questions: []survey.Question{{QuestionID: "q1", Text: "总体评价", Scale: survey.Satisfaction}, {QuestionID: "q2", Text: "环境卫生", Scale: survey.FivePoint}},
		OpenedAt:  at(32)})
	h.Record(sv, luoxi, at(33), survey.Closed{SurveyID: "2026", Respondents: 100, Tallies: []survey.Tally{{QuestionID: "q1", Counts: []int{70, 20, 10}},
		{QuestionID: "q2", Counts: []int{1, 2, 7, 40, 50}}}, ClosedAt: at(33)})
	h.Record(evaluation.Stream(kernel.CommunityID(luoxi.ID), "2026-H1"), luoxi, at(34), evaluation.Held{EvaluationID: "2026-H1", Period: "2026-H1",
		Evaluators: 40, HeldAt: at(34), Results: []evaluation.Result{{Person: "p-0001", PublicName: "张主任", Role: community.Chair, Competent: 36, Basically: 3,
			Incompetent: 1}}})
	return h
}

// TestSurveysAndEvaluations: a survey's questions with their tallies once closed, the respondents; a half
// year's evaluation with each member's tallies by public name.
func TestSurveysAndEvaluations(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	ctx := context.Background()
	svs, err := directory.Surveys(ctx, pool, luoxi.ID)
	if err != nil || len(svs) != 1 || svs[0].Closed == nil || svs[0].Respondents != 100 || len(svs[0].Questions) != 2 {
		t.Fatalf("surveys %+v %v", svs, err)
	}
	if q := svs[0].Questions[1]; q.QuestionID != "q2" || q.Scale != survey.FivePoint || !slices.Equal(q.Counts, []int{1, 2, 7, 40, 50}) {
		t.Fatalf("the second question %+v", q)
	}
	evs, err := directory.Evaluations(ctx, pool, luoxi.ID)
	if err != nil || len(evs) != 1 || evs[0].Period != "2026-H1" || len(evs[0].Results) != 1 || evs[0].Results[0].PublicName != "张主任" ||
		evs[0].Results[0].Competent != 36 {
		t.Fatalf("evaluations %+v %v", evs, err)
	}
	if none, err := directory.Surveys(ctx, pool, yongc.ID); err != nil || len(none) != 0 {
		t.Fatalf("another community's surveys %+v %v", none, err)
	}
	standings, err := directory.Standings(ctx, pool, "33/3303/330303")
	if err != nil || len(standings) < 2 {
		t.Fatalf("standings %+v %v", standings, err)
	}
	for _, st := range standings {
		switch st.CommunityID {
		case luoxi.ID: // q1 only (the five-point q2 is not a satisfaction question): 90 of 100
			if st.Survey != "2026" || st.SatisfiedPermille != 900 || st.Respondents != 100 || st.Evaluation != "2026-H1" ||
				st.LowestCompetentPermille != 900 || st.HighestIncompetentPermille != 25 {
				t.Fatalf("standing %+v", st)
			}
		case yongc.ID:
			if st.Survey != "" || st.Evaluation != "" || st.SatisfiedPermille != 0 {
				t.Fatalf("a community without surveys %+v", st)
			}
		}
	}
}

// TestCasework: a community's inspections with their findings and what became of them (reported, late,
// still open), its audit findings' rectifications apart; the district's bulletins and those citing the
// community; the district's coverage in the year.
func TestCasework(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	ctx := context.Background()
	insps, audits, err := directory.Casework(ctx, pool, luoxi.ID)
	if err != nil || len(insps) != 1 || len(audits) != 1 {
		t.Fatalf("casework %+v %+v %v", insps, audits, err)
	}
	i := insps[0]
	if i.Inspectors != "区民政局督查组" || len(i.Methods) != 2 || len(i.Findings) != 2 || i.Commit == 0 {
		t.Fatalf("inspection %+v", i)
	}
	f1, f2 := i.Findings[0], i.Findings[1]
	if f1.Rectification == nil || f1.Rectification.Reported == nil || !f1.Rectification.Late || f1.Rectification.Response != "已更新" {
		t.Fatalf("the finding put right late: %+v %+v", f1, f1.Rectification)
	}
	if f2.Rectification == nil || f2.Rectification.Reported != nil || !f2.Rectification.Overdue(f2.Rectification.Due.Add(time.Hour)) {
		t.Fatalf("the finding still open: %+v %+v", f2, f2.Rectification)
	}
	if a := audits[0]; a.Kind != rectification.Audit || a.Finding != "审计发现的一项问题" || a.Reported != nil {
		t.Fatalf("the audit finding: %+v", a)
	}
	bs, err := directory.Bulletins(ctx, pool, "33/3303/330303", "")
	if err != nil || len(bs) != 1 || len(bs[0].Cites) != 1 || bs[0].Cites[0].InspectionID != "2026-r1" {
		t.Fatalf("the district's bulletins: %+v %v", bs, err)
	}
	if citing, err := directory.Bulletins(ctx, pool, "", luoxi.ID); err != nil || len(citing) != 1 {
		t.Fatalf("bulletins citing the community: %+v %v", citing, err)
	}
	if other, err := directory.Bulletins(ctx, pool, "", yongc.ID); err != nil || len(other) != 0 {
		t.Fatalf("bulletins citing another community: %+v %v", other, err)
	}
	year := t0.Add(28 * time.Hour).In(kernel.ChinaTime()).Year()
	cov, err := directory.CoverageOf(ctx, pool, "33/3303/330303", year, t0.Add(365*24*time.Hour))
	if err != nil || cov.Communities < 2 || cov.Inspected != 1 || cov.Inspections != 1 || cov.Findings != 2 || cov.Ordered != 3 ||
		cov.Reported != 1 || cov.ReportedLate != 1 || cov.Unmet != 2 {
		t.Fatalf("coverage %+v %v", cov, err)
	}
	byDistrict, err := directory.CoverageByDistrict(ctx, pool, year, t0.Add(365*24*time.Hour))
	if err != nil || byDistrict["33/3303/330303"] != cov {
		t.Fatalf("coverage by district %+v %v, want %+v", byDistrict, err, cov)
	}
	byStreet, err := directory.CoverageByStreet(ctx, pool, year, t0.Add(365*24*time.Hour))
	sum := directory.Coverage{Year: year}
	for street, c := range byStreet {
		if !strings.HasPrefix(street, "33/3303/330303/") || strings.Count(street, "/") != 3 {
			t.Errorf("coverage of %q: not a street of the district", street)
		}
		sum.Communities, sum.Inspected, sum.Inspections, sum.Findings = sum.Communities+c.Communities, sum.Inspected+c.Inspected, sum.Inspections+c.Inspections, sum.Findings+c.Findings
		sum.Ordered, sum.Reported, sum.ReportedLate, sum.Unmet = sum.Ordered+c.Ordered, sum.Reported+c.Reported, sum.ReportedLate+c.ReportedLate, sum.Unmet+c.Unmet
	}
	if err != nil || sum != cov {
		t.Fatalf("coverage by street %+v %v adds up to %+v, want %+v", byStreet, err, sum, cov)
	}
	overdue, err := directory.OverdueRectifications(ctx, pool, "33/3303/330303", t0.Add(365*24*time.Hour), 10)
	if err != nil || len(overdue) != 2 || overdue[0].RectificationID != "z-2" || overdue[1].Kind != rectification.Audit || overdue[0].CommunityName == "" {
		t.Fatalf("overdue %+v %v", overdue, err)
	}
	if none, err := directory.OverdueRectifications(ctx, pool, "33/3303/330303", t0, 10); err != nil || len(none) != 0 {
		t.Fatalf("overdue before any deadline %+v %v", none, err)
	}
}

// TestWorkers: a community's workers by post (never by name): on the roster, committee members among
// them, the posts the last roster event stated, each year's hires, departures and training.
func TestWorkers(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	wf, err := directory.WorkforceOf(context.Background(), pool, luoxi.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Active != 2 || wf.Members != 1 || wf.Posts != 9 || len(wf.ByPost) != 2 {
		t.Fatalf("workforce %+v", wf)
	}
	if p := wf.ByPost[0]; p.Post != (worker.Post{Series: worker.Head, Grade: 9}) || p.Count != 1 {
		t.Fatalf("the head first: %+v", wf.ByPost)
	}
	if p := wf.ByPost[1]; p.Post != (worker.Post{Series: worker.Staff, Grade: 5}) || p.Count != 1 {
		t.Fatalf("the promoted worker: %+v", wf.ByPost)
	}
	if len(wf.Years) != 1 || wf.Years[0] != (directory.WorkforceYear{Year: t0.Add(23 * time.Hour).In(kernel.ChinaTime()).Year(), Hired: 3, Left: 1, TrainingHours: 32,
		Trainings: 2, Attendees: 2}) {
		t.Fatalf("years %+v", wf.Years)
	}
	if _, err := directory.WorkforceOf(context.Background(), pool, yongc.ID); err != directory.ErrNotFound {
		t.Fatalf("a community without a roster: %v", err)
	}
	for _, row := range decodetest.RowText(t, pool, directory.Schema) {
		if strings.Contains(row, "p-0101") || strings.Contains(row, "周晓梅") {
			t.Fatalf("a row keeps a worker's person id or name: %s", row)
		}
	}
}

// TestWorkList: a district's duties (one taken off the list, with the reason) and decisions (admitted,
// refused with the reason); a community's tasks with what allowed them, the latest first.
func TestWorkList(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	ctx := context.Background()
	duties, admissions, err := directory.WorkList(ctx, pool, "33/3303/330303")
	if err != nil || len(duties) != 2 || len(admissions) != 2 {
		t.Fatalf("list: %+v %+v %v", duties, admissions, err)
	}
	if d := duties[0]; d.DutyID != "d-02" || d.DelistedAt == nil || d.Reason != "并入" || duties[1].DelistedAt != nil {
		t.Fatalf("duties: %+v", duties)
	}
	status := map[string]directory.Admission{}
	for _, a := range admissions {
		status[a.TaskID] = a
	}
	if a := status["t-01"]; a.Status != "admitted" || a.DecidedAt == nil || a.FundingFen != 300000 {
		t.Fatalf("t-01: %+v", a)
	}
	if a := status["t-02"]; a.Status != "refused" || a.Reason != "属部门自身职责" {
		t.Fatalf("t-02: %+v", a)
	}
	tasks, err := directory.CommunityTasks(ctx, pool, luoxi.ID, 10)
	if err != nil || len(tasks) != 2 || tasks[0].RecordID != "w-2" || tasks[0].Allowed || !tasks[1].Allowed || tasks[1].FundingFen != 300000 {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
}

// TestAssetRegister: the assets with what became of them and the rent they brought in; the contracts with
// term, rent, method (not bid marked) and installments received, the latest signed first.
func TestAssetRegister(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	as, cs, err := directory.AssetRegister(context.Background(), pool, luoxi.ID)
	if err != nil || len(as) != 3 || len(cs) != 2 {
		t.Fatalf("register: %+v %+v %v", as, cs, err)
	}
	byID := map[string]directory.Asset{}
	for _, a := range as {
		byID[a.AssetID] = a
	}
	if a := byID["a-shop"]; a.Contracts != 1 || a.IncomeFen != 1200000 || a.Disposed != nil || a.ValueFen != 42000000 {
		t.Fatalf("the shop: %+v", a)
	}
	if a := byID["a-store"]; a.Disposed == nil || a.Disposal != asset.Sale || a.DisposalAmount != 9000000 {
		t.Fatalf("the storeroom: %+v", a)
	}
	if pond, shop := cs[0], cs[1]; pond.ContractID != "c-2" || !pond.NotBid || pond.Counterparty != "陈**" || pond.Installments != 3 ||
		shop.Received != 2 || shop.ReceivedFen != 1200000 || shop.NotBid || shop.Every != asset.Quarterly || shop.Installments != 4 {
		t.Fatalf("contracts: %+v", cs)
	}
}

// TestSealRegister: a seal with its current custodian by name and its uses counted; each use with its
// document, counterparty, amount, approvers by name and capacity, and whether it was approved and recorded
// in time; the latest document first. No person id is kept.
func TestSealRegister(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	seals, uses, err := directory.SealRegister(context.Background(), pool, luoxi.ID, 10)
	if err != nil || len(seals) != 1 || len(uses) != 2 {
		t.Fatalf("register: %+v %+v %v", seals, uses, err)
	}
	if s := seals[0]; s.Name != "罗西社区居民委员会" || s.Kind != seal.CommitteeSeal || s.CustodianName != "陈会计" || s.Uses != 2 || s.Unapproved != 1 {
		t.Fatalf("seal: %+v", s)
	}
	late, ok := uses[0], uses[1]
	if late.UseID != "u-2" || late.Approved || !late.Late || late.Used == nil || late.Requested != nil || late.Approvers != "" || late.AmountFen != 0 {
		t.Fatalf("the late, unapproved use: %+v", late)
	}
	if ok.UseID != "u-1" || !ok.Approved || ok.Late || ok.Approvals != 2 || ok.Approvers != "张主任（村(居)委会主任）、钱监督（监督委员会）" ||
		ok.AmountFen != 3600000 || ok.Counterparty != "温州市洁美物业有限公司" || ok.Requested == nil || ok.DocumentSHA256 != strings.Repeat("a", 64) {
		t.Fatalf("the approved use: %+v", ok)
	}
	for _, row := range decodetest.RowText(t, pool, directory.Schema) {
		if strings.Contains(row, "p-0009") {
			t.Fatalf("a row keeps an approver's person id: %s", row)
		}
	}
}

// TestSearchByPinyinInitials: a place is found by the initials of its name in pinyin as typed on a phone
// (lxsq or a prefix, any case); Latin letters that are no place's initials find nothing.
func TestSearchByPinyinInitials(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"罗西社区": "lxsq", "永中街道": "yzjd", "永昌新村2期": "ycxc2q", "A区": "aq"} {
		if got := directory.Initials(name); got != want {
			t.Errorf("Initials(%q) = %q, want %q", name, got, want)
		}
	}
	pool := readmodeltest.Projected(t, directory.New(), sample().Events, 0)
	ctx := context.Background()
	for q, want := range map[string]string{"lxsq": "罗西社区", "LX": "罗西社区", "yzjd": "永中街道", "ycx": "永昌新村"} {
		ns, err := directory.Search(ctx, pool, q, 10)
		if err != nil || len(ns) == 0 || ns[0].Name != want {
			t.Errorf("Search(%q) = %+v %v, want %s first", q, ns, err, want)
		}
	}
	if ns, err := directory.Search(ctx, pool, "qqq", 10); err != nil || len(ns) != 0 {
		t.Errorf("Search(qqq) = %+v %v, want nothing", ns, err)
	}
}

// TestAudits: an audit by kind, auditor, period, findings counted and result, with the events that opened
// and closed it; an open one without a result; never the cadre audited or what the findings say.
func TestAudits(t *testing.T) {
	t.Parallel()
	h := sample()
	pool := readmodeltest.Projected(t, directory.New(), h.Events, 0)
	ctx := context.Background()
	all, err := directory.Audits(ctx, pool, luoxi.ID, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("audits: %+v %v", all, err)
	}
	exit := all["2026-exit-p-0002"]
	if exit.Kind != audit.Exit || exit.Auditor != "永中街道经管站" || exit.Findings != 1 || exit.Result != audit.IssuesFound ||
		exit.Closed == nil || !exit.Closed.At.Equal(t0.Add(7*time.Hour)) || !exit.Opened.At.Equal(t0.Add(5*time.Hour)) ||
		exit.PeriodTo.Year() != 2025 {
		t.Fatalf("the exit audit: %+v", exit)
	}
	if h1 := all["2026-h1"]; h1.Kind != audit.Regular || h1.Closed != nil || h1.Result != "" || h1.Findings != 0 {
		t.Fatalf("the open audit: %+v", h1)
	}
	if some, err := directory.Audits(ctx, pool, luoxi.ID, []string{"2026-h1", "nope"}); err != nil || len(some) != 1 {
		t.Fatalf("audits by id: %+v %v", some, err)
	}
	if none, err := directory.Audits(ctx, pool, yongc.ID, nil); err != nil || len(none) != 0 {
		t.Fatalf("another community's audits: %+v %v", none, err)
	}
}

func TestTreeAndCommunities(t *testing.T) {
	t.Parallel()
	h := sample()
	pool := readmodeltest.Projected(t, directory.New(), h.Events, 0)
	ctx := context.Background()

	top, err := directory.Children(ctx, pool, "")
	if err != nil || len(top) != 1 || top[0].Path != "33" || top[0].Name != "浙江省" || top[0].Level != 1 || top[0].EventID != h.Events[0].ID || top[0].Commit != 1 {
		t.Fatalf("top level: %+v %v", top, err)
	}
	kids, err := directory.Children(ctx, pool, street)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range kids {
		if !k.Community || k.Level != kernel.LevelCommunity || k.Parent != street {
			t.Fatalf("child %+v", k)
		}
		names = append(names, k.Code+":"+k.Name)
	}
	if got := strings.Join(names, ","); got != "330303001001:罗西社区,330303001002:永昌社区,3303030010021:永昌新村" {
		t.Fatalf("children of the street: %s", got)
	}

	c, err := directory.CommunityByID(ctx, pool, luoxi.ID)
	if err != nil {
		t.Fatal(err)
	}
	figures := h.Events[7]
	roster := h.Events[10]
	if c.Name != "罗西社区" || c.Kind != kernel.Urban || c.Path != luoxi.Path || c.Households != 2500 || c.Adults != 5300 ||
		c.FiguresEventID != figures.ID || c.FiguresCommit != figures.Position.Commit || !c.FiguresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("community figures: %+v", c)
	}
	// Seated 4 (2 full-time chair+vice, 1 full-time member), +1 part-time member, −vice-chair.
	want := directory.CommitteeCounts{Term: "2026-2031", Members: 4, FullTime: 2, Chairs: 1, ViceChairs: 0,
		ChangedAt: t0.Add(4 * time.Hour), EventID: roster.ID, Commit: roster.Position.Commit}
	if c.Committee != want {
		t.Fatalf("committee:\n got %+v\nwant %+v", c.Committee, want)
	}
	if _, err := directory.CommunityByID(ctx, pool, "nope"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("unknown community: %v", err)
	}

	under := func(path, after string, limit int) string {
		cs, err := directory.CommunitiesUnder(ctx, pool, path, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return strings.Join(ids, ",")
	}
	if got := under("33/3303", "", 0); got != "330303001001,330303001002,3303030010021" {
		t.Fatalf("under the city: %s", got)
	}
	if got := under(yongc.Path, "", 0); got != "330303001002" {
		t.Fatalf("under a community is not its prefix-sharing neighbour: %s", got)
	}
	if got := under("", luoxi.Path, 1); got != "330303001002" {
		t.Fatalf("second page of one: %s", got)
	}
	if got := under("33/3304", "", 0); got != "" {
		t.Fatalf("under another district: %s", got)
	}
}

// TestContract: the read-model contract (readmodeltest) over the sample and a generated district. The
// directory skips a poison event, reports it and goes on.
func TestContract(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return directory.New() }, Sample: sample().Events,
		Redelivery: decodetest.Idempotent, Handles: "community.figures-updated", SampleSecrets: sampleSecrets})
}

// sampleSecrets are the personal data of the sample that no row may hold (the contract checks them).
var sampleSecrets = []string{"周晓梅", "吴小燕", "13800009999", "张三丰", "李四海", "王五洲", "赵六合", "330303199001", "1380000", "永中街道p-", "误工补贴缺少签收", "补齐签收手续"}

// TestMigrationsRunConcurrently: the schemas of a model are migrated at the same time by a rebuild and by
// auditors' replays; the search migration installs pg_trgm once, and every schema gets its index.
func TestMigrationsRunConcurrently(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	m := directory.New()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			errs <- pg.Migrate(ctx, pool, fmt.Sprintf("rm_directory_c%d", i), "schema_migrations", m.Migrations())
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migration: %v", err)
		}
	}
	var indexes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname = 'nodes_name_trgm' AND schemaname LIKE 'rm_directory_c%'`).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 8 {
		t.Fatalf("%d of 8 schemas have the name index", indexes)
	}
}
