// Package rulebook is the rulebook of DOMAIN.md as data: every rule with its
// stable ID, whether it is enforced (the command is rejected) or watched (the
// fact is recorded with a breach and an alert is raised), its severity for the
// red/yellow/green rating, and its parameters with their defaults. A
// jurisdiction may override any parameter; each override is an event
// (rulebook.override-set) on the stream of that jurisdiction, and the most
// specific override wins for a community (see Rulebook.For).
package rulebook

import "github.com/grassroots-ledger/ledger/domain/kernel"

// Kind says what the ledger does when a rule is broken.
type Kind string

const (
	// Enforce: the command is rejected with the rule's error code.
	Enforce Kind = "enforce"
	// Watch: the fact is recorded with a kernel.Breach and the alert engine raises an alert.
	Watch Kind = "watch"
)

// Severity colours an open alert; a community is red if it has an open red
// alert, yellow if it has an open yellow one, green otherwise (红黄绿三色预警).
type Severity string

const (
	Red    Severity = "red"
	Yellow Severity = "yellow"
)

// ParamType is the type of a parameter value; every value is stored as text.
type ParamType string

const (
	TypeSpan      ParamType = "span"      // "1y", "6mo", "7d", "48h" (see Span)
	TypeCount     ParamType = "count"     // a whole number >= 1
	TypeFen       ParamType = "fen"       // an amount in fen >= 1
	TypeThreshold ParamType = "threshold" // ">1/2", ">=2/3" (see Threshold)
	TypeSeverity  ParamType = "severity"  // "red" or "yellow"
	TypeSwitch    ParamType = "switch"    // "on" or "off"
)

