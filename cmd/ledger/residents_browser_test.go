package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/portal/browsertest"
)

// saveArtifact writes a test artifact (a screenshot) to artifacts/ at the module's root.
func saveArtifact(t *testing.T, name string, b []byte) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact: %s (%d bytes)", filepath.Join(dir, name), len(b))
}

// TestBrowserResidentObjectsAndReadsTheAnswer is a resident's walk in Debian's Chromium, sized like a
// phone: search for the village by two characters of its name, open it, open the notice in its window,
// file an objection (the plain form), get the receipt, and — after a clerk answered through the command
// API — reload the receipt page and read the answer. Every public page the walk saw passes the
// personal-data crawl. The home page, the community page and the receipt page are saved as screenshots
// (artifacts/resident-*.png; the print view's is portal-notice-print.png, infra/portal).
func TestBrowserResidentObjectsAndReadsTheAnswer(t *testing.T) {
	srv, _ := servedWithOpenNotice(t, "n-elder")
	browser := browsertest.New(t)
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	const phone = "13912345670"
	var home, community, receiptShot []byte
	var receiptURL, heading string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.Base+"/"),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
		chromedp.FullScreenshot(&home, 100),
		chromedp.SendKeys(`#q`, "罗西", chromedp.ByQuery),
		chromedp.Submit(`#q`, chromedp.ByQuery),
		chromedp.WaitVisible(`ul.hits a[href="/c/`+c+`"]`, chromedp.ByQuery),
		chromedp.Click(`ul.hits a[href="/c/`+c+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/c/`+c+`/notices/n-elder"]`, chromedp.ByQuery),
		chromedp.FullScreenshot(&community, 100),
		chromedp.Click(`a[href="/c/`+c+`/notices/n-elder"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.object-link a`, chromedp.ByQuery),
		chromedp.Click(`p.object-link a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#f-text`, chromedp.ByQuery),
		chromedp.SendKeys(`#f-text`, "选址离幼儿园太近，建议另选地点。", chromedp.ByQuery),
		chromedp.SendKeys(`#f-phone`, phone, chromedp.ByQuery),
		chromedp.Submit(`#f-text`, chromedp.ByQuery),
		chromedp.WaitVisible(`#r-code`, chromedp.ByQuery),
		chromedp.Location(&receiptURL),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("the resident's walk: %v", err)
	}
	m := regexp.MustCompile(`/r/(R[0-9A-Z]{10})$`).FindStringSubmatch(receiptURL)
	if m == nil || heading != "回执查询" {
		t.Fatalf("after the objection the browser is at %s (%q), want a receipt page", receiptURL, heading)
	}
	code := m[1]
	// The receipt shows up once the objection is projected; the resident reloads until it does.
	var status string
	waitUntil(t, "the receipt's status in the browser", 30*time.Second, func() bool {
		_ = chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitReady(`body`, chromedp.ByQuery),
			chromedp.Text(`body`, &status, chromedp.ByQuery))
		return strings.Contains(status, "已收到，等待答复")
	})
	clerk := srv.Token(commands.RoleClerk, "*")
	srv.PostResult("answer-disclosure-objection", clerk, "answer-browser", `{"community_id":"`+c+`","notice_id":"n-elder","objection_id":"`+code+`","answer":"已请设计单位另选址，调整方案将重新公示。"}`)
	waitUntil(t, "the answer on the reloaded receipt page", 30*time.Second, func() bool {
		_ = chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitReady(`body`, chromedp.ByQuery),
			chromedp.Text(`body`, &status, chromedp.ByQuery))
		return strings.Contains(status, "已请设计单位另选址")
	})
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&receiptShot, 100)); err != nil {
		t.Fatal(err)
	}
	saveArtifact(t, "resident-home.png", home)
	saveArtifact(t, "resident-community.png", community)
	saveArtifact(t, "resident-receipt.png", receiptShot)
	var bad []string
	for path, body := range crawl(t, srv, "/", "/c/"+c, "/c/"+c+"/notices/n-elder", "/r/"+code, "/api/v1/public/receipts/"+code) {
		bad = append(bad, leaks("GET "+path, body)...)
		if strings.Contains(string(body), phone) || strings.Contains(string(body), "幼儿园太近") {
			bad = append(bad, "GET "+path+": the objector's phone or text")
		}
	}
	if len(bad) > 0 {
		t.Fatalf("personal data on public pages:\n%s", strings.Join(bad, "\n"))
	}
}
