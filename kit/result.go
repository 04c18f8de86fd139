package kit

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory/bundle"
)

// What install.cmd leaves next to itself, and what its results upload is
// (docs/kit.md, "Results").
const (
	StateName  = "install.state"
	LogName    = "install.log"
	ReportName = "report-to.txt" // the server and token install.cmd sends results to
	// ResultMagic opens a results document: the upload kbplan-sha256.js
	// /report sends, and what ReadResultDir makes of a kit folder.
	ResultMagic = "kbplan-install-result 1"
	// MaxResult bounds a results document: the state (at most 1 MiB, as
	// kbplan-sha256.js /state allows) and the log's newest 256 KiB, with
	// room to spare.
	MaxResult = 2 << 20
	// logTail is how much of install.log a results document carries.
	logTail = 256 << 10
)

// Outcome kinds of one step, from install.state's done lines.
const (
	Installed        = "installed"
	AlreadyInstalled = "already-installed"
	NotApplicable    = "not-applicable"
	Failed           = "failed"
)

// Run statuses: where the last run of install.cmd the log shows stopped.
const (
	StatusFinished = "finished" // every step done
	StatusRestart  = "restart"  // waiting for a restart (Windows restarting, or /noreboot)
	StatusFailed   = "failed"   // a step failed, or a package was missing or changed
	StatusRefused  = "refused"  // wrong host, not elevated, restart pending, damaged state
	StatusStopped  = "stopped"  // the restart-loop guard
	StatusChecked  = "checked"  // install.cmd /check passed
	StatusRunning  = "running"  // no end yet: running, or cut off (power, a killed window)
)

// Result is what a kit's install.cmd reports: its state file and the end
// of its log, read.
type Result struct {
	Host     string    // %COMPUTERNAME% (the upload's header, or the log)
	Kit      string    // the kit's id
	Steps    int       // the kit's step count; 0 when the log does not say
	Next     int       // the next step install.cmd would run
	Boots    int       // restarts it made
	Outcomes []Outcome // one per step done, in step order (the last line of a step wins)
	Status   string    // Status* of the last run in the log
	Detail   string    // the log line that says why it stopped ("" while running)
	Event    string    // what made install.cmd send it: finished, restart, failed ("" from a folder)
}

// Outcome is one step's result.
type Outcome struct {
	Step    int
	KB      string
	Outcome string // Installed, AlreadyInstalled, NotApplicable, Failed
	Code    int32  // the installer's exit code
	Restart bool   // the installer asked for a restart
	Text    string // as install.state says it
}

// Hex is the code as install.cmd and Microsoft write it.
func (o Outcome) Hex() string { return fmt.Sprintf("0x%08X", uint32(o.Code)) }

// ResultError is a results document kbplan cannot read: the input, the
// line and what was expected.
type ResultError struct {
	Name string
	Line int // 0: the whole input
	Msg  string
}

func (e *ResultError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Msg)
}

// stateLine is every line install.cmd writes to install.state, the same
// expression kbplan-sha256.js /state checks (TestStateExpressionsAgree).
var stateLine = lazyre.New(`^(kit=[0-9a-f]{1,64}|next=[0-9]{1,4}|boots=[0-9]{1,4}|done=[0-9]{1,4} KB[0-9]{1,8}( [A-Za-z0-9 ,():_.-]{0,200})?)$`)

// doneLine splits a done line: step, KB, then "0xCODE OUTCOME" or
// "failed 0xCODE".
var doneLine = lazyre.New(`^done=([0-9]{1,4}) (KB[0-9]{1,8}) (?:failed (0x[0-9A-F]{8})|(0x[0-9A-F]{8}) (.+))$`)

