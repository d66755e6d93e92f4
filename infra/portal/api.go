package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// apiPrefix is where the public JSON API lives; no token is needed.
const apiPrefix = "/api/v1/public"

// jsonOut is every public operation's answer: the body is cached JSON, sent as it is.
type jsonOut struct {
	Status          int
	ETag            string `header:"ETag" doc:"Strong entity tag derived from the data's source positions; send it back in If-None-Match"`
	CacheControl    string `header:"Cache-Control"`
	ContentType     string `header:"Content-Type"`
	ContentEncoding string `header:"Content-Encoding" doc:"gzip when the request's Accept-Encoding allows it"`
	Vary            string `header:"Vary"`
	Link            string `header:"Link" doc:"The next page, rel=\"next\", on paged lists"`
	Warning         string `header:"Warning" doc:"110 \"Response is Stale\" when the database cannot be reached and this is the last good answer"`
	Body            []byte
}

// ConditionalParams are the conditional request header every public operation takes. (The parameter
// structs embedded in the operations' inputs are exported so that huma sees their fields.)
type ConditionalParams struct {
	IfNoneMatch    string `header:"If-None-Match" doc:"An ETag from an earlier answer: 304 Not Modified while the data is unchanged"`
	AcceptEncoding string `header:"Accept-Encoding" doc:"gzip is supported"`
}

// PageParams are the keyset paging parameters of the public lists.
type PageParams struct {
	After string `query:"after" doc:"Opaque cursor: the \"next\" of the previous page"`
	Limit string `query:"limit" doc:"Page size, 1–200 (default 50)"`
}

// CommunityParams name a community.
type CommunityParams struct {
	ConditionalParams
	ID string `path:"id" doc:"Community code (社区/村编码)" maxLength:"64"`
}

type treeIn struct {
	ConditionalParams
	Parent string `query:"parent" doc:"Jurisdiction path of the parent, e.g. 33/3303/330303; empty for the top level"`
	After  string `query:"after" doc:"Path of the last node of the previous page"`
	Limit  string `query:"limit" doc:"Page size, 1–200 (default 50)"`
}

type pagedIn struct {
	CommunityParams
	PageParams
}

type noticesIn struct {
	CommunityParams
	PageParams
	Category string `query:"category" doc:"Only this category: finance, affairs, election, resolution, audit, party"`
	Year     string `query:"year" doc:"Only the notices published in this year (Asia/Shanghai)"`
}

type yearIn struct {
	CommunityParams
	Year string `query:"year" doc:"Fiscal year; default the latest with figures"`
}

type paymentsIn struct {
	CommunityParams
	PageParams
	Year string `query:"year" doc:"Fiscal year; default all years"`
}

type noticeIn struct {
	CommunityParams
	Notice string `path:"notice" maxLength:"128"`
}

type meetingIn struct {
	CommunityParams
	Meeting string `path:"meeting" maxLength:"128"`
}

type electionIn struct {
	CommunityParams
	Election string `path:"election" maxLength:"128"`
}

type eventIn struct {
	ConditionalParams
	Position string `path:"position" doc:"The event's commit position in $all"`
}

type freshnessIn struct {
	ConditionalParams
}

func (p *Portal) apiError(ctx context.Context, err error) error {
	var pr *httpapi.Problem
	switch {
	case errors.As(err, &pr):
		return pr
	case notFound(err):
		return httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, "没有这项记录", "")
	}
	p.queryFailed(ctx, err)
	id := httpapi.NewRequestID()
	if unavailable(err) {
		p.log.WarnContext(ctx, "portal: database unavailable, answer not in memory", "request_id", id, "error", err.Error())
		pr = httpapi.NewProblem(http.StatusServiceUnavailable, httpapi.CodeUnavailable, "数据库暂时无法访问，请稍后重试。", "")
		pr.RequestID = id
		return pr
	}
	p.log.ErrorContext(ctx, "portal: public API failed", "request_id", id, "error", err.Error())
	pr = httpapi.NewProblem(http.StatusInternalServerError, httpapi.CodeInternal, "服务器暂时无法读取数据，请稍后重试。", "")
	pr.RequestID = id
	return pr
}