// The rules of DOMAIN.md, by stable ID. The IDs appear in error codes'
// documentation, in breaches on events and in override events: never rename.
const (
	// 候选人须在本社区居住一年以上 [003 第二篇 三(三)1(4)].
	CandidateResidence kernel.RuleID = "candidate-residence"
	// 选举委员会成员被确定为候选人的，应当退出选举委员会 [003].
	CommitteeMemberCandidacy kernel.RuleID = "election-committee-member-candidacy"
	// 候选人名单公示不少于7天 [003 第三篇 三3(1)].
	CandidateListPublicity kernel.RuleID = "candidate-list-publicity"
	// 选举有效须过半数选民投票；候选人须获得参加投票选民的过半数选票 (村民委员会组织法).
	ElectionValidity kernel.RuleID = "election-validity"
	// 居委会5—7人、约500户1人；村委会1000人以下3人、以上5人 [003].
	CommitteeSize kernel.RuleID = "committee-size"
	// 专职社区居委会成员不得少于三分之二 [003].
	FullTimeShare kernel.RuleID = "committee-full-time-share"
	// 会议法定人数与表决 (组织法): 村(居)民会议过半数成年人或三分之二以上户的代表；
	// 代表会议三分之二以上组成人员参加；决定须经到会人员过半数同意.
	MeetingQuorum kernel.RuleID = "meeting-quorum"
	// 重大事项(重大开支等)须先经村(居)民会议或代表会议决议 (四议两公开) [003 第三篇 二2(1)].
	// Enforced at approval, watched at payment.
	MajorMatterResolution kernel.RuleID = "major-matter-resolution"
	// 每年年初、年末至少分别召开一次社区居民会议 [003 第二篇 三(三)2(2)].
	ResidentsMeetingFrequency kernel.RuleID = "residents-meeting-frequency"
	// 会议记录保存完整: minutes within 48 h [003].
	MinutesKept kernel.RuleID = "minutes-kept"
	// 一般事项至少每季度公开、财务往来较多的每月公开、重大事项随时公开 [003].
	DisclosureFrequency kernel.RuleID = "disclosure-frequency"
	// Every paid expenditure appears on the public board within 24 h.
	PaymentDisclosed kernel.RuleID = "payment-disclosed"
	// 选举结果、审计结果要公开 [003 第三篇 四3(3)]: within 24 h.
	ResultsDisclosed kernel.RuleID = "results-disclosed"
	// 印章使用须经共同研究并随时记录 [003 第三篇 二2(3)]. The seal register arrives
	// with a later issue; the rule is here so that overrides and ratings know it.
	SealUse kernel.RuleID = "seal-use"
	// 社区工作经费: 2000户以下每年4万元，2000—3000户5万元，3000户以上6万元 [003 第二篇 二(一)1(5)].
	OperatingFunds kernel.RuleID = "operating-funds"
	// 经管站每半年对村干部进行一次审计 [003 第三篇 四3(3)].
	CadreAudit kernel.RuleID = "cadre-audit-interval"
	// Not in DOMAIN.md's table: an approval beyond the remaining balance of
	// the budget line the handler looked up. Watched, because the balance
	// comes from a read model that may lag.
	BudgetBalance kernel.RuleID = "budget-balance"
	// Not in DOMAIN.md's table: a fact whose time starts or satisfies a rule's clock (a payment, a
	// meeting, a vote) recorded long after it happened — back-dating shows. Watched.
	LateRecording kernel.RuleID = "late-recording"
	// 公示期: notices on elections, finance and major matters stay up at least 7 days (the seeds' 公示不少于
	// 7天 for candidate lists, applied to results, accounts and resolutions). Enforced at publication.
	PublicityWindow kernel.RuleID = "publicity-window"
	// 离任审计: a member leaving the committee (resignation, recall, end of term) is audited within 90 days
	// [003 第三篇 四3(3)]. Watched by deadline.
	ExitAudit kernel.RuleID = "exit-audit"
	// 异议须答复: a resident's objection to a notice or a candidate list is answered within 7 days
	// (watched); an election with unanswered objections cannot be certified (enforced).
	ObjectionAnswered kernel.RuleID = "objection-answered"
	// 集体资产、资源发包租赁达到一定金额须公开招标(竞价) [阳光村务; 三资管理].
	PublicBidding kernel.RuleID = "public-bidding"
	// 集体资产发包租赁的租金须按合同按期收取 [三资管理].
	RentCollected kernel.RuleID = "rent-collected"
	// 社区工作事项准入: 未列入清单、未经准入的工作事项不得转嫁给社区 [001].
	WorkAdmission kernel.RuleID = "work-admission"
	// 社区工作者薪酬: 基本工资+绩效工资+年度奖励, 基本工资按岗位等级(三岗十八级)设置 [001, 004].
	PayScale kernel.RuleID = "pay-scale"
	// 社区工作者职数: 按服务户数核定 [000, 003 第二篇 二(二)1(1), 004].
	StaffingLimit kernel.RuleID = "staffing-limit"
	// 限期整改: 督查、审计发现的问题须在整改期限内整改并报告 [000; 003 第三篇 四3(3)].
	RectificationDue kernel.RuleID = "rectification-due"
	// 民主评议村干部: 每半年组织一次，先述职后评议 [003 第三篇 四3(2)].
	CadreEvaluation kernel.RuleID = "cadre-evaluation-interval"
	// 民主评议中被评为不称职的票数达到一定比例的，须引起重视(红色预警) [003].
	CadreIncompetent kernel.RuleID = "cadre-incompetent"
	// Splitting a major expenditure to evade the resolution (拆分规避): several expenditures to one payee
	// within a window that together reach the major threshold while each stays below it. Watched, red.
	SplitSpending kernel.RuleID = "split-spending"
	// 年度目标考核加扣分 [002]: a street's or district's year items scored from the ledger's facts and by
	// assessors; a community frozen below the pass score at year end is an alert. Its parameters are the
	// points per fact of each measure and the score bands the rating uses.
	AnnualAssessment kernel.RuleID = "annual-assessment"
	// 居民满意度为主要考核标准 [001, 002]: a survey closed with a satisfied share below the yellow band is an
	// alert; its bands colour the rating.
	Satisfaction kernel.RuleID = "satisfaction"
)

