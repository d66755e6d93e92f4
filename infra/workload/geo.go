package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// The jurisdiction tree of the generated district(s): province 33 (浙江省) → city → district → six streets
// (街道) → communities (社区, urban) and villages (村, rural). The first district is 龙湾区 (330303) with up
// to 78 communities, as in the seeds; more communities fill further districts of up to 78 each.

// MaxCommunitiesPerDistrict is how many communities one generated district holds (龙湾区 has 78).
const MaxCommunitiesPerDistrict = 78

// streetsPerDistrict is how many streets a full district has (龙湾区: 6 in the seeds' figures).
const streetsPerDistrict = 6

// maxDistricts bounds the tree: the real districts, then fictitious ones under cities 3390–3398.
const maxDistricts = 35 + 9*99

// District is a district or county (区/县) of the generated tree.
type District struct {
	Code     string                  `json:"code"`
	Name     string                  `json:"name"`
	CityCode string                  `json:"city_code"`
	CityName string                  `json:"city_name"`
	Path     kernel.JurisdictionPath `json:"path"`
	Streets  []Street                `json:"streets"`
}

// Street is a street or township (街道/镇).
type Street struct {
	Code        string                  `json:"code"`
	Name        string                  `json:"name"`
	Path        kernel.JurisdictionPath `json:"path"`
	Communities []Community             `json:"communities"`
}

// Community is a generated community (社区) or village (村) as registered, with the anomalies the generator
// planted in its history (rule ids of the breaches it will show, or of the deadlines it will miss), so a
// test of the alert engine knows which community should turn yellow or red and why.
type Community struct {
	ID         kernel.CommunityID      `json:"id"`
	Name       string                  `json:"name"`
	Kind       kernel.CommunityKind    `json:"kind"`
	Path       kernel.JurisdictionPath `json:"path"`
	Households int                     `json:"households"`
	Adults     int                     `json:"adults"`
	Planted    []string                `json:"planted,omitempty"`
}

const provinceCode, provinceName = "33", "浙江省"

// buildTree lays out n communities in districts of up to MaxCommunitiesPerDistrict, deterministically
// from the seed.
func buildTree(seed uint64, n int) ([]District, error) {
	nd := (n + MaxCommunitiesPerDistrict - 1) / MaxCommunitiesPerDistrict
	if nd > maxDistricts {
		return nil, fmt.Errorf("workload: %d communities need %d districts; at most %d (%d communities) can be generated",
			n, nd, maxDistricts, maxDistricts*MaxCommunitiesPerDistrict)
	}
	r := rand.New(rand.NewPCG(seed, 0x6e0))
	names := map[string]bool{}
	out := make([]District, nd)
	for d := range nd {
		count := min(MaxCommunitiesPerDistrict, n-d*MaxCommunitiesPerDistrict)
		out[d] = buildDistrict(r, d, count, names)
	}
	return out, nil
}

func buildDistrict(r *rand.Rand, index, communities int, used map[string]bool) District {
	var d District
	if index < len(realDistricts) {
		rd := realDistricts[index]
		d = District{Code: rd.code, Name: rd.name, CityCode: rd.code[:4], CityName: rd.cityName}
	} else {
		k := index - len(realDistricts)
		city := 3390 + k/99
		d = District{Code: fmt.Sprintf("%d%02d", city, k%99+1), CityCode: fmt.Sprintf("%d", city),
			CityName: fictitiousCities[k/99%len(fictitiousCities)], Name: composedName(r, used, "区")}
	}
	d.Path = kernel.JurisdictionPath(provinceCode + "/" + d.CityCode + "/" + d.Code)
	ns := min(streetsPerDistrict, communities)
	// Uneven streets, as real ones are: weights around 13 communities each.
	weights := make([]int, ns)
	total := 0
	for i := range weights {
		weights[i] = 9 + r.IntN(9)
		total += weights[i]
	}
	sizes := make([]int, ns)
	left := communities
	for i := range sizes {
		sizes[i] = max(1, communities*weights[i]/total)
		left -= sizes[i]
	}
	for i := 0; left != 0; i = (i + 1) % ns {
		switch {
		case left > 0:
			sizes[i]++
			left--
		case sizes[i] > 1:
			sizes[i]--
			left++
		}
	}
	localNames := map[string]bool{}
	for s := range ns {
		st := Street{Code: fmt.Sprintf("%s%03d", d.Code, s+1)}
		if index == 0 {
			st.Name = longwanStreets[s]
		} else {
			st.Name = composedName(r, used, "街道")
		}
		st.Path = d.Path + kernel.JurisdictionPath("/"+st.Code)
		// Each street is partly urban, partly rural; central streets are more urban.
		ruralShare := 25 + r.IntN(45)
		urbanNo, ruralNo := 0, 0
		for range sizes[s] {
			c := Community{Kind: kernel.Urban}
			if r.IntN(100) < ruralShare {
				c.Kind = kernel.Rural
			}
			// Statistical codes: 居委会 from 001, 村委会 from 201.
			if c.Kind == kernel.Urban {
				urbanNo++
				c.ID = kernel.CommunityID(fmt.Sprintf("%s%03d", st.Code, urbanNo))
				c.Name = composedName(r, localNames, "社区")
				c.Households = 1200 + r.IntN(3300)
				c.Adults = c.Households * (200 + r.IntN(50)) / 100
			} else {
				ruralNo++
				c.ID = kernel.CommunityID(fmt.Sprintf("%s%03d", st.Code, 200+ruralNo))
				c.Name = composedName(r, localNames, "村")
				c.Households = 260 + r.IntN(1300)
				c.Adults = c.Households * (230 + r.IntN(60)) / 100
			}
			c.Path = st.Path + kernel.JurisdictionPath("/"+string(c.ID))
			st.Communities = append(st.Communities, c)
		}
		d.Streets = append(d.Streets, st)
	}
	return d
}

// composedName draws a two-syllable place name with the suffix, unique within used.
func composedName(r *rand.Rand, used map[string]bool, suffix string) string {
	for {
		a := placeSyllables[r.IntN(len(placeSyllables))]
		b := placeSyllables[r.IntN(len(placeSyllables))]
		if a == b {
			continue
		}
		name := a + b + suffix
		if !used[name] {
			used[name] = true
			return name
		}
	}
}

var fictitiousCities = []string{"瓯江市", "雁荡市", "括苍市", "东瓯市", "飞云市", "鳌江市", "楠溪市", "玉环湾市", "南麂市"}
