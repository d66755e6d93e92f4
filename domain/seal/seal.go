package seal

import (
	"fmt"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Seal is one seal of the register. The zero value is a seal not yet registered.
type Seal struct {
	id        string
	custodian kernel.PersonID
	uses      map[string]*use
}

// use is one use of the seal: requested (or recorded without a request), its approvals, whether used.
type use struct {
	requested  bool
	document   Document
	resolution *Resolution
	approvers  map[kernel.PersonID]Role
	used       bool
}

// Rehydrate rebuilds a seal from its history.
func Rehydrate(history []kernel.Event) *Seal { return kernel.Rehydrate(&Seal{}, history) }

// Apply changes state only.
func (s *Seal) Apply(e kernel.Event) {
	if s.uses == nil {
		s.uses = map[string]*use{}
	}
	at := func(id string) *use {
		u := s.uses[id]
		if u == nil {
			u = &use{approvers: map[kernel.PersonID]Role{}}
			s.uses[id] = u
		}
		return u
	}
	switch e := e.(type) {
	case Registered:
		s.id, s.custodian = e.SealID, e.Custodian
	case CustodianChanged:
		s.custodian = e.Custodian
	case UseRequested:
		u := at(e.UseID)
		u.requested, u.document, u.resolution = true, e.Document, e.Resolution
	case UseApproved:
		at(e.UseID).approvers[e.Approver] = e.Role
	case Used:
		at(e.UseID).used = true
	}
}

// Exists reports whether the seal was registered.
func (s *Seal) Exists() bool { return s.id != "" }

// Errors of the seal register.
var (
	ErrSealNotFound    = kernel.NotFound("seal-not-found", "该印章尚未登记")
	ErrSealExists      = kernel.Conflict("seal-already-registered", "该印章已登记")
	ErrSameCustodian   = kernel.Invalid("same-custodian", "custodian", "新保管人与现保管人相同")
	ErrUseNotFound     = kernel.NotFound("seal-use-not-found", "没有这项用印申请")
	ErrUseExists       = kernel.Conflict("seal-use-already-requested", "这项用印已申请或已登记")
	ErrAlreadyUsed     = kernel.Rejected("seal-already-used", "这项用印已登记使用，不能再审批")
	ErrAlreadyApproved = kernel.Conflict("seal-use-already-approved", "此人已审批过这项用印")
	ErrUsedTwice       = kernel.Conflict("seal-use-already-recorded", "这项用印已登记")
	// ErrContractNeedsResolution (enforces major-matter-resolution): a contract at or above the major-matter
	// threshold may be sealed only after a residents' (representatives') meeting resolved it.
	ErrContractNeedsResolution = kernel.Rejected("major-contract-needs-resolution", "合同金额达到重大事项标准，须先经村(居)民会议或代表会议决议后才能用印")
)

// Register is the command to put a seal on the register.
type Register struct {
	SealID        string
	Kind          Kind
	Name          string
	Custodian     kernel.PersonID
	CustodianName string
}

// Register puts the seal on the register at now.
func (s *Seal) Register(cmd Register, now time.Time) ([]kernel.Event, error) {
	if s.Exists() {
		return nil, ErrSealExists
	}
	if err := kernel.Required(cmd.SealID, "seal_id", "印章编号"); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-seal-kind", "kind", "印章类别须为 committee、party、finance 或 supervision")
	}
	if err := kernel.Required(cmd.Name, "name", "印章名称"); err != nil {
		return nil, err
	}
	if err := custodian(cmd.Custodian, cmd.CustodianName); err != nil {
		return nil, err
	}
	return []kernel.Event{Registered{SealID: cmd.SealID, Kind: cmd.Kind, Name: cmd.Name, Custodian: cmd.Custodian,
		CustodianName: cmd.CustodianName, RegisteredAt: now.UTC()}}, nil
}

func custodian(id kernel.PersonID, name string) error {
	if err := kernel.Required(string(id), "custodian", "保管人"); err != nil {
		return err
	}
	return kernel.Required(name, "custodian_name", "保管人姓名")
}

// ChangeCustodian hands the seal to another custodian at now.
func (s *Seal) ChangeCustodian(to kernel.PersonID, name, reason string, now time.Time) ([]kernel.Event, error) {
	if !s.Exists() {
		return nil, ErrSealNotFound
	}
	if err := custodian(to, name); err != nil {
		return nil, err
	}
	if to == s.custodian {
		return nil, ErrSameCustodian
	}
	if err := kernel.Required(reason, "reason", "交接原因"); err != nil {
		return nil, err
	}
	return []kernel.Event{CustodianChanged{SealID: s.id, Custodian: to, CustodianName: name, Reason: reason, ChangedAt: now.UTC()}}, nil
}

// checkDocument checks what a use is on, and that a large contract comes after the resolution that
// authorises it (enforces major-matter-resolution).
func checkDocument(d Document, r *Resolution, p rulebook.Params) error {
	if err := kernel.Required(d.Title, "document.title", "文件名称"); err != nil {
		return err
	}
	if d.Date.IsZero() {
		return kernel.Invalid("required", "document.date", "请填写文件日期")
	}
	if err := kernel.Required(d.Purpose, "document.purpose", "用印事由"); err != nil {
		return err
	}
	if err := kernel.Required(d.Counterparty, "document.counterparty", "对方单位"); err != nil {
		return err
	}
	if err := kernel.CheckAmount(d.Amount, "document.amount_fen", true); err != nil {
		return err
	}
	if !p.IsMajor(d.Amount) {
		return nil
	}
	if r == nil {
		return ErrContractNeedsResolution.WithMsg("合同金额%s达到重大事项标准(%s)，须先经村(居)民会议或代表会议决议后才能用印", d.Amount, p.MajorThreshold())
	}
	return r.Problem(d.Date)
}

