package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Meetings (会议): one stream per meeting, meeting-<communityID>-<meetingID>, with its attendance,
// motions, votes, resolutions and minutes.

// meetings are the meeting streams of a community.
var meetings = kind[*meeting.Meeting]{"meeting_id", meeting.Stream, meeting.Rehydrate}

// ConveneMeeting records that a meeting took place (召开会议). For an assembly (村民会议/居民会议) the
// number expected is the community's registered adult population (basis adults) or household count
// (basis households), taken from the registry so that the quorum is counted against the official figure;
// for other meetings it is the number of members or invitees.
type ConveneMeeting struct {
	CommunityID string        `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID   string        `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the meeting, e.g. 2026-assembly-1"`
	Kind        meeting.Kind  `json:"kind" doc:"assembly 村(居)民会议, representatives 代表会议, joint 两委联席会议, deliberation 议事协商会, hearing 听证会, evaluation 民主评议"`
	Title       string        `json:"title" minLength:"1" maxLength:"256" doc:"Title of the meeting"`
	Basis       meeting.Basis `json:"basis" doc:"What attendance counts: adults or households (assembly), members (representatives' meeting), invitees (others)"`
	Expected    int           `json:"expected,omitempty" minimum:"1" maximum:"1000000" doc:"How many were expected; for an assembly it defaults to, and must equal, the registered adults or households"`
	TopicID     string        `json:"topic_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The deliberation topic this meeting deliberates, if any (must be collected)"`
	HeldAt      time.Time     `json:"held_at,omitzero" doc:"When the meeting took place (RFC 3339); default now"`
}

// ConveneMeeting handles convene-meeting.
func (h *Handlers) ConveneMeeting(ctx context.Context, m Meta, c ConveneMeeting) (Result, error) {
	if c.TopicID != "" {
		if err := checkID(c.TopicID, "topic_id"); err != nil {
			return Result{}, err
		}
	}
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
		expected, err := expectedAt(c, f.Community.Figures())
		if err != nil {
			return nil, err
		}
		if c.TopicID != "" {
			if _, err := h.topic(ctx, f.Community.ID(), c.TopicID, "topic_id"); err != nil {
				return nil, err
			}
		}
		p, err := f.Rules()
		if err != nil {
			return nil, err
		}
		return mt.Convene(meeting.Convene{
			MeetingID: c.MeetingID, Kind: c.Kind, Title: c.Title, Basis: c.Basis,
			Expected: expected, TopicID: c.TopicID, HeldAt: c.HeldAt, Params: &p,
		}, f.Now)
	})
}

// expectedAt is the number a meeting's quorum is counted against: for an assembly, the registered figure
// of its basis.
func expectedAt(c ConveneMeeting, f community.Figures) (int, error) {
	if c.Kind != meeting.Assembly {
		return c.Expected, nil
	}
	var registered int
	switch c.Basis {
	case meeting.BasisAdults:
		registered = f.Adults
	case meeting.BasisHouseholds:
		registered = f.Households
	default:
		return c.Expected, nil // the domain refuses the basis
	}
	if c.Expected != 0 && c.Expected != registered {
		return 0, kernel.Invalid("expected-not-registered-figure", "expected",
			fmt.Sprintf("村(居)民会议应到人数须为登记数%d；如登记数已变化，请先更新社区户数与人口", registered))
	}
	return registered, nil
}

// RecordAttendance records how many were present, in the meeting's basis (登记到会人数); a later record
// replaces an earlier one.
type RecordAttendance struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID   string `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	Present     int    `json:"present" minimum:"0" maximum:"1000000" doc:"How many were present (实到)"`
}

// RecordAttendance handles record-attendance.
func (h *Handlers) RecordAttendance(ctx context.Context, m Meta, c RecordAttendance) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
		return mt.RecordAttendance(c.Present, f.Now)
	})
}

// TableMotion records a motion put to the meeting (提出议案).
type TableMotion struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID   string `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	MotionID    string `json:"motion_id" minLength:"1" maxLength:"64" doc:"Id of the motion within the meeting"`
	Title       string `json:"title" minLength:"1" maxLength:"256" doc:"Title of the motion"`
	Text        string `json:"text,omitempty" maxLength:"20000" doc:"Text of the motion"`
}

// TableMotion handles table-motion.
func (h *Handlers) TableMotion(ctx context.Context, m Meta, c TableMotion) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
		return mt.TableMotion(c.MotionID, c.Title, c.Text, f.Now)
	})
}

// RecordVote records the vote on a motion (表决). Enforced for a passed outcome: the meeting had its
// quorum and more than half of those present voted for (thresholds from the rulebook in force).
type RecordVote struct {
	CommunityID string          `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID   string          `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	MotionID    string          `json:"motion_id" minLength:"1" maxLength:"64" doc:"The motion voted on"`
	For         int             `json:"for" minimum:"0" maximum:"1000000" doc:"Votes for (赞成)"`
	Against     int             `json:"against" minimum:"0" maximum:"1000000" doc:"Votes against (反对)"`
	Abstain     int             `json:"abstain" minimum:"0" maximum:"1000000" doc:"Abstentions (弃权)"`
	Outcome     meeting.Outcome `json:"outcome" doc:"passed 通过 or failed 未通过"`
}

// RecordVote handles record-vote.
func (h *Handlers) RecordVote(ctx context.Context, m Meta, c RecordVote) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, ruled(func(mt *meeting.Meeting, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return mt.RecordVote(meeting.RecordVote{MotionID: c.MotionID, For: c.For, Against: c.Against, Abstain: c.Abstain, Outcome: c.Outcome}, p, f.Now)
	}))
}

