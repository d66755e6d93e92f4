package portal

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// A community's collective assets and resources (三资公开): each asset with its location, book value and
// what became of it, and the contracts letting them out with their rent and the rent received. A person
// who takes a contract shows by masked name only.

// AssetRegister is a community's assets and contracts.
type AssetRegister struct {
	CommunityID   string         `json:"community_id"`
	CommunityName string         `json:"community_name"`
	Assets        []AssetInfo    `json:"assets"`
	Contracts     []ContractInfo `json:"contracts" doc:"The latest signed first"`
	Income        Money          `json:"income" doc:"Rent received over every contract"`
}

// AssetInfo is one asset of the register.
type AssetInfo struct {
	AssetID    string     `json:"asset_id"`
	Kind       string     `json:"kind"`
	KindName   string     `json:"kind_name"`
	Name       string     `json:"name"`
	Location   string     `json:"location"`
	Value      *Money     `json:"value,omitempty" doc:"Book value, when recorded"`
	Status     string     `json:"status" doc:"held, or how it was disposed of (sale, scrap, transfer)"`
	StatusName string     `json:"status_name"`
	DisposedAt *time.Time `json:"disposed_at,omitempty"`
	Income     Money      `json:"income" doc:"Rent it brought in"`
	Source     *Source    `json:"source"`
}

// ContractInfo is one contract letting an asset out.
type ContractInfo struct {
	AssetName    string    `json:"asset_name"`
	ContractID   string    `json:"contract_id"`
	Counterparty string    `json:"counterparty" doc:"An organisation by name, a person by masked name (张*)"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Rent         Money     `json:"rent" doc:"Rent per period"`
	EveryName    string    `json:"every_name"`
	Total        Money     `json:"total"`
	MethodName   string    `json:"method_name"`
	NotBid       bool      `json:"not_bid" doc:"Awarded without public bidding above public-bidding's threshold"`
	Installments int       `json:"installments"`
	Received     int       `json:"received" doc:"Installments received"`
	ReceivedSum  Money     `json:"received_sum"`
	Source       *Source   `json:"source"`
}

var (
	assetKinds    = map[string]string{string(asset.Fixed): "固定资产", string(asset.Resource): "资源性资产"}
	assetStatuses = map[string]string{"held": "在册", string(asset.Sale): "已出售", string(asset.Scrap): "已报废", string(asset.Transfer): "已转让"}
	rentPeriods   = map[string]string{string(asset.Monthly): "每月", string(asset.Quarterly): "每季度", string(asset.Yearly): "每年"}
	awardMethods  = map[string]string{string(asset.PublicBidding): "公开招标(竞价)", string(asset.Negotiated): "协商(议标)"}
)

func (p *Portal) loadAssets(ctx context.Context, id string) (AssetRegister, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return AssetRegister{}, err
	}
	as, cs, err := directory.AssetRegister(ctx, p.db, id)
	if err != nil {
		return AssetRegister{}, err
	}
	out := AssetRegister{CommunityID: id, CommunityName: name, Assets: make([]AssetInfo, 0, len(as)), Contracts: make([]ContractInfo, 0, len(cs))}
	names := map[string]string{}
	var income int64
	for _, a := range as {
		names[a.AssetID] = Redact(a.Name)
		status := "held"
		if a.Disposed != nil {
			status = string(a.Disposal)
		}
		info := AssetInfo{AssetID: a.AssetID, Kind: string(a.Kind), KindName: label(assetKinds, string(a.Kind)), Name: Redact(a.Name),
			Location: Redact(a.Location), Status: status, StatusName: label(assetStatuses, status), Income: money(a.IncomeFen),
			Source: src(a.Registered.EventID.String(), a.Registered.Commit)}
		if a.ValueFen > 0 {
			v := money(a.ValueFen)
			info.Value = &v
		}
		if a.Disposed != nil {
			info.DisposedAt = localPtr(a.Disposed.At)
		}
		income += a.IncomeFen
		out.Assets = append(out.Assets, info)
	}
	out.Income = money(income)
	for _, x := range cs {
		out.Contracts = append(out.Contracts, ContractInfo{AssetName: names[x.AssetID], ContractID: x.ContractID, Counterparty: Redact(x.Counterparty),
			From: local(x.From), To: local(x.To), Rent: money(x.RentFen), EveryName: label(rentPeriods, string(x.Every)), Total: money(x.TotalFen),
			MethodName: label(awardMethods, string(x.Method)), NotBid: x.NotBid, Installments: x.Installments, Received: x.Received,
			ReceivedSum: money(x.ReceivedFen), Source: src(x.EventID.String(), x.Commit)})
	}
	return out, nil
}

// assetsPage is GET /c/{id}/assets.
func (p *Portal) assetsPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "集体资产与合同", "assets-page", func(ctx context.Context, id string) (any, error) { return p.loadAssets(ctx, id) })
}

// registerAssetAPI registers the register's JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerAssetAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-assets", "/communities/{id}/assets", "A community's collective assets and contracts (三资公开)",
		"Each asset with its location, book value and what became of it, and the contracts letting them out — counterparty "+
			"(a person masked), term, rent, how it was awarded, installments received — the latest signed first.",
		reflect.TypeFor[AssetRegister]()), "assets", directory.AssetsFingerprint,
		func(ctx context.Context, id string) (any, error) { return p.loadAssets(ctx, id) })
}
