package workload

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// General elections of village and residents' committees (换届选举) are held across the country in the
// same season every five years: 2021, 2026, 2031… Each community votes on its own day between March and
// mid-April; the process starts about fifty days before the vote.

const electionLead = 50 * 24 * time.Hour

// electionVote is the day community c votes in the general election of year y (y ≡ 1 mod 5).
func (c *comm) electionVote(y int) time.Time {
	return day(y, time.March, 1, 8, 0).Add(days((c.street*9 + c.inStreet*2) % 48))
}

// voteDay returns the day of the community's vote in year y, if the ledger records that election: one is
// held that year and its process starts within the history.
func (c *comm) voteDay(y int) (time.Time, bool) {
	if y%5 != 1 {
		return time.Time{}, false
	}
	v := c.electionVote(y)
	begin := v.Add(-electionLead)
	return v, !begin.Before(c.g.plan.start) && begin.Before(c.g.plan.end)
}

// initialTermYear is the year of the election that produced the committee in office when the ledger
// started (an election the ledger did not record).
func (c *comm) initialTermYear() int {
	y := c.g.plan.start.In(cst).Year()
	for y%5 != 1 {
		y--
	}
	if c.electionVote(y).Add(-electionLead).Before(c.g.plan.start) {
		return y
	}
	return y - 5
}

type candidate struct {
	p     *person
	chair bool
	win   bool
	votes int
}

// electionRun is one general election in progress, and the term it produced.
type electionRun struct {
	id, stream string
	year       int
	el         *election.Election
	vote       time.Time
	seats      int
	cands      []*candidate
}

func (c *comm) scheduleElection(y int) {
	v, ok := c.voteDay(y)
	if !ok {
		return
	}
	c.at(c.office(v.Add(-45*24*time.Hour)), func() { c.exitAudit(y) })
	c.at(c.office(v.Add(-40*24*time.Hour)), func() { c.formElection(y, v) })
}

// formElection forms the election committee and runs the election: nominations (a committee member who
// stands leaves the committee), the candidate list publicized (at least 7 days before the vote; planted,
// only 5), an objection now and then, the vote, the certified result, its disclosure and the new
// committee seated.
func (c *comm) formElection(y int, vote time.Time) {
	r := &electionRun{id: fmt.Sprint(y), year: y, el: &election.Election{}, vote: vote}
	r.stream = election.Stream(c.info.ID, r.id)
	lo, _ := c.params.CommitteeSizeFor(c.info.Kind, c.households, c.adults)
	r.seats = c.committeeSize()
	if c.planted(plantUndersized) {
		c.plant(plantUndersized)
		r.seats = max(1, lo-1)
	}
	// Incumbents standing again; one of them sits on the election committee until nominated.
	var standing []*person
	for _, m := range c.term.members {
		if len(standing) < r.seats && c.chance(70) {
			standing = append(standing, m.p)
		}
	}
	ecSize := 5 + c.pick(3)
	members := make([]election.ElectionCommitteeMember, 0, ecSize)
	var onCommittee *person
	if len(standing) > 1 {
		onCommittee = standing[len(standing)-1]
	}
	for i := range ecSize {
		p := onCommittee
		if i > 0 || p == nil {
			p = c.newPerson(c.now, 35, 68)
		}
		role := election.CommitteeMember
		if i == 1 || (i == 0 && onCommittee == nil) {
			role = election.CommitteeChair
		}
		members = append(members, election.ElectionCommitteeMember{Person: p.id, Role: role, Personal: p.personal(false)})
	}
	if onCommittee != nil { // the chair of the election committee is listed first
		members[0], members[1] = members[1], members[0]
	}
	term := fmt.Sprintf("%d-%d", y, y+5)
	evs, err := r.el.FormCommittee(election.FormCommittee{ElectionID: r.id, Term: term, Seats: r.seats, Members: members}, c.now)
	apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))

	for _, p := range standing {
		r.cands = append(r.cands, &candidate{p: p})
	}
	for len(r.cands) < r.seats+1+c.pick(2) {
		r.cands = append(r.cands, &candidate{p: c.newPerson(c.now, 28, 55)})
	}
	// Who will win: a chair (an incumbent standing again, most of the time) and the next candidates in
	// nomination order up to the number of seats; the others lose.
	chair := 0
	if c.chance(25) {
		chair = c.pick(len(r.cands))
	}
	r.cands[chair].chair, r.cands[chair].win = true, true
	for i, n := 0, 1; i < len(r.cands) && n < r.seats; i++ {
		if !r.cands[i].win {
			r.cands[i].win = true
			n++
		}
	}
	c.nominate(r, 0, vote)
}

