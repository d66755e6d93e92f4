package portal_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/portal/browsertest"
)

// newBrowser starts a headless Chromium sized like a cheap phone (browsertest.New).
func newBrowser(t *testing.T) context.Context { return browsertest.New(t) }

// TestBrowserLiveUpdate opens a community page in a real browser, records a payment through the command
// API as the community's clerk, and sees the payment appear on the open page without a reload. The page
// is saved as artifacts/portal-community.png.
func TestBrowserLiveUpdate(t *testing.T) {
	d := sharedDistrict(t)
	browser := newBrowser(t)
	c := d.community()
	id := string(c.ID)
	year := d.Clock.Now().In(kernel.ChinaTime()).Year()

	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	var live bool
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/c/"+id),
		chromedp.WaitVisible(`#sec-finances`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__sameDocument = 42`, nil),
		chromedp.Poll(`window.ledgerLive && window.ledgerLive.readyState === 1`, &live, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("open the community page: %v", err)
	}
	if !waitFor(func() bool { return d.Portal.Watching() > 0 }, 5*time.Second) {
		t.Fatal("the page did not open its live stream")
	}

	// The clerk records a payment.
	clerk := d.API.Token(t, commands.RoleClerk, string(c.Path))
	const voucher = "LIVE-2026-0001"
	x := "live-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	d.API.Post(t, "request-expenditure", clerk, x+"-req", commands.RequestExpenditure{
		CommunityID: id, ExpenditureID: x, FiscalYear: year, Category: "operating", Kind: "other",
		Purpose: "社区活动室空调维修", AmountFen: 123456,
		Payee: commands.Payee{Kind: "organisation", Organisation: "温州市龙湾区实时制冷维修部"},
	}).Result(t)
	d.API.Post(t, "approve-expenditure", clerk, x+"-approve", commands.ApproveExpenditure{CommunityID: id, ExpenditureID: x, By: d.chair(id)}).Result(t)
	paid := time.Now() // for the latency only
	d.API.Post(t, "pay-expenditure", clerk, x+"-pay", commands.PayExpenditure{CommunityID: id, ExpenditureID: x, VoucherNo: voucher}).Result(t)

	// It appears on the open page, in the same document.
	var row string
	var same int
	// The section may be swapped in more than once (one update per model's commit): read the row's text
	// from the document as it stands, until it is there.
	rowText := `(() => { const r = document.querySelector('tr[data-voucher="` + voucher + `"]'); return r ? r.textContent : '' })()`
	var there bool
	err = chromedp.Run(ctx,
		chromedp.WaitVisible(`tr[data-voucher="`+voucher+`"]`, chromedp.ByQuery),
		chromedp.Poll(rowText+`.includes('社区活动室空调维修')`, &there, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(rowText, &row),
		chromedp.Evaluate(`window.__sameDocument`, &same),
	)
	if err != nil {
		t.Fatalf("the payment did not appear on the open page: %v", err)
	}
	t.Logf("the payment appeared %s after it was recorded: %q", time.Since(paid).Round(time.Millisecond), row)
	if same != 42 {
		t.Fatal("the page was reloaded: the live update must swap the section in place")
	}
	mustContain(t, "the new payment row", []byte(row), "¥1,234.56", "社区活动室空调维修", "温州市龙湾区实时制冷维修部")

	// The screenshot waits for the updated section's highlight and the "已更新" notice to fade.
	var shot []byte
	var quiet bool
	if err := chromedp.Run(ctx,
		chromedp.Poll(`document.getElementById('live-status').textContent === ''`, &quiet, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join(moduleRoot(t), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "portal-community.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))
}

func waitFor(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