func limitOf(s string) (int, error) {
	if s == "" {
		return listLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, fmt.Sprintf("limit 应为 1 至 %d 的整数", maxLimit), "limit")
	}
	return n, nil
}

func afterOf(s string) (cursor, error) {
	c, err := parseCursor(s)
	if err != nil {
		return cursor{}, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "after 不是有效的翻页位置：请使用上一页的 next", "after")
	}
	return c, nil
}

// pageOf reads a list's limit and after.
func pageOf(limitText, afterText string) (int, cursor, error) {
	limit, err := limitOf(limitText)
	if err != nil {
		return 0, cursor{}, err
	}
	after, err := afterOf(afterText)
	return limit, after, err
}

// whole is an answer without a next page.
func whole[T any](v T, err error) (any, string, error) { return v, "", err }

func yearOf(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 1949 || y > 9999 {
		return 0, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "year 应为四位年度，例如 2026", "year")
	}
	return y, nil
}

// respond serves the JSON cached under key for validity valid (building it when missing or stale),
// or 304 when the client's ETag matches.
func (p *Portal) respond(ctx context.Context, in ConditionalParams, key, valid string, build func() (any, string, error)) (*jsonOut, error) {
	e, err := p.cache.getLinked("api|"+key, valid, func() ([]byte, string, error) {
		v, next, err := build()
		if err != nil {
			return nil, "", err
		}
		b, err := json.Marshal(v)
		return b, next, err
	})
	if err != nil {
		return nil, p.apiError(ctx, err)
	}
	body, etag, gz := e.representation(in.AcceptEncoding)
	out := &jsonOut{Status: http.StatusOK, ETag: etag, CacheControl: "no-cache", ContentType: "application/json", Vary: "Accept-Encoding", Body: body}
	if e.stale { // the database is unreachable: the last good answer, said to be stale
		out.ETag, out.CacheControl, out.Warning, out.Body, gz = strings.TrimSuffix(e.etag, `"`)+`-stale"`, "no-store", `110 - "Response is Stale"`, e.body, false
	}
	if gz {
		out.ContentEncoding = "gzip"
	}
	if e.link != "" {
		out.Link = "<" + e.link + `>; rel="next"`
	}
	if etagMatches(in.IfNoneMatch, etag) {
		out.Status, out.ContentType, out.ContentEncoding, out.Body, out.Link = http.StatusNotModified, "", "", nil, ""
	}
	return out, nil
}

// community fetches what every community operation needs: the snapshot and the fingerprint.
func (p *Portal) community(ctx context.Context, id string) (snapshot, fingerprint, error) {
	s := p.snapshot(ctx)
	fp, exists, err := p.fingerprint(ctx, &s, id)
	if err != nil {
		return s, fp, p.apiError(ctx, err)
	}
	if !exists {
		return s, fp, httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, "没有这个社区或村: "+id, "id")
	}
	return s, fp, nil
}

