package portal

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
)

// EventReader reads events of one stream from the store of record (infra/eventstore.Store).
type EventReader interface {
	ReadStream(ctx context.Context, stream string, from uint64, count int, backwards bool) ([]eventlog.Recorded, error)
}

// eventContent is the public content of the event e names, read from the store: nil and a note when the
// store cannot be read now (the page is built again with the next change of the freshness line).
func (p *Portal) eventContent(ctx context.Context, e audittrail.Entry) ([]Field, string) {
	if p.cfg.Events == nil {
		return nil, ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	recs, err := p.cfg.Events.ReadStream(ctx, e.Stream, e.Revision, 1, false)
	if err != nil || len(recs) != 1 || recs[0].ID != e.EventID {
		if err != nil {
			p.log.WarnContext(ctx, "portal: cannot read an event's content from the store", "stream", e.Stream, "revision", e.Revision, "error", err.Error())
		}
		return nil, "事件内容暂时无法读取，请稍后刷新。"
	}
	return contentFields(audittrail.PublicContent(e.Type, recs[0].Data)), ""
}

// Field is one public fact of an event's payload, in Chinese: what it is and its value.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// fieldLabels are the payloads' field names in Chinese (a name not here is shown as written).
var fieldLabels = map[string]string{
	"reason": "理由", "election_id": "选举编号", "meeting_id": "会议编号", "expenditure_id": "支出编号", "topic_id": "议题编号",
	"person": "人员编号", "text": "内容", "community_id": "社区/村编码", "subject": "事项", "notice_id": "公开事项编号", "kind": "类型",
	"category": "类别", "by": "经办", "amount_fen": "金额", "title": "标题", "source": "来源", "resolution_id": "决议编号",
	"registered_voters": "登记选民", "recorded_at": "记录时间", "objection_id": "异议编号", "name": "名称", "fiscal_year": "年度",
	"ballots_cast": "投票人数", "rule": "规则", "role": "职务", "raised_at": "提出时间", "motion_id": "议案编号", "jurisdiction": "辖区",
	"held_at": "举行时间", "detail": "说明", "candidate": "候选人", "withdrawn_at": "撤回时间", "window": "公示期", "votes": "得票",
	"term": "届次", "resolution": "决议", "registered_at": "登记时间", "public_name": "公示姓名", "project": "项目", "present": "到会人数",
	"payee": "收款方", "outcome": "结果", "members": "成员", "member": "成员", "meeting_kind": "会议类型", "left_at": "离任时间",
	"households": "户数", "full_time": "专职", "ceiling_fen": "授权上限", "attachments": "附件", "answered_at": "答复时间", "answer": "答复",
	"adults": "成年人口", "adopted_at": "通过时间", "winners": "当选人", "winner": "当选人", "was_approved": "经过审批",
	"voucher_no": "凭证号", "votes_for": "赞成票", "version": "版本", "tally": "计票", "tabled_at": "提出时间", "summary": "内容摘要",
	"start": "开始", "end": "结束", "sha256": "SHA-256", "sha": "SHA-256", "seats": "席位", "seated_at": "就职时间", "resigned_at": "辞职时间",
	"requested_at": "申请时间", "recalled_at": "罢免时间", "purpose": "用途", "published_at": "发布时间", "publicized_at": "公示时间",
	"plan": "方案", "period": "所属期间", "paid_at": "支付时间", "organisation": "单位", "occurred_at": "发生时间", "notice": "公开事项",
	"note": "备注", "masked_name": "姓名（已遮盖）", "level": "级别", "joined_at": "加入时间", "given_at": "告知时间", "from": "自",
	"to": "至", "formed_at": "成立时间", "feedback": "反馈", "due_at": "期限", "drafted_at": "拟定时间", "document_sha256": "文件 SHA-256",
	"disclosure_id": "公开事项编号", "disclosed_at": "公开时间", "deliberation_at": "协商时间", "count": "数量", "corrected_at": "更正时间",
	"concerning": "涉及候选人", "committed_at": "记账时间", "collected_at": "征集时间", "closed_at": "结束时间", "closed": "已结束",
	"cleared_at": "解除时间", "channel": "征集渠道", "certified_at": "确认时间", "candidates": "候选人", "cancelled_at": "撤销时间",
	"breaches": "违反规则", "basis": "依据", "approved_at": "审批时间", "allocation_id": "拨款编号", "allocated_at": "拨款时间",
	"against": "反对票", "abstain": "弃权票", "accepted": "是否采纳", "screened_at": "筛选时间", "seats_count": "席位数",
	"residence_since": "居住起始", "severity": "级别", "trigger": "触发", "alert_id": "预警编号", "erased": "已依法删除",
	"legal_basis": "法律依据", "request": "申请编号", "path": "辖区路径", "code": "编码", "stream": "记录流", "position": "位置",
}

// valueLabels are the enumerations of the payloads in Chinese, by the field that holds them.
var valueLabels = map[string][]map[string]string{
	"category":     {fundCategories, noticeCategories},
	"kind":         {{"individual": "个人", "organisation": "单位"}, expenditureKinds, meetingKinds, communityKinds},
	"meeting_kind": {meetingKinds},
	"role":         {roles},
	"source":       {fundSources, {"elected": "换届选举", "by-elected": "补选", "appointed": "任命/聘用"}},
	"channel":      {channels},
	"outcome":      {outcomes},
	"subject":      {subjects},
	"severity":     {severityLabels},
	"status":       {noticeStatuses, topicStatuses, candidateStatues},
}

// contentFields renders an event's public content (audittrail.PublicContent's JSON) as Chinese facts, in
// a stable order: amounts in yuan, times in Asia/Shanghai, yes/no in Chinese, nested facts by their path.
func contentFields(content []byte) []Field {
	if len(content) == 0 {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(content)))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	var out []Field
	addFields(&out, "", v)
	return out
}

func addFields(out *[]Field, prefix string, v map[string]any) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		label := fieldLabels[k]
		if label == "" {
			label = k
		}
		if prefix != "" {
			label = prefix + "·" + label
		}
		addValue(out, label, k, v[k])
	}
}

func addValue(out *[]Field, label, key string, x any) {
	switch x := x.(type) {
	case map[string]any:
		addFields(out, label, x)
	case []any:
		for i, e := range x {
			addValue(out, label+"（"+strconv.Itoa(i+1)+"）", key, e)
		}
	case nil:
	default:
		if s := scalar(key, x); s != "" {
			*out = append(*out, Field{Label: label, Value: Redact(s)})
		}
	}
}

// scalar formats one value: fen as yuan, RFC 3339 times in Asia/Shanghai, booleans as 是/否.
func scalar(key string, x any) string {
	switch x := x.(type) {
	case bool:
		if x {
			return "是"
		}
		return "否"
	case json.Number:
		if strings.HasSuffix(key, "_fen") {
			if n, err := x.Int64(); err == nil {
				return Yuan(n)
			}
		}
		return x.String()
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) >= 20 {
			if t.IsZero() {
				return ""
			}
			return ChinaTime(t)
		}
		for _, m := range valueLabels[key] {
			if l, ok := m[x]; ok {
				return l
			}
		}
		return x
	}
	return ""
}