// nominate nominates the candidates one at a time over two weeks, then publicizes the list.
func (c *comm) nominate(r *electionRun, i int, vote time.Time) {
	if i == len(r.cands) {
		c.afterNominations(r)
		return
	}
	c.at(c.office(vote.Add(-time.Duration(30-i)*24*time.Hour)), func() {
		cd := r.cands[i]
		evs, err := r.el.Nominate(election.Nominate{Candidate: cd.p.id, ResidenceSince: cd.p.since, Personal: cd.p.personal(true), PublicName: cd.p.name}, c.params, c.now)
		apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
		c.nominate(r, i+1, vote)
	})
}

func (c *comm) afterNominations(r *electionRun) {
	// Now and then a losing candidate withdraws before the list is posted.
	if c.chance(6) {
		for j := len(r.cands) - 1; j >= 0; j-- {
			if cd := r.cands[j]; !cd.win && len(r.cands) > r.seats {
				c.at(c.office(r.vote.Add(-13*24*time.Hour)), func() {
					evs, err := r.el.Withdraw(cd.p.id, "因个人原因申请退出候选人", c.now)
					apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
				})
				r.cands = slices.Delete(r.cands, j, j+1)
				break
			}
		}
	}
	lead := 8 + c.pick(3)
	if c.planted(plantShortPublicity) || c.chance(1.5) {
		c.plant(plantShortPublicity)
		lead = 5
	}
	c.at(c.office(r.vote.Add(-time.Duration(lead)*24*time.Hour)), func() {
		evs, err := r.el.Publicize(time.Time{}, c.now)
		apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
		if c.chance(10) {
			cd := r.cands[c.pick(len(r.cands))]
			c.after(days(1)+hours(c.pick(30)), func() {
				objector := c.newPerson(c.now, 30, 75)
				evs, err := r.el.RaiseObjection("o1", cd.p.id, "该候选人居住时间存疑，请核实是否满足候选人资格条件", *objector.personal(false), c.now)
				apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
				c.after(hours(20+c.pick(20)), func() {
					evs, err := r.el.AnswerObjection("o1", fmt.Sprintf("经选举委员会核实，该候选人自%d年起在本地居住，符合候选人条件", cd.p.since.Year()), c.now)
					apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
				})
			})
		}
	})
	c.at(r.vote.Add(9*time.Hour), func() { c.holdVote(r) })
}

// holdVote records the vote (held in the morning, recorded in the evening) and certifies the result.
func (c *comm) holdVote(r *electionRun) {
	registered := c.adults * c.between(88, 97) / 100
	cast := registered * c.between(72, 93) / 100
	majority := atLeast(c.params.Threshold(rulebook.ElectionValidity, rulebook.ParamWinnerMajority), cast)
	tally := make([]election.Tally, len(r.cands))
	for i, cd := range r.cands {
		if cd.win {
			cd.votes = min(cast, max(majority, cast*c.between(58, 96)/100))
		} else {
			cd.votes = max(0, min(majority-1, cast*c.between(8, 45)/100))
		}
		tally[i] = election.Tally{Candidate: cd.p.id, Votes: cd.votes}
	}
	evs, err := r.el.HoldVoting(election.HoldVoting{At: r.vote.Add(time.Hour), RegisteredVoters: registered, BallotsCast: cast, Tally: tally}, c.params, c.now)
	apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
	c.after(hours(2), func() { c.certify(r, registered, cast) })
}

