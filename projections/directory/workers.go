package directory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Community workers (社区工作者) as the public sees them: the roster by post, never by name.

var (
	workerRostersTable = tables.New("worker_rosters", []string{"community_id"}, "",
		"community_id text", "posts int4", "stream text", "last_revision int8", "event_id uuid", "commit_pos int8")
	workersTable = tables.New("workers", []string{"community_id", "worker_id"}, "",
		"community_id text", "worker_id text", "series text", "grade int4", "member bool", "hired_at timestamptz", "left_at timestamptz",
		"leave_reason text", "event_id uuid", "commit_pos int8")
	workerTrainingsTable = tables.New("worker_trainings", []string{"community_id", "worker_id", "training_id"}, "",
		"community_id text", "worker_id text", "training_id text", "course text", "hours int4", "trained_at timestamptz", "event_id uuid",
		"commit_pos int8")
)

func isWorker(p any) bool {
	switch p.(type) {
	case worker.Hired, worker.PostChanged, worker.Trained, worker.Left:
		return true
	}
	return false
}

type rosterRow struct {
	community, stream string
	posts             int
	lastRev           int64
	src               decode.Source
}

type workerRow struct {
	community, id, series string
	grade                 int
	member                bool
	hiredAt               time.Time
	leftAt                pgtype.Timestamptz
	reason                pgtype.Text
	src                   decode.Source
}

// workerBatch is the rows a batch's roster events write.
type workerBatch struct {
	rosters   map[string]*rosterRow
	workers   map[[2]string]*workerRow
	trainings *tables.Rows
}

// foldWorkers reads the rosters and workers of the batch's communities (one round trip), skips events
// at or below a roster's last applied revision, and folds the rest over them.
func foldWorkers(ctx context.Context, tx pgx.Tx, evs []decode.Event) (workerBatch, error) {
	var ids []string
	for _, e := range evs {
		if err := decode.RequireCommunity(e); err != nil {
			return workerBatch{}, err
		}
		if e.Rec.Stream != worker.Stream(kernel.CommunityID(e.Community())) {
			return workerBatch{}, e.Poison(fmt.Errorf("a roster event in stream %q: %w", e.Rec.Stream, decode.ErrEnvelope))
		}
		if !slices.Contains(ids, e.Community()) {
			ids = append(ids, e.Community())
		}
	}
	b := workerBatch{rosters: map[string]*rosterRow{}, workers: map[[2]string]*workerRow{}, trainings: workerTrainingsTable.Rows()}
	q := &pgx.Batch{}
	q.Queue(`SELECT `+workerRostersTable.Select("")+` FROM worker_rosters WHERE community_id = ANY($1)`, ids).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			r := &rosterRow{}
			if err := rs.Scan(&r.community, &r.posts, &r.stream, &r.lastRev, &r.src.ID, &r.src.Commit); err != nil {
				return err
			}
			b.rosters[r.community] = r
		}
		return rs.Err()
	})
	q.Queue(`SELECT `+workersTable.Select("")+` FROM workers WHERE community_id = ANY($1)`, ids).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			w := &workerRow{}
			if err := rs.Scan(&w.community, &w.id, &w.series, &w.grade, &w.member, &w.hiredAt, &w.leftAt, &w.reason, &w.src.ID, &w.src.Commit); err != nil {
				return err
			}
			b.workers[[2]string{w.community, w.id}] = w
		}
		return rs.Err()
	})
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return workerBatch{}, fmt.Errorf("directory: load rosters: %w", err)
	}
	for _, e := range evs {
		c := e.Community()
		r := b.rosters[c]
		if r != nil && e.Revision() <= r.lastRev {
			continue // already applied
		}
		if r == nil {
			r = &rosterRow{community: c}
			b.rosters[c] = r
		}
		r.stream, r.lastRev, r.src = e.Rec.Stream, e.Revision(), e.Source()
		at := func(id string) *workerRow { return b.workers[[2]string{c, id}] }
		switch p := e.Payload.(type) {
		case worker.Hired:
			// p.Person and p.Personal (the name) are deliberately dropped: the public sees posts, not people.
			if err := decode.Int32s(e, p.Post.Grade, p.Posts); err != nil {
				return workerBatch{}, err
			}
			r.posts = p.Posts
			b.workers[[2]string{c, p.WorkerID}] = &workerRow{community: c, id: p.WorkerID, series: string(p.Post.Series), grade: p.Post.Grade,
				member: p.Member, hiredAt: p.HiredAt, src: e.Source()}
		case worker.PostChanged:
			if err := decode.Int32s(e, p.To.Grade); err != nil {
				return workerBatch{}, err
			}
			if w := at(p.WorkerID); w != nil {
				w.series, w.grade, w.src = string(p.To.Series), p.To.Grade, e.Source()
			}
		case worker.Trained:
			if err := decode.Int32s(e, p.Hours); err != nil {
				return workerBatch{}, err
			}
			b.trainings.Row().Text(c).Text(p.WorkerID).Text(p.TrainingID).Text(p.Course).Int4(int32(p.Hours)).Time(p.TrainedAt).
				UUID(e.Source().ID).Int8(e.Source().Commit)
		case worker.Left:
			if err := decode.Int32s(e, p.Posts); err != nil {
				return workerBatch{}, err
			}
			r.posts = p.Posts
			if w := at(p.WorkerID); w != nil {
				w.leftAt, w.reason, w.src = tables.Time(p.LeftAt), tables.Text(string(p.Reason)), e.Source()
			}
		}
	}
	return b, nil
}

