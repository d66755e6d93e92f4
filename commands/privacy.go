package commands

import (
	"context"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/privacy"
)

// PersonalKeys is what erasing personal data needs of the key store (infra/keys).
type PersonalKeys interface {
	// Holdings are the jurisdiction paths of the communities where personal data of subject was sealed,
	// and the ids of its live data keys.
	Holdings(ctx context.Context, subject string) (paths, live []string, err error)
	// Destroy destroys every live data key of subject, noting the erasure event that ordered it.
	Destroy(ctx context.Context, subject, erasure string) (int, error)
}

// Privacy has the command that erases a person's personal data (crypto-shredding).
type Privacy struct {
	x    *Executor
	keys PersonalKeys
}

// NewPrivacy returns the privacy commands on x and the key store.
func NewPrivacy(x *Executor, keys PersonalKeys) *Privacy { return &Privacy{x: x, keys: keys} }

// ErasePersonalData erases a person's personal data on a lawful request (依法删除个人信息): the erasure is
// recorded (privacy-<subject>, no personal data in it), then the person's data keys are destroyed, so
// every sealed copy of their name, ID number, phone and address becomes unreadable while every hash of
// the history stays valid. A committee member's public role and acts stay public.
type ErasePersonalData struct {
	Subject          string `json:"subject" doc:"The person whose personal data is erased (本人编号): the opaque person id the records use"`
	LegalBasis       string `json:"legal_basis" maxLength:"200" doc:"The legal basis (法律依据), e.g. 《个人信息保护法》第四十七条"`
	RequestReference string `json:"request_reference" maxLength:"128" doc:"The reference of the request or decision (申请/决定编号)"`
	Reason           string `json:"reason" maxLength:"1000" doc:"Why (理由)"`
}

// ErasePersonalData handles erase-personal-data: an administrator whose scope covers every community in
// which the person's data was recorded. A retry after a crash between the record and the destruction of
// the keys completes the erasure; an erasure of data already erased appends nothing and says so
// (Unchanged).
func (p *Privacy) ErasePersonalData(ctx context.Context, m Meta, c ErasePersonalData) (Result, error) {
	var live []string
	var held bool
	t, err := admit(m, Administer, func() (Target, error) {
		if err := checkID(c.Subject, "subject"); err != nil {
			return Target{}, err
		}
		paths, n, err := p.keys.Holdings(ctx, c.Subject)
		if err != nil {
			return Target{}, err
		}
		live, held = n, len(paths) > 0
		if !held {
			return Target{}, privacy.ErrNothingRecorded.WithField("subject")
		}
		// Covering every community of the person is covering their nearest common ancestor.
		return Target{Stream: privacy.Stream(kernel.PersonID(c.Subject)), Path: commonAncestor(paths)}, nil
	})
	if err != nil {
		return Result{}, err
	}
	res, err := p.x.run(ctx, m, t, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		return privacy.Decide(history, privacy.Erase{Subject: kernel.PersonID(c.Subject), LegalBasis: c.LegalBasis,
			Request: c.RequestReference, Reason: c.Reason}, live, held, now)
	})
	if err != nil {
		return Result{}, err
	}
	if len(res.Events) == 0 {
		res.Unchanged = true // already erased: nothing was live, nothing appended
		return res, nil
	}
	// Recorded (now or by an earlier try of this command): the keys go, also those a crash left behind.
	if _, err := p.keys.Destroy(ctx, c.Subject, res.Events[len(res.Events)-1].ID); err != nil {
		return Result{}, err
	}
	return res, nil
}

// commonAncestor is the longest jurisdiction path every path is at or under ("*" for none in common).
func commonAncestor(paths []string) kernel.JurisdictionPath {
	if len(paths) == 0 {
		return "*"
	}
	common := strings.Split(paths[0], "/")
	for _, p := range paths[1:] {
		segs := strings.Split(p, "/")
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return "*"
	}
	return kernel.JurisdictionPath(strings.Join(common, "/"))
}
