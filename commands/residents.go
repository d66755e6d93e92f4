package commands

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

// Residents is what anyone may submit without an account (群众参与): an objection to a notice during its
// publicity window (公示异议), an objection to an election's candidate list (选举异议), and a topic for
// deliberation (群众说事, the first step of the five). They are the catalogue's commands, given as the
// public actor (PublicActor, action ResidentInput) under the submission's idempotency key: the receipt
// code (回执号) is derived from the key, so a double submit gets the same receipt and records nothing
// more. A contact given is personal data: sealed with the rest, never public, auditors only.
type Residents struct{ h *Handlers }

// NewResidents returns the residents' submissions on the handlers.
func NewResidents(h *Handlers) *Residents { return &Residents{h: h} }

// SubmissionKind is what a resident submits.
type SubmissionKind string

const (
	NoticeObjection   SubmissionKind = "notice-objection"   // 公示异议
	ElectionObjection SubmissionKind = "election-objection" // 候选人名单异议
	Topic             SubmissionKind = "topic"              // 群众说事
)

// Submission is one resident's submission.
type Submission struct {
	Kind        SubmissionKind
	CommunityID string
	// Target is the notice or the election objected to (empty for a topic).
	Target string
	// Concerning is the candidate (person id) an objection to a candidate list is about, if one.
	Concerning string
	Text       string
	// Name and Phone are an optional contact (联系人, 联系电话): personal data.
	Name, Phone string
}

// MaxSubmissionText is the longest text a resident may submit, in characters.
const MaxSubmissionText = 2000

// receiptAlphabet is Crockford's base32: no I, L, O or U to misread.
var receiptAlphabet = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// ReceiptOf is the receipt code of the submission with idempotency key key: "R" and ten characters of
// Crockford base32 (50 bits of a SHA-256 of the key).
func ReceiptOf(key string) string {
	sum := sha256.Sum256([]byte("grassroots-ledger/receipt/v1\x00" + key))
	return "R" + receiptAlphabet.EncodeToString(sum[:])[:10]
}

// NormalizeReceipt reads a receipt code as a person types it (lower case, spaces, dashes, O for 0, I or
// L for 1); false when it cannot be one.
func NormalizeReceipt(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(s)))
	if len(s) != 11 || s[0] != 'R' {
		return "", false
	}
	b := []byte(s)
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case 'O':
			b[i] = '0'
		case 'I', 'L':
			b[i] = '1'
		}
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", rune(b[i])) {
			return "", false
		}
	}
	return string(b), true
}

// Submit records s as the public actor under key (1–100 characters of [A-Za-z0-9._:-]) and returns its
// receipt code. Bad input is an Invalid error naming the field (text, name, phone, target) and records
// nothing; the same key again returns the same receipt (Result.Replayed); the same key with another
// submission is ErrIdempotencyKeyReused.
func (r *Residents) Submit(ctx context.Context, key string, s Submission) (string, Result, error) {
	if err := s.validate(); err != nil {
		return "", Result{}, err
	}
	code := ReceiptOf(key)
	body, err := json.Marshal(s)
	if err != nil {
		return "", Result{}, err
	}
	sum := sha256.Sum256(body)
	m := Meta{CommandID: "resident:" + key, Actor: PublicActor, Command: "resident-" + string(s.Kind), RequestHash: hex.EncodeToString(sum[:])}
	// Many residents object to one notice at once: a conflict is retried (the executor reloads the stream).
	for try := 0; ; try++ {
		res, err := r.submit(ctx, m, code, s)
		if err == nil {
			return code, res, nil
		}
		if !errors.Is(err, eventlog.ErrConflict) || try == 9 {
			return "", Result{}, err
		}
	}
}

func (r *Residents) submit(ctx context.Context, m Meta, code string, s Submission) (Result, error) {
	person := Personal{Subject: "resident-" + code, Name: s.Name, Phone: s.Phone}
	var res Result
	var err error
	switch s.Kind {
	case NoticeObjection:
		res, err = r.h.RaiseDisclosureObjection(ctx, m, RaiseDisclosureObjection{CommunityID: s.CommunityID, NoticeID: s.Target,
			ObjectionID: code, Text: s.Text, Objector: person})
	case ElectionObjection:
		res, err = r.h.RaiseElectionObjection(ctx, m, RaiseElectionObjection{CommunityID: s.CommunityID, ElectionID: s.Target,
			ObjectionID: code, Concerning: s.Concerning, Text: s.Text, Objector: person})
	case Topic:
		var raiser *Personal
		if s.Name != "" || s.Phone != "" {
			raiser = &person
		}
		res, err = r.h.CollectTopic(ctx, m, CollectTopic{CommunityID: s.CommunityID, TopicID: code, Channel: meeting.Portal,
			Summary: s.Text, Raiser: raiser})
	default:
		return Result{}, kernel.Invalid("kind-invalid", "kind", "提交的种类须为 notice-objection、election-objection 或 topic")
	}
	return res, err
}

// validate checks what a resident typed, naming the field at fault.
func (s Submission) validate() error {
	text := strings.TrimSpace(s.Text)
	switch n := len([]rune(text)); {
	case kernel.Blank(text):
		return kernel.Invalid("text-required", "text", "请填写内容")
	case n > MaxSubmissionText:
		return kernel.Invalid("text-too-long", "text", "内容不能超过 2000 字")
	}
	if s.Kind != Topic && strings.TrimSpace(s.Target) == "" {
		return kernel.Invalid("target-required", "target", "请指明对哪一项公示或选举提出异议")
	}
	if s.Concerning != "" && s.Kind != ElectionObjection {
		return kernel.Invalid("concerning-invalid", "concerning", "只有对候选人名单的异议可以指明涉及的候选人")
	}
	if len([]rune(s.Name)) > 32 {
		return kernel.Invalid("name-too-long", "name", "联系人姓名不能超过 32 字")
	}
	if p := strings.TrimSpace(s.Phone); p != "" {
		if len(p) > 20 || strings.ContainsFunc(p, func(r rune) bool { return !strings.ContainsRune("0123456789+- ", r) }) {
			return kernel.Invalid("phone-invalid", "phone", "联系电话只能含数字、空格、加号和短横线，最多 20 位")
		}
	}
	for _, f := range []struct {
		name, v string
		long    bool
	}{{"text", s.Text, true}, {"name", s.Name, false}} {
		if fault := kernel.CheckText(f.v, f.long); fault.Kind != kernel.TextOK {
			return kernel.Invalid("text-invalid", f.name, textFaultMessage(fault))
		}
	}
	return nil
}

// textFaultMessage says to a resident what kernel.CheckText found, and where.
func textFaultMessage(f kernel.TextFault) string {
	switch f.Kind {
	case kernel.TextLineBreak:
		return fmt.Sprintf("此处只能填写一行（第 %d 个字是换行或制表符）", f.At)
	case kernel.TextBidiOverride:
		return fmt.Sprintf("内容含有改变文字方向的隐藏字符（第 %d 个字），记录下来会与看到的不同，请删去后再提交", f.At)
	case kernel.TextNotUnicode:
		return fmt.Sprintf("内容含有无法识别的字符（第 %d 个字），请重新输入", f.At)
	}
	return fmt.Sprintf("内容含有无法显示的控制字符（第 %d 个字）", f.At)
}
