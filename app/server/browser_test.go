package server_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"granttrack/app/demo"
	"granttrack/models"
)

// chromium finds the browser; the test fails rather than skips without it,
// because CI must run it (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on this machine: apt-get install chromium (the browser test must run, not skip)")
	return ""
}

// artifactDir is where the browser test leaves its screenshot:
// $GRANTTRACK_TEST_ARTIFACTS, or a folder in the system's temp dir.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("GRANTTRACK_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "granttrack-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBoardMemberReadsTheDashboardInABrowser signs in as a board member in
// headless Chromium, opens the dashboard on the demo data, reads the figures
// and the charts' data off the page and compares them with the API.
func TestBoardMemberReadsTheDashboardInABrowser(t *testing.T) {
	browser := chromium(t)
	e := MustEnv(t)
	if _, err := demo.Load(context.Background(), e.st); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.srv.Serve(ln) }()
	t.Cleanup(func() { _ = e.srv.Shutdown(context.Background()) })
	base := "http://" + ln.Addr().String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1400, 1800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTime()

	board := e.users[models.RoleBoardMember]
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, board.Email),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#chart-programmes`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	landed, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(landed, "/dashboard") {
		t.Fatalf("a board member landed on %q (%v), not the dashboard", landed, err)
	}

	// 2024-25, when most of the demo's story happens.
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard?fy=2024-25"), chromedp.WaitVisible(`body[data-charts="drawn"]`))
	if err != nil {
		t.Fatalf("dashboard with charts drawn: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
		[...document.querySelectorAll('[data-figure^="total."]')].map(el => [el.dataset.figure.slice(6), el.textContent.trim()]))`))
	if err != nil {
		t.Fatal(err)
	}
	var api struct {
		Groups []map[string]string
		Total  map[string]string
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024-25", nil).json(t, &api)
	if api.Total["spent"] == "0.00" {
		t.Fatal("the demo's 2024-25 has no spend; the comparison would mean nothing")
	}
	for _, k := range []string{"budget", "reserved", "committed", "pending", "spent", "remaining", "forecast", "variance", "burn_rate"} {
		if got := plain(shown[k]); got != api.Total[k] {
			t.Errorf("%s: the page shows %q, the API says %q", k, shown[k], api.Total[k])
		}
	}
	// The bar chart draws the API's spend per programme.
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Chart.getChart('chart-programmes').data.datasets[2].data`))
	if err != nil {
		t.Fatal(err)
	}
	if len(drawn) != len(api.Groups) {
		t.Fatalf("the chart has %d programmes, the API %d", len(drawn), len(api.Groups))
	}
	for i, g := range api.Groups {
		// The chart's number, shortest form, is the API's amount.
		if got := decimal.NewFromFloat(drawn[i]).StringFixed(2); got != g["spent"] {
			t.Errorf("programme %s: chart %s, API %s", g["code"], got, g["spent"])
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), "dashboard-2024-25.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 10_000 {
		t.Fatalf("the screenshot is only %d bytes", len(shot))
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}
