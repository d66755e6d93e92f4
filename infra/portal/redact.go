package portal

import (
	"strings"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Redact masks what must never be public if it slipped into a free-text field a clerk typed (a notice's
// text, a purpose, a motion): resident identity numbers (18 characters with a valid check character) show
// only their first 3 and last 2 characters, mobile numbers only their first 3 and last 4 digits. The read
// models are designed to hold no personal data; this is the last line, applied to every text the portal
// renders or serves.
func Redact(s string) string {
	if digitsIn(s) < 11 { // a mobile number has 11 digits, an identity number 17 or 18
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for i < len(s) {
		c := s[i]
		if !isDigit(c) || (i > 0 && isAlnum(s[i-1])) {
			b.WriteByte(c)
			i++
			continue
		}
		// A run of digits (with separators inside a phone number) starting at i.
		if n, ok := phoneAt(s, i); ok {
			digits := onlyDigits(s[i : i+n])
			b.WriteString(digits[:3] + "****" + digits[7:])
			i += n
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		run := s[i:j]
		if len(run) == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') && (j+1 == len(s) || !isAlnum(s[j+1])) {
			run, j = s[i:j+1], j+1
		}
		if len(run) == 18 && (j == len(s) || !isAlnum(s[j])) && validNationalID(run) {
			b.WriteString(kernel.MaskNationalID(run))
		} else {
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

// phoneAt recognises a mainland mobile number at s[i:]: 1[3-9] and nine more digits, contiguous or as
// 3-4-4 groups separated by one space or hyphen, not inside a longer number or word.
func phoneAt(s string, i int) (int, bool) {
	if i+11 > len(s) || s[i] != '1' || s[i+1] < '3' || s[i+1] > '9' {
		return 0, false
	}
	end := func(j int) bool { return j == len(s) || !isAlnum(s[j]) }
	if allDigits(s[i:i+11]) && end(i+11) {
		return 11, true
	}
	if i+13 <= len(s) && allDigits(s[i:i+3]) && isSep(s[i+3]) && allDigits(s[i+4:i+8]) && isSep(s[i+8]) &&
		allDigits(s[i+9:i+13]) && end(i+13) {
		return 13, true
	}
	return 0, false
}

func digitsIn(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSep(c byte) bool   { return c == ' ' || c == '-' }
func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// validNationalID reports whether s has the structure of a resident identity number (GB 11643): 17
// digits, a plausible birth date and the ISO 7064 MOD 11-2 check character.
func validNationalID(s string) bool {
	if len(s) != 18 || !allDigits(s[:17]) {
		return false
	}
	y := int(s[6]-'0')*1000 + int(s[7]-'0')*100 + int(s[8]-'0')*10 + int(s[9]-'0')
	m := int(s[10]-'0')*10 + int(s[11]-'0')
	d := int(s[12]-'0')*10 + int(s[13]-'0')
	if y < 1850 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * idWeights[i]
	}
	c := s[17]
	if c == 'x' {
		c = 'X'
	}
	return c == "10X98765432"[sum%11]
}
