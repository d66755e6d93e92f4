package kernel_test

import (
	"testing"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

func TestCheckText(t *testing.T) {
	for _, c := range []struct {
		text string
		long bool
		want kernel.TextFault
	}{
		{"选址离幼儿园太近。", false, kernel.TextFault{}},
		{"第一行\n第二行\t完", true, kernel.TextFault{}},
		{"第一行\n第二行", false, kernel.TextFault{Kind: kernel.TextLineBreak, Rune: '\n', At: 4}},
		{"一行\r\n两行", true, kernel.TextFault{Kind: kernel.TextControl, Rune: '\r', At: 3}},
		{"a\x00b", true, kernel.TextFault{Kind: kernel.TextControl, Rune: 0, At: 2}},
		{"ab\x7f", true, kernel.TextFault{Kind: kernel.TextControl, Rune: 0x7f, At: 3}},
		{"付款\u0085", true, kernel.TextFault{Kind: kernel.TextControl, Rune: 0x85, At: 3}},
		{"付款\u202e0001", true, kernel.TextFault{Kind: kernel.TextBidiOverride, Rune: 0x202e, At: 3}},
		{"\u2066x", false, kernel.TextFault{Kind: kernel.TextBidiOverride, Rune: 0x2066, At: 1}},
		{"同意\xff\xfe", true, kernel.TextFault{Kind: kernel.TextNotUnicode, Rune: 0xfffd, At: 3}},
		{"替换\ufffd", true, kernel.TextFault{Kind: kernel.TextNotUnicode, Rune: 0xfffd, At: 3}},
		{"零宽\u200b连接\u200d、不换行空格\u00a0", false, kernel.TextFault{}},
	} {
		if got := kernel.CheckText(c.text, c.long); got != c.want {
			t.Errorf("CheckText(%q, long=%v) = %+v, want %+v", c.text, c.long, got, c.want)
		}
	}
}

func TestBlank(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "  \n\t": true, "\u200b\u200b": true, "\ufeff\u3000": true, "\u3164": true,
		"x": false, " 。": false, "\u200b同意": false,
	} {
		if got := kernel.Blank(s); got != want {
			t.Errorf("Blank(%q) = %v, want %v", s, got, want)
		}
	}
}
