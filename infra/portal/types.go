package portal

import (
	"strconv"
	"time"
)

// The public shapes: what the JSON API serves and the pages render. Every field is chosen here, one by
// one, from the read models' rows: a read model's struct is never serialised as it is, so a column added
// to a model never reaches the public by accident. Free texts pass through Redact; times are Asia/Shanghai.

// Source is where a figure came from: the event's id and its position in $all, and the public page of
// that event.
type Source struct {
	EventID  string `json:"event_id" doc:"The event's id (UUID)"`
	Position uint64 `json:"position" doc:"The event's commit position in $all"`
	Href     string `json:"href" doc:"The public page of the event: /events/{position}"`
}

func src(id string, position uint64) *Source {
	if position == 0 {
		return nil
	}
	return &Source{EventID: id, Position: position, Href: eventHref(position)}
}

func eventHref(position uint64) string { return "/events/" + strconv.FormatUint(position, 10) }

func local(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(cst)
}

func localPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	l := t.In(cst)
	return &l
}

// Money is an amount in fen with its display in yuan.
type Money struct {
	Fen  int64  `json:"fen" doc:"Amount in fen (分)"`
	Text string `json:"text" doc:"The amount in yuan as shown: ¥1,234.56"`
}

func money(fen int64) Money { return Money{Fen: fen, Text: Yuan(fen)} }

// Freshness says how up to date the data is.
type Freshness struct {
	DataAsOf *time.Time `json:"data_as_of" doc:"Every event recorded up to this instant is included (null before any)"`
	Text     string     `json:"text" doc:"数据更新至 …（北京时间）"`
	Halted   []string   `json:"halted,omitempty" doc:"Read models stopped on an event they cannot apply: their data is older"`
}

// Crumb is an ancestor in the jurisdiction tree.
type Crumb struct {
	Path string `json:"path"`
	Name string `json:"name"`
	Href string `json:"href"`
}

// Node is a node of the jurisdiction tree (市、区/县、街道/镇、社区/村).
type Node struct {
	Path        string  `json:"path"`
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Level       int     `json:"level" doc:"1 province, 2 city, 3 district/county, 4 street/township, 5 community/village"`
	LevelName   string  `json:"level_name"`
	Community   bool    `json:"community"`
	CommunityID string  `json:"community_id,omitempty"`
	Kind        string  `json:"kind,omitempty" doc:"urban (社区) or rural (村), for communities"`
	KindName    string  `json:"kind_name,omitempty"`
	Households  int     `json:"households,omitempty"`
	Adults      int     `json:"adults,omitempty"`
	Rating      *Rating `json:"rating,omitempty" doc:"For communities, when ratings are enabled"`
	// Dashboard counts the communities under a node that is not a community, by rating.
	Dashboard *Dashboard `json:"dashboard,omitempty" doc:"For a district, street or other node: its communities by rating and its open alerts"`
	Href      string     `json:"href" doc:"The HTML page"`
	APIHref   string     `json:"api_href" doc:"The JSON of the node's children, or the community summary"`
	Source    *Source    `json:"source,omitempty"`
}

// NodeList is a page of the tree.
type NodeList struct {
	Parent      string  `json:"parent" doc:"The parent's path; empty at the top"`
	Breadcrumbs []Crumb `json:"breadcrumbs"`
	Nodes       []Node  `json:"nodes"`
	// RatingsEnabled is false while the alert engine's ratings are not available.
	RatingsEnabled bool   `json:"ratings_enabled"`
	Next           string `json:"next,omitempty" doc:"The next page, when there is one"`
	// Flagged are the communities under the parent rated red or yellow, red first (at most 50).
	Flagged []Flagged `json:"flagged,omitempty" doc:"The communities under the parent rated red or yellow, red first (at most 50)"`
}

// Dashboard is a node's communities by rating (红黄绿) and its open alerts.
type Dashboard struct {
	Communities int `json:"communities"`
	Red         int `json:"red"`
	Yellow      int `json:"yellow"`
	Green       int `json:"green"`
	OpenAlerts  int `json:"open_alerts"`
}