func writeWorkers(w *tables.Writer, b workerBatch) {
	if b.rosters == nil {
		return
	}
	rosters, workers := workerRostersTable.Rows(), workersTable.Rows()
	for _, c := range slices.Sorted(maps.Keys(b.rosters)) {
		r := b.rosters[c]
		if r.stream == "" {
			continue
		}
		rosters.Row().Text(r.community).Int4(int32(r.posts)).Text(r.stream).Int8(r.lastRev).UUID(r.src.ID).Int8(r.src.Commit)
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.workers), compareKeys) {
		x := b.workers[k]
		workers.Row().Text(x.community).Text(x.id).Text(x.series).Int4(int32(x.grade)).Bool(x.member).Time(x.hiredAt).NullTime(x.leftAt).
			NullText(x.reason).UUID(x.src.ID).Int8(x.src.Commit)
	}
	w.Upsert(rosters)
	w.Upsert(workers)
	w.Upsert(b.trainings)
}

// Workforce is a community's workers as the public sees them: how many hold which post, the posts (职数)
// the community has, and the training they had — never a name.
type Workforce struct {
	// Active is the number of workers on the roster; Members of them also sit on the committee.
	Active, Members int
	// Posts is the community's posts (职数) under staffing-limit, as the last roster event stated them.
	Posts int
	// ByPost counts the workers on the roster by post, head first, then by grade.
	ByPost []PostCount
	// Hired and Left count the hires and departures of each year, newest year first; Training the hours.
	Years []WorkforceYear
	// EventID and Commit are the roster's last event.
	EventID eventlog.ID
	Commit  uint64
}

// PostCount is how many workers hold one post.
type PostCount struct {
	Post  worker.Post
	Count int
}

// WorkforceYear is a year of a community's roster: hires, departures, training hours and courses.
type WorkforceYear struct {
	Year                 int
	Hired, Left          int
	TrainingHours        int
	Trainings, Attendees int
}

// WorkforceOf returns the workers of a community, or ErrNotFound when it recorded none.
func WorkforceOf(ctx context.Context, q Querier, communityID string) (Workforce, error) {
	var wf Workforce
	var ev pgtype.UUID
	var pos int64
	rows, err := q.Query(ctx, `SELECT posts, event_id, commit_pos FROM `+pgx.Identifier{Schema, "worker_rosters"}.Sanitize()+` WHERE community_id = $1`, communityID)
	if err != nil {
		return wf, fmt.Errorf("directory: roster of %s: %w", communityID, err)
	}
	n := 0
	if _, err := pgx.ForEachRow(rows, []any{&wf.Posts, &ev, &pos}, func() error { n++; return nil }); err != nil {
		return wf, fmt.Errorf("directory: roster of %s: %w", communityID, err)
	}
	if n == 0 {
		return wf, ErrNotFound
	}
	wf.EventID, wf.Commit = ev.Bytes, uint64(pos)
	cst := kernel.ChinaTime()
	years := map[int]*WorkforceYear{}
	year := func(t time.Time) *WorkforceYear {
		y := t.In(cst).Year()
		if years[y] == nil {
			years[y] = &WorkforceYear{Year: y}
		}
		return years[y]
	}
	posts := map[worker.Post]int{}
	rows, err = q.Query(ctx, `SELECT series, grade, member, hired_at, left_at FROM `+pgx.Identifier{Schema, "workers"}.Sanitize()+` WHERE community_id = $1`, communityID)
	if err != nil {
		return wf, fmt.Errorf("directory: workers of %s: %w", communityID, err)
	}
	var series string
	var grade int
	var member bool
	var hired time.Time
	var left pgtype.Timestamptz
	if _, err := pgx.ForEachRow(rows, []any{&series, &grade, &member, &hired, &left}, func() error {
		year(hired).Hired++
		if left.Valid {
			year(left.Time).Left++
			return nil
		}
		wf.Active++
		if member {
			wf.Members++
		}
		posts[worker.Post{Series: worker.Series(series), Grade: grade}]++
		return nil
	}); err != nil {
		return wf, fmt.Errorf("directory: workers of %s: %w", communityID, err)
	}
	rows, err = q.Query(ctx, `SELECT worker_id, hours, trained_at FROM `+pgx.Identifier{Schema, "worker_trainings"}.Sanitize()+` WHERE community_id = $1`, communityID)
	if err != nil {
		return wf, fmt.Errorf("directory: trainings of %s: %w", communityID, err)
	}
	attendees := map[int]map[string]bool{}
	var id string
	var hours int
	var trained time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &hours, &trained}, func() error {
		y := year(trained)
		y.TrainingHours += hours
		y.Trainings++
		if attendees[y.Year] == nil {
			attendees[y.Year] = map[string]bool{}
		}
		attendees[y.Year][id] = true
		return nil
	}); err != nil {
		return wf, fmt.Errorf("directory: trainings of %s: %w", communityID, err)
	}
	for y, a := range attendees {
		years[y].Attendees = len(a)
	}
	for _, p := range slices.SortedFunc(maps.Keys(posts), func(a, b worker.Post) int {
		if d := slices.Index(worker.SeriesList(), a.Series) - slices.Index(worker.SeriesList(), b.Series); d != 0 {
			return d
		}
		return b.Grade - a.Grade
	}) {
		wf.ByPost = append(wf.ByPost, PostCount{Post: p, Count: posts[p]})
	}
	for _, y := range slices.Backward(slices.Sorted(maps.Keys(years))) {
		wf.Years = append(wf.Years, *years[y])
	}
	return wf, nil
}

// WorkersFingerprint changes whenever a community's roster does.
func WorkersFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	return registerFingerprint(ctx, q, "worker_rosters", id)
}
