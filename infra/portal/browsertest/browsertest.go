// Package browsertest starts Debian's Chromium, headless, for the tests that drive the portal in a real
// browser (chromedp).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// New starts a headless Chromium with a fresh profile, sized like a cheap phone (412×915).
func New(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: the browser tests need Debian's Chromium. Run `make test`, which installs it, "+
			"or `apt-get install chromium` (as root)", chromiumPath)
	}
	profile, err := os.MkdirTemp("", "portal-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(412, 915),
	}
	// The browser's own complaints are kept, and shown only when the test fails: chromedp may still log
	// while it shuts down, after the test has finished.
	var mu sync.Mutex
	var logs []string
	keep := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(logs) < 200 {
			logs = append(logs, fmt.Sprintf(format, args...))
		}
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Chromium's helper processes can still write into the profile for a moment after the browser is
	// stopped, which makes t.TempDir's strict cleanup fail the test; the profile is removed best-effort.
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(keep), chromedp.WithErrorf(keep))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		if t.Failed() {
			mu.Lock()
			t.Logf("chromedp said:\n%s", strings.Join(logs, "\n"))
			mu.Unlock()
		}
	})
	// A phone's viewport: headless windows are at least 500 pixels wide, the emulated viewport is not.
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(412, 915)); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}
