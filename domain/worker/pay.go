package worker

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// PublicPayee is the payee the public sees of a worker's salary: one worker's pay is not public by name.
const PublicPayee = "社区工作者"

// Component of a worker's pay (薪酬体系: 基本工资 + 绩效工资 + 年度奖励), each paid for its own kind of
// period: basic pay for a month ("2026-11"), performance pay for a quarter ("2026-Q4"), the annual bonus
// for a year ("2026").
type Component string

const (
	Basic       Component = "basic"        // 基本工资
	Performance Component = "performance"  // 绩效工资
	AnnualBonus Component = "annual-bonus" // 年度奖励
)

// Components lists the components, in the order the API documents them.
func Components() []Component { return []Component{Basic, Performance, AnnualBonus} }

// Valid reports whether c is a known component.
func (c Component) Valid() bool { return slices.Contains(Components(), c) }

// Chinese names the component.
func (c Component) Chinese() string {
	switch c {
	case Basic:
		return "基本工资"
	case Performance:
		return "绩效工资"
	case AnnualBonus:
		return "年度奖励"
	}
	return string(c)
}

// Period is the stretch of time a payment of a component pays for, in China time.
type Period struct {
	From, To time.Time // [From, To)
	Text     string    // "2026年11月"
}

// ParsePeriod reads the period of a component: "2026-11" for basic pay, "2026-Q4" for performance pay,
// "2026" for the annual bonus. An error is an Invalid naming payroll.period.
func ParsePeriod(c Component, s string) (Period, error) {
	bad := func(want string) (Period, error) {
		return Period{}, kernel.Invalid("invalid-pay-period", "payroll.period", fmt.Sprintf("%s的期间须写作 %s", c.Chinese(), want))
	}
	cst := kernel.ChinaTime()
	year := func(s string) (int, bool) {
		y, err := strconv.Atoi(s)
		return y, err == nil && len(s) == 4 && y >= 1949 && y <= 9999
	}
	switch c {
	case Basic:
		if len(s) != 7 || s[4] != '-' {
			return bad("2026-11")
		}
		y, ok := year(s[:4])
		m, err := strconv.Atoi(s[5:])
		if !ok || err != nil || m < 1 || m > 12 {
			return bad("2026-11")
		}
		from := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, cst)
		return Period{from, from.AddDate(0, 1, 0), fmt.Sprintf("%d年%d月", y, m)}, nil
	case Performance:
		if len(s) != 7 || s[4:6] != "-Q" || s[6] < '1' || s[6] > '4' {
			return bad("2026-Q4")
		}
		y, ok := year(s[:4])
		if !ok {
			return bad("2026-Q4")
		}
		q := int(s[6] - '0')
		from := time.Date(y, time.Month(3*q-2), 1, 0, 0, 0, 0, cst)
		return Period{from, from.AddDate(0, 3, 0), fmt.Sprintf("%d年第%d季度", y, q)}, nil
	case AnnualBonus:
		y, ok := year(s)
		if !ok {
			return bad("2026")
		}
		from := time.Date(y, 1, 1, 0, 0, 0, 0, cst)
		return Period{from, from.AddDate(1, 0, 0), fmt.Sprintf("%d年度", y)}, nil
	}
	return Period{}, kernel.Invalid("invalid-pay-component", "payroll.component", "薪酬项目须为 basic(基本工资)、performance(绩效工资) 或 annual-bonus(年度奖励)")
}

// BasicPay is the monthly basic pay of a post under the rulebook in force (pay-scale): grade 1 of the
// series plus a step for each grade above it.
func BasicPay(post Post, p rulebook.Params) kernel.Fen {
	param := map[Series]string{Head: rulebook.ParamBasicHead, Deputy: rulebook.ParamBasicDeputy, Staff: rulebook.ParamBasicStaff}[post.Series]
	return p.Fen(rulebook.PayScale, param) + kernel.Fen(post.Grade-1)*p.Fen(rulebook.PayScale, rulebook.ParamGradeStep)
}

// Band is what one payment of a component may be under the grade scale: at least Min, at most Max.
// Basis says which post and scale it comes from, for the alert.
type Band struct {
	Component Component
	Period    string
	Min, Max  kernel.Fen
	Basis     string
}

// Breach is the pay-scale breach of a payment of amount outside the band, or nil.
func (b Band) Breach(amount kernel.Fen) *kernel.Breach {
	switch {
	case amount > b.Max:
		return &kernel.Breach{Rule: rulebook.PayScale, Detail: fmt.Sprintf("%s%s实发%s，高于%s的标准上限%s",
			b.Period, b.Component.Chinese(), amount, b.Basis, b.Max)}
	case amount < b.Min:
		return &kernel.Breach{Rule: rulebook.PayScale, Detail: fmt.Sprintf("%s%s实发%s，低于%s的标准%s",
			b.Period, b.Component.Chinese(), amount, b.Basis, b.Min)}
	}
	return nil
}

// band is the scale of component c over period for a worker employed [from, to) there (clipped to the
// period), who held posts: the basic pay of a whole month is exactly the post's, of a part of one at
// least its share by days employed (入职、离职当月按天折算); performance pay is at most the rulebook's
// percent of three months' basic pay; the annual bonus at most its months of basic pay. A grade change
// within the period widens the band to the two posts' pay.
func band(c Component, period Period, from, to time.Time, posts []Post, p rulebook.Params) Band {
	lo, hi := BasicPay(posts[0], p), BasicPay(posts[0], p)
	for _, post := range posts[1:] {
		lo, hi = min(lo, BasicPay(post, p)), max(hi, BasicPay(post, p))
	}
	last := posts[len(posts)-1]
	b := Band{Component: c, Period: period.Text}
	switch c {
	case Basic:
		b.Basis = fmt.Sprintf("%s(基本工资%s/月)", last.Chinese(), hi)
		days, all := employedDays(period, from, to)
		b.Min, b.Max = lo*kernel.Fen(days)/kernel.Fen(all), hi
	case Performance:
		pct := p.Count(rulebook.PayScale, rulebook.ParamPerformancePct)
		b.Basis = fmt.Sprintf("%s(季度绩效不超过3个月基本工资的%d%%)", last.Chinese(), pct)
		b.Max = hi * 3 * kernel.Fen(pct) / 100
	case AnnualBonus:
		months := p.Count(rulebook.PayScale, rulebook.ParamBonusMonths)
		b.Basis = fmt.Sprintf("%s(年度奖励不超过%d个月基本工资)", last.Chinese(), months)
		b.Max = hi * kernel.Fen(months)
	}
	return b
}

// employedDays counts the calendar days (China time) of the period on which the worker was employed at
// some time of the day, and the days of the period.
func employedDays(period Period, from, to time.Time) (int, int) {
	day := func(t time.Time) time.Time {
		t = t.In(period.From.Location())
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	}
	all := int(period.To.Sub(period.From).Hours()+12) / 24
	if !from.After(period.From) && !to.Before(period.To) {
		return all, all
	}
	first, last := day(from), day(to.Add(-time.Nanosecond))
	return int(last.Sub(first).Hours()+12)/24 + 1, all
}