// Flagged is a community rated red or yellow, on its district's or street's page.
type Flagged struct {
	CommunityID string  `json:"community_id"`
	Name        string  `json:"name"`
	Href        string  `json:"href"`
	Rating      *Rating `json:"rating"`
}

// Rating is a community's red/yellow/green rating (红黄绿三色预警).
type Rating struct {
	Rating     string     `json:"rating" enum:"green,yellow,red"`
	Label      string     `json:"label"`
	OpenRed    int        `json:"open_red"`
	OpenYellow int        `json:"open_yellow"`
	ChangedAt  *time.Time `json:"changed_at,omitempty"`
}

// Alert is an open supervision alert (督查预警).
type Alert struct {
	AlertID  string     `json:"alert_id"`
	Rule     string     `json:"rule"`
	Title    string     `json:"title" doc:"The rule, in Chinese"`
	Severity string     `json:"severity" enum:"red,yellow"`
	Detail   string     `json:"detail" doc:"What broke the rule, in Chinese, naming the records it is about (not by id)"`
	Href     string     `json:"href,omitempty" doc:"The page of the record the alert is about"`
	DueAt    *time.Time `json:"due_at,omitempty"`
	RaisedAt time.Time  `json:"raised_at"`
	Source   *Source    `json:"source,omitempty"`
}

// Committee is the sitting committee by counts; members are never named.
type Committee struct {
	Term       string  `json:"term,omitempty"`
	Members    int     `json:"members"`
	FullTime   int     `json:"full_time"`
	Chairs     int     `json:"chairs"`
	ViceChairs int     `json:"vice_chairs"`
	Source     *Source `json:"source,omitempty"`
	// Roster names the members and their roles: the chair, the vice-chairs, the members.
	Roster []RosterMember `json:"roster"`
}

// RosterMember is a sitting member by public display name (the person id when none was recorded) and
// role: a public act of office, never personal data.
type RosterMember struct {
	Office
	Since  time.Time `json:"since"`
	Source *Source   `json:"source"`
}

// Office is a person in a public office or standing for one: the public display name recorded on the
// nomination or the seat (公示姓名; the person id when none was), the role and whether full time.
type Office struct {
	PersonID string `json:"person_id"`
	Name     string `json:"name"`
	Role     string `json:"role,omitempty"`
	RoleName string `json:"role_name,omitempty"`
	FullTime bool   `json:"full_time"`
}

// CommunityLinks are the community's records, as JSON.
type CommunityLinks struct {
	Page      string `json:"page"`
	Notices   string `json:"notices"`
	Finances  string `json:"finances"`
	Payments  string `json:"payments"`
	Elections string `json:"elections"`
	Meetings  string `json:"meetings"`
	Topics    string `json:"topics"`
	Alerts    string `json:"alerts"`
}

// Community is a community's summary.
type Community struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Kind        string         `json:"kind" enum:"urban,rural"`
	KindName    string         `json:"kind_name"`
	Path        string         `json:"path"`
	Breadcrumbs []Crumb        `json:"breadcrumbs"`
	Households  int            `json:"households"`
	Adults      int            `json:"adults"`
	FiguresAt   time.Time      `json:"figures_at"`
	Figures     *Source        `json:"figures_source,omitempty"`
	Registered  *Source        `json:"registered_source,omitempty"`
	Committee   Committee      `json:"committee"`
	Rating      *Rating        `json:"rating,omitempty" doc:"Null while ratings are not enabled"`
	RatingsOn   bool           `json:"ratings_enabled"`
	OpenAlerts  []Alert        `json:"open_alerts"`
	Freshness   *Freshness     `json:"freshness,omitempty"`
	Links       CommunityLinks `json:"links"`
}

