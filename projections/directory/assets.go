package directory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Collective assets and resources (三资) as the public sees them: the register of assets, the contracts
// letting them out, and the rent received.

type assetKey struct{ community, asset string }

type contractKey struct {
	assetKey
	contract string
}

type assetRow struct {
	assetKey
	kind, name, location string
	value                int64
	registeredAt         time.Time
	registeredSrc        decode.Source
	disposedAt           pgtype.Timestamptz
	disposal             pgtype.Text
	disposalAmount       pgtype.Int8
	disposedSrc          decode.Source
	contracts            int
	income               int64
	stream               string
	lastRev              int64
	dirty                bool
}

type contractRow struct {
	contractKey
	counterparty, every, method string
	from, to, signedAt          time.Time
	rent, total, receivedFen    int64
	notBid                      bool
	resolution, meeting         pgtype.Text
	installments, received      int
	src                         decode.Source
	dirty                       bool
}

var (
	assetsTable = tables.New("assets", []string{"community_id", "asset_id"}, "",
		"community_id text", "asset_id text", "kind text", "name text", "location text", "value_fen int8", "registered_at timestamptz",
		"registered_event_id uuid", "registered_commit_pos int8", "disposed_at timestamptz", "disposal text", "disposal_amount_fen int8",
		"disposed_event_id uuid", "disposed_commit_pos int8", "contracts int4", "income_fen int8", "stream text", "last_revision int8")
	contractsTable = tables.New("asset_contracts", []string{"community_id", "asset_id", "contract_id"}, "",
		"community_id text", "asset_id text", "contract_id text", "counterparty text", "term_from timestamptz", "term_to timestamptz",
		"rent_fen int8", "every text", "total_fen int8", "method text", "not_bid bool", "resolution_id text", "meeting_id text",
		"installments int4", "received int4", "received_fen int8", "signed_at timestamptz", "event_id uuid", "commit_pos int8")
)

// assetOf is the asset an event is about, and the contract when it is about one.
func assetOf(p any) (assetID, contractID string, ok bool) {
	switch p := p.(type) {
	case asset.Registered:
		return p.AssetID, "", true
	case asset.ContractSigned:
		return p.AssetID, p.ContractID, true
	case asset.RentReceived:
		return p.AssetID, p.ContractID, true
	case asset.Disposed:
		return p.AssetID, "", true
	}
	return "", "", false
}

// assetBatch is the assets and contracts a batch's asset events touch.
type assetBatch struct {
	assets    map[assetKey]*assetRow
	contracts map[contractKey]*contractRow
}

