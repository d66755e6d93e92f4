package kernel_test

import (
	"testing"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

func TestFindPersonalData(t *testing.T) {
	for text, want := range map[string]kernel.PersonalDataKind{
		"申请人ID330303198505121237，请核实":       kernel.FoundNationalID,
		"身份证 330303 19850512 123X":          kernel.FoundNationalID,
		"身份证：３３０３０３１９８５０５１２１２３７":            kernel.FoundNationalID,
		"联系电话１３９１２３４５６７１":                   kernel.FoundMobile,
		"联系 +8613811113333":                 kernel.FoundMobile,
		"联系 +86 138 1111 3333":              kernel.FoundMobile,
		"电话：0086-138-1111-3333":             kernel.FoundMobile,
		"电话 139-1234-5671 王":                kernel.FoundMobile,
		"电话 139 1234 5671":                  kernel.FoundMobile,
		"支出¥1,234,567.89，凭证 LIVE-2026-0001": "",
		"2026年4月1日召开，20260401 会议纪要":         "",
		"社区编码 330303001001":                 "",
		"合计 12345678901234567890 分":         "", // 20 digits whose birth dates do not exist
		"第 3 季度支出 125000 元":                 "",
		"":                                  "",
	} {
		if got, _ := kernel.FindPersonalData(text); got != want {
			t.Errorf("FindPersonalData(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestCheckPublicName(t *testing.T) {
	for name, ok := range map[string]bool{
		"": true, "张建国": true, "Zhang Jianguo": true, "欧阳·娜娜": true,
		" 张建国": false, "张\n建国": false, "张建国\u202e": false, "张\x00": false, "张\ufffd": false,
		"王13912345671": false, "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三": false,
	} {
		if err := kernel.CheckPublicName(name, "public_name"); (err == nil) != ok {
			t.Errorf("CheckPublicName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
