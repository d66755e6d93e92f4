package disclosure

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Notice is one notice on the public board. The zero value is a notice not
// yet published.
type Notice struct {
	id         string
	version    int
	window     Window
	withdrawn  bool
	refs       []Ref // the facts it disclosed
	category   Category
	objections map[string]bool // answered?
}

// Stream is the stream of one notice of the public board, disclosure-<communityID>-<noticeID>.
func Stream(c kernel.CommunityID, noticeID string) string {
	return eventlog.StreamName("disclosure", string(c), noticeID)
}

// Rehydrate rebuilds a notice from its history.
func Rehydrate(history []kernel.Event) *Notice { return kernel.Rehydrate(&Notice{}, history) }

// Apply changes state only.
func (n *Notice) Apply(e kernel.Event) {
	if n.objections == nil {
		n.objections = map[string]bool{}
	}
	switch e := e.(type) {
	case Published:
		n.id, n.version, n.window, n.refs, n.category = e.NoticeID, 1, e.Window, e.Refs, e.Category
	case Corrected:
		n.version = e.Version
		if e.Window != nil {
			n.window = *e.Window
		}
	case Withdrawn:
		n.withdrawn = true
	case ObjectionRaised:
		n.objections[e.ObjectionID] = false
	case ObjectionAnswered:
		n.objections[e.ObjectionID] = true
	}
}

// Exists reports whether the notice was published.
func (n *Notice) Exists() bool { return n.id != "" }

// Version returns the current version (1 when published, +1 per correction).
func (n *Notice) Version() int { return n.version }

// Errors of the public board.
var (
	ErrNoticeNotFound    = kernel.NotFound("notice-not-found", "该公开事项不存在")
	ErrNoticeExists      = kernel.Conflict("notice-already-published", "该公开事项已发布")
	ErrNoticeWithdrawn   = kernel.Rejected("notice-withdrawn", "该公开事项已撤回")
	ErrOutsideWindow     = kernel.Rejected("outside-publicity-window", "不在公示期内，不能提出异议")
	ErrObjectionNotFound = kernel.ErrObjectionNotFound
	ErrObjectionExists   = kernel.Conflict("objection-already-raised", "这条异议已登记")
	ErrObjectionAnswered = kernel.ErrObjectionAnswered
	ErrWindowInvalid     = kernel.Invalid("invalid-publicity-window", "window.end", "公示期结束时间须晚于开始时间和当前时间")
	ErrPeriodInvalid     = kernel.Invalid("invalid-period", "period.to", "公开所属期间的结束不能早于开始")
)

// Publish is the command to publish a notice.
type Publish struct {
	NoticeID    string
	Category    Category
	Period      Period
	Title       string
	Text        string
	Attachments []Attachment
	Window      Window
	Refs        []Ref
	// PreviousInCategory is when the community last published a notice of
	// this category, looked up by the handler; nil if never or unknown.
	PreviousInCategory *time.Time
}

// checkContent checks what a version of a notice says: a title, a text and well-formed attachments.
func checkContent(title, text string, attachments []Attachment) error {
	if err := kernel.Required(title, "title", "标题"); err != nil {
		return err
	}
	if err := kernel.Required(text, "text", "公开内容"); err != nil {
		return err
	}
	return checkAttachments(attachments)
}

func checkAttachments(as []Attachment) error {
	for i, a := range as {
		field := fmt.Sprintf("attachments[%d]", i)
		if err := kernel.Required(a.Name, field+".name", "附件名称"); err != nil {
			return err
		}
		if err := kernel.CheckSHA256(a.SHA256, field+".sha256"); err != nil {
			return err
		}
	}
	return nil
}

// ErrWindowTooShort (enforces publicity-window): the notice would come down before the category's
// shortest publicity window.
var ErrWindowTooShort = kernel.Rejected("publicity-window-too-short", "公示期短于规定的最短期限")

// checkPublicityWindow enforces publicity-window: election, finance and resolution notices stay up at
// least the rulebook's span (7 days by default).
func checkPublicityWindow(c Category, w Window, p rulebook.Params) error {
	var param string
	switch c {
	case Election:
		param = rulebook.ParamWindowElection
	case Finance:
		param = rulebook.ParamWindowFinance
	case Resolution:
		param = rulebook.ParamWindowResolution
	default:
		return nil
	}
	least := p.Span(rulebook.PublicityWindow, param)
	if least.After(w.Start).After(w.End) {
		return ErrWindowTooShort.WithField("window.end").WithMsg("%s类公示的公示期不少于%s：%s至%s不够",
			c, least.Chinese(), w.Start.In(kernel.ChinaTime()).Format("2006-01-02 15:04"), w.End.In(kernel.ChinaTime()).Format("2006-01-02 15:04"))
	}
	return nil
}

