package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// ErrNothingToSkip: the model is not halted at that position (not halted, halted elsewhere, or no such
// poison event).
var ErrNothingToSkip = errors.New("projection: the read model is not halted at that event")

// SkippedEvent is the poison event an operator skipped.
type SkippedEvent struct {
	Model     string
	Position  eventlog.Position
	Stream    string
	Revision  uint64
	EventID   string
	EventType string
}

// SkipPoison moves read model `model`, halted on the poison event at `at`, past that event, in one
// transaction: its checkpoint becomes the event's position, the event's row in rm_meta.poison_events is
// marked skipped with who and why, and the model is marked running. A running runtime resumes the model
// within Config.ResumeEvery (it reads its checkpoint again; nothing is restarted). The caller records the
// decision as an event (supervision.PoisonEventSkipped). Nothing changes unless the model is halted at
// exactly that event; an event skipped already is returned again (a repeated command, say after its
// recording failed) with nothing changed.
func (r *Runtime) SkipPoison(ctx context.Context, model string, at eventlog.Position, reason, by string) (SkippedEvent, error) {
	if kernel.Blank(reason) || by == "" {
		return SkippedEvent{}, errors.New("skip: a reason and who decides are required")
	}
	if f := kernel.CheckText(reason, true); f.Kind != kernel.TextOK {
		return SkippedEvent{}, fmt.Errorf("skip: the reason holds U+%04X at character %d, which a record may not hold (a control "+
			"character, a bidirectional override or what is not valid UTF-8)", f.Rune, f.At)
	}
	if err := r.migrateMeta(ctx); err != nil {
		return SkippedEvent{}, err
	}
	c, p, err := pgPos(at)
	if err != nil {
		return SkippedEvent{}, err
	}
	out := SkippedEvent{Model: model, Position: at}
	err = pgx.BeginFunc(ctx, r.cfg.Pool, func(tx pgx.Tx) error {
		var state, schema string
		err := tx.QueryRow(ctx, "SELECT state, schema_name FROM rm_meta.projections WHERE name = $1 FOR UPDATE", model).Scan(&state, &schema)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("skip: no read model %q", model)
		}
		if err != nil {
			return err
		}
		var rev int64
		var policy string
		err = tx.QueryRow(ctx, `SELECT stream, revision, event_id::text, event_type, policy FROM rm_meta.poison_events
			WHERE projection = $1 AND commit_pos = $2 AND prepare_pos = $3 AND policy IN ('halt', 'skipped')`, model, c, p).
			Scan(&out.Stream, &rev, &out.EventID, &out.EventType, &policy)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("skip %s at %s: %w (no poison event recorded there; see ledger projections)", model, at, ErrNothingToSkip)
		}
		if err != nil {
			return err
		}
		out.Revision = uint64(rev)
		if policy == "skipped" {
			return nil // skipped already: the same answer, nothing changes
		}
		if state != "halted" {
			return fmt.Errorf("skip %s at %s: %w (it is %s)", model, at, ErrNothingToSkip, state)
		}
		cp := pgx.Identifier{schema, "checkpoint"}.Sanitize()
		var cc, cpp int64
		if err := tx.QueryRow(ctx, "SELECT commit_pos, prepare_pos FROM "+cp+" FOR UPDATE").Scan(&cc, &cpp); err != nil {
			return err
		}
		if !(eventlog.Position{Commit: uint64(cc), Prepare: uint64(cpp)}).Less(at) {
			return fmt.Errorf("skip %s at %s: %w (its checkpoint %d/%d is not before it)", model, at, ErrNothingToSkip, cc, cpp)
		}
		if _, err := tx.Exec(ctx, "UPDATE "+cp+" SET commit_pos = $1, prepare_pos = $2, updated_at = now()", c, p); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE rm_meta.poison_events SET policy = 'skipped', reason = reason || $4
			WHERE projection = $1 AND commit_pos = $2 AND prepare_pos = $3`, model, c, p, " — skipped by "+by+": "+reason); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE rm_meta.projections SET state = 'running', halted_at = NULL, halt_reason = NULL WHERE name = $1", model)
		return err
	})
	if err != nil {
		return SkippedEvent{}, err
	}
	return out, nil
}
