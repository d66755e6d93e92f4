package asset_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	from     = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	res      = &asset.Resolution{ID: "r-1", MeetingID: "m-1", MeetingKind: meeting.Representatives, AdoptedAt: t0.Add(-48 * time.Hour)}
)

var (
	registered = asset.Registered{AssetID: "a-1", Kind: asset.Fixed, Name: "村集体厂房(东区)", Location: "永中街道罗西村东路8号", Value: kernel.Yuan(800000),
		RegisteredAt: t0}
	land = asset.Registered{AssetID: "a-2", Kind: asset.Resource, Name: "西塘鱼塘", Location: "罗西村西塘", RegisteredAt: t0}
	// A year's lease at 2 000 元 a month: 24 000 元, under both thresholds.
	small = asset.ContractSigned{AssetID: "a-1", ContractID: "c-1", Counterparty: "温州市某机械有限公司", CounterpartyKind: asset.Organisation, From: from, To: from.AddDate(1, 0, 0),
		Rent: kernel.Yuan(2000), Every: asset.Monthly, Total: kernel.Yuan(24000), Method: asset.Negotiated,
		Installments: asset.Installments(from, from.AddDate(1, 0, 0), kernel.Yuan(2000), asset.Monthly), SignedAt: t0}
)

func samples() []kernel.Event {
	return []kernel.Event{
		registered,
		asset.ContractSigned{AssetID: "a-1", ContractID: "c-2", Counterparty: "王*", CounterpartyKind: asset.Individual, From: from, To: from.AddDate(3, 0, 0),
			Rent: kernel.Yuan(60000), Every: asset.Yearly, Total: kernel.Yuan(180000), Method: asset.Negotiated, Resolution: res,
			Installments: asset.Installments(from, from.AddDate(3, 0, 0), kernel.Yuan(60000), asset.Yearly), SignedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.PublicBidding, Detail: "未公开招标"}}}},
		asset.RentReceived{AssetID: "a-1", ContractID: "c-2", Installment: 1, Amount: kernel.Yuan(60000), VoucherNo: "收-2026-031", ReceivedAt: t0},
		asset.Disposed{AssetID: "a-1", How: asset.Sale, Amount: kernel.Yuan(500000), Resolution: res, DisposedAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, asset.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*asset.Asset]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, asset.RegisterEvents), func() *asset.Asset { return &asset.Asset{} }, cases)
}

func sign(id string, rent kernel.Fen, every asset.Period, years int, m asset.Method, r *asset.Resolution) func(*asset.Asset) ([]kernel.Event, error) {
	return func(a *asset.Asset) ([]kernel.Event, error) {
		return a.Sign(asset.Sign{ContractID: id, Counterparty: "温州市某机械有限公司", CounterpartyKind: asset.Organisation, From: from, To: from.AddDate(years, 0, 0), Rent: rent,
			Every: every, Method: m, Resolution: r}, defaults, t0)
	}
}

func TestAssetRegister(t *testing.T) {
	receive := func(n int) func(*asset.Asset) ([]kernel.Event, error) {
		return func(a *asset.Asset) ([]kernel.Event, error) {
			return a.ReceiveRent("c-1", n, kernel.Yuan(2000), "收-1", t0)
		}
	}
	run(t, []domaintest.Case[*asset.Asset]{
		{Name: "register", When: func(a *asset.Asset) ([]kernel.Event, error) {
			return a.Register(asset.Register{AssetID: "a-1", Kind: asset.Fixed, Name: "村集体厂房(东区)", Location: "永中街道罗西村东路8号",
				Value: kernel.Yuan(800000)}, t0)
		}, Then: []kernel.Event{registered}},
		{Name: "register twice", Given: []kernel.Event{registered}, When: func(a *asset.Asset) ([]kernel.Event, error) {
			return a.Register(asset.Register{AssetID: "a-1", Kind: asset.Fixed, Name: "x", Location: "y"}, t0)
		}, ThenErr: asset.ErrAssetExists},
		{Name: "a small lease, negotiated", Given: []kernel.Event{registered}, When: sign("c-1", kernel.Yuan(2000), asset.Monthly, 1, asset.Negotiated, nil),
			Then: []kernel.Event{small}},
		{Name: "a lease over the same months", Given: []kernel.Event{registered, small},
			When: sign("c-9", kernel.Yuan(2000), asset.Monthly, 1, asset.PublicBidding, nil), ThenErr: asset.ErrContractOverlaps},
		{Name: "a term that ends before it starts", Given: []kernel.Event{registered}, When: sign("c-1", kernel.Yuan(2000), asset.Monthly, -1, asset.Negotiated, nil),
			ThenErr: kernel.Invalid("invalid-term", "to", "")},
		{Name: "rent received", Given: []kernel.Event{registered, small}, When: receive(1), ThenNames: []string{"asset.rent-received"}},
		{Name: "rent received twice", Given: []kernel.Event{registered, small, asset.RentReceived{AssetID: "a-1", ContractID: "c-1", Installment: 1,
			Amount: kernel.Yuan(2000), VoucherNo: "收-1", ReceivedAt: t0}}, When: receive(1), ThenErr: asset.ErrInstallmentPaid},
		{Name: "an installment the contract has not", Given: []kernel.Event{registered, small}, When: receive(13), ThenErr: asset.ErrInstallmentNone},
		{Name: "land is not sold", Given: []kernel.Event{land}, When: func(a *asset.Asset) ([]kernel.Event, error) {
			return a.Dispose(asset.Sale, kernel.Yuan(1), res, t0)
		}, ThenErr: asset.ErrOnlyFixedDisposed},
		{Name: "disposed while let", Given: []kernel.Event{registered, small}, When: func(a *asset.Asset) ([]kernel.Event, error) {
			return a.Dispose(asset.Scrap, 0, res, t0)
		}, ThenErr: asset.ErrContractRunning},
	})
	if n := len(small.Installments); n != 12 || !small.Installments[11].Due.Equal(from.AddDate(0, 11, 0)) {
		t.Fatalf("a year paid monthly: %d installments, the last due %v", n, small.Installments[n-1].Due)
	}
}