// sectionAnswer answers an operation on one section of a community: 404 when there is no such
// community, else the answer cached under key while the section's validity stays the same.
func (p *Portal) sectionAnswer(ctx context.Context, in ConditionalParams, id string, sec section, key string,
	build func() (any, string, error)) (*jsonOut, error) {
	_, fp, err := p.community(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.respond(ctx, in, key, p.sectionValidity(fp, sec), build)
}

func nextURL(path, cursor string, limit int, kv ...string) string {
	if cursor == "" {
		return ""
	}
	kv = append(kv, "after", cursor)
	if limit != listLimit {
		kv = append(kv, "limit", strconv.Itoa(limit))
	}
	return withQuery(path, kv...)
}

// registerAPI adds the public operations to the API and its OpenAPI document.
func (p *Portal) registerAPI(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	problemSchema := reg.Schema(reflect.TypeFor[httpapi.Problem](), true, "Problem")
	// The public shapes get names of their own (PublicCommunity, PublicSource…) in a registry of their
	// own, then join the API's: the command API's types (commands.Attachment…) keep theirs.
	pub := huma.NewMapRegistry("#/components/schemas/", func(t reflect.Type, hint string) string {
		return "Public" + huma.DefaultSchemaNamer(t, hint)
	})
	op := func(id, path, summary, desc string, body reflect.Type) huma.Operation {
		schema := pub.Schema(body, true, "")
		for name, s := range pub.Map() {
			reg.Map()[name] = s
		}
		errResp := func(what string) *huma.Response {
			return &huma.Response{Description: what, Content: map[string]*huma.MediaType{httpapi.ProblemContentType: {Schema: problemSchema}}}
		}
		return huma.Operation{
			OperationID: id, Method: http.MethodGet, Path: apiPrefix + path, Summary: summary, Description: desc + "\n\n" +
				"Public: no token. Answers carry a strong ETag derived from the data's source positions; send it in " +
				"If-None-Match to get 304 Not Modified while nothing changed. Times are Asia/Shanghai; money is integer fen " +
				"with its display in yuan. No personal data: individual payees are masked (张*), people are opaque ids.",
			Tags: []string{"public"},
			Responses: map[string]*huma.Response{
				"200": {Description: "OK", Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}},
				"304": {Description: "Not modified: the ETag sent in If-None-Match is current."},
				"400": errResp("A parameter is invalid (named in `field`)."),
				"404": errResp("No such community, record or event."),
				"500": errResp("Server error; `request_id` identifies it in the log."),
			},
		}
	}
	t := reflect.TypeFor[NodeList]()
	huma.Register(api, op("public-jurisdictions", "/jurisdictions", "Browse the jurisdiction tree (辖区)",
		"The children of a node of the jurisdiction tree (city → district → street → community), with each community's rating when ratings are enabled. Paged by path.", t),
		func(ctx context.Context, in *treeIn) (*jsonOut, error) {
			limit, err := limitOf(in.Limit)
			if err != nil {
				return nil, err
			}
			s := p.snapshot(ctx)
			return p.respond(ctx, in.ConditionalParams, "tree|"+in.Parent+"|"+in.After+"|"+strconv.Itoa(limit), strconv.FormatUint(s.version, 10),
				func() (any, string, error) {
					l, err := p.loadChildren(ctx, &s, in.Parent, in.After, limit)
					return l, l.Next, err
				})
		})
	huma.Register(api, op("public-search", "/search", "Find a place by a part of its name (查找社区和村)",
		"Provinces, cities, districts, streets and communities whose name contains q (汉字, as written): exact names first, "+
			"then the higher levels; and the notices on the boards (not withdrawn) whose title contains q, newest first; at most 50 of each.",
		reflect.TypeFor[SearchResults]()),
		func(ctx context.Context, in *searchIn) (*jsonOut, error) {
			q, err := searchText(in.Q)
			if err != nil {
				return nil, err
			}
			s := p.snapshot(ctx)
			return p.respond(ctx, in.ConditionalParams, "search|"+q, strconv.FormatUint(s.version, 10),
				func() (any, string, error) {
					res, err := p.loadSearch(ctx, q)
					return res, "", err
				})
		})
	huma.Register(api, op("public-freshness", "/freshness", "How fresh the public data is",
		"Every event recorded up to data_as_of is included in the public data.", reflect.TypeFor[Freshness]()),
		func(ctx context.Context, in *freshnessIn) (*jsonOut, error) {
			s := p.snapshot(ctx)
			return p.respond(ctx, in.ConditionalParams, "freshness", strconv.FormatUint(s.version, 10), func() (any, string, error) {
				return freshnessOf(&s), "", nil
			})
		})
	huma.Register(api, op("public-community", "/communities/{id}", "A community's summary",
		"Figures, the committee by counts, the rating and open alerts, links to its records, and how fresh the data is.", reflect.TypeFor[Community]()),
		func(ctx context.Context, in *CommunityParams) (*jsonOut, error) {
			s, fp, err := p.community(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return p.respond(ctx, in.ConditionalParams, "community|"+in.ID, p.sectionValidity(fp, secOverview)+"|"+s.FreshnessText()+strconv.FormatBool(s.alerts),
				func() (any, string, error) {
					c, err := p.loadCommunity(ctx, &s, in.ID)
					f := freshnessOf(&s)
					c.Freshness = &f
					return c, "", err
				})
		})
	huma.Register(api, op("public-alerts", "/communities/{id}/alerts", "A community's rating and open alerts (督查预警)",
		"The red/yellow/green rating and the alerts not yet cleared; ratings_enabled is false while the alert engine is not available.", reflect.TypeFor[AlertList]()),
		func(ctx context.Context, in *CommunityParams) (*jsonOut, error) {
			s, fp, err := p.community(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return p.respond(ctx, in.ConditionalParams, "alerts|"+in.ID, p.sectionValidity(fp, secOverview)+strconv.FormatBool(s.alerts), func() (any, string, error) {
				c, err := directory.CommunityByID(ctx, p.db, in.ID)
				if err != nil {
					return nil, "", err
				}
				l, err := p.loadAlerts(ctx, &s, in.ID, c.Path)
				return l, "", err
			})
		})
	huma.Register(api, op("public-notices", "/communities/{id}/notices", "A community's public notices (村务公开/居务公开)",
		"Every notice, newest first, with its publicity window, corrections (version) and withdrawal; objections by counts only.", reflect.TypeFor[NoticeList]()),
		func(ctx context.Context, in *noticesIn) (*jsonOut, error) {
			limit, after, err := pageOf(in.Limit, in.After)
			if err != nil {
				return nil, err
			}
			f, pr := noticeFilterOf(in.Category, in.Year)
			if pr != nil {
				return nil, pr
			}
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secNotices, "notices|"+in.ID+"|"+in.After+"|"+strconv.Itoa(limit)+"|"+f.Category+"|"+in.Year,
				func() (any, string, error) {
					l, err := p.loadNotices(ctx, in.ID, after, limit, f)
					l.Next = nextURL(communityAPIHref(in.ID)+"/notices", l.Next, limit, "category", f.Category, "year", yearText(f.Year))
					return l, l.Next, err
				})
		})
	huma.Register(api, op("public-notice", "/communities/{id}/notices/{notice}", "A notice with its history",
		"The notice as it stands, every version (corrections keep the old ones), and its objections by times only.", reflect.TypeFor[NoticeHistory]()),
		func(ctx context.Context, in *noticeIn) (*jsonOut, error) {
			_, fp, err := p.community(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			s := p.snapshot(ctx)
			return p.respond(ctx, in.ConditionalParams, "notice|"+in.ID+"|"+in.Notice, p.sectionValidity(fp, secNotices)+"|"+p.logMark(ctx, &s), func() (any, string, error) {
				h, err := p.loadNoticeHistory(ctx, &s, in.ID, in.Notice)
				return h, "", err
			})
		})
	huma.Register(api, op("public-finances", "/communities/{id}/finances", "A community's fiscal year: budget against paid by category",
		"Allocated (by funding source), requested, approved and paid per category of a fiscal year.", reflect.TypeFor[Finances]()),
		func(ctx context.Context, in *yearIn) (*jsonOut, error) {
			year, err := yearOf(in.Year)
			if err != nil {
				return nil, err
			}
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secFinances, "finances|"+in.ID+"|"+strconv.Itoa(year), func() (any, string, error) {
				return whole(p.loadFinances(ctx, in.ID, year))
			})
		})
	huma.Register(api, op("public-payments", "/communities/{id}/payments", "A community's payments",
		"Every payment line, newest first; individual payees masked.", reflect.TypeFor[PaymentList]()),
		func(ctx context.Context, in *paymentsIn) (*jsonOut, error) {
			limit, after, err := pageOf(in.Limit, in.After)
			if err != nil {
				return nil, err
			}
			year, err := yearOf(in.Year)
			if err != nil {
				return nil, err
			}
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secFinances, "payments|"+in.ID+"|"+in.Year+"|"+in.After+"|"+strconv.Itoa(limit),
				func() (any, string, error) {
					l, err := p.loadPayments(ctx, in.ID, year, after, limit)
					l.Next = nextURL(communityAPIHref(in.ID)+"/payments", l.Next, limit, "year", in.Year)
					return l, l.Next, err
				})
		})
	huma.Register(api, op("public-elections", "/communities/{id}/elections", "A community's elections and certified results",
		"Each election's timeline; the latest certified ones carry the elected candidates (by opaque person id) and their votes.", reflect.TypeFor[ElectionList]()),
		func(ctx context.Context, in *CommunityParams) (*jsonOut, error) {
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secElections, "elections|"+in.ID, func() (any, string, error) {
				return whole(p.loadElections(ctx, in.ID))
			})
		})
	huma.Register(api, op("public-election", "/communities/{id}/elections/{election}", "One election with every candidate's result",
		"Candidates by opaque person id with votes and outcome, and later recalls, by-elections and resignations.", reflect.TypeFor[ElectionDetail]()),
		func(ctx context.Context, in *electionIn) (*jsonOut, error) {
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secElections, "election|"+in.ID+"|"+in.Election, func() (any, string, error) {
				return whole(p.loadElection(ctx, in.ID, in.Election))
			})
		})
	huma.Register(api, op("public-meetings", "/communities/{id}/meetings", "A community's meetings, votes and resolutions",
		"The register of meetings, latest first, with attendance; the first page adds the latest votes and resolutions.", reflect.TypeFor[MeetingList]()),
		func(ctx context.Context, in *pagedIn) (*jsonOut, error) {
			limit, after, err := pageOf(in.Limit, in.After)
			if err != nil {
				return nil, err
			}
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secMeetings, "meetings|"+in.ID+"|"+in.After+"|"+strconv.Itoa(limit),
				func() (any, string, error) {
					l, err := p.loadMeetings(ctx, in.ID, after, limit, after.IsZero())
					l.Next = nextURL(communityAPIHref(in.ID)+"/meetings", l.Next, limit)
					return l, l.Next, err
				})
		})
	huma.Register(api, op("public-meeting", "/communities/{id}/meetings/{meeting}", "One meeting with its motions, vote counts and resolutions",
		"Attendance, every motion with for/against/abstain and outcome, and the resolutions adopted.", reflect.TypeFor[MeetingDetail]()),
		func(ctx context.Context, in *meetingIn) (*jsonOut, error) {
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secMeetings, "meeting|"+in.ID+"|"+in.Meeting, func() (any, string, error) {
				return whole(p.loadMeeting(ctx, in.ID, in.Meeting))
			})
		})
	huma.Register(api, op("public-topics", "/communities/{id}/topics", "A community's deliberation topics (议事协商)",
		"Topics, latest collected first, with the step of the five-step procedure each has reached; never who raised one.", reflect.TypeFor[TopicList]()),
		func(ctx context.Context, in *pagedIn) (*jsonOut, error) {
			limit, after, err := pageOf(in.Limit, in.After)
			if err != nil {
				return nil, err
			}
			return p.sectionAnswer(ctx, in.ConditionalParams, in.ID, secTopics, "topics|"+in.ID+"|"+in.After+"|"+strconv.Itoa(limit),
				func() (any, string, error) {
					l, err := p.loadTopics(ctx, in.ID, after, limit)
					l.Next = nextURL(communityAPIHref(in.ID)+"/topics", l.Next, limit)
					return l, l.Next, err
				})
		})
	huma.Register(api, op("public-event", "/events/{position}", "The public part of an event",
		"Type, times, community, stream and hash-chain links of the events at a $all position: never the payload, never who recorded it.", reflect.TypeFor[EventList]()),
		func(ctx context.Context, in *eventIn) (*jsonOut, error) {
			pos, ok := parsePosition(in.Position)
			if !ok {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "position 应为正整数", "position")
			}
			s := p.snapshot(ctx)
			// An event never changes, but its content may not have been readable from the store last time.
			return p.respond(ctx, in.ConditionalParams, "event|"+in.Position, s.FreshnessText(), func() (any, string, error) {
				l, err := p.loadEvents(ctx, &s, pos)
				return l, "", err
			})
		})
	p.registerResidentAPI(api, problemSchema)
	p.registerSealAPI(api, op)
	p.registerAssetAPI(api, op)
	p.registerWorkerAPI(api, op)
	p.registerCaseworkAPI(api, op)
	p.registerEvaluationAPI(api, op)
	p.registerStandingAPI(api, op)
	p.registerWorklistAPI(api, op)
}

func freshnessOf(s *snapshot) Freshness {
	f := Freshness{Text: s.FreshnessText(), Halted: s.halted}
	if !s.dataAsOf.IsZero() {
		t := s.dataAsOf.In(cst)
		f.DataAsOf = &t
	}
	return f
}
