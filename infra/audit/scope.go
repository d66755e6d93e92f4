package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// communityID is the form of a community id (commands/streams.go): no hyphen, so it can sit in the
// middle of a stream name.
var communityID = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// scope is the set of events that bear on one community: the events of its own streams
// (<kind>-<communityID>-<id>), the events other streams carry for it (its grid and building nodes, its
// alerts in the district's alert stream), and the district-level events of the jurisdictions above it
// (their nodes, their rule overrides, district-wide alerts), which its state depends on. Events of other
// communities are outside.
type scope struct {
	community string
	path      string
	codes     []string // the segments of path, the community's own code last
}

// communityScope finds the community's jurisdiction path in its registration (the first event of its
// profile stream).
func (a *Auditor) communityScope(ctx context.Context, id string) (scope, error) {
	if !communityID.MatchString(id) {
		return scope{}, invalid("community id %q: want 1–64 letters, digits or _", id)
	}
	evs, err := a.cfg.Store.ReadStream(ctx, community.ProfileStream(kernel.CommunityID(id)), 0, 1, false)
	if errors.Is(err, eventlog.ErrStreamNotFound) || (err == nil && len(evs) == 0) {
		return scope{}, fmt.Errorf("%w: %s (no %s stream)", ErrCommunityNotFound, id, community.ProfileStream(kernel.CommunityID(id)))
	}
	if err != nil {
		return scope{}, fmt.Errorf("look up community %s: %w", id, err)
	}
	path := evs[0].Meta.Jurisdiction
	codes := strings.Split(path, "/")
	if path == "" || codes[len(codes)-1] != id {
		return scope{}, fmt.Errorf("community %s: its registration carries jurisdiction path %q, which does not end with its id", id, path)
	}
	return scope{community: id, path: path, codes: codes}, nil
}

// filter is the server-side filter that narrows $all to the streams that may hold events of the scope;
// includes then decides event by event.
func (s scope) filter() eventlog.Filter {
	quoted := make([]string, len(s.codes))
	for i, c := range s.codes {
		quoted[i] = regexp.QuoteMeta(c)
	}
	return eventlog.Filter{StreamRegex: `^(?:[a-z]+-` + regexp.QuoteMeta(s.community) + `-|jurisdiction-|rulebook-|alerts-(?:` +
		strings.Join(quoted, "|") + `)$)`}
}

// includes reports whether r bears on the community.
func (s scope) includes(r *eventlog.Recorded) bool {
	if _, cid, _, err := eventlog.SplitStreamName(r.Stream); err == nil && cid == s.community {
		return true
	}
	if r.Meta.CommunityID != "" {
		return r.Meta.CommunityID == s.community
	}
	j := r.Meta.Jurisdiction
	return j != "" && (s.path == j || strings.HasPrefix(s.path, j+"/"))
}

// own reports whether r belongs to the community itself rather than to a jurisdiction above it.
func (s scope) own(r *eventlog.Recorded) bool {
	if _, cid, _, err := eventlog.SplitStreamName(r.Stream); err == nil && cid == s.community {
		return true
	}
	return r.Meta.CommunityID == s.community
}

// CommunityPath returns the jurisdiction path a community was registered under: ErrInvalid for a
// malformed id, ErrCommunityNotFound when the ledger holds no such community. The auditors' API checks a
// token's scope against it before replaying or exporting.
func (a *Auditor) CommunityPath(ctx context.Context, id string) (string, error) {
	sc, err := a.communityScope(ctx, id)
	if err != nil {
		return "", err
	}
	return sc.path, nil
}
