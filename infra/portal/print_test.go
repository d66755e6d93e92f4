package portal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

var qrImg = regexp.MustCompile(`<img class="qr" src="data:image/png;base64,([^"]+)"`)

// TestNoticePrintViewCarriesAQRCodeOfItsPage: a notice's print view links from the notice page, shows the
// notice's content with its leaf index and event hash, and its QR code decodes (with a QR decoder, not
// the encoder) to the notice's own online address. The print view as Chromium prints it on A4 is saved as
// artifacts/portal-notice-print.pdf, and as a screenshot.
func TestNoticePrintViewCarriesAQRCodeOfItsPage(t *testing.T) {
	d := sharedDistrict(t)
	var cid, nid, title string
	if err := d.Admin.QueryRow(context.Background(), `SELECT n.community_id, n.notice_id, v.title FROM rm_board.notices n
		JOIN rm_board.notice_versions v USING (community_id, notice_id) WHERE v.version = n.version AND n.status <> 'withdrawn'
		ORDER BY n.published_at DESC LIMIT 1`).Scan(&cid, &nid, &title); err != nil {
		t.Fatal(err)
	}
	notice := "/c/" + cid + "/notices/" + nid
	mustContain(t, "the notice page", d.getOK(notice), `href="`+notice+`/print"`)
	page := d.getOK(notice + "/print")
	mustContain(t, "the print view", page, title, "透明日志第", "事件哈希", d.URL+notice)
	m := qrImg.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no QR image in the print view:\n%s", page)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(m[1]))) // an attribute: + is &#43;
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	if res.GetText() != d.URL+notice {
		t.Fatalf("the QR code says %q, want %q", res.GetText(), d.URL+notice)
	}

	// Behind a proxy the operator names the public address (serve --public-url): the QR code holds it.
	pp, err := portal.OpenPool(context.Background(), portal.PoolConfig{URL: d.DBURL, Role: portal.DefaultRole})
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	behind, err := portal.New(portal.Config{DB: pp, PublicURL: "https://portal.example/"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	behind.Mount(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, notice+"/print", nil))
	mustContain(t, "the print view behind a proxy", rec.Body.Bytes(), "https://portal.example"+notice+"</code>")

	ctx, cancel := context.WithTimeout(newBrowser(t), 60*time.Second)
	defer cancel()
	var pdf, shot []byte
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+notice+"/print"),
		chromedp.WaitVisible(`img.qr`, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			pdf, err = printToPDF(ctx)
			return err
		}),
	); err != nil {
		t.Fatalf("print view in the browser: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("Chromium printed no PDF")
	}
	dir := filepath.Join(moduleRoot(t), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"portal-notice-print.pdf": pdf, "portal-notice-print.png": shot} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// printToPDF prints the page as Chromium prints it, on A4 (the page's own @page size).
func printToPDF(ctx context.Context) ([]byte, error) {
	b, _, err := page.PrintToPDF().WithPreferCSSPageSize(true).WithPrintBackground(false).Do(ctx)
	return b, err
}