// AdoptResolution records a resolution (决议) adopted on a passed motion; it counts as adopted when the
// vote was recorded. A resolution on major spending names the most it authorises (ceiling_fen); an
// expenditure approval cites it by meeting_id and resolution_id.
type AdoptResolution struct {
	CommunityID  string          `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID    string          `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	ResolutionID string          `json:"resolution_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the resolution within the meeting"`
	MotionID     string          `json:"motion_id" minLength:"1" maxLength:"64" doc:"The passed motion"`
	Subject      meeting.Subject `json:"subject" doc:"major-spending 重大开支, asset-disposal 固定资产处置, homestead-allocation 宅基地划分, large-contract 较大经济合同, other"`
	CeilingFen   int64           `json:"ceiling_fen,omitempty" minimum:"0" maximum:"10000000000000" doc:"Most it authorises to spend, in fen (分); required for major spending. The expenditures approved under the resolution never exceed it together"`
	Project      string          `json:"project,omitempty" maxLength:"128" doc:"The project (工程/项目) it authorises spending on; expenditures citing it must belong to that project"`
	Text         string          `json:"text" minLength:"1" maxLength:"20000" doc:"Text of the resolution"`
}

// AdoptResolution handles adopt-resolution.
func (h *Handlers) AdoptResolution(ctx context.Context, m Meta, c AdoptResolution) (Result, error) {
	if err := checkID(c.ResolutionID, "resolution_id"); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
		return mt.AdoptResolution(meeting.AdoptResolution{
			ResolutionID: c.ResolutionID, MotionID: c.MotionID, Subject: c.Subject,
			Ceiling: kernel.Fen(c.CeilingFen), Project: c.Project, Text: c.Text,
		}, f.Now)
	})
}

// RecordMinutes records the minutes (会议记录) by the SHA-256 of the document, at the time of the
// command. Watched: within 48 hours of the end of the meeting by default.
type RecordMinutes struct {
	CommunityID    string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID      string `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	DocumentSHA256 string `json:"document_sha256" pattern:"^[0-9a-f]{64}$" doc:"SHA-256 of the minutes document, lower-case hex"`
}

// RecordMinutes handles record-minutes.
func (h *Handlers) RecordMinutes(ctx context.Context, m Meta, c RecordMinutes) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, ruled(func(mt *meeting.Meeting, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return mt.RecordMinutes(c.DocumentSHA256, p, f.Now)
	}))
}

// CloseMeeting records the end of the meeting (散会); only minutes may follow.
type CloseMeeting struct {
	CommunityID string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	MeetingID   string    `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The meeting"`
	ClosedAt    time.Time `json:"closed_at,omitzero" doc:"When the meeting ended (RFC 3339); default now"`
}

// CloseMeeting handles close-meeting.
func (h *Handlers) CloseMeeting(ctx context.Context, m Meta, c CloseMeeting) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, meetings, c.MeetingID, ruled(func(mt *meeting.Meeting, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return mt.Close(c.ClosedAt, f.Now, p)
	}))
}

// convened looks up a meeting of the community: its convening, or a NotFound error naming field.
func (h *Handlers) convened(ctx context.Context, communityID kernel.CommunityID, meetingID, field string) ([]kernel.Event, error) {
	history, err := h.x.Load(ctx, meeting.Stream(communityID, meetingID))
	if err != nil {
		return nil, fmt.Errorf("look up meeting %s: %w", meetingID, err)
	}
	if !meeting.Rehydrate(history).Exists() {
		return nil, meeting.ErrMeetingNotFound.WithField(field).WithMsg("会议 %s 尚未登记", meetingID)
	}
	return history, nil
}

// resolution looks up a resolution adopted by a meeting of the community, or a NotFound error naming the
// meeting or resolution field.
func (h *Handlers) resolution(ctx context.Context, communityID kernel.CommunityID, meetingID, resolutionID, meetingField, resolutionField string) (meeting.ResolutionAdopted, error) {
	history, err := h.convened(ctx, communityID, meetingID, meetingField)
	if err != nil {
		return meeting.ResolutionAdopted{}, err
	}
	for _, e := range history {
		if r, ok := e.(meeting.ResolutionAdopted); ok && r.ResolutionID == resolutionID {
			h.log.LogAttrs(ctx, slog.LevelDebug, "resolution found", slog.String("meeting_id", meetingID),
				slog.String("resolution_id", resolutionID), slog.String("subject", string(r.Subject)))
			return r, nil
		}
	}
	return meeting.ResolutionAdopted{}, kernel.NotFound("resolution-not-found",
		fmt.Sprintf("会议 %s 没有编号为 %s 的决议", meetingID, resolutionID)).WithField(resolutionField)
}

// authority reads the resolution a major matter names (a contract sealed, an asset let or disposed of), or
// nil when it names none. It runs inside the decision, once the command was admitted on the community: a
// caller out of scope learns nothing about its meetings.
func (h *Handlers) authority(ctx context.Context, communityID kernel.CommunityID, meetingID, resolutionID string) (*meeting.Authority, error) {
	if resolutionID == "" {
		return nil, nil
	}
	r, err := h.resolution(ctx, communityID, meetingID, resolutionID, "meeting_id", "resolution_id")
	if err != nil {
		return nil, err
	}
	return &meeting.Authority{ID: r.ResolutionID, MeetingID: r.MeetingID, MeetingKind: r.MeetingKind, AdoptedAt: r.AdoptedAt}, nil
}