// ParseResult reads a results document (docs/kit.md): the header, then
// the [install.state] and [install.log] sections. name is the input's
// name for errors.
func ParseResult(name string, r io.Reader) (Result, error) {
	var res Result
	lr := &io.LimitedReader{R: r, N: MaxResult + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	n, section := 0, "header"
	var state, log []string
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			if strings.TrimPrefix(line, "\ufeff") != ResultMagic {
				return res, &ResultError{name, 1, fmt.Sprintf("expected %q: not a kbplan results document (send install.state and install.log with kbplan-sha256.js /report, or import the kit folder)", ResultMagic)}
			}
			continue
		}
		switch line {
		case "[" + StateName + "]":
			section = StateName
			continue
		case "[" + LogName + "]":
			section = LogName
			continue
		}
		switch section {
		case "header":
			k, v, ok := strings.Cut(line, ": ")
			if line == "" {
				continue
			}
			if !ok {
				return res, &ResultError{name, n, fmt.Sprintf("%q: expected KEY: VALUE (host, kit, event) before [%s]", clip(line), StateName)}
			}
			switch k {
			case "host":
				res.Host = strings.TrimSpace(v)
			case "kit":
				res.Kit = strings.TrimSpace(v)
			case "event":
				res.Event = strings.TrimSpace(v)
			}
		case StateName:
			if line == "" {
				continue
			}
			state = append(state, line)
		case LogName:
			if utf8.ValidString(line) {
				log = append(log, line)
			} else {
				log = append(log, strings.ToValidUTF8(line, "\ufffd"))
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return res, &ResultError{name, n + 1, "a line over 64 KiB: not what install.cmd writes"}
		}
		return res, &ResultError{name, n, err.Error()}
	}
	if lr.N == 0 {
		return res, &ResultError{name, 0, fmt.Sprintf("more than %d MiB: a results document holds install.state and the end of install.log only", MaxResult>>20)}
	}
	if n == 0 {
		return res, &ResultError{name, 0, "empty: expected a results document"}
	}
	if err := res.readState(name, state); err != nil {
		return res, err
	}
	res.readLog(log)
	if res.Host == "" {
		return res, &ResultError{name, 0, "names no host: expected a host: line, or install.log's \"install.cmd ... started on HOST\""}
	}
	if len(res.Host) > 255 || strings.ContainsFunc(res.Host, unicode.IsControl) {
		return res, &ResultError{name, 0, fmt.Sprintf("host name %q: not a Windows computer name (at most 255 bytes, no control characters)", clip(res.Host))}
	}
	if res.Kit == "" {
		return res, &ResultError{name, 0, "names no kit: expected install.state's kit= line"}
	}
	return res, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// readState reads install.state's lines: the last of each key wins, and
// the last done line of each step.
func (res *Result) readState(name string, lines []string) error {
	at := map[int]int{} // step -> index in Outcomes
	for i, line := range lines {
		if !stateLine.MatchString(line) {
			return &ResultError{name + " [" + StateName + "]", i + 1, fmt.Sprintf("%q is not a line install.cmd writes (kit=, next=, boots=, done=)", clip(line))}
		}
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "kit":
			if res.Kit != "" && res.Kit != v && i == 0 {
				return &ResultError{name + " [" + StateName + "]", i + 1, fmt.Sprintf("kit %s, and the header says %s: the state of another kit", v, res.Kit)}
			}
			res.Kit = v
		case "next":
			res.Next, _ = strconv.Atoi(v)
		case "boots":
			res.Boots, _ = strconv.Atoi(v)
		case "done":
			o, err := parseDone(line)
			if err != nil {
				return &ResultError{name + " [" + StateName + "]", i + 1, err.Error()}
			}
			if j, ok := at[o.Step]; ok {
				res.Outcomes[j] = o
				continue
			}
			at[o.Step] = len(res.Outcomes)
			res.Outcomes = append(res.Outcomes, o)
		}
	}
	slices.SortFunc(res.Outcomes, func(a, b Outcome) int { return a.Step - b.Step })
	return nil
}