// Parameter names.
const (
	// split-spending: the window expenditures to one payee are added up in.
	ParamWindow = "window"
	// publicity-window: by notice category.
	ParamWindowElection   = "election"
	ParamWindowFinance    = "finance"
	ParamWindowResolution = "resolution"

	ParamSeverity = "severity" // every rule has it

	ParamMinResidence = "min-residence"
	ParamMinPublicity = "min-publicity"

	ParamTurnout        = "turnout"
	ParamWinnerMajority = "winner-majority"

	ParamUrbanMin            = "urban-min"
	ParamUrbanMax            = "urban-max"
	ParamHouseholdsPerMember = "households-per-member"
	ParamUrbanTolerance      = "urban-tolerance"
	ParamRuralSmall          = "rural-small"
	ParamRuralLarge          = "rural-large"
	ParamRuralLargeFrom      = "rural-large-from"

	ParamMinShare = "min-share"

	ParamAssemblyAdults         = "assembly-adults"
	ParamAssemblyHouseholds     = "assembly-households"
	ParamRepresentativesPresent = "representatives-present"
	ParamDecision               = "decision"

	ParamThreshold = "threshold"

	ParamPerYear = "per-year"

	ParamWithin       = "within"
	ParamRedAfter     = "red-after"
	ParamAffairsEvery = "affairs-every"
	ParamFinanceEvery = "finance-every"
	ParamMajorWithin  = "major-within"

	ParamTier1Below  = "tier-1-below"
	ParamTier1Amount = "tier-1-amount"
	ParamTier2Amount = "tier-2-amount"
	ParamTier3Above  = "tier-3-above"
	ParamTier3Amount = "tier-3-amount"

	ParamEvery = "every"

	// seal-use: how many different people must approve a use.
	ParamApprovals = "approvals"
	// pay-scale: the monthly basic pay of grade 1 of each post series, the step between grades, the
	// ceiling of performance pay (percent of basic pay) and of the annual bonus (months of basic pay).
	ParamBasicHead      = "basic-head"
	ParamBasicDeputy    = "basic-deputy"
	ParamBasicStaff     = "basic-staff"
	ParamGradeStep      = "grade-step"
	ParamPerformancePct = "performance-percent"
	ParamBonusMonths    = "bonus-months"
	// pay-scale: whether each worker's salary is public, by masked name, on the payment list.
	ParamIndividualPay = "individual-pay-public"
	// cadre-incompetent: the share of a member's evaluations that are 不称职 from which it is an alert.
	ParamIncompetentShare = "incompetent-share"
	// staffing-limit: the posts (职数) a community has at least, and the households per post above that.
	ParamPosts             = "posts"
	ParamHouseholdsPerPost = "households-per-post"
	// annual-assessment: the score a year starts from, the score below which the year fails (an alert, and
	// a yellow rating) and below which the rating is red; the points of one fact of each measure; how soon
	// an alert must be cleared not to count as cleared late, and a topic closed to count as closed in time.
	ParamBase          = "base"
	ParamPassScore     = "pass-score"
	ParamRedBelow      = "red-below"
	ParamPerDisclosure = "disclosure"
	ParamPerMeeting    = "meeting"
	ParamPerAudit      = "audit"
	ParamPerTopic      = "topic"
	ParamPerOpenAlert  = "open-alert"
	ParamPerLateClear  = "late-clear"
	ParamClearWithin   = "clear-within"
	ParamTopicWithin   = "topic-within"
	// satisfaction: the satisfied share (per mille) below which a survey is an alert and the rating
	// yellow, and below which the rating is red.
	ParamYellowBelow = "yellow-below"
)

// Param is one parameter of a rule with its default value in text form.
type Param struct {
	Name    string
	Type    ParamType
	Default string
	Doc     string
}

// Rule is one row of the rulebook.
type Rule struct {
	ID     kernel.RuleID
	Kind   Kind
	Title  string // Chinese, for the clerk and the supervisor
	Source string // where the rule comes from in the seeds or the law
	// Params lists the rule's parameters, always starting with "severity".
	Params []Param
}

