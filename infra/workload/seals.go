package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
)

// The seal register (印章管理): every community registers its committee's seal with a committee member as
// custodian when the ledger starts; about once a month a document is sealed — requested by the clerk,
// approved by the chair and by the supervision committee's head the same or the next working hours, and
// recorded as used with the document's hash. The assigned anomalies: a use recorded without any approval
// (seal-use) and one recorded three days after the document's date (late-recording). The seal's choices
// draw on a random stream of their own, so the rest of the history is the same with or without them.

const (
	plantUnapprovedSeal = string(rulebook.SealUse)
	plantLateSeal       = string(rulebook.SealUse) + ":late"
)

// sealState is the community's seal register as the generator keeps it.
type sealState struct {
	rng         *rand.Rand
	id          string
	seal        *seal.Seal
	uses        int
	supervision struct {
		id   kernel.PersonID
		name string
	}
}

// sealDocuments are what a community seals, with the organisation on the other side and the amount range
// in yuan (0: not a contract).
var sealDocuments = []struct {
	title, purpose string
	counterparties []string
	lo, hi         int64
}{
	{"保洁服务合同", "签订公共区域保洁服务合同", []string{"洁美物业服务有限公司", "绿源环境卫生服务部", "安居保洁服务中心"}, 12000, 48000},
	{"绿化养护协议", "签订绿化养护协议", []string{"四季园林绿化工程有限公司", "青禾绿化服务部"}, 8000, 36000},
	{"设备采购合同", "采购办公及便民服务设备", []string{"浙南办公设备有限公司", "永佳电器商行"}, 3000, 30000},
	{"活动场地租用协议", "租用文体活动场地", []string{"区文化馆", "街道综合文化站"}, 1000, 8000},
	{"居住证明", "为居民出具居住证明", []string{"区公安分局户政科", "区人力资源和社会保障局"}, 0, 0},
	{"低保申请审核意见", "出具低保申请初审意见", []string{"街道社会救助所"}, 0, 0},
	{"工作情况报告", "向街道报送工作情况", []string{"街道办事处"}, 0, 0},
}

// registerSeals puts the committee's seal on the register, a committee member its custodian.
func (c *comm) registerSeals() {
	s := &sealState{rng: rand.New(rand.NewPCG(c.g.plan.seed, streamKey("seal/"+string(c.info.ID)))), id: "committee", seal: &seal.Seal{}}
	male := s.rng.IntN(2) == 0
	s.supervision.id, s.supervision.name = kernel.PersonID(fmt.Sprintf("p%s-sup", c.info.ID)), personName(s.rng, male)
	custodian := c.term.members[len(c.term.members)-1].p
	evs, err := s.seal.Register(seal.Register{SealID: s.id, Kind: seal.CommitteeSeal, Name: c.info.Name + c.committeeTitle(),
		Custodian: custodian.id, CustodianName: custodian.name}, c.now)
	apply(s.seal, c.record(c.clerk, seal.Stream(c.info.ID, s.id), nil, evs, err))
	c.seals = s
}

// committeeTitle is the committee's name after the community's.
func (c *comm) committeeTitle() string {
	if c.info.Kind == kernel.Rural {
		return "村民委员会"
	}
	return "居民委员会"
}

// scheduleSealUse schedules the month's use of the seal (one in most months).
func (c *comm) scheduleSealUse(y int, m time.Month) {
	s := c.seals
	if s == nil || s.rng.IntN(10) == 0 {
		return
	}
	at := c.office(day(y, m, 3+s.rng.IntN(24), 0, 0))
	if c.future(at) {
		c.at(at, c.useSeal)
	}
}

// useSeal seals one document: requested, approved by the chair and the supervision committee, recorded;
// or, where planted, recorded without approval or three days late.
func (c *comm) useSeal() {
	s := c.seals
	s.uses++
	id := fmt.Sprintf("%d-%03d", c.now.In(cst).Year(), s.uses)
	d := sealDocuments[s.rng.IntN(len(sealDocuments))]
	doc := seal.Document{Title: d.title, Date: c.now, Purpose: d.purpose, Counterparty: d.counterparties[s.rng.IntN(len(d.counterparties))]}
	if d.hi > 0 {
		doc.Amount = kernel.Yuan((d.lo + s.rng.Int64N(d.hi-d.lo)) / 100 * 100)
	}
	stream := seal.Stream(c.info.ID, s.id)
	sha := c.document("seal", id)
	if c.planted(plantUnapprovedSeal) {
		c.plant(plantUnapprovedSeal)
		c.after(hours(2+s.rng.IntN(5)), func() {
			evs, err := s.seal.RecordUse(seal.RecordUse{UseID: id, Document: doc, DocumentSHA256: sha}, c.params, c.now)
			apply(s.seal, c.record(c.clerk, stream, nil, evs, err))
		})
		return
	}
	evs, err := s.seal.RequestUse(seal.RequestUse{UseID: id, Document: doc}, c.params, c.now)
	apply(s.seal, c.record(c.clerk, stream, nil, evs, err))
	chair := c.term.chair()
	c.after(minutes(30+s.rng.IntN(120)), func() {
		evs, err := s.seal.ApproveUse(id, chair.id, chair.name, seal.CommitteeHead, c.now)
		apply(s.seal, c.record(c.clerk, stream, nil, evs, err))
	})
	c.after(hours(3)+minutes(s.rng.IntN(120)), func() {
		evs, err := s.seal.ApproveUse(id, s.supervision.id, s.supervision.name, seal.Supervision, c.now)
		apply(s.seal, c.record(c.clerk, stream, nil, evs, err))
	})
	record := hours(6 + s.rng.IntN(10))
	if c.planted(plantLateSeal) {
		c.plant(plantLateSeal)
		record = days(3) + hours(2)
	}
	c.after(record, func() {
		evs, err := s.seal.RecordUse(seal.RecordUse{UseID: id, DocumentSHA256: sha}, c.params, c.now)
		apply(s.seal, c.record(c.clerk, stream, nil, evs, err))
	})
}
