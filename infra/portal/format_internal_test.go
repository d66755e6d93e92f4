package portal

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/freshness"
	"github.com/grassroots-ledger/ledger/projections/meetings"
)

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 123456: "¥1,234.56", 100000000: "¥1,000,000.00",
		99: "¥0.99", 123456789012: "¥1,234,567,890.12", -2550: "-¥25.50"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestChinaTime(t *testing.T) {
	at := time.Date(2026, 11, 22, 13, 5, 59, 0, time.UTC)
	if got := ChinaTime(at); got != "2026-11-22 21:05" {
		t.Errorf("ChinaTime = %q", got)
	}
	if got := ChinaDate(time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC)); got != "2027-01-01" {
		t.Errorf("ChinaDate = %q (the day in Beijing)", got)
	}
}

func TestRedact(t *testing.T) {
	const id = "33990119900307123X" // fictitious prefecture 3399, check character below
	valid := id[:17] + string("10X98765432"[checksum(id[:17])])
	for in, want := range map[string]string{
		"联系电话13812345678，欢迎来电": "联系电话138****5678，欢迎来电",
		"电话 138 1234 5678":     "电话 138****5678",
		"手机:139-0000-1111。":    "手机:139****1111。",
		"身份证号" + valid + "。":   "身份证号" + valid[:3] + strings.Repeat("*", 13) + valid[16:] + "。",
		"凭证号 记-202611-0469":    "凭证号 记-202611-0469",
		"金额 12345678901234 元":  "金额 12345678901234 元", // 14 digits: not a phone
		"编号 213812345678":      "编号 213812345678",     // 12 digits: not a phone
		"订单 23812345678":       "订单 23812345678",      // starts with 2
		"哈希 a13812345678b":     "哈希 a13812345678b",    // inside a word
		"同意实施电动自行车集中充电棚建设的议案。": "同意实施电动自行车集中充电棚建设的议案。",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	invalid := valid[:17] + "0"
	if valid[17] == '0' {
		invalid = valid[:17] + "1"
	}
	if got := Redact("号码" + invalid); got != "号码"+invalid {
		t.Errorf("an 18-digit number with a wrong check character was masked: %q", got)
	}
}

func checksum(body string) int {
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return sum % 11
}

func TestCursor(t *testing.T) {
	c := cursor{At: time.Date(2026, 3, 1, 9, 0, 0, 123, time.UTC), ID: "2026-0042"}
	got, err := parseCursor(c.String())
	if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"zz!", "bm90LWEtY3Vyc29y", "MTIz"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

func TestBudgetChartIsAccessible(t *testing.T) {
	f := Finances{CommunityID: "c1", FiscalYear: 2026, Categories: []CategoryTotals{
		{CategoryName: "工作运行经费", Allocated: money(4000000), Paid: money(3500000)},
		{CategoryName: "项目<资金>", Allocated: money(100000), Paid: money(250000)},
	}}
	svg := string(budgetChart(f))
	for _, want := range []string{`role="img"`, `aria-labelledby="chart-c1-2026-t chart-c1-2026-d"`, "<title id=", "<desc id=",
		"工作运行经费：预算 ¥40,000.00，已支付 ¥35,000.00", "项目&lt;资金&gt;", "支出超出预算"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if strings.Contains(svg, "<资金>") {
		t.Error("a label is not escaped")
	}
}

func TestStaleSections(t *testing.T) {
	var a, b fingerprint
	for i := range a {
		a[i], b[i] = "x", "x"
	}
	b[secFinances] = "y"
	if got := staleSections(a.short(), b); len(got) != 1 || got[0] != "finances" {
		t.Errorf("staleSections = %v", got)
	}
	if got := staleSections("garbage", b); len(got) != int(nSections) {
		t.Errorf("an unreadable fingerprint must refresh every section: %v", got)
	}
}

// TestFreshnessTextNamesStaleSections: the freshness line names a section halted on an event it could not
// apply, a section lagging more than two minutes behind the freshest, and a database it cannot reach.
func TestFreshnessTextNamesStaleSections(t *testing.T) {
	at := time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC)
	s := snapshot{dataAsOf: at.Add(-10 * time.Minute), models: []freshness.Projection{
		{Name: "board", State: "running", LastEventRecordedAt: at},
		{Name: "finances", State: "halted", LastEventRecordedAt: at.Add(-time.Hour)},
		{Name: "meetings", State: "running", LastEventRecordedAt: at.Add(-10 * time.Minute)},
		{Name: "elections", State: "running", LastEventRecordedAt: at.Add(-time.Minute)},
	}}
	got := s.FreshnessText()
	for _, want := range []string{"数据更新至 2026-11-22 20:55（北京时间）", "“财务收支”栏目因一条数据无法处理已暂停更新", "“会议”栏目同步滞后，仅更新至 2026-11-22 20:55"} {
		if !strings.Contains(got, want) {
			t.Errorf("freshness %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "选举") || strings.Contains(got, "公开栏") || strings.Contains(got, "数据库") {
		t.Errorf("freshness %q names a section that is up to date", got)
	}
	s.err = &pgconn.ConnectError{}
	if got := s.FreshnessText(); !strings.Contains(got, "数据库暂时无法访问") {
		t.Errorf("freshness with the database unreachable: %q", got)
	}
}

// TestSentencesNameRecordsNotIDs: an alert's sentence names the expenditures, meetings, resolutions and
// audits it was written with the ids of; an id the community has no record of stays as written.
func TestSentencesNameRecordsNotIDs(t *testing.T) {
	n := namer{purposes: map[string]string{"2023-0014": "道路硬化", "2023-0015": "路灯维修", "2023-0016": "排水沟清淤"},
		meetings: map[string]meetings.Named{"2025-joint-4": {Title: "2025年第四次两委联席会议", MeetingID: "2025-joint-4"}},
		audits: map[string]directory.Audit{"2026-exit-p330303001201-0001": {AuditID: "2026-exit-p330303001201-0001", Kind: audit.Exit,
			Opened: directory.Step{At: time.Date(2026, 1, 31, 17, 0, 0, 0, time.UTC), Commit: 4242}}},
		terms: map[string]string{"e-2026": "2026-2031"}, people: map[string]string{"p-0002": "李秀英"},
		titles: map[string]string{"n-7": "2026年第一季度财务公开"}}
	for in, want := range map[string]string{
		"支出2023-0016(¥18,380.26)与同一收款方近期的支出2023-0014、2023-0015合计达到重大事项标准":     "支出“排水沟清淤”(¥18,380.26)与同一收款方近期的支出“道路硬化”、“路灯维修”合计达到重大事项标准",
		"会议2025-joint-4于2025-11-13 15:35结束，应在48小时内留存会议记录":                     "会议“2025年第四次两委联席会议”于2025-11-13 15:35结束，应在48小时内留存会议记录",
		"支出2099-0001(¥1.00)于2024-02-10支付":                                     "支出2099-0001(¥1.00)于2024-02-10支付",
		"2026年上半年未召开社区居民会议":                                                   "2026年上半年未召开社区居民会议",
		"审计2026-exit-p330303001201-0001于2026-03-02 09:00结束，结果应在24小时内公开，至今未公开": "审计（离任，2026年2月）于2026-03-02 09:00结束，结果应在24小时内公开，至今未公开",
		"选举e-2026的结果于2026-03-02 09:00确认，应在24小时内公开，至今未公开":                      "选举“2026-2031届换届选举”的结果于2026-03-02 09:00确认，应在24小时内公开，至今未公开",
		"委员p-0002于2026-03-02 09:00离任(辞职)，应在30天内进行离任审计，至今未开始":                  "委员“李秀英”于2026-03-02 09:00离任(辞职)，应在30天内进行离任审计，至今未开始",
		"公开事项n-7(2026-04-01 09:00公开)已于2026-04-02 09:00撤回":                     "公开事项“2026年第一季度财务公开”(2026-04-01 09:00公开)已于2026-04-02 09:00撤回",
		"委员会现有3人，按376户、成年人口1001人应为5人":                                         "委员会现有3人，按376户、成年人口1001人应为5人",
	} {
		if got := n.sentence(in); got != want {
			t.Errorf("sentence(%q)\n = %q\nwant %q", in, got, want)
		}
	}
	if h := n.subjectHref("meeting-330303001001-2025-joint-4"); h != "/c/330303001001/meetings/2025-joint-4" {
		t.Errorf("a meeting's page: %q", h)
	}
	if h := n.subjectHref("audit-330303001201-2026-exit-p330303001201-0001"); h != "/events/4242" {
		t.Errorf("an audit's link (the event that opened it): %q", h)
	}
}
