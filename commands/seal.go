package commands

import (
	"context"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
)

// The seal register (印章管理): one stream per seal, seal-<communityID>-<sealID>.

// seals are the seal streams of a community.
var seals = kind[*seal.Seal]{"seal_id", seal.Stream, seal.Rehydrate}

// RegisterSeal puts a seal on the register (印章登记) with its custodian.
type RegisterSeal struct {
	CommunityID   string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SealID        string    `json:"seal_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the seal"`
	Kind          seal.Kind `json:"kind" doc:"committee 村(居)委会印章, party 党组织印章, finance 财务专用章, supervision 监督委员会印章"`
	Name          string    `json:"name" minLength:"1" maxLength:"128" doc:"The seal's inscription, e.g. 罗西社区居民委员会"`
	Custodian     string    `json:"custodian" minLength:"1" maxLength:"128" doc:"Person id of the custodian (保管人)"`
	CustodianName string    `json:"custodian_name" minLength:"1" maxLength:"32" doc:"The custodian's name as the register shows it (public)"`
}

// RegisterSeal handles register-seal.
func (h *Handlers) RegisterSeal(ctx context.Context, m Meta, c RegisterSeal) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, seals, c.SealID, func(s *seal.Seal, f Facts) ([]kernel.Event, error) {
		return s.Register(seal.Register{SealID: c.SealID, Kind: c.Kind, Name: c.Name, Custodian: kernel.PersonID(c.Custodian),
			CustodianName: c.CustodianName}, f.Now)
	})
}

// ChangeSealCustodian hands a seal to another custodian (印章交接).
type ChangeSealCustodian struct {
	CommunityID   string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SealID        string `json:"seal_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The seal"`
	Custodian     string `json:"custodian" minLength:"1" maxLength:"128" doc:"Person id of the new custodian"`
	CustodianName string `json:"custodian_name" minLength:"1" maxLength:"32" doc:"The new custodian's name as the register shows it (public)"`
	Reason        string `json:"reason" minLength:"1" maxLength:"500" doc:"Why the seal changes hands"`
}

// ChangeSealCustodian handles change-seal-custodian.
func (h *Handlers) ChangeSealCustodian(ctx context.Context, m Meta, c ChangeSealCustodian) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, seals, c.SealID, func(s *seal.Seal, f Facts) ([]kernel.Event, error) {
		return s.ChangeCustodian(kernel.PersonID(c.Custodian), c.CustodianName, c.Reason, f.Now)
	})
}

// SealDocument is the document a seal is put on: public fields only.
type SealDocument struct {
	Title        string    `json:"title" minLength:"1" maxLength:"200" doc:"The document's title (文件名称)"`
	Date         time.Time `json:"date" doc:"The document's date (RFC 3339): its use must be recorded within seal-use's within (24 h) of it"`
	Purpose      string    `json:"purpose" minLength:"1" maxLength:"500" doc:"What the seal is used for (用印事由)"`
	Counterparty string    `json:"counterparty" minLength:"1" maxLength:"200" doc:"The organisation on the other side (对方单位)"`
	AmountFen    int64     `json:"amount_fen,omitempty" minimum:"0" maximum:"10000000000000" doc:"A contract's amount in fen (分); at or above the major-matter threshold it needs a resolution"`
}

func (d SealDocument) of() seal.Document {
	return seal.Document{Title: d.Title, Date: d.Date, Purpose: d.Purpose, Counterparty: d.Counterparty, Amount: kernel.Fen(d.AmountFen)}
}

// RequestSealUse requests a use of a seal (用印申请).
type RequestSealUse struct {
	CommunityID  string       `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SealID       string       `json:"seal_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The seal"`
	UseID        string       `json:"use_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the use within the seal"`
	Document     SealDocument `json:"document" doc:"What the seal is put on"`
	MeetingID    string       `json:"meeting_id,omitempty" maxLength:"64" doc:"The meeting whose resolution authorises a large contract"`
	ResolutionID string       `json:"resolution_id,omitempty" maxLength:"64" doc:"The resolution that authorises a large contract"`
}

// RequestSealUse handles request-seal-use; the resolution it names is read from its meeting's record.
func (h *Handlers) RequestSealUse(ctx context.Context, m Meta, c RequestSealUse) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, seals, c.SealID, ruled(func(s *seal.Seal, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		res, err := h.authority(ctx, f.Community.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		return s.RequestUse(seal.RequestUse{UseID: c.UseID, Document: c.Document.of(), Resolution: res}, p, f.Now)
	}))
}

// ApproveSealUse records one approval of a requested use (审批): the rulebook asks for a head of the 两委
// and the supervision committee.
type ApproveSealUse struct {
	CommunityID  string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SealID       string    `json:"seal_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The seal"`
	UseID        string    `json:"use_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The use approved"`
	Approver     string    `json:"approver" minLength:"1" maxLength:"128" doc:"Person id of the approver"`
	ApproverName string    `json:"approver_name" minLength:"1" maxLength:"32" doc:"The approver's name as the register shows it (public)"`
	Role         seal.Role `json:"role" doc:"committee-head 村(居)委会主任, party-secretary 党组织书记, supervision 监督委员会主任"`
}

// ApproveSealUse handles approve-seal-use.
func (h *Handlers) ApproveSealUse(ctx context.Context, m Meta, c ApproveSealUse) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, seals, c.SealID, func(s *seal.Seal, f Facts) ([]kernel.Event, error) {
		return s.ApproveUse(c.UseID, kernel.PersonID(c.Approver), c.ApproverName, c.Role, f.Now)
	})
}

// RecordSealUse records a seal put on a document (用印登记), with the document's hash. A use requested
// before takes its document from the request; one never requested gives it here (and is recorded with a
// seal-use breach: it was not approved).
type RecordSealUse struct {
	CommunityID    string        `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SealID         string        `json:"seal_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The seal"`
	UseID          string        `json:"use_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The use"`
	DocumentSHA256 string        `json:"document_sha256" pattern:"^[0-9a-f]{64}$" doc:"SHA-256 of the sealed document"`
	Document       *SealDocument `json:"document,omitempty" doc:"What the seal was put on, for a use never requested"`
	MeetingID      string        `json:"meeting_id,omitempty" maxLength:"64" doc:"For a use never requested: the meeting whose resolution authorises a large contract"`
	ResolutionID   string        `json:"resolution_id,omitempty" maxLength:"64" doc:"For a use never requested: the resolution that authorises a large contract"`
}

// RecordSealUse handles record-seal-use.
func (h *Handlers) RecordSealUse(ctx context.Context, m Meta, c RecordSealUse) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	var doc seal.Document
	if c.Document != nil {
		doc = c.Document.of()
	}
	return affair(ctx, h, m, c.CommunityID, seals, c.SealID, ruled(func(s *seal.Seal, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		res, err := h.authority(ctx, f.Community.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		return s.RecordUse(seal.RecordUse{UseID: c.UseID, Document: doc, Resolution: res, DocumentSHA256: c.DocumentSHA256}, p, f.Now)
	}))
}
