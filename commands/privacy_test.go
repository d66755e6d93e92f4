package commands_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/privacy"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// crashingKeys is the real key store whose next Destroy fails after nothing was destroyed: a crash
// between the erasure's record and the destruction of the keys.
type crashingKeys struct {
	*keys.Store
	crash bool
}

func (k *crashingKeys) Destroy(ctx context.Context, subject, erasure string) (int, error) {
	if k.crash {
		k.crash = false
		return 0, errors.New("crashed before destroying the keys")
	}
	return k.Store.Destroy(ctx, subject, erasure)
}

// TestErasureRetriedAfterACrashCompletes: the erasure is recorded, the destruction of the keys fails; the
// same command retried replays the record and destroys the keys. Only an administrator whose scope covers
// every community holding the person's data may erase; a subject the ledger never sealed data of is 404.
func TestErasureRetriedAfterACrashCompletes(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	ks, err := keys.Open(ctx, pgtest.NewPool(t), filepath.Join(t.TempDir(), "kek"), true)
	if err != nil {
		t.Fatal(err)
	}
	// Personal data of p-9 sealed in two communities.
	for i, c := range [][2]string{{cid, cpath}, {otherCID, otherPath}} {
		ev := []eventlog.Event{{ID: eventlog.DeriveID("seal", i), Type: "funds.expenditure-requested",
			Data: []byte(`{"payee":{"personal":{"subject":"p-9","name":"赵六","phone":"13912345671"}}}`),
			Meta: eventlog.Metadata{CommunityID: c[0], Jurisdiction: c[1]}}}
		if err := ks.Seal(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	k := &crashingKeys{Store: ks, crash: true}
	p := commands.NewPrivacy(l.x, k)
	erase := commands.ErasePersonalData{Subject: "p-9", LegalBasis: "个人信息保护法第四十七条", RequestReference: "R-1", Reason: "本人申请"}
	oneCommunity := commands.Actor{Subject: "admin-c", Role: commands.RoleAdmin, Scope: cpath}
	var forbidden *commands.Forbidden
	if _, err := p.ErasePersonalData(ctx, l.as(oneCommunity), erase); !errors.As(err, &forbidden) {
		t.Fatalf("an administrator of one of the two communities: %v, want forbidden", err)
	}
	if _, err := p.ErasePersonalData(ctx, l.as(clerk), erase); !errors.As(err, &forbidden) {
		t.Fatalf("a clerk: %v, want forbidden", err)
	}
	unknown := erase
	unknown.Subject = "p-never"
	if _, err := p.ErasePersonalData(ctx, l.as(admin), unknown); !errors.Is(err, privacy.ErrNothingRecorded) {
		t.Fatalf("a person without data: %v, want ErrNothingRecorded", err)
	}
	m := l.as(districtAdm)
	if _, err := p.ErasePersonalData(ctx, m, erase); err == nil {
		t.Fatal("the crash must be reported")
	}
	if _, live, _ := ks.Holdings(ctx, "p-9"); len(live) != 1 || len(l.stream(privacy.Stream("p-9"))) != 1 {
		t.Fatalf("after the crash: %d live keys, %d events; want the erasure recorded and the key still there", len(live), len(l.stream(privacy.Stream("p-9"))))
	}
	res, err := p.ErasePersonalData(ctx, m, erase)
	if err != nil || !res.Replayed {
		t.Fatalf("the retry: %+v %v, want the first record replayed", res, err)
	}
	if _, live, _ := ks.Holdings(ctx, "p-9"); len(live) != 0 {
		t.Fatalf("after the retry %d keys are live", len(live))
	}
	if res, err := p.ErasePersonalData(ctx, l.as(districtAdm), erase); err != nil || !res.Unchanged || len(l.stream(privacy.Stream("p-9"))) != 1 {
		t.Fatalf("a second erasure: %+v %v, want unchanged and no new event", res, err)
	}
}