func parseDone(line string) (Outcome, error) {
	m := doneLine.FindStringSubmatch(line)
	if m == nil {
		return Outcome{}, fmt.Errorf("%q: expected done=STEP KB 0xCODE OUTCOME or done=STEP KB failed 0xCODE", clip(line))
	}
	o := Outcome{KB: m[2], Text: strings.TrimPrefix(line, "done=")}
	o.Step, _ = strconv.Atoi(m[1])
	code := m[3]
	if code == "" {
		code = m[4]
	}
	u, err := strconv.ParseUint(code[2:], 16, 32)
	if err != nil {
		return o, fmt.Errorf("code %s: %v", code, err)
	}
	o.Code = int32(uint32(u))
	if m[3] != "" {
		o.Outcome = Failed
		return o, nil
	}
	text := m[5]
	switch {
	case text == "installed":
		o.Outcome = Installed
	case strings.HasPrefix(text, "installed, restart required"), strings.HasPrefix(text, "installed, the installer is restarting Windows"):
		o.Outcome, o.Restart = Installed, true
	case strings.HasPrefix(text, "already installed"):
		o.Outcome = AlreadyInstalled
	case strings.HasPrefix(text, "not applicable"):
		o.Outcome = NotApplicable
	default:
		return o, fmt.Errorf("outcome %q: not one install.cmd writes (installed, already installed, not applicable, failed)", clip(text))
	}
	if c, ok := ExitCode(o.Code); ok && c.Outcome != o.Outcome {
		return o, fmt.Errorf("code %s is %s (%s), and the line says %q", o.Hex(), c.Name, c.Outcome, clip(text))
	}
	return o, nil
}

// startLine is install.cmd's first log line of a run.
var startLine = lazyre.New(`install\.cmd (install|check) started on (\S+) \(kit ([0-9a-f]{1,64}), ([0-9]{1,4}) steps\)`)

// logStatus are the log messages that end a run (install.cmd.tmpl), in
// the order they are tried on a line.
var logStatus = []struct{ text, status string }{
	{"all ", StatusFinished}, // "all N steps are done"
	{"restarting Windows in ", StatusRestart},
	{"Windows is restarting ", StatusRestart},
	{"restart needed ", StatusRestart},
	{"stopped: ", StatusStopped},
	{"refused: ", StatusRefused},
	{"check passed", StatusChecked},
	{"check failed", StatusFailed},
}

// stepFailure are the step lines that stop a run with a failure.
var stepFailure = []string{" failed with ", " failed: ", " is missing from the kit", " the file changed since the kit was made", "cannot compute the SHA-256", "cannot make ", "cannot copy "}

// readLog finds the last run's status: install.log is appended to by
// every run, each starting with a "started on" line.
func (res *Result) readLog(lines []string) {
	res.Status = StatusRunning
	for _, line := range lines {
		if m := startLine.FindStringSubmatch(line); m != nil {
			if res.Host == "" {
				res.Host = m[2]
			}
			if m[3] == res.Kit || res.Kit == "" {
				res.Steps, _ = strconv.Atoi(m[4])
			}
			res.Status, res.Detail = StatusRunning, ""
			continue
		}
		msg := logMessage(line)
		for _, s := range logStatus {
			if strings.HasPrefix(msg, s.text) && (s.status != StatusFinished || strings.HasSuffix(msg, " steps are done")) {
				res.Status, res.Detail = s.status, msg
				break
			}
		}
		if strings.HasPrefix(msg, "step ") {
			for _, f := range stepFailure {
				if strings.Contains(msg, f) {
					res.Status, res.Detail = StatusFailed, msg
					break
				}
			}
		}
	}
}

// logMessage drops install.log's "DATE TIME " prefix (in the host's
// locale): the message starts at the first word install.cmd writes.
func logMessage(line string) string {
	for _, w := range []string{"all ", "restarting ", "Windows is ", "restart needed ", "stopped: ", "refused: ", "check ", "step ", "install.cmd ", "host ok", "summary:", "resumed ", "note: ", "hashing ", "shutdown failed", "cannot ", "install.state "} {
		if i := strings.Index(line, w); i >= 0 {
			// The prefix is a date and a time: digits, separators, a
			// weekday or AM/PM, never one of install.cmd's words.
			if i < 40 {
				return line[i:]
			}
		}
	}
	return line
}

