package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
)

// upload posts a document as token and returns the status and the answer.
func upload(t *testing.T, srv *servedLedger, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.Base+"/api/v1/documents", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// TestDocumentsUploadedAndServedWhenARecordNamesThem: a clerk uploads a voucher (a PNG) and gets its
// SHA-256; a notice naming it as an attachment links it on the portal, which serves it with its hash
// checked; a document no public record names is not served; one named but not uploaded says so; a file
// altered on disk is refused; only PDF, PNG and JPEG are taken, and only from those who record.
func TestDocumentsUploadedAndServedWhenARecordNamesThem(t *testing.T) {
	db := onEmbeddedNode(t)
	dir := t.TempDir()
	srv := startServe(t, db, "--data", dir)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	clerk := srv.Token(commands.RoleClerk, "*")

	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	img.Set(3, 3, color.RGBA{R: 200, A: 255})
	var voucher bytes.Buffer
	if err := png.Encode(&voucher, img); err != nil {
		t.Fatal(err)
	}
	st, b := upload(t, srv, clerk, "image/png", voucher.Bytes())
	var d struct {
		SHA256      string `json:"sha256"`
		ContentType string `json:"content_type"`
	}
	_ = json.Unmarshal(b, &d)
	sum := sha256.Sum256(voucher.Bytes())
	if st != http.StatusCreated || d.SHA256 != hex.EncodeToString(sum[:]) || d.ContentType != "image/png" {
		t.Fatalf("upload: %d %s", st, b)
	}
	for who, want := range map[string]int{"": http.StatusUnauthorized, srv.Token(commands.RoleAuditor, "*"): http.StatusForbidden} {
		if st, _ := upload(t, srv, who, "image/png", voucher.Bytes()); st != want {
			t.Fatalf("an upload by another caller: %d, want %d", st, want)
		}
	}
	if st, b := upload(t, srv, clerk, "application/pdf", []byte("<html><script>alert(1)</script></html>")); st != http.StatusUnsupportedMediaType ||
		!bytes.Contains(b, []byte(`"field":"body"`)) {
		t.Fatalf("an HTML page as a document: %d %s", st, b)
	}
	// Not named by any record yet: not served.
	docURL := "/documents/" + d.SHA256
	if st, _, _ := srv.Get(docURL); st != http.StatusNotFound {
		t.Fatalf("a document no record names: %d", st)
	}
	missing := strings.Repeat("ab", 32)
	now := time.Now().UTC()
	srv.PostResult("publish-disclosure", admin, "publish-doc", fmt.Sprintf(`{"community_id":%q,"notice_id":"n-doc","category":"finance",`+
		`"period":{"from":%q,"to":%q},"title":"三月份财务公开","text":"附凭证。","window":{"start":%q,"end":%q},`+
		`"attachments":[{"name":"凭证记-0301.png","sha256":%q},{"name":"尚未上传.pdf","sha256":%q}]}`,
		c, now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339),
		now.Add(-time.Minute).Format(time.RFC3339), now.Add(7*24*time.Hour).Format(time.RFC3339), d.SHA256, missing))
	waitUntil(t, "the notice with its attachment link", 30*time.Second, func() bool {
		_, _, b := srv.Get("/c/" + c + "/notices/n-doc")
		return bytes.Contains(b, []byte(`href="`+docURL+`"`))
	})
	st, h, got := srv.Get(docURL)
	if st != http.StatusOK || !bytes.Equal(got, voucher.Bytes()) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("the voucher on the portal: %d %v (%d bytes)", st, h, len(got))
	}
	if st, _, b := srv.Get("/documents/" + missing); st != http.StatusNotFound || !bytes.Contains(b, []byte("尚未上传")) {
		t.Fatalf("a named document not uploaded: %d %s", st, b)
	}
	// Altered on disk: no longer served.
	p := filepath.Join(dir, "documents", d.SHA256[:2], d.SHA256)
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(voucher.Bytes(), 'x'), 0o640); err != nil {
		t.Fatal(err)
	}
	if st, _, b := srv.Get(docURL); st != http.StatusInternalServerError || bytes.Contains(b, voucher.Bytes()[:16]) {
		t.Fatalf("an altered document: %d", st)
	}
}
