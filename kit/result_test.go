package kit

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// resultDoc builds a results document as kbplan-sha256.js /report does.
func resultDoc(host, event string, state, log []string) string {
	return string(Document(host, "", event, []byte(strings.Join(state, "\r\n")+"\r\n"), []byte(strings.Join(log, "\r\n")+"\r\n")))
}

const kitID = "3c5a0f17e2d94b8a"

// A log as install.cmd writes it: the date and time in the host's locale.
func logLines(lines ...string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "Mon 12/01/2026 10:0" + strconv.Itoa(i%10) + ":00.00 " + l
	}
	return out
}

func TestParseResult(t *testing.T) {
	start := "install.cmd install started on PLA-SQL01 (kit " + kitID + ", 3 steps)"
	cases := []struct {
		name string
		doc  string
		want Result
		err  string // part of the error; "" none
	}{
		{name: "finished",
			doc: resultDoc("PLA-SQL01", "finished", []string{"kit=" + kitID, "done=1 KB4493730 0x00000000 installed", "next=2",
				"done=2 KB4474419 0x00000BC2 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)", "next=3", "boots=1",
				"done=3 KB4534303 0x00240006 already installed (0x00240006 WU_S_ALREADY_INSTALLED): skipped", "next=4"},
				logLines(start, "host ok: PLA-SQL01, Windows 6.0.6003, AMD64", "restarting Windows in 60 seconds after KB4474419; install.cmd continues after an administrator logs on",
					start, "resumed after a restart", "all 3 steps are done", "summary:")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Next: 4, Boots: 1, Event: "finished", Status: StatusFinished, Detail: "all 3 steps are done",
				Outcomes: []Outcome{
					{Step: 1, KB: "KB4493730", Outcome: Installed, Code: 0, Text: "1 KB4493730 0x00000000 installed"},
					{Step: 2, KB: "KB4474419", Outcome: Installed, Code: 3010, Restart: true, Text: "2 KB4474419 0x00000BC2 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)"},
					{Step: 3, KB: "KB4534303", Outcome: AlreadyInstalled, Code: 0x00240006, Text: "3 KB4534303 0x00240006 already installed (0x00240006 WU_S_ALREADY_INSTALLED): skipped"},
				}}},
		{name: "waiting-for-restart",
			doc: resultDoc("PLA-SQL01", "restart", []string{"kit=" + kitID, "done=1 KB4474419 0x00000BC2 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)", "next=2", "boots=1"},
				logLines(start, "step 1/3: KB4474419 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)", "restarting Windows in 60 seconds after KB4474419; install.cmd continues after an administrator logs on")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Next: 2, Boots: 1, Event: "restart", Status: StatusRestart,
				Detail:   "restarting Windows in 60 seconds after KB4474419; install.cmd continues after an administrator logs on",
				Outcomes: []Outcome{{Step: 1, KB: "KB4474419", Outcome: Installed, Code: 3010, Restart: true, Text: "1 KB4474419 0x00000BC2 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)"}}}},
		{name: "failed-then-retried-then-failed-again",
			// A failed step is retried when install.cmd runs again: the last
			// line of the step wins.
			doc: resultDoc("PLA-SQL01", "failed", []string{"kit=" + kitID, "done=1 KB4493730 0x00000000 installed", "next=2",
				"done=2 KB4474419 failed 0x80092004", "done=2 KB4474419 failed 0x800F0922"},
				logLines(start, "step 2/3: KB4474419 failed with 0x80092004 CRYPT_E_NOT_FOUND: Windows cannot check", start,
					"step 2/3: KB4474419 failed with 0x800F0922 CBS_E_INSTALLERS_FAILED: the servicing stack could not complete the install", "summary:", "  step 2 KB4474419 failed 0x800F0922")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Next: 2, Event: "failed", Status: StatusFailed,
				Detail: "step 2/3: KB4474419 failed with 0x800F0922 CBS_E_INSTALLERS_FAILED: the servicing stack could not complete the install",
				Outcomes: []Outcome{
					{Step: 1, KB: "KB4493730", Outcome: Installed, Text: "1 KB4493730 0x00000000 installed"},
					{Step: 2, KB: "KB4474419", Outcome: Failed, Code: -2146498270, Text: "2 KB4474419 failed 0x800F0922"},
				}}},
		{name: "not-applicable-and-running",
			// No end in the log: install.cmd is running, or was cut off.
			doc: resultDoc("", "", []string{"kit=" + kitID, "done=1 KB4493730 0x80240017 not applicable to this host (0x80240017 WU_E_NOT_APPLICABLE): skipped", "next=2"},
				logLines(start, "step 2/3: installing KB4474419 with wusa")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Next: 2, Status: StatusRunning,
				Outcomes: []Outcome{{Step: 1, KB: "KB4493730", Outcome: NotApplicable, Code: -2145124329, Text: "1 KB4493730 0x80240017 not applicable to this host (0x80240017 WU_E_NOT_APPLICABLE): skipped"}}}},
		{name: "refused-wrong-host",
			doc: resultDoc("OTHER", "", []string{"kit=" + kitID},
				logLines("install.cmd install started on OTHER (kit "+kitID+", 3 steps)", "refused: this kit was made for PLA-SQL01, and this computer is OTHER: make a kit for this host with kbplan kit")),
			want: Result{Host: "OTHER", Kit: kitID, Steps: 3, Status: StatusRefused, Detail: "refused: this kit was made for PLA-SQL01, and this computer is OTHER: make a kit for this host with kbplan kit"}},
		{name: "changed-package",
			doc: resultDoc("PLA-SQL01", "failed", []string{"kit=" + kitID},
				logLines(start, "step 1/3: KB4493730: packages\\windows6.0-kb4493730-x64.msu has SHA-256 00, the kit says 11: the file changed since the kit was made; do not install it, copy the kit again")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Event: "failed", Status: StatusFailed,
				Detail: "step 1/3: KB4493730: packages\\windows6.0-kb4493730-x64.msu has SHA-256 00, the kit says 11: the file changed since the kit was made; do not install it, copy the kit again"}},
		{name: "restart-loop-guard",
			doc: resultDoc("PLA-SQL01", "stopped", []string{"kit=" + kitID, "boots=7"},
				logLines(start, "stopped: 7 restarts, more than this kit can need: a step keeps asking for a restart; see C:\\Windows\\Logs\\CBS\\CBS.log")),
			want: Result{Host: "PLA-SQL01", Kit: kitID, Steps: 3, Boots: 7, Event: "stopped", Status: StatusStopped,
				Detail: "stopped: 7 restarts, more than this kit can need: a step keeps asking for a restart; see C:\\Windows\\Logs\\CBS\\CBS.log"}},
		{name: "not-a-document", doc: "kbplan-bundle 1\r\nhost: X\r\n", err: `line 1: expected "kbplan-install-result 1"`},
		{name: "empty", doc: "", err: "empty"},
		{name: "poisoned-state", doc: resultDoc("X", "", []string{"kit=" + kitID, "next=1 & echo pwned"}, nil),
			err: `[install.state] line 2: "next=1 & echo pwned" is not a line install.cmd writes`},
		{name: "code-and-outcome-disagree", doc: resultDoc("X", "", []string{"kit=" + kitID, "done=1 KB4493730 0x80240017 installed"}, nil),
			err: "code 0x80240017 is WU_E_NOT_APPLICABLE (not-applicable)"},
		{name: "unknown-outcome", doc: resultDoc("X", "", []string{"kit=" + kitID, "done=1 KB4493730 0x00000000 exploded"}, nil),
			err: `outcome "exploded": not one install.cmd writes`},
		{name: "no-kit", doc: resultDoc("X", "", []string{"next=2"}, nil), err: "names no kit"},
		{name: "host-with-nul", doc: resultDoc("VM\x00", "", []string{"kit=" + kitID}, nil), err: "not a Windows computer name"},
		{name: "no-host", doc: resultDoc("", "", []string{"kit=" + kitID}, nil), err: "names no host"},
		{name: "header-without-colon", doc: ResultMagic + "\r\nhost PLA\r\n", err: `line 2: "host PLA": expected KEY: VALUE`},
		{name: "long-line", doc: ResultMagic + "\r\n[install.log]\r\n" + strings.Repeat("x", 70000) + "\r\n", err: "line 3: a line over 64 KiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseResult("results", strings.NewReader(c.doc))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "results") {
					t.Fatalf("error %v, want one naming the input and containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestParseResultBound: a document over MaxResult is refused, having
// read no more than the bound.
func TestParseResultBound(t *testing.T) {
	doc := ResultMagic + "\r\n[install.log]\r\n" + strings.Repeat(strings.Repeat("y", 1000)+"\r\n", MaxResult/1000+10)
	r := &countingReader{r: strings.NewReader(doc)}
	_, err := ParseResult("big", r)
	if err == nil || !strings.Contains(err.Error(), "more than 2 MiB") {
		t.Fatalf("error %v", err)
	}
	if r.n > MaxResult+64<<10 {
		t.Errorf("read %d bytes of a document over the bound", r.n)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestStateExpressionsAgree: the server reads install.state with the
// expression kbplan-sha256.js /state checks it with.
func TestStateExpressionsAgree(t *testing.T) {
	js := regexp.MustCompile(`var ok = /(.*)/;`).FindStringSubmatch(string(hasher))
	if js == nil {
		t.Fatal("kbplan-sha256.js has no state expression")
	}
	if js[1] != stateLine.String() {
		t.Errorf("kbplan-sha256.js /state:\n%s\nresult.go:\n%s", js[1], stateLine.String())
	}
}

// TestExitCodes: every code exitcodes.csv lists has a source and a
// consistent hex form, and every code install.cmd explains is listed
// with the outcome install.cmd gives it.
func TestExitCodes(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(exitCodesCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		v, _ := strconv.ParseInt(r[0], 10, 32)
		if want := "0x" + strings.ToUpper(strconv.FormatUint(uint64(uint32(v)), 16)); !strings.EqualFold(strings.TrimLeft(r[1][2:], "0"), strings.TrimLeft(want[2:], "0")) {
			t.Errorf("%s: hex %s, want %s", r[0], r[1], want)
		}
		if r[5] == "" {
			t.Errorf("%s: no source", r[0])
		}
	}
	tmpl := installTemplate
	for _, m := range regexp.MustCompile(`if "%RC%"=="(-?[0-9]+)"`).FindAllStringSubmatch(tmpl, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 32)
		if _, ok := ExitCode(int32(v)); !ok {
			t.Errorf("install.cmd explains exit code %s; exitcodes.csv does not list it", m[1])
		}
	}
}

func TestReadResultDir(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{Version: Version, ID: kitID, Host: Host{Hostname: "PLA-SQL01", Build: 6003, Architecture: "x64"}}
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644)
	os.WriteFile(filepath.Join(dir, InstallerName), []byte("@echo off\r\n"), 0o644)
	if !IsKitFolder(dir) {
		t.Fatal("not a kit folder")
	}
	if _, err := ReadResultDir(dir); err == nil || !strings.Contains(err.Error(), "install.cmd has not run from this folder") {
		t.Errorf("before a run: %v", err)
	}
	os.WriteFile(filepath.Join(dir, StateName), []byte("kit="+kitID+"\r\ndone=1 KB4493730 0x00000000 installed\r\nnext=2\r\n"), 0o644)
	// A log longer than a document carries: its end is kept, from a line start.
	long := strings.Repeat("Mon 12/01/2026 10:00:00.00 host ok: PLA-SQL01\r\n", logTail/40) + "Mon 12/01/2026 10:00:01.00 all 1 steps are done\r\n"
	os.WriteFile(filepath.Join(dir, LogName), []byte(long), 0o644)
	doc, err := ReadResultDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseResult(dir, strings.NewReader(string(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Host != "PLA-SQL01" || res.Kit != kitID || res.Status != StatusFinished || len(res.Outcomes) != 1 || len(doc) > logTail+4096 {
		t.Errorf("%+v (%d bytes)", res, len(doc))
	}
	// A state file that is a link is not read, even to a file in the kit
	// folder.
	link := t.TempDir()
	os.WriteFile(filepath.Join(link, ManifestName), b, 0o644)
	os.WriteFile(filepath.Join(link, InstallerName), []byte("@echo off\r\n"), 0o644)
	os.WriteFile(filepath.Join(link, "state.txt"), []byte("kit="+kitID+"\r\n"), 0o644)
	os.Symlink("state.txt", filepath.Join(link, StateName))
	if _, err := ReadResultDir(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a state file that is a link: %v", err)
	}
}

func FuzzParseResult(f *testing.F) {
	f.Add(resultDoc("PLA-SQL01", "finished", []string{"kit=" + kitID, "done=1 KB4493730 0x00000000 installed", "next=2"}, logLines("install.cmd install started on PLA-SQL01 (kit "+kitID+", 1 steps)", "all 1 steps are done")))
	f.Add(resultDoc("H", "failed", []string{"kit=" + kitID, "done=1 KB4474419 failed 0x80092004"}, nil))
	f.Add(ResultMagic + "\n[install.state]\nkit=ab\n[install.log]\n\xff\xfe")
	if b, err := os.ReadFile(filepath.Join("testdata", "results", "wine-restart.txt")); err == nil {
		f.Add(string(b))
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "results", "wine-finished.txt")); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, doc string) {
		res, err := ParseResult("fuzz", strings.NewReader(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		if res.Host == "" || res.Kit == "" || res.Status == "" {
			t.Fatalf("accepted without host, kit or status: %+v", res)
		}
		for i, o := range res.Outcomes {
			if i > 0 && res.Outcomes[i-1].Step >= o.Step {
				t.Fatalf("outcomes out of order: %+v", res.Outcomes)
			}
			if o.Outcome == "" || !strings.HasPrefix(o.KB, "KB") {
				t.Fatalf("bad outcome %+v", o)
			}
		}
	})
}
