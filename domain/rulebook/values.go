package rulebook

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is a calendar length: years, months, days and hours, added in that
// order with time.AddDate so that "1y" from 2025-03-01 is 2026-03-01 whatever
// the leap years. Its text form is a sequence of <n><unit> with units y, mo,
// d, h: "1y", "6mo", "7d", "48h", "1y6mo".
type Span struct {
	Years, Months, Days, Hours int
}

// ParseSpan parses the text form of a Span; it must be positive.
func ParseSpan(s string) (Span, error) {
	var sp Span
	rest := s
	if rest == "" {
		return Span{}, fmt.Errorf("empty span")
	}
	seen := map[string]bool{}
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 {
			return Span{}, fmt.Errorf("span %q: expected a number of at most 6 digits", s)
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = rest[i:]
		var unit string
		switch {
		case strings.HasPrefix(rest, "mo"):
			unit, sp.Months = "mo", n
		case strings.HasPrefix(rest, "y"):
			unit, sp.Years = "y", n
		case strings.HasPrefix(rest, "d"):
			unit, sp.Days = "d", n
		case strings.HasPrefix(rest, "h"):
			unit, sp.Hours = "h", n
		default:
			return Span{}, fmt.Errorf("span %q: unit must be y, mo, d or h", s)
		}
		if seen[unit] {
			return Span{}, fmt.Errorf("span %q: unit %s twice", s, unit)
		}
		seen[unit] = true
		rest = rest[len(unit):]
	}
	if sp == (Span{}) {
		return Span{}, fmt.Errorf("span %q is zero", s)
	}
	return sp, nil
}

// After returns t plus the span.
func (s Span) After(t time.Time) time.Time {
	return t.AddDate(s.Years, s.Months, s.Days).Add(time.Duration(s.Hours) * time.Hour)
}

// String returns the canonical text form.
func (s Span) String() string {
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{s.Years, "y"}, {s.Months, "mo"}, {s.Days, "d"}, {s.Hours, "h"}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
	}
	return b.String()
}

// Chinese returns the span for a clerk: "1年", "7天", "48小时".
func (s Span) Chinese() string {
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{s.Years, "年"}, {s.Months, "个月"}, {s.Days, "天"}, {s.Hours, "小时"}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
	}
	return b.String()
}

// Threshold is a share that a count must reach: Num/Den of a whole, either
// strictly more than (Strict, text ">1/2") or at least (text ">=2/3").
type Threshold struct {
	Num, Den int64
	Strict   bool
}

// ParseThreshold parses ">1/2" (more than half) or ">=2/3" (at least two
// thirds); 0 < Num/Den <= 1 is required.
func ParseThreshold(s string) (Threshold, error) {
	var t Threshold
	rest, ok := strings.CutPrefix(s, ">=")
	if !ok {
		rest, ok = strings.CutPrefix(s, ">")
		if !ok {
			return t, fmt.Errorf("threshold %q must start with > or >=", s)
		}
		t.Strict = true
	}
	num, den, ok := strings.Cut(rest, "/")
	if !ok {
		return t, fmt.Errorf("threshold %q must be a fraction n/d", s)
	}
	var err1, err2 error
	t.Num, err1 = strconv.ParseInt(num, 10, 32)
	t.Den, err2 = strconv.ParseInt(den, 10, 32)
	if err1 != nil || err2 != nil || t.Num <= 0 || t.Den <= 0 || t.Num > t.Den {
		return Threshold{}, fmt.Errorf("threshold %q must be a fraction 0 < n/d <= 1", s)
	}
	return t, nil
}

// Met reports whether part reaches the threshold of whole.
func (t Threshold) Met(part, whole int64) bool {
	if t.Strict {
		return part*t.Den > whole*t.Num
	}
	return part*t.Den >= whole*t.Num
}

// String returns the canonical text form.
func (t Threshold) String() string {
	op := ">="
	if t.Strict {
		op = ">"
	}
	return fmt.Sprintf("%s%d/%d", op, t.Num, t.Den)
}

// Chinese returns the threshold for a clerk: "过半数" style text "超过1/2", "不少于2/3".
func (t Threshold) Chinese() string {
	if t.Strict {
		return fmt.Sprintf("超过%d/%d", t.Num, t.Den)
	}
	return fmt.Sprintf("不少于%d/%d", t.Num, t.Den)
}

// parseValue checks a parameter value of the given type; it returns the
// canonical text so that equal settings compare equal.
func parseValue(typ ParamType, s string) (string, error) {
	switch typ {
	case TypeSpan:
		v, err := ParseSpan(s)
		if err != nil {
			return "", err
		}
		return v.String(), nil
	case TypeThreshold:
		v, err := ParseThreshold(s)
		if err != nil {
			return "", err
		}
		return v.String(), nil
	case TypeCount:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 1 {
			return "", fmt.Errorf("count %q must be a whole number >= 1", s)
		}
		return strconv.FormatInt(n, 10), nil
	case TypeFen:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return "", fmt.Errorf("amount %q must be a whole number of fen >= 1", s)
		}
		return strconv.FormatInt(n, 10), nil
	case TypeSwitch:
		if s != "on" && s != "off" {
			return "", fmt.Errorf("switch %q must be on or off", s)
		}
		return s, nil
	case TypeSeverity:
		if s != string(Red) && s != string(Yellow) {
			return "", fmt.Errorf("severity %q must be red or yellow", s)
		}
		return s, nil
	}
	return "", fmt.Errorf("unknown parameter type %q", typ)
}
