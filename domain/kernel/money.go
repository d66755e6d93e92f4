package kernel

import (
	"strconv"
	"strings"
)

// Fen is an amount of money in fen (分), 1/100 of a yuan. Money is never a
// float.
type Fen int64

// MaxAmount is the largest amount one fact may carry: ¥100 000 000 000.00 (10^13 fen). Far above any
// committee's money, and small enough that a million such amounts still sum within int64.
const MaxAmount Fen = 10_000_000_000_000

// CheckAmount refuses an amount that is not positive (or, with zeroOK, negative) or exceeds MaxAmount,
// as an Invalid error naming field.
func CheckAmount(a Fen, field string, zeroOK bool) error {
	switch {
	case a < 0 || a == 0 && !zeroOK:
		return Invalid("amount-not-positive", field, "金额必须大于零")
	case a > MaxAmount:
		return Invalid("amount-too-large", field, "金额超出上限（1000亿元）")
	}
	return nil
}

// MaxTotal is the largest sum the ledger keeps on one aggregate (a fiscal year's allocations, a budget
// line's commitments): ¥10 000 000 000 000.00 (10^15 fen), a hundred maximal amounts, and far within int64
// and every read model's bigint column.
const MaxTotal Fen = 1_000_000_000_000_000

// CheckTotal refuses adding amount (at most MaxAmount) to sum when the total would pass MaxTotal, as an
// Invalid error naming field.
func CheckTotal(sum, amount Fen, field string) error {
	if sum > MaxTotal-amount {
		return Invalid("total-too-large", field, "累计金额超出上限（10万亿元）")
	}
	return nil
}

// Yuan returns n whole yuan in fen.
func Yuan(n int64) Fen { return Fen(n * 100) }

// String formats the amount for people: "¥1,234.56", "-¥0.05".
func (f Fen) String() string {
	neg := f < 0
	u := uint64(f)
	if neg {
		u = uint64(-f)
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString("¥")
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	cents := u % 100
	b.WriteByte('.')
	b.WriteByte(byte('0' + cents/10))
	b.WriteByte(byte('0' + cents%10))
	return b.String()
}

// ParseYuan parses a decimal yuan amount such as "1234.56", "-3", "0.5" into
// fen exactly. More than two decimals, thousands separators, exponents and
// values beyond int64 fen are errors.
func ParseYuan(s string) (Fen, error) {
	bad := func() (Fen, error) {
		return 0, Invalid("invalid-amount", "amount", "金额格式不正确: "+strconv.Quote(s))
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return bad()
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return bad()
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/100-1 {
		return bad()
	}
	for len(frac) < 2 {
		frac += "0"
	}
	c, _ := strconv.ParseInt(frac, 10, 64)
	f := Fen(w*100 + c)
	if neg {
		f = -f
	}
	return f, nil
}