// certify certifies the result, discloses it within 24 hours (days late when planted) and seats the new
// committee, whose full-time members join the payroll.
func (c *comm) certify(r *electionRun, registered, cast int) {
	full := c.fullTimeFor(r.seats)
	if c.info.Kind == kernel.Urban && c.planted(plantFewFullTime) {
		c.plant(plantFewFullTime)
		full = atLeast(c.params.Threshold(rulebook.FullTimeShare, rulebook.ParamMinShare), r.seats) - 1
	}
	var order []*candidate // the chair first, then the others in nomination order
	for _, cd := range r.cands {
		if cd.chair {
			order = append([]*candidate{cd}, order...)
		} else if cd.win {
			order = append(order, cd)
		}
	}
	winners := make([]election.Winner, len(order))
	seats := make([]community.Seat, len(order))
	members := make([]*member, len(order))
	for i, cd := range order {
		role := roleFor(i)
		if i == 2 && len(order) >= 6 {
			role = community.ViceChair
		}
		ft := i < full
		winners[i] = election.Winner{Person: cd.p.id, Role: role, FullTime: ft}
		members[i] = &member{p: cd.p, role: role, fullTime: ft}
		seats[i] = community.Seat{Person: cd.p.id, Role: role, FullTime: ft, Source: community.Elected, ElectionID: r.id, Personal: cd.p.personal(false), PublicName: cd.p.name}
	}
	evs, err := r.el.Certify(election.Certify{Winners: winners, Community: c.profile.Figures()}, c.params, c.now)
	apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
	certified := c.now.UTC()

	delay := hours(3 + c.pick(17))
	if c.planted(plantLateResults) || c.chance(3) {
		c.plant(plantLateResults)
		delay = hours(30 + c.pick(40))
	}
	c.after(delay, func() {
		text := fmt.Sprintf("%d年%s委员会换届选举于%s举行，登记选民%d人，参加投票%d人。当选名单：", r.year, c.committeeName(),
			r.vote.In(cst).Format("1月2日"), registered, cast)
		for _, cd := range order {
			text += fmt.Sprintf("%s（%d票） ", cd.p.masked(), cd.votes)
		}
		c.publish(noticePlan{
			id: r.id + "-election-result", category: disclosure.Election, from: r.vote, to: r.vote,
			title: fmt.Sprintf("%s%d年换届选举结果公告", c.info.Name, r.year), text: text, windowDays: 7,
			refs: []disclosure.Ref{{Kind: disclosure.RefElection, ID: r.id, OccurredAt: certified}},
			deps: []string{r.stream}, attachment: "选举结果报告单",
		})
	})
	c.after(days(2)+hours(c.pick(24)), func() {
		evs, err := c.profile.SeatCommittee(fmt.Sprintf("%d-%d", r.year, r.year+5), seats, c.params, c.now)
		apply(c.profile, c.record(c.clerk, c.profileStream(), []string{r.stream}, evs, err))
		c.term = &termState{term: fmt.Sprintf("%d-%d", r.year, r.year+5), election: r, members: members}
		c.staff()
		c.duringTerm(r)
	})
}

// duringTerm: now and then a member resigns (辞职) or, rarely, is recalled (罢免); a by-election (补选)
// fills the seat a few months later.
func (c *comm) duringTerm(r *electionRun) {
	if !c.chance(8) || len(c.term.members) < 2 {
		return
	}
	c.after(days(60+c.pick(240)), func() {
		if c.term.election != r {
			return
		}
		m := c.term.members[len(c.term.members)-1]
		recall := c.chance(15)
		if recall {
			registered := c.adults * c.between(88, 97) / 100
			cast := registered * c.between(55, 80) / 100
			evs, err := r.el.Recall(election.Recall{Person: m.p.id, At: c.now.Add(-6 * time.Hour), RegisteredVoters: registered,
				BallotsCast: cast, VotesFor: cast * c.between(55, 85) / 100}, c.params, c.now)
			apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
		} else {
			evs, err := r.el.Resign(m.p.id, "因工作调动辞去职务", c.now)
			apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
		}
		reason := community.Resigned
		if recall {
			reason = community.Recalled
		}
		c.advance(hours(2))
		evs, err := c.profile.Leave(m.p.id, reason, c.params, c.now)
		apply(c.profile, c.record(c.clerk, c.profileStream(), []string{r.stream}, evs, err))
		c.term.members = c.term.members[:len(c.term.members)-1]
		c.staff()
		c.after(days(40+c.pick(50)), func() { c.byElect(r, m) })
	})
}

func (c *comm) byElect(r *electionRun, vacated *member) {
	if c.term.election != r {
		return
	}
	p := c.newPerson(c.now, 28, 55)
	registered := c.adults * c.between(88, 97) / 100
	cast := registered * c.between(60, 85) / 100
	w := election.Winner{Person: p.id, Role: community.Member, FullTime: vacated.fullTime,
		Votes: max(atLeast(c.params.Threshold(rulebook.ElectionValidity, rulebook.ParamWinnerMajority), cast), cast*c.between(60, 92)/100)}
	evs, err := r.el.ByElect(election.ByElect{Winner: w, ResidenceSince: p.since, Personal: p.personal(true),
		At: c.now.Add(-5 * time.Hour), RegisteredVoters: registered, BallotsCast: cast}, c.params, c.now)
	apply(r.el, c.record(c.clerk, r.stream, nil, evs, err))
	c.advance(hours(1))
	seat := community.Seat{Person: p.id, Role: community.Member, FullTime: w.FullTime, Source: community.ByElected, ElectionID: r.id, Personal: p.personal(false), PublicName: p.name}
	evs, err = c.profile.Join(seat, c.params, c.now)
	apply(c.profile, c.record(c.clerk, c.profileStream(), []string{r.stream}, evs, err))
	c.term.members = append(c.term.members, &member{p: p, role: community.Member, fullTime: w.FullTime})
	c.staff()
}
