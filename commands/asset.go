package commands

import (
	"context"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Collective assets and resources (三资): one stream per asset, asset-<communityID>-<assetID>, holding its
// contracts and their rent.

// assets are the asset streams of a community.
var assets = kind[*asset.Asset]{"asset_id", asset.Stream, asset.Rehydrate}

// RegisterAsset puts an asset or resource on the register (资产登记).
type RegisterAsset struct {
	CommunityID string     `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AssetID     string     `json:"asset_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the asset"`
	Kind        asset.Kind `json:"kind" doc:"fixed 固定资产(房屋、厂房、设备), resource 资源性资产(土地、山林、水面)"`
	Name        string     `json:"name" minLength:"1" maxLength:"128" doc:"The asset's name, e.g. 村集体厂房(东区)"`
	Location    string     `json:"location" minLength:"1" maxLength:"200" doc:"Where it is (坐落位置)"`
	ValueFen    int64      `json:"value_fen,omitempty" minimum:"0" maximum:"10000000000000" doc:"Book value in fen (账面价值), if known"`
}

// RegisterAsset handles register-asset.
func (h *Handlers) RegisterAsset(ctx context.Context, m Meta, c RegisterAsset) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, assets, c.AssetID, func(a *asset.Asset, f Facts) ([]kernel.Event, error) {
		return a.Register(asset.Register{AssetID: c.AssetID, Kind: c.Kind, Name: c.Name, Location: c.Location, Value: kernel.Fen(c.ValueFen)}, f.Now)
	})
}

// SignAssetContract records an asset let out by contract (发包、租赁).
type SignAssetContract struct {
	CommunityID  string       `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AssetID      string       `json:"asset_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The asset let out"`
	ContractID   string       `json:"contract_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the contract within the asset"`
	Counterparty string       `json:"counterparty" minLength:"1" maxLength:"200" doc:"Who takes it (承包方、承租方): an organisation's name, or a person's name (recorded masked: 张*)"`
	PartyKind    asset.Party  `json:"counterparty_kind" doc:"organisation 单位, individual 个人(承包户): a person's name is recorded masked"`
	From         time.Time    `json:"from" doc:"Start of the term (RFC 3339)"`
	To           time.Time    `json:"to" doc:"End of the term (RFC 3339), after from"`
	RentFen      int64        `json:"rent_fen" minimum:"1" maximum:"10000000000000" doc:"Rent per period in fen, due at the start of each period"`
	Every        asset.Period `json:"every" doc:"month, quarter or year"`
	Method       asset.Method `json:"method" doc:"public-bidding 公开招标(竞价), negotiated 协商(议标)"`
	MeetingID    string       `json:"meeting_id,omitempty" maxLength:"64" doc:"The meeting whose resolution authorises a contract at or above the major-matter threshold"`
	ResolutionID string       `json:"resolution_id,omitempty" maxLength:"64" doc:"The resolution that authorises it"`
}

// SignAssetContract handles sign-asset-contract; the resolution it names is read from its meeting's record.
func (h *Handlers) SignAssetContract(ctx context.Context, m Meta, c SignAssetContract) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, assets, c.AssetID, ruled(func(a *asset.Asset, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		res, err := h.authority(ctx, f.Community.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		return a.Sign(asset.Sign{ContractID: c.ContractID, Counterparty: c.Counterparty, CounterpartyKind: c.PartyKind, From: c.From, To: c.To, Rent: kernel.Fen(c.RentFen),
			Every: c.Every, Method: c.Method, Resolution: res}, p, f.Now)
	}))
}

// ReceiveRent records an installment of a contract's rent received (收取租金).
type ReceiveRent struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AssetID     string `json:"asset_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The asset"`
	ContractID  string `json:"contract_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The contract"`
	Installment int    `json:"installment" minimum:"1" maximum:"360" doc:"Which installment (1 is the first)"`
	AmountFen   int64  `json:"amount_fen" minimum:"1" maximum:"10000000000000" doc:"Amount received in fen"`
	VoucherNo   string `json:"voucher_no" minLength:"1" maxLength:"64" doc:"Receipt voucher number (收款凭证号)"`
}

// ReceiveRent handles receive-rent.
func (h *Handlers) ReceiveRent(ctx context.Context, m Meta, c ReceiveRent) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, assets, c.AssetID, func(a *asset.Asset, f Facts) ([]kernel.Event, error) {
		return a.ReceiveRent(c.ContractID, c.Installment, kernel.Fen(c.AmountFen), c.VoucherNo, f.Now)
	})
}

// DisposeAsset records a fixed asset leaving the register (资产处置): it needs its resolution.
type DisposeAsset struct {
	CommunityID  string         `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AssetID      string         `json:"asset_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The asset"`
	How          asset.Disposal `json:"how" doc:"sale 出售, scrap 报废, transfer 转让"`
	AmountFen    int64          `json:"amount_fen,omitempty" minimum:"0" maximum:"10000000000000" doc:"What it brought in, in fen"`
	MeetingID    string         `json:"meeting_id" minLength:"1" maxLength:"64" doc:"The meeting whose resolution authorises the disposal"`
	ResolutionID string         `json:"resolution_id" minLength:"1" maxLength:"64" doc:"The resolution that authorises it"`
}

// DisposeAsset handles dispose-asset.
func (h *Handlers) DisposeAsset(ctx context.Context, m Meta, c DisposeAsset) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, assets, c.AssetID, func(a *asset.Asset, f Facts) ([]kernel.Event, error) {
		res, err := h.authority(ctx, f.Community.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		return a.Dispose(c.How, kernel.Fen(c.AmountFen), res, f.Now)
	})
}
