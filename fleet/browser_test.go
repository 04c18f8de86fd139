package fleet

import (
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

// chromium finds Debian's chromium. Without it the test skips, unless
// KBPLAN_REQUIRE_BROWSER is set (.ci/run sets it, after installing it).
func chromium(t *testing.T) string {
	return pkgtest.Find(t, "KBPLAN_REQUIRE_BROWSER", "chromium", os.Getenv("KBPLAN_CHROMIUM"), "google-chrome", "chromium-browser", "chromium")
}

// artifacts is where screenshots go: KBPLAN_ARTIFACTS, or artifacts/ at
// the repository root (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("KBPLAN_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives the dashboard in headless Chromium: login, overview,
// host list, host page, export, logout; it saves a screenshot of each
// page.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	exe := chromium(t)
	ts := newTestServer(t, "sqlite")
	for _, p := range []string{"../testdata/analyze/ws2008-6003-x64-no-sha2.txt", samples + "08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"} {
		if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", read(t, p), nil); code != http.StatusCreated {
			t.Fatalf("%s: %d", p, code)
		}
	}
	b := newBrowser(t, exe, ts.URL)
	b.do("login", chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("user"))) // sent to the login form
	b.shot("01-login")
	b.a11y("login")
	b.do("login",
		chromedp.SendKeys(chromedp.ID("user"), "ann"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Fleet overview"]`)))
	b.shot("02-overview")
	overview := b.text("overview")
	b.a11y("overview")
	b.do("host list", chromedp.Click(chromedp.Search(`//nav//a[text()="Hosts"]`)))
	b.waitURL("host list", "/hosts")
	b.do("host list", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Hosts"]`)))
	b.do("filter", chromedp.SetValue(chromedp.ID("filter"), "no-sha2"))
	b.do("apply", chromedp.Click(chromedp.Search(`//button[text()="Apply"]`)))
	// A query during the navigation the click starts would hold on to the
	// old page: wait for the new address first.
	b.waitURL("filtered list", "filter=no-sha2")
	b.do("filtered list", chromedp.WaitVisible(chromedp.Search(`//a[text()="SQL-NOSHA2"]`)))
	b.shot("03-hosts")
	hostList := b.text("hosts")
	b.a11y("hosts")
	b.do("host", chromedp.Click(chromedp.Search(`//a[text()="SQL-NOSHA2"]`)))
	b.waitURL("host", "/hosts/sql-nosha2")
	b.do("host", chromedp.WaitVisible(chromedp.Search(`//h2[starts-with(text(),"Plan")]`)))
	b.shot("04-host")
	hostPage := b.text("host")
	b.a11y("host")
	b.do("export", chromedp.Click(chromedp.Search(`//nav//a[text()="Export"]`)))
	b.waitURL("export", "/export")
	b.do("export", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Export"]`)))
	b.shot("05-export")
	exportPage := b.text("export")
	b.a11y("export")
	for _, c := range []struct{ page, text, want string }{
		{"overview", overview, "without SHA-2 support"},
		{"overview", overview, "Hosts by build"},
		{"hosts", hostList, "SQL-NOSHA2"},
		{"host", hostPage, "KB4474419"},
		{"export", exportPage, "All hosts as CSV"},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s page lacks %q:\n%s", c.page, c.want, c.text)
		}
	}
	// The export with the browser's own session cookie.
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/hosts.csv", nil)
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 3 || rows[0][0] != "hostname" {
		t.Errorf("CSV export with the browser's session: %v %v", rows, err)
	}
	b.do("logout", chromedp.Click(chromedp.Search(`//button[text()="Log out"]`)))
	b.waitURL("logout", "/login")
	b.do("logout", chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.Navigate(ts.URL+"/hosts"),
		chromedp.WaitVisible(chromedp.ID("user")))
	if after := b.text("after logout"); !strings.Contains(after, "Log in") {
		t.Errorf("after logout: %s", after)
	}
	t.Logf("screenshots in %s", b.shots)
}

// a11yScript is a small accessibility audit of the page shown: every form
// control has a label, every image and chart a text alternative, the page
// a language, one h1 and a main, and every table header a scope.
const a11yScript = `(() => {
			const p = [];
			for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
				if (!(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute('aria-label')) p.push('unlabelled ' + el.outerHTML.slice(0, 80));
			}
			for (const el of document.querySelectorAll('img, svg')) {
				if (!el.getAttribute('alt') && !el.getAttribute('aria-label')) p.push('no text alternative: ' + el.outerHTML.slice(0, 80));
			}
			for (const el of document.querySelectorAll('th')) {
				if (!el.getAttribute('scope')) p.push('th without scope: ' + el.textContent);
			}
			if (!document.documentElement.lang) p.push('no lang');
			if (document.querySelectorAll('h1').length !== 1) p.push(document.querySelectorAll('h1').length + ' h1');
			if (!document.querySelector('main')) p.push('no main');
			return p;
		})()`