// Document writes r's inputs as a results document: what
// kbplan-sha256.js /report sends (the header, install.state, the log's
// end).
func Document(host, kit, event string, state, log []byte) []byte {
	var b bytes.Buffer
	b.WriteString(ResultMagic + "\r\n")
	fmt.Fprintf(&b, "host: %s\r\nkit: %s\r\n", host, kit)
	if event != "" {
		fmt.Fprintf(&b, "event: %s\r\n", event)
	}
	b.WriteString("[" + StateName + "]\r\n")
	b.Write(state)
	if len(state) > 0 && state[len(state)-1] != '\n' {
		b.WriteString("\r\n")
	}
	b.WriteString("[" + LogName + "]\r\n")
	if len(log) > logTail {
		log = log[len(log)-logTail:]
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			log = log[i+1:]
		}
	}
	b.Write(log)
	return b.Bytes()
}

// ReadResultDir makes a results document of a kit folder (kbplan fleet
// import): its kit.json names host and kit, install.state and install.log
// are read as install.cmd left them. A folder without install.state has
// not been run.
func ReadResultDir(dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := bundle.RegularFS{Root: root}
	// read is a file's newest limit bytes.
	read := func(name string, limit int64) ([]byte, error) {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if sk, ok := f.(io.Seeker); ok && st.Size() > limit {
			if _, err := sk.Seek(st.Size()-limit, io.SeekStart); err != nil {
				return nil, err
			}
		}
		return io.ReadAll(io.LimitReader(f, limit))
	}
	state, err := read(StateName, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: install.cmd has not run from this folder", dir, StateName)
	}
	if err != nil {
		return nil, err
	}
	log, err := read(LogName, logTail)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	host, id := "", ""
	if b, err := read(ManifestName, 16<<20); err == nil {
		if m, err := ParseManifest(b); err == nil {
			host, id = m.Host.Hostname, m.ID
		}
	}
	return Document(host, id, "", state, log), nil
}

// IsKitFolder reports whether dir is a kit folder (it has install.cmd
// and kit.json).
func IsKitFolder(dir string) bool {
	for _, n := range []string{InstallerName, ManifestName} {
		if st, err := os.Lstat(filepath.Join(dir, n)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Code is one installer exit code kbplan knows (exitcodes.csv).
type Code struct {
	Code    int32
	Hex     string
	Name    string
	Outcome string
	Meaning string
	Source  string
}

//go:embed exitcodes.csv
var exitCodesCSV string

var exitCodes = sync.OnceValues(func() (map[int32]Code, error) {
	rows, err := csv.NewReader(strings.NewReader(exitCodesCSV)).ReadAll()
	if err != nil {
		return nil, err
	}
	out := map[int32]Code{}
	for i, r := range rows[1:] {
		v, err := strconv.ParseInt(r[0], 10, 32)
		if err != nil || len(r) != 6 || r[5] == "" {
			return nil, fmt.Errorf("exitcodes.csv line %d: expected code,hex,name,outcome,meaning,source", i+2)
		}
		out[int32(v)] = Code{Code: int32(v), Hex: r[1], Name: r[2], Outcome: r[3], Meaning: r[4], Source: r[5]}
	}
	return out, nil
})

// ExitCode is what an installer exit code means, when kbplan knows.
func ExitCode(code int32) (Code, bool) {
	m, err := exitCodes()
	if err != nil {
		return Code{}, false
	}
	c, ok := m[code]
	return c, ok
}

// ParseManifest reads kit.json.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if m.Version != Version {
		return m, fmt.Errorf("%s: version %d, expected %d", ManifestName, m.Version, Version)
	}
	return m, nil
}

// ReportTo is report-to.txt: where install.cmd sends its results (the
// fleet's results URL) and the token it sends them with. Only
// kbplan-sha256.js reads it; cmd never does.
func ReportTo(url, token string) ([]byte, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("--report-to %q: expected the fleet server's results URL, http(s)://HOST/api/v1/results", url)
	}
	if strings.ContainsAny(url+token, "\r\n\"") || strings.TrimSpace(token) == "" {
		return nil, fmt.Errorf("--report-to needs --report-token, an enrollment token (kbplan fleet token add), on one line without quotes")
	}
	return []byte("url=" + url + "\r\ntoken=" + token + "\r\n"), nil
}
