package kernel

import (
	"strings"
	"time"
	"unicode"
)

// PersonalDataKind names what FindPersonalData found.
type PersonalDataKind string

const (
	FoundNationalID PersonalDataKind = "national-id" // 身份证号
	FoundMobile     PersonalDataKind = "mobile"      // 手机号
)

// CheckPublicName checks a public display name (公示姓名) of a candidate or a committee member: the name a
// candidate list, a result and a roster show, a public act of office and not personal data. Empty is
// allowed (the records then show the person id); otherwise at most 32 characters, one line that
// CheckText passes, and no ID or phone number in it. field names the input in the error.
func CheckPublicName(name, field string) error {
	if name == "" {
		return nil
	}
	if n := len([]rune(name)); n > 32 || strings.TrimSpace(name) != name || CheckText(name, false).Kind != TextOK {
		return Invalid("public-name-invalid", field, "公示姓名最多 32 个字，不能有首尾空格或控制字符")
	}
	if kind, _ := FindPersonalData(name); kind != "" {
		return Invalid("public-name-invalid", field, "公示姓名中不能含有身份证号或电话号码")
	}
	return nil
}

// FindPersonalData looks in a text meant for the public for a national ID number or a mobile phone
// number, however written: full-width digits (１３９…), separators between the digits (139-1234-5671,
// 139 1234 5671), a country code (+86, 0086), letters glued on (ID330303198505121237). It returns what it
// found and where (the rune offset of its first digit), or "" when the text holds neither. Such data
// belongs in the personal-data fields, which the public never sees; masking it after the fact misses
// these forms.
//
// A national ID is 17 digits and a digit or X whose digits 7–14 are a real birth date since 1900; a mobile
// number is 11 digits starting 13–19, alone in its run of digits (after a country code). Amounts, dates,
// voucher numbers and community codes are neither.
func FindPersonalData(text string) (PersonalDataKind, int) {
	runs := digitRuns(text)
	for _, r := range runs {
		d := r.digits
		for i := 0; i+18 <= len(d); i++ {
			if nationalID(d[i : i+18]) {
				return FoundNationalID, r.start
			}
		}
		switch {
		case strings.HasPrefix(d, "0086"):
			d = d[4:]
		case strings.HasPrefix(d, "86") && len(d) == 13:
			d = d[2:]
		}
		if len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' {
			return FoundMobile, r.start
		}
	}
	return "", 0
}

type digitRun struct {
	digits string // ASCII digits, and a final X of an ID number
	start  int    // rune offset of the first digit
}

// digitRuns splits text into runs of digits (full-width folded to ASCII), where single separators
// (space, hyphen, dot, middle dot, full-width space) between digits do not end a run.
func digitRuns(text string) []digitRun {
	rs := []rune(text)
	var out []digitRun
	var cur *digitRun
	var b strings.Builder
	flush := func() {
		if cur != nil {
			cur.digits = b.String()
			out = append(out, *cur)
			cur = nil
			b.Reset()
		}
	}
	for i := 0; i < len(rs); i++ {
		r := foldDigit(rs[i])
		switch {
		case r >= '0' && r <= '9':
			if cur == nil {
				cur = &digitRun{start: i}
			}
			b.WriteRune(r)
		case cur != nil && (r == 'X' || r == 'x') && b.Len() == 17:
			b.WriteByte('X')
		case cur != nil && separator(r) && i+1 < len(rs) && isDigit(foldDigit(rs[i+1])):
			// a separator between digits: the run goes on
		default:
			flush()
		}
	}
	flush()
	return out
}

func foldDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	if r == 'Ｘ' || r == 'ｘ' {
		return 'X'
	}
	return r
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func separator(r rune) bool {
	return r == '-' || r == '.' || r == '·' || r == '－' || r == '—' || r == '–' || unicode.IsSpace(r)
}

// nationalID reports whether s (18 characters) is shaped like a resident ID number: a province code
// 11–82, a birth date since 1900 that exists, and a last character that is a digit or X.
func nationalID(s string) bool {
	if len(s) != 18 || s[0] < '1' || s[0] > '8' {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(rune(s[i])) {
			return false
		}
	}
	if !isDigit(rune(s[17])) && s[17] != 'X' {
		return false
	}
	birth, err := time.Parse("20060102", s[6:14])
	return err == nil && birth.Year() >= 1900 && birth.Year() <= 2100
}
