package portal

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// The seal register (印章使用登记) of a community: its seals with their custodians, and every use of a seal
// — the document's date and title, purpose, counterparty organisation, amount, who approved it, whether it
// had the joint approval and was recorded in time — the latest document first. Only public fields: the
// names are those the register shows, never a person id or personal data.

// SealRegister is a community's seal register.
type SealRegister struct {
	CommunityID   string       `json:"community_id"`
	CommunityName string       `json:"community_name"`
	Seals         []SealInfo   `json:"seals"`
	Uses          []SealUseRow `json:"uses" doc:"The latest documents first, at most 200"`
}

// SealInfo is one seal of the register.
type SealInfo struct {
	SealID         string    `json:"seal_id"`
	Kind           string    `json:"kind"`
	KindName       string    `json:"kind_name"`
	Name           string    `json:"name" doc:"The seal's inscription"`
	CustodianName  string    `json:"custodian_name" doc:"Its custodian (保管人) by the name the register shows"`
	CustodianSince time.Time `json:"custodian_since"`
	Uses           int       `json:"uses" doc:"Uses recorded"`
	Unapproved     int       `json:"unapproved" doc:"Of them, recorded without the joint approval"`
	Source         *Source   `json:"source"`
}

// SealUseRow is one use of a seal.
type SealUseRow struct {
	SealName     string     `json:"seal_name"`
	UseID        string     `json:"use_id"`
	Title        string     `json:"title" doc:"The document (文件名称)"`
	DocumentDate time.Time  `json:"document_date"`
	Purpose      string     `json:"purpose"`
	Counterparty string     `json:"counterparty" doc:"The organisation on the other side (对方单位)"`
	Amount       *Money     `json:"amount,omitempty" doc:"A contract's amount"`
	Approvers    string     `json:"approvers" doc:"Who approved it, in what capacity"`
	Status       string     `json:"status" enum:"requested,approved,unapproved" doc:"requested: not yet used; approved/unapproved: used with or without the joint approval"`
	StatusName   string     `json:"status_name"`
	Late         bool       `json:"late" doc:"Recorded later than the rule allows after the document's date"`
	RecordedAt   *time.Time `json:"recorded_at,omitempty" doc:"When the use was recorded"`
	SHA256       string     `json:"document_sha256,omitempty"`
	Source       *Source    `json:"source"`
}

var sealKinds = map[string]string{string(seal.CommitteeSeal): "村(居)民委员会印章", string(seal.PartySeal): "党组织印章",
	string(seal.FinanceSeal): "财务专用章", string(seal.SupervisionSeal): "监督委员会印章"}

// sealUsesShown is how many uses the register shows.
const sealUsesShown = 200

func (p *Portal) loadSeals(ctx context.Context, id string) (SealRegister, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return SealRegister{}, err
	}
	seals, uses, err := directory.SealRegister(ctx, p.db, id, sealUsesShown)
	if err != nil {
		return SealRegister{}, err
	}
	out := SealRegister{CommunityID: id, CommunityName: name, Seals: make([]SealInfo, 0, len(seals)), Uses: make([]SealUseRow, 0, len(uses))}
	names := map[string]string{}
	for _, s := range seals {
		names[s.SealID] = Redact(s.Name)
		out.Seals = append(out.Seals, SealInfo{SealID: s.SealID, Kind: string(s.Kind), KindName: label(sealKinds, string(s.Kind)),
			Name: Redact(s.Name), CustodianName: Redact(s.CustodianName), CustodianSince: local(s.CustodianSince), Uses: s.Uses,
			Unapproved: s.Unapproved, Source: src(s.Registered.EventID.String(), s.Registered.Commit)})
	}
	for _, u := range uses {
		row := SealUseRow{SealName: names[u.SealID], UseID: u.UseID, Title: Redact(u.Title), DocumentDate: local(u.DocumentDate),
			Purpose: Redact(u.Purpose), Counterparty: Redact(u.Counterparty), Approvers: Redact(u.Approvers), Late: u.Late,
			SHA256: u.DocumentSHA256, Source: src(u.EventID.String(), u.Commit)}
		if u.AmountFen > 0 {
			m := money(u.AmountFen)
			row.Amount = &m
		}
		switch {
		case u.Used == nil:
			row.Status, row.StatusName = "requested", "已申请，待用印"
		case u.Approved:
			row.Status, row.StatusName, row.RecordedAt = "approved", "已用印（经审批）", localPtr(*u.Used)
		default:
			row.Status, row.StatusName, row.RecordedAt = "unapproved", "已用印（未经审批）", localPtr(*u.Used)
		}
		out.Uses = append(out.Uses, row)
	}
	return out, nil
}

// sealsPage is GET /c/{id}/seals.
func (p *Portal) sealsPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "印章使用登记", "seals-page", func(ctx context.Context, id string) (any, error) { return p.loadSeals(ctx, id) })
}

// nodePage is a page of a node of the tree (a district's list, a street's bulletins or ratings) under the
// node's name, not cached (as the registers): load reads it by the path in the URL and names the node.
func (p *Portal) nodePage(w http.ResponseWriter, r *http.Request, title, tmpl string,
	load func(ctx context.Context, path string) (data any, name, node string, err error)) {
	data, name, node, err := load(r.Context(), strings.Trim(r.PathValue("path"), "/"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	crumbs := []Crumb{{Name: "首页", Href: "/"}, {Name: name, Href: nodeHref(node)}}
	p.uncached(w, http.StatusOK, page{Title: title + " · " + name, Crumbs: crumbs}, tmpl, data)
}

// registerPage is a page of one of a community's registers (seals, assets, tasks) under its name: not
// cached, as the registers are short and read rarely.
func (p *Portal) registerPage(w http.ResponseWriter, r *http.Request, title, tmpl string, load func(ctx context.Context, id string) (any, error)) {
	ctx, id := r.Context(), r.PathValue("id")
	c, err := p.loadCommunityLite(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data, err := load(ctx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	crumbs := append([]Crumb{{Name: "首页", Href: "/"}}, c.Breadcrumbs...)
	p.uncached(w, http.StatusOK, page{Title: title + " · " + c.Name, Crumbs: crumbs}, tmpl, data)
}

// registerSealAPI registers the register's JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerSealAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-seals", "/communities/{id}/seals", "A community's seal register (印章使用登记)",
		"Its seals with their custodians, and every use of a seal — the document's date and title, purpose, counterparty organisation, "+
			"amount, who approved it, whether it had the joint approval and was recorded in time — the latest document first.",
		reflect.TypeFor[SealRegister]()), "seals", directory.SealsFingerprint,
		func(ctx context.Context, id string) (any, error) { return p.loadSeals(ctx, id) })
}

// registerRegisterAPI registers the JSON of one of a community's registers: cached while the register's
// fingerprint stays the same.
func (p *Portal) registerRegisterAPI(api huma.API, o huma.Operation, name string,
	fingerprint func(ctx context.Context, q directory.Querier, id string) (string, error), load func(ctx context.Context, id string) (any, error)) {
	huma.Register(api, o, func(ctx context.Context, in *CommunityParams) (*jsonOut, error) {
		if _, _, err := p.community(ctx, in.ID); err != nil {
			return nil, err
		}
		mark, err := fingerprint(ctx, p.db, in.ID)
		if err != nil {
			return nil, err
		}
		return p.respond(ctx, in.ConditionalParams, name+"|"+in.ID, mark, func() (any, string, error) {
			v, err := load(ctx, in.ID)
			return v, "", err
		})
	})
}
