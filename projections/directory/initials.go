package directory

import (
	"strings"

	"github.com/mozillazg/go-pinyin"
)

// initialsArgs take the first letter of each character's (first) reading; a Latin letter or a digit in a
// name stays as it is (lower case), anything else is dropped.
var initialsArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.FirstLetter
	a.Fallback = func(r rune, _ pinyin.Args) []string {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return []string{string(r)}
		case r >= 'A' && r <= 'Z':
			return []string{string(r + 'a' - 'A')}
		}
		return nil
	}
	return a
}()

// Initials is a name's pinyin initials, lower case: 罗西社区 → lxsq, 永中街道 → yzjd.
func Initials(name string) string {
	var b strings.Builder
	for _, r := range pinyin.Pinyin(name, initialsArgs) {
		if len(r) > 0 {
			b.WriteString(r[0])
		}
	}
	return b.String()
}

// initialsQuery is what a search typed in Latin letters matches among the initials (a prefix, lower
// case), or "" when the text is not such a query.
func initialsQuery(text string) string {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" || len(text) > 32 || strings.ContainsFunc(text, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') }) {
		return ""
	}
	return text
}
