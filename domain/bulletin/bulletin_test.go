package bulletin_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

var (
	t0       = time.Date(2026, 4, 20, 2, 0, 0, 0, time.UTC)
	district = kernel.JurisdictionPath("33/3303/330303")
	cites    = []bulletin.Cite{{CommunityID: "330303001001", InspectionID: "2026-r1"}, {CommunityID: "330303002003", InspectionID: "2026-r1"}}
	paths    = []kernel.JurisdictionPath{"33/3303/330303/330303001/330303001001", "33/3303/330303/330303002/330303002003"}
	pub      = bulletin.Published{BulletinID: "2026-1", Jurisdiction: district, Title: "关于2026年第1轮村(社区)督查情况的通报",
		Text: "本轮督查18个村(社区)，发现问题27个……", Cites: cites, PublishedAt: t0}
)

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, bulletin.RegisterEvents), "testdata", []kernel.Event{pub})
}

func TestBulletin(t *testing.T) {
	publish := func(f func(*bulletin.Publish)) func(*bulletin.Bulletin) ([]kernel.Event, error) {
		return func(b *bulletin.Bulletin) ([]kernel.Event, error) {
			cmd := bulletin.Publish{BulletinID: "2026-1", Jurisdiction: district, Title: pub.Title, Text: pub.Text, Cites: cites, Paths: paths}
			if f != nil {
				f(&cmd)
			}
			return b.Publish(cmd, t0)
		}
	}
	domaintest.Run(t, domaintest.Registry(t, bulletin.RegisterEvents), func() *bulletin.Bulletin { return &bulletin.Bulletin{} },
		[]domaintest.Case[*bulletin.Bulletin]{
			{Name: "a district's bulletin", When: publish(nil), Then: []kernel.Event{pub}},
			{Name: "published twice", Given: []kernel.Event{pub}, When: publish(nil), ThenErr: bulletin.ErrExists},
			{Name: "by a community", When: publish(func(c *bulletin.Publish) { c.Jurisdiction = paths[0] }), ThenErr: bulletin.ErrNotAStreet},
			{Name: "a street citing a community of another street", When: publish(func(c *bulletin.Publish) { c.Jurisdiction = "33/3303/330303/330303001" }),
				ThenErr: kernel.Invalid("cite-outside-jurisdiction", "cites[1].community_id", "")},
			{Name: "the same inspection twice", When: publish(func(c *bulletin.Publish) { c.Cites = []bulletin.Cite{cites[0], cites[0]} }),
				ThenErr: kernel.Invalid("duplicate-cite", "cites[1]", "")},
			{Name: "without a text", When: publish(func(c *bulletin.Publish) { c.Text = "" }), ThenErr: kernel.Invalid("required", "text", "")},
		})
}