// TestRule_MajorMatterResolutionOfAssets: a contract whose total reaches the major-matter threshold, and
// any disposal of a fixed asset, need a prior resolution of a residents' (representatives') meeting.
func TestRule_MajorMatterResolutionOfAssets(t *testing.T) {
	joint := &asset.Resolution{ID: "r-2", MeetingID: "m-2", MeetingKind: meeting.Joint, AdoptedAt: t0.Add(-time.Hour)}
	dispose := func(r *asset.Resolution) func(*asset.Asset) ([]kernel.Event, error) {
		return func(a *asset.Asset) ([]kernel.Event, error) { return a.Dispose(asset.Sale, kernel.Yuan(500000), r, t0) }
	}
	run(t, []domaintest.Case[*asset.Asset]{
		{Name: "three years at 60 000 a year without a resolution", Given: []kernel.Event{registered},
			When: sign("c-2", kernel.Yuan(60000), asset.Yearly, 3, asset.PublicBidding, nil), ThenErr: asset.ErrNeedsResolution},
		{Name: "resolved by a joint meeting", Given: []kernel.Event{registered},
			When: sign("c-2", kernel.Yuan(60000), asset.Yearly, 3, asset.PublicBidding, joint), ThenErr: meeting.ErrAuthorityWrongMeeting},
		{Name: "resolved by the representatives", Given: []kernel.Event{registered},
			When: sign("c-2", kernel.Yuan(60000), asset.Yearly, 3, asset.PublicBidding, res), ThenNames: []string{"asset.contract-signed"}},
		{Name: "a fixed asset sold without a resolution", Given: []kernel.Event{registered}, When: dispose(nil), ThenErr: asset.ErrNeedsResolution},
		{Name: "sold after the resolution", Given: []kernel.Event{registered}, When: dispose(res), ThenNames: []string{"asset.disposed"}},
	})
}

// TestIndividualCounterpartyIsMasked: a person who takes a contract is recorded by masked name only.
func TestIndividualCounterpartyIsMasked(t *testing.T) {
	a := asset.Rehydrate([]kernel.Event{registered})
	evs, err := a.Sign(asset.Sign{ContractID: "c-9", Counterparty: "王小明", CounterpartyKind: asset.Individual, From: from, To: from.AddDate(1, 0, 0),
		Rent: kernel.Yuan(3000), Every: asset.Monthly, Method: asset.Negotiated}, defaults, t0)
	if err != nil || evs[0].(asset.ContractSigned).Counterparty != "王**" {
		t.Fatalf("%+v %v", evs, err)
	}
	if b := evs[0].(asset.ContractSigned).Breaches; len(b) != 1 || strings.Contains(b[0].Detail, "小明") {
		t.Fatalf("the breach names the person: %+v", b)
	}
}

// TestRule_PublicBidding: 集体资产发包租赁合同总金额达到标准的须公开招标 (watch): a contract of 30 000 元 or more
// awarded without public bidding carries the breach; under it, or publicly bid, it does not.
func TestRule_PublicBidding(t *testing.T) {
	run(t, []domaintest.Case[*asset.Asset]{
		{Name: "36 000 a year, negotiated", Given: []kernel.Event{registered},
			When: sign("c-3", kernel.Yuan(3000), asset.Monthly, 1, asset.Negotiated, nil), ThenBreaches: []kernel.RuleID{rulebook.PublicBidding}},
		{Name: "36 000 a year, publicly bid", Given: []kernel.Event{registered},
			When: sign("c-3", kernel.Yuan(3000), asset.Monthly, 1, asset.PublicBidding, nil), ThenNames: []string{"asset.contract-signed"}},
		{Name: "24 000, negotiated", Given: []kernel.Event{registered},
			When: sign("c-3", kernel.Yuan(2000), asset.Monthly, 1, asset.Negotiated, nil), ThenNames: []string{"asset.contract-signed"}},
	})
}