func checkWindow(w Window, now time.Time) error {
	if w.Start.IsZero() {
		return kernel.Invalid("required", "window.start", "公示期开始时间不能为空")
	}
	if !w.End.After(w.Start) || !w.End.After(now) {
		return ErrWindowInvalid
	}
	return nil
}

// Publish records a notice, at now. Watches, for each fact it discloses:
// payment-disclosed (payments), results-disclosed (election and audit
// results), disclosure-frequency's "major matters immediately"
// (resolutions); and disclosure-frequency's regular rhythm for finance
// (monthly) and affairs (quarterly) notices, from PreviousInCategory.
func (n *Notice) Publish(cmd Publish, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if n.Exists() {
		return nil, ErrNoticeExists
	}
	now = now.UTC()
	if err := kernel.Required(cmd.NoticeID, "notice_id", "公开事项编号"); err != nil {
		return nil, err
	}
	if !cmd.Category.Valid() {
		return nil, kernel.Invalid("invalid-category", "category", "公开类别须为 finance、affairs、election、resolution、audit 或 party")
	}
	if cmd.Period.From.IsZero() {
		return nil, kernel.Invalid("required", "period.from", "公开所属期间不能为空")
	}
	if cmd.Period.To.Before(cmd.Period.From) {
		return nil, ErrPeriodInvalid
	}
	if err := checkContent(cmd.Title, cmd.Text, cmd.Attachments); err != nil {
		return nil, err
	}
	if err := checkWindow(cmd.Window, now); err != nil {
		return nil, err
	}
	if err := checkPublicityWindow(cmd.Category, cmd.Window, p); err != nil {
		return nil, err
	}
	var breaches []kernel.Breach
	for i, r := range cmd.Refs {
		field := fmt.Sprintf("refs[%d]", i)
		if !r.Kind.Valid() {
			return nil, kernel.Invalid("invalid-ref-kind", field+".kind", "公开依据类型不正确")
		}
		if err := kernel.Required(r.ID, field+".id", "公开依据编号"); err != nil {
			return nil, err
		}
		if r.OccurredAt.IsZero() || r.OccurredAt.After(now) {
			return nil, kernel.Invalid("invalid-occurred-at", field+".occurred_at", "公开依据的发生时间不能为空或晚于当前时间")
		}
		if b := lateRef(r, p, now); b != nil {
			breaches = append(breaches, *b)
		}
	}
	if b := lateCategory(cmd.Category, cmd.PreviousInCategory, p, now); b != nil {
		breaches = append(breaches, *b)
	}
	e := Published{
		NoticeID: cmd.NoticeID, Category: cmd.Category,
		Period: Period{From: cmd.Period.From.UTC(), To: cmd.Period.To.UTC()},
		Title:  cmd.Title, Text: cmd.Text, Attachments: normAttachments(cmd.Attachments),
		Window:      Window{Start: cmd.Window.Start.UTC(), End: cmd.Window.End.UTC()},
		Refs:        normRefs(cmd.Refs),
		PublishedAt: now,
	}
	e.Breaches = breaches
	return []kernel.Event{e}, nil
}

func normRefs(rs []Ref) []Ref {
	if len(rs) == 0 {
		return nil
	}
	out := make([]Ref, len(rs))
	for i, r := range rs {
		out[i] = Ref{Kind: r.Kind, ID: r.ID, OccurredAt: r.OccurredAt.UTC()}
	}
	return out
}

func refName(k RefKind) string {
	switch k {
	case RefPayment:
		return "支付"
	case RefElection:
		return "选举结果"
	case RefAudit:
		return "审计结果"
	case RefResolution:
		return "重大事项决议"
	}
	return string(k)
}

func normAttachments(as []Attachment) []Attachment {
	if len(as) == 0 {
		return nil
	}
	return append([]Attachment(nil), as...)
}

// lateRef returns a breach when the disclosed fact was disclosed late.
func lateRef(r Ref, p rulebook.Params, now time.Time) *kernel.Breach {
	var rule kernel.RuleID
	switch r.Kind {
	case RefPayment:
		rule = rulebook.PaymentDisclosed
	case RefElection, RefAudit:
		rule = rulebook.ResultsDisclosed
	case RefResolution:
		rule = rulebook.DisclosureFrequency
	default:
		return nil
	}
	due := p.Due(rule, r.OccurredAt)
	if !now.After(due) {
		return nil
	}
	return &kernel.Breach{Rule: rule, Detail: fmt.Sprintf("%s%s发生于%s，应于%s前公开，实际%s公开",
		refName(r.Kind), r.ID, r.OccurredAt.Format(time.RFC3339), due.Format(time.RFC3339), now.Format(time.RFC3339))}
}

