package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Collective assets (三资): every community registers two or three assets when the ledger starts and lets
// each out by contract — a year or three, rent monthly, quarterly or yearly, publicly bid when the total
// reaches public-bidding's threshold — renewing it when it ends; every installment is received within ten
// days of falling due. The assigned anomalies: a contract awarded without bidding above the threshold
// (public-bidding) and an installment never received (rent-collected). Their choices draw on a random
// stream of their own, as the seals' do.

const (
	plantUnbidContract = string(rulebook.PublicBidding)
	plantUnpaidRent    = string(rulebook.RentCollected) + ":missing"
)

// assetPlan is an asset a community may hold, with its rent range per period in yuan.
type assetPlan struct {
	kind           asset.Kind
	name, location string
	value          int64 // yuan; 0: not valued
	every          asset.Period
	years          int
	lo, hi         int64
	party          asset.Party
	takers         []string
}

var (
	urbanAssets = []assetPlan{
		{asset.Fixed, "临街店面1号", "社区服务中心一楼", 420000, asset.Quarterly, 1, 4000, 9000, asset.Organisation, []string{"便民超市", "社区卫生服务站", "家政服务部"}},
		{asset.Fixed, "社区用房(二楼)", "社区服务中心二楼", 360000, asset.Monthly, 1, 1200, 2800, asset.Organisation, []string{"托育中心", "老年大学分校", "物业服务中心"}},
		{asset.Fixed, "地下车库", "小区地下一层", 900000, asset.Yearly, 3, 9000, 15000, asset.Organisation, []string{"停车管理有限公司"}},
	}
	ruralAssets = []assetPlan{
		{asset.Fixed, "集体厂房", "村东工业点", 800000, asset.Quarterly, 1, 5000, 9000, asset.Organisation, []string{"机械配件厂", "塑料制品有限公司", "物流有限公司"}},
		{asset.Resource, "西塘鱼塘", "村西塘", 0, asset.Yearly, 3, 8000, 15000, asset.Individual, nil},
		{asset.Resource, "东片耕地", "村东片", 0, asset.Yearly, 3, 6000, 12000, asset.Individual, nil},
	}
)

// assetState is the community's assets as the generator keeps them.
type assetState struct {
	rng       *rand.Rand
	assets    map[string]*asset.Asset
	contracts int
}

// registerAssets registers the community's assets and lets each out.
func (c *comm) registerAssets() {
	s := &assetState{rng: rand.New(rand.NewPCG(c.g.plan.seed, streamKey("asset/"+string(c.info.ID)))), assets: map[string]*asset.Asset{}}
	c.assets = s
	plans := urbanAssets
	if c.info.Kind == kernel.Rural {
		plans = ruralAssets
	}
	n := 2 + s.rng.IntN(2)
	for i, p := range plans[:n] {
		id := fmt.Sprintf("a-%d", i+1)
		a := &asset.Asset{}
		s.assets[id] = a
		evs, err := a.Register(asset.Register{AssetID: id, Kind: p.kind, Name: p.name, Location: c.info.Name + p.location, Value: kernel.Yuan(p.value)}, c.now)
		apply(a, c.record(c.clerk, asset.Stream(c.info.ID, id), nil, evs, err))
		c.after(days(1+s.rng.IntN(20)), func() { c.letAsset(id, p) })
	}
}

// letAsset lets an asset out from today (an office day) and schedules its rent and its renewal.
func (c *comm) letAsset(id string, p assetPlan) {
	s := c.assets
	s.contracts++
	contractID := fmt.Sprintf("%d-%02d", c.now.In(cst).Year(), s.contracts)
	from := c.now
	to := from.AddDate(p.years, 0, 0)
	rent := kernel.Yuan((p.lo + s.rng.Int64N(p.hi-p.lo)) / 100 * 100)
	var total kernel.Fen
	for _, in := range asset.Installments(from, to, rent, p.every) {
		total += in.Amount
	}
	limit := c.params.Fen(rulebook.PublicBidding, rulebook.ParamThreshold)
	method := asset.PublicBidding
	if total < limit && s.rng.IntN(2) == 0 {
		method = asset.Negotiated
	}
	if c.planted(plantUnbidContract) {
		// Negotiated, and at least the threshold whatever the rent drawn: raised to it, in whole hundreds.
		c.plant(plantUnbidContract)
		method = asset.Negotiated
		if n := kernel.Fen(len(asset.Installments(from, to, rent, p.every))); total < limit {
			rent = (limit + n*10000 - 1) / (n * 10000) * 10000
		}
	}
	taker := personName(s.rng, s.rng.IntN(2) == 0)
	if p.party == asset.Organisation {
		taker = c.district.Name + p.takers[s.rng.IntN(len(p.takers))]
	}
	a := s.assets[id]
	stream := asset.Stream(c.info.ID, id)
	evs, err := a.Sign(asset.Sign{ContractID: contractID, Counterparty: taker, CounterpartyKind: p.party, From: from, To: to, Rent: rent,
		Every: p.every, Method: method}, c.params, c.now)
	signed := c.record(c.clerk, stream, nil, evs, err)
	apply(a, signed)
	if len(signed) == 0 {
		return
	}
	unpaid := 0
	if c.planted(plantUnpaidRent) {
		c.plant(plantUnpaidRent)
		unpaid = 1 + s.rng.IntN(2)
	}
	for i, in := range signed[0].(asset.ContractSigned).Installments {
		if i+1 == unpaid {
			continue
		}
		at := c.office(in.Due.Add(days(s.rng.IntN(10))))
		if !c.future(at) {
			continue
		}
		c.at(at, func() {
			evs, err := a.ReceiveRent(contractID, i+1, in.Amount, fmt.Sprintf("收-%s-%d", contractID, i+1), c.now)
			apply(a, c.record(c.clerk, stream, nil, evs, err))
		})
	}
	if renew := c.office(to.Add(days(1))); c.future(renew) { // the day after it ends: no overlap
		c.at(renew, func() { c.letAsset(id, p) })
	}
}
