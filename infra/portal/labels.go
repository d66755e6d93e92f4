package portal

import (
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// cst is China Standard Time: every time the public sees is shown in it (北京时间).
var cst = kernel.ChinaTime()

// Yuan formats an amount of fen as yuan with thousands separators: 123456 → "¥1,234.56".
func Yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	s := "¥" + groupThousands(fen/100) + "." + twoDigits(fen%100)
	if neg {
		return "-" + s
	}
	return s
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// ChinaTime formats an instant in Asia/Shanghai to the minute ("2026-11-22 21:05"); "" for zero.
func ChinaTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cst).Format("2006-01-02 15:04")
}

// ChinaDate formats an instant's day in Asia/Shanghai ("2026-11-22"); "" for zero.
func ChinaDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(cst).Format("2006-01-02")
}

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	if k == "" {
		return "—"
	}
	return k
}

var (
	noticeCategories = map[string]string{"finance": "财务公开", "affairs": "事务公开", "election": "选举公开",
		"resolution": "决议公开", "audit": "审计公开", "party": "党务公开"}
	noticeStatuses = map[string]string{"published": "已发布", "corrected": "已更正", "withdrawn": "已撤回"}
	fundCategories = map[string]string{"operating": "工作运行经费", "startup": "建设启动经费",
		"party-building": "党组织建设专项经费", "project": "项目资金", "salaries": "社区工作者薪酬", "other": "其他"}
	fundSources = map[string]string{"central-project": "中央项目资金", "county-finance": "县(区)财政",
		"department": "部门资金", "asset-swap": "资产置换", "street-finance": "街道/镇财政", "self-raised": "自筹",
		"other": "其他来源", "": "未指明来源"}
	expenditureKinds = map[string]string{"salary": "工资", "allowance": "补贴", "other": "其他支出"}
	meetingKinds     = map[string]string{"assembly": "居民(村民)会议", "representatives": "代表会议",
		"joint": "两委联席会议", "deliberation": "议事协商会", "hearing": "听证会", "evaluation": "民主评议"}
	meetingBases = map[string]string{"adults": "成年居民", "households": "户代表", "members": "成员", "invitees": "受邀人员"}
	outcomes     = map[string]string{"passed": "通过", "failed": "未通过"}
	subjects     = map[string]string{"major-spending": "重大开支", "asset-disposal": "固定资产处置",
		"homestead-allocation": "宅基地划分", "large-contract": "数额较大经济合同", "other": "其他事项"}
	channels = map[string]string{"home-visit": "入户走访", "hotline": "热线电话", "wechat": "微信公众号",
		"qr-code": "码上协商", "forum": "座谈会", "portal": "居民网上提出", "other": "其他渠道"}
	topicStatuses    = map[string]string{"open": "进行中", "rejected": "未列入议事", "closed": "已办结"}
	electionPhases   = map[string]string{"nominating": "提名中", "publicized": "候选人名单公示", "voted": "已投票", "certified": "结果已确认"}
	candidateStatues = map[string]string{"nominated": "候选人", "withdrawn": "已退出", "elected": "当选", "not-elected": "未当选"}
	roles            = map[string]string{"chair": "主任", "vice-chair": "副主任", "member": "委员"}
	memberChanges    = map[string]string{"recalled": "罢免", "by-elected": "补选", "resigned": "辞职"}
	communityKinds   = map[string]string{"urban": "社区", "rural": "村"}
	ratingLabels     = map[string]string{"green": "绿色", "yellow": "黄色", "red": "红色"}
	severityLabels   = map[string]string{"red": "红色预警", "yellow": "黄色预警"}
	levelNames       = map[int]string{1: "省", 2: "市", 3: "区/县", 4: "街道/镇", 5: "社区/村", 6: "网格", 7: "楼栋"}
)

// eventTypes names every event type of the ledger in Chinese, for the public event page.
var eventTypes = map[string]string{
	"audit.closed": "审计结束", "audit.finding-recorded": "记录审计发现", "audit.opened": "开始审计",
	"community.committee-seated": "委员会就职", "community.figures-updated": "更新户数与人口",
	"community.jurisdiction-registered": "登记辖区", "community.member-joined": "委员加入",
	"community.member-left": "委员离任", "community.registered": "登记社区/村",
	"disclosure.corrected": "公开内容更正", "disclosure.objection-answered": "答复公示异议",
	"disclosure.objection-raised": "收到公示异议", "disclosure.published": "发布公开",
	"disclosure.withdrawn":               "撤回公开",
	"election.candidate-list-publicized": "候选人名单公示", "election.candidate-nominated": "提名候选人",
	"election.candidate-withdrawn": "候选人退出", "election.committee-formed": "成立选举委员会",
	"election.committee-member-added": "选举委员会递补", "election.committee-member-left": "退出选举委员会",
	"election.member-by-elected": "补选", "election.member-recalled": "罢免", "election.member-resigned": "辞职",
	"election.objection-answered": "答复选举异议", "election.objection-raised": "收到选举异议",
	"election.result-certified": "确认选举结果", "election.voting-held": "投票选举",
	"funds.budget-allocated": "拨款", "funds.expenditure-approved": "审批支出", "funds.expenditure-cancelled": "撤销支出",
	"funds.expenditure-paid": "支付", "funds.expenditure-rejected": "驳回支出", "funds.expenditure-requested": "支出申请",
	"meeting.attendance-recorded": "记录到会人数", "meeting.closed": "散会", "meeting.convened": "召开会议",
	"meeting.minutes-recorded": "记录会议纪要", "meeting.motion-tabled": "提出议案", "meeting.resolution-adopted": "通过决议",
	"meeting.topic-collected": "征集议题", "meeting.topic-deliberation-held": "组织协商",
	"meeting.topic-feedback-recorded": "落实反馈", "meeting.topic-notice-given": "告知协商事宜",
	"meeting.topic-plan-drafted": "拟定议事方案", "meeting.topic-result-disclosed": "协商结果公开",
	"meeting.topic-screened": "筛选议题", "meeting.vote-recorded": "表决", "meeting.vote-corrected": "更正表决",
	"rulebook.override-removed": "撤销规则覆盖", "rulebook.override-set": "规则覆盖",
	"supervision.alert-cleared": "解除预警", "supervision.alert-raised": "发出预警",
}

// ruleTitles are the rulebook's rules by id, for alerts.
var ruleTitles = func() map[string]string {
	m := map[string]string{}
	for _, r := range rulebook.Rules() {
		m[string(r.ID)] = r.Title
	}
	return m
}()