// lateCategory returns a disclosure-frequency breach when a finance or
// affairs notice came later than the regular rhythm after the previous one.
func lateCategory(c Category, prev *time.Time, p rulebook.Params, now time.Time) *kernel.Breach {
	if prev == nil {
		return nil
	}
	due, ok := NextDue(c, *prev, p)
	if !ok || !now.After(due) {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.DisclosureFrequency, Detail: fmt.Sprintf(
		"上次%s公开于%s，应于%s前再次公开，实际%s公开", c, prev.UTC().Format(time.RFC3339), due.Format(time.RFC3339), now.Format(time.RFC3339))}
}

// NextDue returns when the next notice of a category is due after one
// published at prev: finance monthly, affairs quarterly by default; other
// categories follow the facts they disclose and have no rhythm (false). The
// alert engine uses it for its deadlines.
func NextDue(c Category, prev time.Time, p rulebook.Params) (time.Time, bool) {
	switch c {
	case Finance:
		return p.Span(rulebook.DisclosureFrequency, rulebook.ParamFinanceEvery).After(prev), true
	case Affairs:
		return p.Span(rulebook.DisclosureFrequency, rulebook.ParamAffairsEvery).After(prev), true
	}
	return time.Time{}, false
}

// Correct is the command to publish a new version of a notice.
type Correct struct {
	Title       string
	Text        string
	Attachments []Attachment
	Window      *Window // nil: keep the window
	Reason      string
}

// Correct records a new version.
func (n *Notice) Correct(cmd Correct, now time.Time) ([]kernel.Event, error) {
	if !n.Exists() {
		return nil, ErrNoticeNotFound
	}
	if n.withdrawn {
		return nil, ErrNoticeWithdrawn
	}
	now = now.UTC()
	if err := checkContent(cmd.Title, cmd.Text, cmd.Attachments); err != nil {
		return nil, err
	}
	var w *Window
	if cmd.Window != nil {
		if err := checkWindow(*cmd.Window, now); err != nil {
			return nil, err
		}
		w = &Window{Start: cmd.Window.Start.UTC(), End: cmd.Window.End.UTC()}
	}
	if err := kernel.Required(cmd.Reason, "reason", "更正理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{Corrected{
		NoticeID: n.id, Version: n.version + 1, Title: cmd.Title, Text: cmd.Text,
		Attachments: normAttachments(cmd.Attachments), Window: w, Reason: cmd.Reason, CorrectedAt: now,
	}}, nil
}

// Withdraw takes the notice off the board; a reason is required.
func (n *Notice) Withdraw(reason string, now time.Time) ([]kernel.Event, error) {
	if !n.Exists() {
		return nil, ErrNoticeNotFound
	}
	if n.withdrawn {
		return nil, ErrNoticeWithdrawn
	}
	if err := kernel.Required(reason, "reason", "撤回理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{Withdrawn{NoticeID: n.id, Reason: reason, Category: n.category, Refs: n.refs, WithdrawnAt: now.UTC()}}, nil
}

// RaiseObjection records a resident's objection; only during the window.
func (n *Notice) RaiseObjection(id, text string, objector kernel.PersonalData, now time.Time) ([]kernel.Event, error) {
	if !n.Exists() {
		return nil, ErrNoticeNotFound
	}
	if n.withdrawn {
		return nil, ErrNoticeWithdrawn
	}
	if err := kernel.Required(id, "objection_id", "异议编号"); err != nil {
		return nil, err
	}
	if _, ok := n.objections[id]; ok {
		return nil, ErrObjectionExists
	}
	if !n.window.Contains(now) {
		return nil, ErrOutsideWindow
	}
	if err := kernel.Required(text, "text", "异议内容"); err != nil {
		return nil, err
	}
	if err := kernel.Required(string(objector.Subject), "personal.subject", "异议人"); err != nil {
		return nil, err
	}
	return []kernel.Event{ObjectionRaised{NoticeID: n.id, ObjectionID: id, Text: text, Objector: objector, RaisedAt: now.UTC()}}, nil
}

// AnswerObjection records the answer to an objection (also after the window
// or a withdrawal: every objection deserves its answer).
func (n *Notice) AnswerObjection(id, answer string, now time.Time) ([]kernel.Event, error) {
	if !n.Exists() {
		return nil, ErrNoticeNotFound
	}
	if err := kernel.CheckAnswer(n.objections, id, answer); err != nil {
		return nil, err
	}
	return []kernel.Event{ObjectionAnswered{NoticeID: n.id, ObjectionID: id, Answer: answer, AnsweredAt: now.UTC()}}, nil
}
