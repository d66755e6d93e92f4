package kernel

import (
	"unicode"
	"unicode/utf8"
)

// TextFaultKind says why a text cannot be recorded as it was typed.
type TextFaultKind int

const (
	TextOK           TextFaultKind = iota
	TextLineBreak                  // a line break or a tab in a one-line field
	TextControl                    // a control character (C0 other than line break and tab, DEL, C1)
	TextBidiOverride               // a bidirectional override or isolate: the text would read otherwise than it is stored
	TextNotUnicode                 // invalid UTF-8, or U+FFFD standing in for it
)

// TextFault is the first character of a text that no record may hold: why, which character, and where
// (At counts characters from 1). Kind is TextOK when there is none.
type TextFault struct {
	Kind TextFaultKind
	Rune rune
	At   int
}

// CheckText finds the first character of s that a record must not hold, whatever door the text came in
// by (the command API's JSON, a resident's form): control characters, bidirectional overrides and
// isolates, and what is not valid Unicode; line breaks and tabs too unless long (a text of several
// lines). A form's CRLF line breaks are the form's encoding: the caller makes them LF first.
func CheckText(s string, long bool) TextFault {
	at := 0
	for _, r := range s {
		at++
		kind := TextOK
		switch {
		case r == '\n' || r == '\t':
			if !long {
				kind = TextLineBreak
			}
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
			kind = TextControl
		case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			kind = TextBidiOverride
		case r == utf8.RuneError:
			kind = TextNotUnicode
		}
		if kind != TextOK {
			return TextFault{Kind: kind, Rune: r, At: at}
		}
	}
	return TextFault{}
}

// Blank reports whether s has nothing to read: only spaces and invisible characters (format characters
// such as zero-width spaces, joiners and the byte order mark, and the Hangul fillers).
func Blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && r != '\u3164' && r != '\u115f' && r != '\u1160' {
			return false
		}
	}
	return true
}
