package kernel

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// CommunityID is the opaque identifier of a community (社区) or village (村),
// usually its statistical code ("330303001001").
type CommunityID string

// PersonID is the opaque identifier of a person. It carries no personal data
// itself; names and ID numbers live in PersonalData.
type PersonID string

// CommunityKind says whether a community is urban (社区, residents' committee
// 居委会) or rural (村, villagers' committee 村委会). Several rules differ.
type CommunityKind string

const (
	Urban CommunityKind = "urban" // 社区
	Rural CommunityKind = "rural" // 村
)

// CommunityKinds lists the kinds of community, in the order the API documents them.
func CommunityKinds() []CommunityKind { return []CommunityKind{Urban, Rural} }

// Valid reports whether k is a known kind.
func (k CommunityKind) Valid() bool { return slices.Contains(CommunityKinds(), k) }

// JurisdictionPath locates a node of the jurisdiction tree as its codes from
// the root, separated by "/": province/city/district/street/community/grid/
// building, e.g. "33/3303/330303/330303001/330303001001" for a community.
// Every event's metadata carries the full path of its community so that a
// supervisor can subscribe to "everything under district X".
type JurisdictionPath string

// Jurisdiction levels by depth of the path (the seeds describe seven levels).
const (
	LevelProvince  = 1 // 省
	LevelCity      = 2 // 市
	LevelDistrict  = 3 // 区/县
	LevelStreet    = 4 // 街道/镇
	LevelCommunity = 5 // 社区/村
	LevelGrid      = 6 // 网格
	LevelBuilding  = 7 // 楼栋
)

// LevelName returns the Chinese name of a level.
func LevelName(depth int) string {
	switch depth {
	case LevelProvince:
		return "省"
	case LevelCity:
		return "市"
	case LevelDistrict:
		return "区/县"
	case LevelStreet:
		return "街道/镇"
	case LevelCommunity:
		return "社区/村"
	case LevelGrid:
		return "网格"
	case LevelBuilding:
		return "楼栋"
	}
	return ""
}

// Validate checks the path: 1 to 7 non-empty segments of ASCII letters,
// digits, '-' or '_'. The error is Invalid and names field.
func (p JurisdictionPath) Validate(field string) error {
	bad := Invalid("invalid-jurisdiction-path", field, "辖区路径格式不正确: "+string(p))
	if p == "" || !utf8.ValidString(string(p)) {
		return bad
	}
	segs := p.Segments()
	if len(segs) > LevelBuilding {
		return bad
	}
	for _, s := range segs {
		if s == "" {
			return bad
		}
		for _, c := range s {
			ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
			if !ok {
				return bad
			}
		}
	}
	return nil
}

// Segments returns the codes from the root down; nil for the empty path.
func (p JurisdictionPath) Segments() []string {
	if p == "" {
		return nil
	}
	return strings.Split(string(p), "/")
}

// Depth is the number of segments: LevelCommunity for a community.
func (p JurisdictionPath) Depth() int { return len(p.Segments()) }

// Last returns the code of the node itself.
func (p JurisdictionPath) Last() string {
	i := strings.LastIndexByte(string(p), '/')
	return string(p[i+1:])
}

// Parent returns the path of the enclosing node; false at the root.
func (p JurisdictionPath) Parent() (JurisdictionPath, bool) {
	i := strings.LastIndexByte(string(p), '/')
	if i < 0 {
		return "", false
	}
	return p[:i], true
}

// Contains reports whether q is p itself or lies anywhere under p. The empty
// path contains everything.
func (p JurisdictionPath) Contains(q JurisdictionPath) bool {
	if p == "" || p == q {
		return true
	}
	return strings.HasPrefix(string(q), string(p)+"/")
}

// Under reports whether p is ancestor itself or lies under it; it is
// ancestor.Contains(p), read the other way round.
func (p JurisdictionPath) Under(ancestor JurisdictionPath) bool { return ancestor.Contains(p) }

// Ancestors returns every path from the root down to p itself, inclusive:
// "33", "33/3303", … — the order in which rule overrides are layered.
func (p JurisdictionPath) Ancestors() []JurisdictionPath {
	var out []JurisdictionPath
	for i := range len(p) {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	if p != "" {
		out = append(out, p)
	}
	return out
}

// MaskName keeps the first character of a person's name and masks the rest,
// as the public board shows individual payees: "张三" → "张*", "欧阳娜娜" → "欧***".
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(name)
	if n == 1 {
		return string(first) + "*"
	}
	return string(first) + strings.Repeat("*", n-1)
}

// MaskNationalID shows at most the first 3 and last 2 characters of a
// national ID number: "330303199001011234" → "330*************34".
func MaskNationalID(id string) string {
	r := []rune(id)
	if len(r) <= 5 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-5) + string(r[len(r)-2:])
}

// CheckSHA256 returns an Invalid error naming field unless s is a SHA-256
// digest in lower-case hex (64 characters), how documents are referenced.
func CheckSHA256(s, field string) error {
	ok := len(s) == 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	if !ok {
		return Invalid("invalid-sha256", field, "文件哈希须为64位小写十六进制SHA-256值")
	}
	return nil
}
