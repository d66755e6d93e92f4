package workload

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// WriteSummary prints the who's who of a generated history for people: the districts, streets and
// communities with their codes and jurisdiction paths (what API tokens are scoped to), the events by
// type, the breaches recorded on events and the anomalies planted for the alert engine, with the
// communities that carry them. At most perStreet communities are listed per street (0: all). It prints
// no personal data and no credentials.
func (s Stats) WriteSummary(w io.Writer, perStreet int) error {
	p := &printer{w: w}
	p.f("History %s → %s (until %s, China time), seed %d, digest %s\n",
		s.From.In(cst).Format("2006-01-02"), s.To.In(cst).Format("2006-01-02"), s.Until.In(cst).Format("2006-01-02"), s.Seed, short(s.Digest))
	p.f("%s events in %s streams (%s appends, %s commands)\n\n", thousands(s.Events), thousands(s.Streams), thousands(s.Appends), thousands(s.Commands))
	for _, d := range s.Districts {
		urban, rural := 0, 0
		for _, st := range d.Streets {
			for _, c := range st.Communities {
				if c.Kind == kernel.Urban {
					urban++
				} else {
					rural++
				}
			}
		}
		p.f("%s  %s%s%s: %d streets, %d communities (%d 社区, %d 村)\n", d.Path, provinceName, d.CityName, d.Name, len(d.Streets), urban+rural, urban, rural)
		for _, st := range d.Streets {
			p.f("  %s  %s: %d communities\n", st.Path, st.Name, len(st.Communities))
			for i, c := range st.Communities {
				if perStreet > 0 && i == perStreet {
					p.f("    … and %d more\n", len(st.Communities)-perStreet)
					break
				}
				kind := "社区"
				if c.Kind == kernel.Rural {
					kind = "村"
				}
				planted := ""
				if len(c.Planted) > 0 {
					planted = "  planted: " + strings.Join(c.Planted, ", ")
				}
				p.f("    %s  %s  %s (%s, %s households, %s adults)%s\n", c.ID, c.Path, c.Name, kind, thousands(c.Households), thousands(c.Adults), planted)
			}
		}
	}
	p.f("\nEvents by type\n")
	for _, k := range sortedKeys(s.ByType) {
		p.f("  %-38s %9s\n", k, thousands(s.ByType[k]))
	}
	if len(s.Breaches) > 0 {
		p.f("\nWatch-rule breaches recorded on events\n")
		rules := map[string]int{}
		for r, n := range s.Breaches {
			rules[string(r)] = n
		}
		for _, r := range sortedKeys(rules) {
			p.f("  %-38s %9s\n", r, thousands(rules[r]))
		}
	}
	if len(s.Planted) > 0 {
		p.f("\nPlanted for the alert engine (breaches on events, and deadlines nothing meets)\n")
		for _, a := range sortedKeys(s.Planted) {
			p.f("  %-46s %5d  in %s\n", a, s.Planted[a], strings.Join(s.communitiesWith(a, 6), " "))
		}
	}
	return p.err
}

// communitiesWith lists up to n communities where anomaly a was planted.
func (s Stats) communitiesWith(a string, n int) []string {
	var out []string
	total := 0
	for _, d := range s.Districts {
		for _, st := range d.Streets {
			for _, c := range st.Communities {
				for _, x := range c.Planted {
					if x == a {
						total++
						if len(out) < n {
							out = append(out, string(c.ID))
						}
					}
				}
			}
		}
	}
	if total > n {
		out = append(out, fmt.Sprintf("(+%d)", total-n))
	}
	return out
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func short(digest string) string {
	if len(digest) > 16 {
		return digest[:16]
	}
	return digest
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// thousands formats n with thousands separators: 1234567 → "1,234,567".
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
