// Package bulletin is the supervision bulletin (督查通报, seed 000): a street or district publishes what its
// inspections found, citing them. Bulletins are public.
//
// One stream per bulletin: bulletin-<code>-<bulletinID>, <code> being the publishing jurisdiction's.
package bulletin

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Cite is an inspection a bulletin cites, with its community.
type Cite struct {
	CommunityID  kernel.CommunityID `json:"community_id"`
	InspectionID string             `json:"inspection_id"`
}

// Published records a bulletin of a street or district.
type Published struct {
	BulletinID   string                  `json:"bulletin_id"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Title        string                  `json:"title"`
	Text         string                  `json:"text"`
	Cites        []Cite                  `json:"cites,omitempty"`
	PublishedAt  time.Time               `json:"published_at"`
}

func (Published) EventName() string  { return "bulletin.published" }
func (Published) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Published])
}

// Stream is the stream of one bulletin of the jurisdiction at path.
func Stream(path kernel.JurisdictionPath, bulletinID string) string {
	return eventlog.StreamName("bulletin", path.Last(), bulletinID)
}

// Bulletin is one bulletin. The zero value is one not yet published.
type Bulletin struct{ id string }

// Rehydrate rebuilds a bulletin from its history.
func Rehydrate(history []kernel.Event) *Bulletin { return kernel.Rehydrate(&Bulletin{}, history) }

// Apply changes state only.
func (b *Bulletin) Apply(e kernel.Event) {
	if p, ok := e.(Published); ok {
		b.id = p.BulletinID
	}
}

// Errors of bulletins.
var (
	ErrExists       = kernel.Conflict("bulletin-already-published", "这期通报已发布")
	ErrNotAStreet   = kernel.Invalid("bulletin-jurisdiction", "jurisdiction", "督查通报由街道(乡镇)或区(县)发布")
	ErrOutsideScope = kernel.Invalid("cite-outside-jurisdiction", "", "通报只能引用本辖区社区(村)的督查")
)

// MaxCites is the most inspections one bulletin cites.
const MaxCites = 500

// Publish is the command to publish a bulletin. Paths are the cited communities' paths the handler read
// (one per cite, in order): each must lie under the jurisdiction.
type Publish struct {
	BulletinID   string
	Jurisdiction kernel.JurisdictionPath
	Title, Text  string
	Cites        []Cite
	Paths        []kernel.JurisdictionPath
}

// Publish records the bulletin at now.
func (b *Bulletin) Publish(cmd Publish, now time.Time) ([]kernel.Event, error) {
	if b.id != "" {
		return nil, ErrExists
	}
	if err := kernel.Required(cmd.BulletinID, "bulletin_id", "通报编号"); err != nil {
		return nil, err
	}
	if d := cmd.Jurisdiction.Depth(); d != kernel.LevelStreet && d != kernel.LevelDistrict {
		return nil, ErrNotAStreet
	}
	if err := kernel.Required(cmd.Title, "title", "通报标题"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Text, "text", "通报内容"); err != nil {
		return nil, err
	}
	if len(cmd.Cites) > MaxCites {
		return nil, kernel.Invalid("too-many-cites", "cites", fmt.Sprintf("一期通报至多引用%d次督查", MaxCites))
	}
	seen := map[Cite]bool{}
	for i, c := range cmd.Cites {
		if seen[c] {
			return nil, kernel.Invalid("duplicate-cite", fmt.Sprintf("cites[%d]", i), "重复引用同一次督查")
		}
		seen[c] = true
		if i >= len(cmd.Paths) || !cmd.Jurisdiction.Contains(cmd.Paths[i]) {
			return nil, ErrOutsideScope.WithField(fmt.Sprintf("cites[%d].community_id", i))
		}
	}
	return []kernel.Event{Published{BulletinID: cmd.BulletinID, Jurisdiction: cmd.Jurisdiction, Title: cmd.Title, Text: cmd.Text,
		Cites: cmd.Cites, PublishedAt: now.UTC()}}, nil
}