func clean(d Document) Document {
	d.Date = d.Date.UTC()
	return d
}

// RequestUse is the command to request a use of the seal. Resolution is the resolution the handler read
// when the request names one.
type RequestUse struct {
	UseID      string
	Document   Document
	Resolution *Resolution
}

// RequestUse records the request at now.
func (s *Seal) RequestUse(cmd RequestUse, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !s.Exists() {
		return nil, ErrSealNotFound
	}
	if err := kernel.Required(cmd.UseID, "use_id", "用印编号"); err != nil {
		return nil, err
	}
	if _, ok := s.uses[cmd.UseID]; ok {
		return nil, ErrUseExists
	}
	if err := checkDocument(cmd.Document, cmd.Resolution, p); err != nil {
		return nil, err
	}
	return []kernel.Event{UseRequested{SealID: s.id, UseID: cmd.UseID, Document: clean(cmd.Document), Resolution: cmd.Resolution,
		RequestedAt: now.UTC()}}, nil
}

// ApproveUse records approver's approval of a requested use, in capacity role, at now.
func (s *Seal) ApproveUse(useID string, approver kernel.PersonID, name string, role Role, now time.Time) ([]kernel.Event, error) {
	if !s.Exists() {
		return nil, ErrSealNotFound
	}
	u := s.uses[useID]
	if u == nil || !u.requested {
		return nil, ErrUseNotFound.WithField("use_id")
	}
	if u.used {
		return nil, ErrAlreadyUsed
	}
	if err := kernel.Required(string(approver), "approver", "审批人"); err != nil {
		return nil, err
	}
	if err := kernel.Required(name, "approver_name", "审批人姓名"); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, kernel.Invalid("invalid-approver-role", "role", "审批身份须为 committee-head、party-secretary 或 supervision")
	}
	if _, ok := u.approvers[approver]; ok {
		return nil, ErrAlreadyApproved
	}
	return []kernel.Event{UseApproved{SealID: s.id, UseID: useID, Approver: approver, ApproverName: name, Role: role, ApprovedAt: now.UTC()}}, nil
}

// RecordUse is the command to record a use of the seal. A use requested before takes its document from
// the request (Document and Resolution are then ignored); a use never requested must carry them.
type RecordUse struct {
	UseID          string
	Document       Document
	Resolution     *Resolution
	DocumentSHA256 string
}

// RecordUse records the seal put on the document, at now. A large contract without its resolution is
// refused (major-matter-resolution); a use without the joint approval (seal-use) or recorded more than the
// rule's `within` after the document's date (late-recording) is recorded with the breach.
func (s *Seal) RecordUse(cmd RecordUse, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !s.Exists() {
		return nil, ErrSealNotFound
	}
	if err := kernel.Required(cmd.UseID, "use_id", "用印编号"); err != nil {
		return nil, err
	}
	u := s.uses[cmd.UseID]
	if u != nil && u.used {
		return nil, ErrUsedTwice
	}
	doc, res := cmd.Document, cmd.Resolution
	if u != nil && u.requested {
		doc, res = u.document, u.resolution
	} else if err := checkDocument(doc, res, p); err != nil {
		return nil, err
	}
	if err := kernel.CheckSHA256(cmd.DocumentSHA256, "document_sha256"); err != nil {
		return nil, err
	}
	e := Used{SealID: s.id, UseID: cmd.UseID, Document: clean(doc), Resolution: res, DocumentSHA256: cmd.DocumentSHA256, UsedAt: now.UTC()}
	var approvers map[kernel.PersonID]Role
	if u != nil {
		approvers = u.approvers
	}
	missing := MissingApproval(approvers, p)
	e.Approved = missing == ""
	var unapproved *kernel.Breach
	if !e.Approved {
		unapproved = &kernel.Breach{Rule: rulebook.SealUse, Detail: fmt.Sprintf("印章于%s用于《%s》(%s)，未经审批：%s",
			stamp(now), doc.Title, doc.Counterparty, missing)}
	}
	e.Breaches = kernel.Breaches(unapproved, lateUse(doc, now, p))
	return []kernel.Event{e}, nil
}

// MissingApproval says what the joint approval of a use still lacks ("" when complete): at least the
// rule's `approvals` different approvers, among them a head of the 两委 (the committee head or the party
// secretary) and the supervision committee.
func MissingApproval(approvers map[kernel.PersonID]Role, p rulebook.Params) string {
	var head, supervision bool
	for _, r := range approvers {
		head = head || r == CommitteeHead || r == PartySecretary
		supervision = supervision || r == Supervision
	}
	var lacks []string
	if !head {
		lacks = append(lacks, "缺两委负责人审批")
	}
	if !supervision {
		lacks = append(lacks, "缺监督委员会审批")
	}
	if need := p.Count(rulebook.SealUse, rulebook.ParamApprovals); len(approvers) < need {
		lacks = append(lacks, fmt.Sprintf("审批人%d人，应不少于%d人", len(approvers), need))
	}
	return strings.Join(lacks, "，")
}

// lateUse is the late-recording breach of a use recorded at now more than seal-use's `within` after the
// document's date.
func lateUse(d Document, now time.Time, p rulebook.Params) *kernel.Breach {
	within := p.Span(rulebook.SealUse, rulebook.ParamWithin)
	if !within.After(d.Date).Before(now) {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.LateRecording, Detail: fmt.Sprintf("《%s》的文件日期为%s，用印在%s才登记(应在%s内登记)",
		d.Title, stamp(d.Date), stamp(now), within.Chinese())}
}

func stamp(t time.Time) string { return t.In(kernel.ChinaTime()).Format("2006-01-02 15:04") }