// Attachment is a document attached to a notice, by name and hash.
type Attachment struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Notice is a notice of the public board (村务公开/居务公开).
type Notice struct {
	NoticeID     string     `json:"notice_id"`
	Category     string     `json:"category"`
	CategoryName string     `json:"category_name"`
	Status       string     `json:"status" enum:"published,corrected,withdrawn"`
	StatusName   string     `json:"status_name"`
	Title        string     `json:"title"`
	Text         string     `json:"text"`
	PeriodFrom   time.Time  `json:"period_from"`
	PeriodTo     time.Time  `json:"period_to"`
	PublishedAt  time.Time  `json:"published_at"`
	Version      int        `json:"version" doc:"1 as published, then one more per correction (更正)"`
	VersionAt    time.Time  `json:"version_at"`
	Correction   string     `json:"correction_reason,omitempty"`
	WindowStart  time.Time  `json:"window_start" doc:"Publicity window (公示期)"`
	WindowEnd    time.Time  `json:"window_end"`
	WindowOpen   bool       `json:"window_open" doc:"The publicity window contains the time of the answer"`
	Source       *Source    `json:"source"`
	WithdrawnAt  *time.Time `json:"withdrawn_at,omitempty"`
	Withdrawal   string     `json:"withdrawal_reason,omitempty"`
	WithdrawnSrc *Source    `json:"withdrawn_source,omitempty"`
	Objections   Objections `json:"objections"`
	Href         string     `json:"href" doc:"The notice's page with its history"`
	APIHref      string     `json:"api_href"`
}

// Objections counts the objections raised on a notice and those answered: never who objected.
type Objections struct {
	Raised   int     `json:"raised"`
	Answered int     `json:"answered"`
	Source   *Source `json:"source,omitempty"`
}

// NoticeList is a page of a community's notices, newest first.
type NoticeList struct {
	CommunityID string   `json:"community_id"`
	Notices     []Notice `json:"notices"`
	Next        string   `json:"next,omitempty"`
	// Category and Year are the filter applied (empty, 0: none); Years are the years with notices.
	Category string `json:"category,omitempty"`
	Year     int    `json:"year,omitempty"`
	Years    []int  `json:"years" doc:"The years in which the community published notices, newest first"`
}

// NoticeVersion is one version of a notice.
type NoticeVersion struct {
	Version     int          `json:"version"`
	Title       string       `json:"title"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"`
	WindowStart time.Time    `json:"window_start"`
	WindowEnd   time.Time    `json:"window_end"`
	Reason      string       `json:"reason,omitempty" doc:"Why it corrects the previous version"`
	At          time.Time    `json:"at"`
	Source      *Source      `json:"source"`
	// Log is where the version's event stands in the transparency log, when the ledger keeps one: what a
	// printed notice carries (leaf, event hash) so anyone can check it against a signed checkpoint.
	Log *LogInclusion `json:"log,omitempty"`
}

