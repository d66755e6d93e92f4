package workload

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// person is a fictitious resident. Everything but id is personal data and only ever goes into the
// "personal" objects of events (and, masked, into notice texts).
type person struct {
	id         kernel.PersonID
	name       string
	male       bool
	birth      time.Time
	nationalID string
	phone      string
	address    string
	since      time.Time // lives in the community since
}

// personal is the person's data as an event carries it. full adds the home address (candidates, payees).
func (p *person) personal(full bool) *kernel.PersonalData {
	d := &kernel.PersonalData{Subject: p.id, Name: p.name, NationalID: p.nationalID, Phone: p.phone}
	if full {
		d.Address = p.address
	}
	return d
}

func (p *person) masked() string { return kernel.MaskName(p.name) }

// newPerson draws a resident of community c, an adult born between the ages given, living there since
// at least a year before `at` (most of them far longer).
func (c *comm) newPerson(at time.Time, minAge, maxAge int) *person {
	r := c.rng
	c.people++
	p := &person{id: kernel.PersonID(fmt.Sprintf("p%s-%04d", c.info.ID, c.people))}
	p.male = r.IntN(100) < 52
	p.name = personName(r, p.male)
	age := minAge + r.IntN(maxAge-minAge+1)
	p.birth = time.Date(at.Year()-age, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	p.nationalID = nationalID(r, p.birth, p.male)
	p.phone = phonePrefixes[r.IntN(len(phonePrefixes))] + fmt.Sprintf("%08d", r.IntN(100_000_000))
	p.address = c.address(r)
	years := 2 + r.IntN(max(3, age-18))
	p.since = time.Date(at.Year()-years, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	return p
}

func personName(r *rand.Rand, male bool) string {
	var b strings.Builder
	b.WriteString(surnames[r.IntN(len(surnames))])
	given := givenFemale
	if male {
		given = givenMale
	}
	b.WriteString(given[r.IntN(len(given))])
	if r.IntN(100) < 70 {
		b.WriteString(given[r.IntN(len(given))])
	}
	return b.String()
}

// nationalID composes an 18-character resident identity number (GB 11643) with a valid structure and
// check digit: a region code, the birth date, a sequence whose parity gives the sex, and the ISO 7064
// MOD 11-2 check character. The region is always in the fictitious prefecture 3399 (Zhejiang has no
// prefecture 99), so no generated number can be a real person's.
func nationalID(r *rand.Rand, birth time.Time, male bool) string {
	seq := r.IntN(500) * 2
	if male {
		seq++
	}
	body := fmt.Sprintf("3399%02d%s%03d", 1+r.IntN(30), birth.Format("20060102"), seq)
	return body + string(idCheckChar(body))
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChar is the check character of the first 17 digits of an identity number.
func idCheckChar(body string) byte {
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// ValidNationalID reports whether s has the structure of a resident identity number: 17 digits, a valid
// birth date, and the right check character. Tests use it to check the generated personal data.
func ValidNationalID(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	if _, err := time.Parse("20060102", s[6:14]); err != nil {
		return false
	}
	return s[17] == idCheckChar(s)
}

// address draws a home address in the community.
func (c *comm) address(r *rand.Rand) string {
	if c.info.Kind == kernel.Rural {
		return fmt.Sprintf("%s%s%s%d号", c.district.CityName, c.district.Name, c.info.Name, 1+r.IntN(400))
	}
	return fmt.Sprintf("%s%s%s%d号%d幢%d单元%d室", c.district.CityName, c.district.Name,
		roads[r.IntN(len(roads))], 1+r.IntN(600), 1+r.IntN(30), 1+r.IntN(4), 100*(1+r.IntN(18))+1+r.IntN(4))
}