// foldAssets loads the assets and contracts the batch's asset events touch (one round trip), folds the
// events over them and returns the rows to write. Events at or below an asset's last applied revision
// are skipped.
func foldAssets(ctx context.Context, tx pgx.Tx, evs []decode.Event) (assetBatch, error) {
	keys, err := collectKeys(evs, "asset", func(p any) (string, string) {
		assetID, contractID, _ := assetOf(p)
		return assetID, contractID
	})
	if err != nil {
		return assetBatch{}, err
	}
	ac, aa, cc, ca, ci := keys.pc, keys.pp, keys.cc, keys.cp, keys.ci
	out := assetBatch{assets: map[assetKey]*assetRow{}, contracts: map[contractKey]*contractRow{}}
	b := &pgx.Batch{}
	assetsTable.QueueLoad(b, func(rs pgx.Rows) error {
		a := &assetRow{}
		var dEv pgtype.UUID
		var dPos pgtype.Int8
		if err := rs.Scan(&a.community, &a.asset, &a.kind, &a.name, &a.location, &a.value, &a.registeredAt, &a.registeredSrc.ID,
			&a.registeredSrc.Commit, &a.disposedAt, &a.disposal, &a.disposalAmount, &dEv, &dPos, &a.contracts, &a.income, &a.stream,
			&a.lastRev); err != nil {
			return err
		}
		a.disposedSrc = decode.SourceOf(dEv, dPos)
		out.assets[a.assetKey] = a
		return nil
	}, ac, aa)
	if len(ci) > 0 {
		contractsTable.QueueLoad(b, func(rs pgx.Rows) error {
			x := &contractRow{}
			if err := rs.Scan(&x.community, &x.asset, &x.contract, &x.counterparty, &x.from, &x.to, &x.rent, &x.every, &x.total, &x.method,
				&x.notBid, &x.resolution, &x.meeting, &x.installments, &x.received, &x.receivedFen, &x.signedAt, &x.src.ID,
				&x.src.Commit); err != nil {
				return err
			}
			out.contracts[x.contractKey] = x
			return nil
		}, cc, ca, ci)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return assetBatch{}, fmt.Errorf("directory: load %d assets: %w", len(aa), err)
	}
	for _, e := range evs {
		assetID, contractID, _ := assetOf(e.Payload)
		k := assetKey{e.Community(), assetID}
		a := out.assets[k]
		if a != nil && e.Revision() <= a.lastRev {
			continue // already applied
		}
		if r, ok := e.Payload.(asset.Registered); ok {
			a = &assetRow{assetKey: k, kind: string(r.Kind), name: r.Name, location: r.Location, value: int64(r.Value),
				registeredAt: r.RegisteredAt, registeredSrc: e.Source()}
			out.assets[k] = a
		} else if a == nil {
			continue // the asset's registration was never applied (skipped as poison): nothing to attach to
		}
		a.stream, a.lastRev, a.dirty = e.Rec.Stream, e.Revision(), true
		ck := contractKey{k, contractID}
		switch p := e.Payload.(type) {
		case asset.ContractSigned:
			x := &contractRow{contractKey: ck, counterparty: p.Counterparty, every: string(p.Every), method: string(p.Method), from: p.From,
				to: p.To, signedAt: p.SignedAt, rent: int64(p.Rent), total: int64(p.Total), installments: len(p.Installments), src: e.Source(),
				dirty: true}
			for _, b := range p.Breaches {
				x.notBid = x.notBid || b.Rule == rulebook.PublicBidding
			}
			if p.Resolution != nil {
				x.resolution, x.meeting = tables.Text(p.Resolution.ID), tables.Text(p.Resolution.MeetingID)
			}
			out.contracts[ck] = x
			a.contracts++
		case asset.RentReceived:
			x := out.contracts[ck]
			if x == nil {
				return assetBatch{}, e.Poison(fmt.Errorf("the directory never saw contract %q of asset %q signed", contractID, assetID))
			}
			x.received++
			x.receivedFen += int64(p.Amount)
			x.src, x.dirty = e.Source(), true
			a.income += int64(p.Amount)
		case asset.Disposed:
			a.disposedAt, a.disposal = tables.Time(p.DisposedAt), tables.Text(string(p.How))
			a.disposalAmount, a.disposedSrc = pgtype.Int8{Int64: int64(p.Amount), Valid: true}, e.Source()
		}
	}
	return out, nil
}

// writeAssets queues the changed assets' and contracts' upserts on w.
func writeAssets(w *tables.Writer, b assetBatch) {
	as, cs := assetsTable.Rows(), contractsTable.Rows()
	for _, k := range slices.SortedFunc(maps.Keys(b.assets), compareAssets) {
		if a := b.assets[k]; a.dirty {
			as.Row().Text(a.community).Text(a.asset).Text(a.kind).Text(a.name).Text(a.location).Int8(a.value).Time(a.registeredAt).
				UUID(a.registeredSrc.ID).Int8(a.registeredSrc.Commit).NullTime(a.disposedAt).NullText(a.disposal).NullInt8(a.disposalAmount).
				UUID(a.disposedSrc.ID).NullInt8(a.disposedSrc.Pos()).Int4(int32(a.contracts)).Int8(a.income).Text(a.stream).Int8(a.lastRev)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.contracts), func(a, b contractKey) int {
		return cmp.Or(compareAssets(a.assetKey, b.assetKey), strings.Compare(a.contract, b.contract))
	}) {
		if x := b.contracts[k]; x.dirty {
			cs.Row().Text(x.community).Text(x.asset).Text(x.contract).Text(x.counterparty).Time(x.from).Time(x.to).Int8(x.rent).Text(x.every).
				Int8(x.total).Text(x.method).Bool(x.notBid).NullText(x.resolution).NullText(x.meeting).Int4(int32(x.installments)).
				Int4(int32(x.received)).Int8(x.receivedFen).Time(x.signedAt).UUID(x.src.ID).Int8(x.src.Commit)
		}
	}
	w.Upsert(as)
	w.Upsert(cs)
}