// Param returns the named parameter of the rule.
func (r Rule) Param(name string) (Param, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func rule(id kernel.RuleID, kind Kind, sev Severity, title, source string, params ...Param) Rule {
	all := append([]Param{{Name: ParamSeverity, Type: TypeSeverity, Default: string(sev), Doc: "alert colour when breached"}}, params...)
	return Rule{ID: id, Kind: kind, Title: title, Source: source, Params: all}
}

// Rules returns the default rulebook, a fresh copy on every call. Defaults
// for severity follow DOMAIN.md's rating paragraph: unauthorised major
// spending, invalid election certification and a missing disclosure older
// than 7 days (see ParamRedAfter) are red; everything else is yellow.
func Rules() []Rule {
	return []Rule{
		rule(CandidateResidence, Enforce, Yellow, "候选人须在本社区居住满一年", "003 第二篇 三(三)1(4)",
			Param{ParamMinResidence, TypeSpan, "1y", "minimum residence at nomination"}),
		rule(CommitteeMemberCandidacy, Enforce, Yellow, "选举委员会成员成为候选人的，应退出选举委员会", "003 第二篇 三(三)1(3)"),
		rule(CandidateListPublicity, Watch, Yellow, "候选人名单须在投票前公示不少于7天", "003 第三篇 三3(1)",
			Param{ParamMinPublicity, TypeSpan, "7d", "minimum time between publicity and the vote"}),
		rule(ElectionValidity, Enforce, Red, "选举须过半数选民参加投票，当选须获参加投票选民过半数选票", "村民委员会组织法",
			Param{ParamTurnout, TypeThreshold, ">1/2", "share of registered voters who must vote"},
			Param{ParamWinnerMajority, TypeThreshold, ">1/2", "share of ballots cast a winner needs"}),
		rule(CommitteeSize, Watch, Yellow, "居委会由5—7人组成(约500户1人)；村委会1000人以下3人、以上5人", "003 第二篇 二(二)1(1), 第三篇 三4",
			Param{ParamUrbanMin, TypeCount, "5", "residents' committee: fewest members"},
			Param{ParamUrbanMax, TypeCount, "7", "residents' committee: most members"},
			Param{ParamHouseholdsPerMember, TypeCount, "500", "residents' committee: households per member"},
			Param{ParamUrbanTolerance, TypeCount, "1", "residents' committee: members the size may fall short of households/per-member"},
			Param{ParamRuralSmall, TypeCount, "3", "village committee size below rural-large-from adults"},
			Param{ParamRuralLarge, TypeCount, "5", "village committee size from rural-large-from adults"},
			Param{ParamRuralLargeFrom, TypeCount, "1000", "adult population from which a village has the large committee"}),
		rule(FullTimeShare, Watch, Yellow, "专职居委会成员不得少于成员总数的三分之二", "003 第二篇 二(二)1(2)",
			Param{ParamMinShare, TypeThreshold, ">=2/3", "share of full-time members"}),
		rule(MeetingQuorum, Enforce, Yellow, "会议须达到法定人数，决定须经到会人员过半数通过", "村民委员会组织法、城市居民委员会组织法",
			Param{ParamAssemblyAdults, TypeThreshold, ">1/2", "assembly: share of adult residents present"},
			Param{ParamAssemblyHouseholds, TypeThreshold, ">=2/3", "assembly: share of households represented"},
			Param{ParamRepresentativesPresent, TypeThreshold, ">=2/3", "representatives' meeting: share of members present"},
			Param{ParamDecision, TypeThreshold, ">1/2", "share of those present who must vote for"}),
		rule(MajorMatterResolution, Enforce, Red, "重大开支须先经村(居)民会议或代表会议决议(四议两公开)", "003 第三篇 二2(1)",
			Param{ParamThreshold, TypeFen, "5000000", "an expenditure of at least this many fen is major (50 000 元)"}),
		rule(ResidentsMeetingFrequency, Watch, Yellow, "社区居民会议每年年初、年末至少各召开一次", "003 第二篇 三(三)2(2)",
			Param{ParamPerYear, TypeCount, "2", "assemblies per calendar year"}),
		rule(MinutesKept, Watch, Yellow, "每次会议须在48小时内留存会议记录", "003 第二篇 三(三)2(2)-(3)",
			Param{ParamWithin, TypeSpan, "48h", "time from the end of the meeting to its minutes"}),
		rule(DisclosureFrequency, Watch, Yellow, "一般事项至少每季度公开，财务每月公开，重大事项随时(24小时内)公开", "003 第二篇 三(三)2(5)；组织法",
			Param{ParamAffairsEvery, TypeSpan, "3mo", "longest gap between affairs disclosures"},
			Param{ParamFinanceEvery, TypeSpan, "1mo", "longest gap between finance disclosures"},
			Param{ParamMajorWithin, TypeSpan, "24h", "time from a resolution on a major matter to its disclosure"},
			Param{ParamRedAfter, TypeSpan, "7d", "a disclosure missing this long past its due time is red"}),
		rule(PaymentDisclosed, Watch, Yellow, "每笔已支付的支出须在24小时内上墙公开", "the mission",
			Param{ParamWithin, TypeSpan, "24h", "time from payment to disclosure"},
			Param{ParamRedAfter, TypeSpan, "7d", "a disclosure missing this long past its due time is red"}),
		rule(ResultsDisclosed, Watch, Yellow, "选举结果、审计结果须在24小时内公开", "003 第三篇 四3(3)",
			Param{ParamWithin, TypeSpan, "24h", "time from certification or audit close to disclosure"},
			Param{ParamRedAfter, TypeSpan, "7d", "a disclosure missing this long past its due time is red"}),
		rule(SealUse, Watch, Red, "印章须经两委共同研究后使用，每次使用须登记", "003 第三篇 二2(3)",
			Param{ParamApprovals, TypeCount, "2", "different approvers a use needs, among them a head of the 两委 and the supervision committee"},
			Param{ParamWithin, TypeSpan, "24h", "time from the document's date to the recording of the use (late-recording past it)"}),
		rule(OperatingFunds, Watch, Yellow, "社区工作经费：2000户以下每年4万元，2000—3000户5万元，3000户以上6万元", "003 第二篇 二(一)1(5)",
			Param{ParamTier1Below, TypeCount, "2000", "households below which tier 1 applies"},
			Param{ParamTier1Amount, TypeFen, "4000000", "tier 1 annual operating funds (40 000 元)"},
			Param{ParamTier2Amount, TypeFen, "5000000", "tier 2 annual operating funds (50 000 元)"},
			Param{ParamTier3Above, TypeCount, "3000", "households above which tier 3 applies"},
			Param{ParamTier3Amount, TypeFen, "6000000", "tier 3 annual operating funds (60 000 元)"}),
		rule(CadreAudit, Watch, Yellow, "经管站每半年对村干部进行一次审计", "003 第三篇 四3(3)",
			Param{ParamEvery, TypeSpan, "6mo", "longest gap between audits of a community's cadres"}),
		rule(BudgetBalance, Watch, Yellow, "支出不应超过预算余额", "ledger"),
		rule(PublicityWindow, Enforce, Yellow, "选举、财务、重大事项的公示期不少于7天", "003 第三篇 三3(1)；组织法",
			Param{string(ParamWindowElection), TypeSpan, "7d", "shortest publicity window of an election notice"},
			Param{string(ParamWindowFinance), TypeSpan, "7d", "shortest publicity window of a finance notice"},
			Param{string(ParamWindowResolution), TypeSpan, "7d", "shortest publicity window of a notice of resolutions (major matters)"}),
		rule(ExitAudit, Watch, Yellow, "村(居)委会成员离任(辞职、罢免、任期届满)后须进行离任审计", "003 第三篇 四3(3)",
			Param{ParamWithin, TypeSpan, "90d", "time from a member leaving the committee to the opening of the exit audit"}),
		rule(ObjectionAnswered, Watch, Yellow, "居民对公示内容或候选人名单的异议须在7天内答复；有未答复异议的选举不能确认结果", "003 第三篇 三3(1)",
			Param{ParamWithin, TypeSpan, "7d", "time from an objection to its answer"}),
		rule(SplitSpending, Watch, Red, "不得将重大开支拆分为多笔小额支出以规避决议(四议两公开)", "003 第三篇 二2(1)",
			Param{ParamWindow, TypeSpan, "30d", "window in which expenditures to one payee are added up"}),
		rule(PublicBidding, Watch, Yellow, "集体资产、资源发包租赁合同总金额达到标准的，须公开招标(竞价)", "三资管理；阳光村务",
			Param{ParamThreshold, TypeFen, "3000000", "a contract of at least this many fen awarded without public bidding is watched (30 000 元)"}),
		rule(RentCollected, Watch, Yellow, "集体资产发包租赁的租金须按合同按期收取", "三资管理",
			Param{ParamWithin, TypeSpan, "30d", "time from an installment falling due to its receipt"}),
		rule(WorkAdmission, Watch, Yellow, "未列入社区工作事项清单、未经准入的工作事项，不得转嫁给社区", "001"),
		rule(PayScale, Watch, Yellow, "社区工作者薪酬实行基本工资+绩效工资+年度奖励，基本工资按“三岗十八级”等级标准发放", "001；004",
			Param{ParamBasicHead, TypeFen, "520000", "monthly basic pay of grade 1 of the head series 社区正职 (5 200 元)"},
			Param{ParamBasicDeputy, TypeFen, "480000", "monthly basic pay of grade 1 of the deputy series 社区副职 (4 800 元)"},
			Param{ParamBasicStaff, TypeFen, "420000", "monthly basic pay of grade 1 of the staff series 社区专职工作者 (4 200 元)"},
			Param{ParamGradeStep, TypeFen, "15000", "monthly basic pay added by each grade above 1, of 18 (150 元)"},
			Param{ParamPerformancePct, TypeCount, "30", "performance pay of a quarter: at most this percent of three months' basic pay"},
			Param{ParamBonusMonths, TypeCount, "2", "annual bonus: at most this many months of basic pay"},
			Param{ParamIndividualPay, TypeSwitch, "off", "on: each salary's payment line names the worker, masked (张*); off: 社区工作者, aggregates only"}),
		rule(StaffingLimit, Watch, Yellow, "社区工作者不得超过核定职数(按服务户数核定)", "000；003 第二篇 二(二)1(1)；004",
			Param{ParamPosts, TypeCount, "7", "posts every community has, whatever its size"},
			Param{ParamHouseholdsPerPost, TypeCount, "300", "households per post: a larger community has one post per this many"}),
		rule(CadreEvaluation, Watch, Yellow, "镇(街道)每半年组织一次民主评议村(居)干部，先述职后评议", "003 第三篇 四3(2)",
			Param{ParamEvery, TypeSpan, "6mo", "longest gap between democratic evaluations of a community's cadres"}),
		rule(CadreIncompetent, Watch, Red, "民主评议中被评为不称职的票数达到一定比例的，予以预警", "003 第三篇 四3(2)",
			Param{ParamIncompetentShare, TypeThreshold, ">=1/3", "share of a member's evaluations that are 不称职 from which it is an alert"}),
		rule(RectificationDue, Watch, Yellow, "督查、审计发现的问题须在整改期限内整改并报告", "000；003 第三篇 四3(3)",
			Param{ParamRedAfter, TypeSpan, "30d", "a rectification still unreported this long past its deadline is red"}),
		rule(AnnualAssessment, Watch, Yellow, "年度目标考核加扣分：考核得分低于合格分的，予以预警", "002",
			Param{ParamBase, TypeCount, "100", "the score a community's year starts from"},
			Param{ParamPassScore, TypeCount, "80", "a frozen year below it is an alert; a score below it rates the community yellow"},
			Param{ParamRedBelow, TypeCount, "60", "a score below it rates the community red"},
			Param{ParamPerDisclosure, TypeCount, "1", "points per notice published (measure disclosures)"},
			Param{ParamPerMeeting, TypeCount, "1", "points per meeting held with its attendance recorded (measure meetings)"},
			Param{ParamPerAudit, TypeCount, "5", "points per audit concluded (measure audits)"},
			Param{ParamPerTopic, TypeCount, "2", "points per deliberation topic closed in time (measure topics-closed)"},
			Param{ParamPerOpenAlert, TypeCount, "2", "points deducted per alert of the year still open (measure open-alerts)"},
			Param{ParamPerLateClear, TypeCount, "1", "points deducted per alert of the year cleared after clear-within (measure late-clears)"},
			Param{ParamClearWithin, TypeSpan, "30d", "an alert cleared later than this after it was raised was cleared late"},
			Param{ParamTopicWithin, TypeSpan, "60d", "a deliberation topic closed (feedback closing the loop) within this of its collection was closed in time"}),
		rule(Satisfaction, Watch, Yellow, "居民满意度测评结果低于标准的，予以预警", "001；002",
			Param{ParamYellowBelow, TypeCount, "800", "a survey's satisfied share (per mille) below it is an alert and rates the community yellow"},
			Param{ParamRedBelow, TypeCount, "600", "a satisfied share (per mille) below it rates the community red"}),
		rule(LateRecording, Watch, Yellow, "事实须及时记录：补录发生时间早于记录时间72小时以上的，须说明", "ledger",
			Param{ParamWithin, TypeSpan, "72h", "time from when a fact happened to its recording"}),
	}
}

// ruleByID finds a default rule.
func ruleByID(id kernel.RuleID) (Rule, bool) {
	for _, r := range Rules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Lookup returns the default rule id, if the rulebook has it.
func Lookup(id kernel.RuleID) (Rule, bool) { return ruleByID(id) }
