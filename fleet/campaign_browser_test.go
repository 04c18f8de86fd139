package fleet

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kbplan/kbplan/kit"
)

// wineKit is the kit folder install.cmd left in Wine (kit's
// TestWineReport -update).
const wineKit = "../kit/testdata/results/wine-kit"

// TestBrowserCampaign runs a patch campaign in headless Chromium: hosts
// imported in two groups, a kit built for one of them, that kit's results
// from the Wine run of install.cmd uploaded (its restart, then its
// failure), and the pages an admin plans the next window from: the
// overview and its group filter, the by-update list and one update, the
// host page with the kit's outcomes, the groups and the audit record.
// Each page is screenshot and audited for accessibility.
func TestBrowserCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	exe := chromium(t)
	ts := newTestServer(t, "sqlite")
	now := clock(ts.fleet, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	host, inv := campaignHost(t)
	// Two groups: plant-a by upload, dmz by rule.
	if code := ts.do(t, "PUT", "/api/v1/groups/dmz", ts.admin, "application/json", []byte(`{"rule":"DMZ-*"}`), nil); code != http.StatusOK {
		t.Fatalf("group rule: %d", code)
	}
	for _, up := range []struct {
		body  []byte
		group string
	}{
		{inv, "plant-a"},
		{bytes.Replace(inv, []byte(host), []byte("PLA-APP02"), 1), "plant-a"},
		{bytes.Replace(read(t, "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"), []byte("SQL-NOSHA2"), []byte("DMZ-WEB01"), 1), ""},
	} {
		if _, err := ts.fleet.IngestFrom(ctx, Origin{Remote: "local", Groups: nonEmpty(up.group)}, "import", up.body); err != nil {
			t.Fatal(err)
		}
	}
	// The kit for the host: its plan, matched to the packages at hand
	// (none here: every step is listed as missing, with its Catalog link).
	_, a, err := ts.fleet.Current(ctx, host, true)
	if err != nil {
		t.Fatal(err)
	}
	m := kit.Build(a, ts.fleet.Catalog, nil, now0())
	if len(m.Missing) == 0 || m.Missing[0].KB != "KB4474419" {
		t.Fatalf("kit for %s: %+v", host, m.Missing[:min(3, len(m.Missing))])
	}
	// Its results, as install.cmd sends them: at the restart, then at the
	// failure (the kit folder brought back, as kbplan fleet import reads it).
	now.Add(time.Hour.Milliseconds())
	if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", read(t, wineRestart), nil); code != http.StatusCreated {
		t.Fatalf("restart results: %d", code)
	}
	now.Add(time.Hour.Milliseconds())
	doc, err := kit.ReadResultDir(wineKit)
	if err != nil {
		t.Fatal(err)
	}
	if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", doc, nil); code != http.StatusCreated {
		t.Fatalf("failed results: %d", code)
	}
	b := newBrowser(t, exe, ts.URL)
	b.login("root")
	b.shot("c01-overview")
	overview := b.text("overview")
	b.a11y("overview")
	b.do("group filter", chromedp.SetValue(chromedp.ID("group"), "plant-a"), chromedp.Click(chromedp.Search(`//button[text()="Show"]`)))
	b.waitURL("group filter", "group=plant-a")
	b.do("overview of plant-a", chromedp.WaitVisible(chromedp.Search(`//h2[contains(text(),"group plant-a")]`)))
	b.shot("c02-overview-plant-a")
	plantOverview := b.text("overview of plant-a")
	b.a11y("overview of plant-a")
	b.do("updates", chromedp.Click(chromedp.Search(`//nav//a[text()="Updates"]`)))
	b.waitURL("updates", "/updates")
	b.do("updates", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Updates"]`)))
	b.shot("c03-updates")
	updates := b.text("updates")
	b.a11y("updates")
	b.do("one update", chromedp.Click(chromedp.Search(`//table//a[text()="KB4534303"]`)))
	b.waitURL("one update", "/updates/KB4534303")
	b.do("one update", chromedp.WaitVisible(chromedp.Search(`//h1[text()="KB4534303"]`)))
	b.shot("c04-update")
	update := b.text("update")
	b.a11y("update")
	b.do("failed host", chromedp.Click(chromedp.Search(`//section[@aria-labelledby="failed"]//a[text()="`+Key(host)+`"]`)))
	b.waitURL("failed host", "/hosts/"+Key(host))
	b.do("failed host", chromedp.WaitVisible(chromedp.Search(`//h2[text()="Kit runs"]`)))
	b.shot("c05-host")
	hostPage := b.text("host")
	b.a11y("host")
	b.do("back to the update", chromedp.Click(chromedp.Search(`//section[@aria-labelledby="runs"]//a[text()="KB4534303"]`)))
	b.waitURL("back to the update", "/updates/KB4534303")
	b.do("hosts of dmz", chromedp.Navigate(ts.URL+"/hosts?group=dmz"), chromedp.WaitVisible(chromedp.Search(`//h1[text()="Hosts"]`)))
	b.shot("c06-hosts-dmz")
	dmzHosts := b.text("hosts of dmz")
	b.a11y("hosts of dmz")
	b.do("groups", chromedp.Click(chromedp.Search(`//nav//a[text()="Groups"]`)))
	b.waitURL("groups", "/groups")
	b.do("groups", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Groups"]`)))
	b.shot("c07-groups")
	groups := b.text("groups")
	b.a11y("groups")
	b.do("audit", chromedp.Click(chromedp.Search(`//nav//a[text()="Audit"]`)))
	b.waitURL("audit", "/audit")
	b.do("audit", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Audit"]`)))
	b.shot("c08-audit")
	audit := b.text("audit")
	b.a11y("audit")
	for _, c := range []struct{ page, text, want string }{
		{"overview", overview, "3 hosts"},
		{"overview", overview, "Updates needed by the most hosts"},
		{"overview", overview, "hosts exposed to a CVE known to be exploited"},
		{"overview of plant-a", plantOverview, "2 hosts"},
		{"overview of plant-a", plantOverview, "behind: updates to install"},
		{"updates", updates, "KB4534303"},
		{"update", update, "failed on it"},
		{"update", update, "0x800F0922"},
		{"update", update, "CBS_E_INSTALLERS_FAILED"},
		{"update", update, "Sources:"},
		{"update", update, "PLA-APP02"},
		{"host", hostPage, "plant-a"},
		{"host", hostPage, "failed"},
		{"host", hostPage, "KB4536953"},
		{"hosts of dmz", dmzHosts, "DMZ-WEB01"},
		{"groups", groups, "DMZ-*"},
		{"audit", audit, "upload-results"},
		{"audit", audit, "group-set"},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s page lacks %q:\n%s", c.page, c.want, c.text)
		}
	}
	if strings.Contains(dmzHosts, "PLA-APP02") {
		t.Errorf("the dmz filter shows a plant-a host:\n%s", dmzHosts)
	}
	t.Logf("screenshots in %s", b.shots)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func now0() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

// chrome is a headless Chromium on a test server, logged in as one of
// newTestServer's users.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newBrowser(t *testing.T, exe, base string) *chrome {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.WindowSize(1366, 900), chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return &chrome{t: t, ctx: ctx, base: base, shots: artifacts(t)}
}

func (b *chrome) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

func (b *chrome) login(user string) {
	b.t.Helper()
	b.do("login", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Fleet overview"]`)))
}

func (b *chrome) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *chrome) text(step string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		b.t.Fatalf("%s: reading the page: %v", step, err)
	}
	return s
}

func (b *chrome) waitURL(step, part string) {
	b.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err == nil && strings.Contains(loc, part) {
			return
		}
	}
	b.t.Fatalf("%s: the address never held %q", step, part)
}

// a11y is the accessibility audit TestBrowser runs (a11yScript).
func (b *chrome) a11y(page string) {
	b.t.Helper()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](a11yScript))
	if err != nil {
		b.t.Fatalf("%s: audit: %v", page, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s: %s", page, p)
	}
}