func compareAssets(a, b assetKey) int {
	return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.asset, b.asset))
}

// Asset is an asset of the register as the public sees it.
type Asset struct {
	AssetID    string
	Kind       asset.Kind
	Name       string
	Location   string
	ValueFen   int64
	Registered Step
	// Disposed is set once it left the register, with how and for how much.
	Disposed       *Step
	Disposal       asset.Disposal
	DisposalAmount int64
	Contracts      int
	IncomeFen      int64
}

// Contract is a contract letting an asset out, with the rent received so far.
type Contract struct {
	AssetID      string
	ContractID   string
	Counterparty string
	From, To     time.Time
	RentFen      int64
	Every        asset.Period
	TotalFen     int64
	Method       asset.Method
	NotBid       bool
	ResolutionID string
	MeetingID    string
	Installments int
	Received     int
	ReceivedFen  int64
	SignedAt     time.Time
	EventID      eventlog.ID
	Commit       uint64
}

// AssetRegister returns a community's assets by id and their contracts, the latest signed first.
func AssetRegister(ctx context.Context, q Querier, communityID string) ([]Asset, []Contract, error) {
	as, err := tables.Collect(ctx, q, "directory", "assets of "+communityID, `SELECT asset_id, kind, name, location, value_fen, registered_at,
		registered_event_id, registered_commit_pos, disposed_at, coalesce(disposal, ''), coalesce(disposal_amount_fen, 0), disposed_event_id,
		disposed_commit_pos, contracts, income_fen FROM `+pgx.Identifier{Schema, "assets"}.Sanitize()+` WHERE community_id = $1 ORDER BY asset_id`,
		func(rs pgx.Rows) (Asset, error) {
			var a Asset
			var kind, disposal string
			var rEv, dEv pgtype.UUID
			var rPos int64
			var dPos pgtype.Int8
			var dAt pgtype.Timestamptz
			err := rs.Scan(&a.AssetID, &kind, &a.Name, &a.Location, &a.ValueFen, &a.Registered.At, &rEv, &rPos, &dAt, &disposal, &a.DisposalAmount,
				&dEv, &dPos, &a.Contracts, &a.IncomeFen)
			a.Kind, a.Disposal = asset.Kind(kind), asset.Disposal(disposal)
			a.Registered = Step{At: a.Registered.At.UTC(), EventID: rEv.Bytes, Commit: uint64(rPos)}
			a.Disposed = tables.StepOf(dAt, dEv, dPos)
			return a, err
		}, communityID)
	if err != nil {
		return nil, nil, err
	}
	cs, err := tables.Collect(ctx, q, "directory", "contracts of "+communityID, `SELECT asset_id, contract_id, counterparty, term_from, term_to,
		rent_fen, every, total_fen, method, not_bid, coalesce(resolution_id, ''), coalesce(meeting_id, ''), installments, received, received_fen,
		signed_at, event_id, commit_pos FROM `+pgx.Identifier{Schema, "asset_contracts"}.Sanitize()+` WHERE community_id = $1
		ORDER BY signed_at DESC, asset_id, contract_id`, func(rs pgx.Rows) (Contract, error) {
		var x Contract
		var every, method string
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&x.AssetID, &x.ContractID, &x.Counterparty, &x.From, &x.To, &x.RentFen, &every, &x.TotalFen, &method, &x.NotBid,
			&x.ResolutionID, &x.MeetingID, &x.Installments, &x.Received, &x.ReceivedFen, &x.SignedAt, &ev, &pos)
		x.Every, x.Method = asset.Period(every), asset.Method(method)
		x.From, x.To, x.SignedAt, x.EventID, x.Commit = x.From.UTC(), x.To.UTC(), x.SignedAt.UTC(), ev.Bytes, uint64(pos)
		return x, err
	}, communityID)
	return as, cs, err
}

// AssetsFingerprint is a value that changes whenever community id's asset register changes.
func AssetsFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	return registerFingerprint(ctx, q, "assets", id)
}
