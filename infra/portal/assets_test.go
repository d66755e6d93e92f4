package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestAssetRegisterPage: a community's assets and contracts (三资公开) — each asset with its rent income,
// each contract with its counterparty (a person masked), term, rent, method and installments received; a
// contract not bid above the threshold is marked, and the community's open alert about it links the page.
// The community page links it (so the personal-data crawl reads it too).
func TestAssetRegisterPage(t *testing.T) {
	d := sharedDistrict(t)
	var id string
	if err := d.Admin.QueryRow(context.Background(), `SELECT community_id FROM rm_directory.asset_contracts WHERE not_bid
		ORDER BY community_id LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("no contract let without bidding in the demo district: %v", err)
	}
	var reg portal.AssetRegister
	d.getJSON("/api/v1/public/communities/"+id+"/assets", &reg)
	if len(reg.Assets) < 2 || len(reg.Contracts) < len(reg.Assets) || reg.Income.Fen <= 0 {
		t.Fatalf("register: %d assets, %d contracts, income %v", len(reg.Assets), len(reg.Contracts), reg.Income)
	}
	var sum int64
	for _, a := range reg.Assets {
		sum += a.Income.Fen
	}
	if sum != reg.Income.Fen {
		t.Fatalf("income %d, the assets' %d", reg.Income.Fen, sum)
	}
	var notBid *portal.ContractInfo
	for i, c := range reg.Contracts {
		if c.Counterparty == "" || c.Installments == 0 || c.Received > c.Installments || !c.To.After(c.From) || c.Source == nil {
			t.Fatalf("contract %+v", c)
		}
		if c.NotBid {
			notBid = &reg.Contracts[i]
		}
	}
	if notBid == nil || notBid.MethodName != "协商(议标)" {
		t.Fatalf("the contract not bid: %+v", notBid)
	}
	d.registerPage(id, "assets", "集体资产与合同", "未公开招标", notBid.Counterparty, reg.Assets[0].Name)
	if a := d.openAlert(id, "public-bidding"); a.Href != "/c/"+id+"/assets" || !strings.Contains(a.Detail, "未公开招标") {
		t.Fatalf("the public-bidding alert: %+v", a)
	}
}