// ObjectionTimes is one objection by times only.
type ObjectionTimes struct {
	RaisedAt   time.Time  `json:"raised_at"`
	Raised     *Source    `json:"raised_source"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	Answered   *Source    `json:"answered_source,omitempty"`
	Answer     string     `json:"answer,omitempty" doc:"The committee's answer, public (never the objector)"`
	Concerning string     `json:"concerning,omitempty" doc:"An objection to a candidate list: the candidate it concerns, by public name"`
}

// NoticeHistory is a notice with every version and its objections by times.
type NoticeHistory struct {
	CommunityID   string           `json:"community_id"`
	CommunityName string           `json:"community_name"`
	Notice        Notice           `json:"notice"`
	Versions      []NoticeVersion  `json:"versions"`
	Objections    []ObjectionTimes `json:"objections"`
}

// CategoryTotals is budget against spending of one category of a fiscal year.
type CategoryTotals struct {
	Category     string         `json:"category"`
	CategoryName string         `json:"category_name"`
	Allocated    Money          `json:"allocated" doc:"Budget allocated (拨款)"`
	BySource     []SourceAmount `json:"allocated_by_source"`
	Requested    Money          `json:"requested"`
	Approved     Money          `json:"approved"`
	Paid         Money          `json:"paid"`
	Payments     int            `json:"payments"`
	Source       *Source        `json:"source,omitempty" doc:"The newest event that changed these totals"`
}

// SourceAmount is an amount from one funding source (资金来源).
type SourceAmount struct {
	Source     string `json:"source"`
	SourceName string `json:"source_name"`
	Amount     Money  `json:"amount"`
}

// Finances is a community's fiscal year by category.
type Finances struct {
	CommunityID string           `json:"community_id"`
	FiscalYear  int              `json:"fiscal_year"`
	Years       []int            `json:"years" doc:"Fiscal years with figures, the latest first"`
	Categories  []CategoryTotals `json:"categories"`
	Allocated   Money            `json:"allocated"`
	Paid        Money            `json:"paid"`
	Payments    string           `json:"payments" doc:"The year's payment list (JSON)"`
}

// Payment is one payment line. An individual payee appears only as a masked name (张*).
type Payment struct {
	ExpenditureID string    `json:"expenditure_id"`
	FiscalYear    int       `json:"fiscal_year"`
	Category      string    `json:"category"`
	CategoryName  string    `json:"category_name"`
	Kind          string    `json:"kind"`
	KindName      string    `json:"kind_name"`
	Purpose       string    `json:"purpose"`
	Amount        Money     `json:"amount"`
	PayeeKind     string    `json:"payee_kind" enum:"organisation,individual"`
	Payee         string    `json:"payee" doc:"The organisation, or the individual's masked name"`
	VoucherNo     string    `json:"voucher_no"`
	PaidAt        time.Time `json:"paid_at"`
	ResolutionID  string    `json:"resolution_id,omitempty"`
	MeetingID     string    `json:"meeting_id,omitempty"`
	// Resolution is the authorising resolution's title (its motion's), and ResolutionHref its meeting.
	Resolution     string  `json:"resolution,omitempty"`
	ResolutionHref string  `json:"resolution_href,omitempty"`
	WasApproved    bool    `json:"was_approved"`
	Source         *Source `json:"source"`
}

// PaymentList is a page of payments, newest first.
type PaymentList struct {
	CommunityID string    `json:"community_id"`
	FiscalYear  int       `json:"fiscal_year,omitempty"`
	Payments    []Payment `json:"payments"`
	Next        string    `json:"next,omitempty"`
}

// Winner is an elected candidate, by opaque person id (the read models keep no names).
type Winner struct {
	Office
	Votes  *int   `json:"votes"`
	Status string `json:"status"`
	// Standing: nominated and not withdrawn (one may object to them).
	Standing bool    `json:"standing"`
	Source   *Source `json:"source,omitempty"`
}

// Election is an election's timeline at a glance with, once certified, its results.
type Election struct {
	ElectionID       string     `json:"election_id"`
	Term             string     `json:"term"`
	Seats            int        `json:"seats"`
	Phase            string     `json:"phase"`
	PhaseName        string     `json:"phase_name"`
	Formed           time.Time  `json:"formed_at"`
	FormedSource     *Source    `json:"formed_source"`
	Candidates       int        `json:"candidates"`
	ListPublicized   *time.Time `json:"list_publicized_at,omitempty"`
	ListSource       *Source    `json:"list_source,omitempty"`
	VotingAt         *time.Time `json:"voting_at,omitempty"`
	VotingSource     *Source    `json:"voting_source,omitempty"`
	RegisteredVoters int        `json:"registered_voters"`
	BallotsCast      int        `json:"ballots_cast"`
	Turnout          string     `json:"turnout_pct" doc:"Percent with two decimals; empty before the vote"`
	CertifiedAt      *time.Time `json:"certified_at,omitempty"`
	CertifiedSource  *Source    `json:"certified_source,omitempty"`
	Winners          int        `json:"winners"`
	ObjectionsRaised int        `json:"objections_raised"`
	ObjectionsDone   int        `json:"objections_answered"`
	Recalled         int        `json:"members_recalled"`
	ByElected        int        `json:"members_by_elected"`
	Resigned         int        `json:"members_resigned"`
	Results          []Winner   `json:"results,omitempty" doc:"Candidates with votes, once certified"`
	Href             string     `json:"href"`
	APIHref          string     `json:"api_href"`
}

// ElectionList is a community's elections, the latest first.
type ElectionList struct {
	CommunityID string     `json:"community_id"`
	Elections   []Election `json:"elections"`
}

// MemberChange is a recall, by-election or resignation after certification.
type MemberChange struct {
	Change     string    `json:"change"`
	ChangeName string    `json:"change_name"`
	PersonID   string    `json:"person_id"`
	Name       string    `json:"name" doc:"The public display name, or the person id when none was recorded"`
	Role       string    `json:"role,omitempty"`
	Votes      int       `json:"votes,omitempty"`
	VotesFor   int       `json:"votes_for,omitempty"`
	At         time.Time `json:"at"`
	Source     *Source   `json:"source"`
}

// ElectionDetail is one election with every candidate's outcome.
type ElectionDetail struct {
	CommunityID   string         `json:"community_id"`
	CommunityName string         `json:"community_name"`
	Election      Election       `json:"election"`
	Candidates    []Winner       `json:"candidates"`
	Changes       []MemberChange `json:"changes"`
	// Objections are the objections to the candidate list by times, with the committee's answers (never
	// the objector or the objection's text); ObjectionsOpen says residents may object now (the list is
	// publicized and the result not yet certified).
	Objections     []ObjectionTimes `json:"objections"`
	ObjectionsOpen bool             `json:"objections_open"`
}

// Meeting is an entry of the register of meetings.
type Meeting struct {
	MeetingID   string    `json:"meeting_id"`
	Kind        string    `json:"kind"`
	KindName    string    `json:"kind_name"`
	Title       string    `json:"title"`
	HeldAt      time.Time `json:"held_at"`
	Basis       string    `json:"basis" doc:"What expected and present count"`
	BasisName   string    `json:"basis_name"`
	Expected    int       `json:"expected" doc:"应到"`
	Present     *int      `json:"present" doc:"实到"`
	Motions     int       `json:"motions"`
	Resolutions int       `json:"resolutions"`
	MinutesKept bool      `json:"minutes_kept"`
	Status      string    `json:"status"`
	Source      *Source   `json:"source"`
	Href        string    `json:"href"`
	APIHref     string    `json:"api_href"`
}

// Vote is a motion and the vote on it.
type Vote struct {
	MeetingID    string     `json:"meeting_id"`
	MeetingTitle string     `json:"meeting_title,omitempty"`
	MotionID     string     `json:"motion_id"`
	Title        string     `json:"title"`
	Text         string     `json:"text,omitempty"`
	Voted        bool       `json:"voted"`
	For          int        `json:"for"`
	Against      int        `json:"against"`
	Abstain      int        `json:"abstain"`
	Present      int        `json:"present"`
	Outcome      string     `json:"outcome,omitempty"`
	OutcomeName  string     `json:"outcome_name,omitempty"`
	VotedAt      *time.Time `json:"voted_at,omitempty"`
	Source       *Source    `json:"source,omitempty"`
	Href         string     `json:"href"`
}

// Resolution is a resolution adopted (决议).
type Resolution struct {
	MeetingID    string    `json:"meeting_id"`
	ResolutionID string    `json:"resolution_id"`
	MotionID     string    `json:"motion_id"`
	Subject      string    `json:"subject"`
	SubjectName  string    `json:"subject_name"`
	Ceiling      *Money    `json:"ceiling,omitempty" doc:"The most it authorises to spend"`
	Text         string    `json:"text"`
	AdoptedAt    time.Time `json:"adopted_at"`
	Source       *Source   `json:"source"`
	Href         string    `json:"href"`
}

// MeetingList is a page of a community's meetings with its recent votes and resolutions.
type MeetingList struct {
	CommunityID string       `json:"community_id"`
	Meetings    []Meeting    `json:"meetings"`
	Votes       []Vote       `json:"recent_votes,omitempty"`
	Resolutions []Resolution `json:"recent_resolutions,omitempty"`
	Next        string       `json:"next,omitempty"`
}

// MeetingDetail is one meeting with its motions, votes and resolutions.
type MeetingDetail struct {
	CommunityID   string       `json:"community_id"`
	CommunityName string       `json:"community_name"`
	Meeting       Meeting      `json:"meeting"`
	Motions       []Vote       `json:"motions"`
	Resolutions   []Resolution `json:"resolutions"`
	MinutesSHA256 string       `json:"minutes_sha256,omitempty"`
	Minutes       *Source      `json:"minutes_source,omitempty"`
}

// Topic is a deliberation topic and the step it reached (五步议事).
type Topic struct {
	TopicID     string    `json:"topic_id"`
	Channel     string    `json:"channel"`
	ChannelName string    `json:"channel_name"`
	Summary     string    `json:"summary"`
	Step        int       `json:"step" doc:"1 collected … 7 feedback recorded"`
	StepName    string    `json:"step_name"`
	StepAt      time.Time `json:"step_at"`
	Status      string    `json:"status"`
	StatusName  string    `json:"status_name"`
	MeetingID   string    `json:"meeting_id,omitempty"`
	Feedbacks   int       `json:"feedbacks"`
	CollectedAt time.Time `json:"collected_at"`
	Source      *Source   `json:"source"`
}

// TopicList is a page of a community's topics, the latest collected first.
type TopicList struct {
	CommunityID string  `json:"community_id"`
	Topics      []Topic `json:"topics"`
	Next        string  `json:"next,omitempty"`
}

// AlertList is a community's open alerts and rating.
type AlertList struct {
	CommunityID    string  `json:"community_id"`
	RatingsEnabled bool    `json:"ratings_enabled"`
	Rating         *Rating `json:"rating,omitempty"`
	Alerts         []Alert `json:"alerts"`
}

// Event is the public part of an event: never its payload, never who recorded it.
type Event struct {
	Position      uint64     `json:"position"`
	Prepare       uint64     `json:"prepare_position"`
	EventID       string     `json:"event_id"`
	Type          string     `json:"type"`
	TypeName      string     `json:"type_name"`
	Stream        string     `json:"stream"`
	Revision      int64      `json:"revision"`
	CommunityID   string     `json:"community_id,omitempty"`
	CommunityName string     `json:"community_name,omitempty"`
	Jurisdiction  string     `json:"jurisdiction"`
	OccurredAt    *time.Time `json:"occurred_at,omitempty"`
	RecordedAt    time.Time  `json:"recorded_at"`
	Hash          string     `json:"hash" doc:"SHA-256 over the event's canonical encoding, chained to the previous event of its stream"`
	PrevHash      string     `json:"prev_hash"`
	SchemaVersion int        `json:"schema_version"`
	// Content is the public part of the payload, in Chinese (no personal data, no resident's objection text).
	Content []Field `json:"content,omitempty" doc:"The public facts of the event, in Chinese: amounts in yuan, times in Asia/Shanghai; never personal data"`
	// ContentNote says why Content is missing (the event store cannot be read now).
	ContentNote string `json:"content_note,omitempty"`
	// Log is where the event stands in the transparency log, when the ledger keeps one.
	Log           *LogInclusion `json:"log,omitempty"`
	CommunityHref string        `json:"community_href,omitempty"`
}

// EventList is the events at one $all position.
type EventList struct {
	Position uint64  `json:"position"`
	Events   []Event `json:"events"`
}

// LogInclusion is an event's place in the transparency log: its leaf, and the latest signed checkpoint
// that includes it (none yet: Included is false until the next checkpoint is signed).
type LogInclusion struct {
	LeafIndex      uint64 `json:"leaf_index" doc:"The event's leaf in the log (its place among the ledger's events in $all order, from 0)"`
	Included       bool   `json:"included" doc:"Whether the latest signed checkpoint includes it"`
	CheckpointSize uint64 `json:"checkpoint_size,omitempty" doc:"The tree size of that checkpoint"`
	ProofURL       string `json:"proof_url,omitempty" doc:"The inclusion proof against that checkpoint"`
	VerifyURL      string `json:"verify_url,omitempty" doc:"The portal's page that verifies the inclusion in the browser (Web Crypto), trusting no server"`
	Position       string `json:"position" doc:"The event's $all position (commit/prepare): with the hash, what ledger log verify-notice checks"`
	EventHash      string `json:"event_hash" doc:"The event's hash, the leaf's data"`
}
