package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/report"
)

// ExitToDo is analyze's "something to install".
const ExitToDo = ExitFindings

type analyzeFlags struct {
	json, jsonl, csv bool
	html             string
	asOf             string
	esu              string
	strategy         string
	catalogFile      string
	exposure         bool
	severity         string
	exploited        bool
	cvesFile         string
	assume           string
	unconfirmed      bool
	explain          string
	filesFile        string // kit and download: a files list of one's own
}

func analyzeCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze [--json|--jsonl|--csv] [--html FILE] [--as-of YYYY-MM-DD] [--esu[=azure]] [--strategy rollup|security-only] FILE|DIR...",
		Short: "Tell what a host lacks and in what order to install it, restarts included",
		Long: `analyze identifies each host (as identify does), then computes its patch level,
servicing state (servicing stack, SHA-2 support, ESU preparation), lifecycle as of
a date, findings, and the ordered install plan: service packs, the servicing stack,
SHA-2 support and its restart, ESU preparation, standalone updates, then the newest
rollup (or every missing security-only update), never a superseded one.

Updates for components the host does not show (IE 8/9, .NET 3.5/4.x, MSXML 4,
AD FS, ...) are listed as conditional, with how to check; --assume plans them.
Pre-rollup updates that only MSRC lists, and no Windows-Update-derived list does,
are listed as unconfirmed; --unconfirmed plans them.

Several FILEs of the same host (same host name) are merged into one host. A DIR
is analysed host by host: each file in it is a host, and each subdirectory is one
host whose files are merged. Results stream in order.

Without --esu the plan stops at the last public update (January 2020); --esu adds
ESU years 1-3 (to January 2023), --esu=azure the Azure-only fourth year (to
January 2024). Later updates need a custom agreement and are listed, not planned.

Exit codes: 0 nothing to install, 3 something to install, 1 kbplan failed
(writing the output), 2 bad usage or an input that could not be read
(including a folder with no inventory in it).`,
		Example: `  kbplan analyze systeminfo.txt
  kbplan analyze --esu systeminfo.txt qfe.txt
  kbplan analyze --strategy security-only --as-of 2021-06-01 --json systeminfo.txt
  kbplan analyze --csv --html fleet.html inventories/
  kbplan analyze --assume ie9,dotnet4 systeminfo.txt
  kbplan analyze --explain KB4018466 systeminfo.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, f, stdin, stdout, stderr, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print JSON: one object, or an array for several hosts (docs/json.md)")
	fl.BoolVar(&f.jsonl, "jsonl", false, "print one JSON object per host per line")
	fl.BoolVar(&f.csv, "csv", false, "print one CSV summary row per host")
	fl.StringVar(&f.html, "html", "", "also write a self-contained HTML report to this file (- prints only the HTML, on stdout)")
	fl.StringVar(&f.asOf, "as-of", "", "analysis date YYYY-MM-DD (default: today)")
	fl.StringVar(&f.esu, "esu", "", "the host has ESU: --esu (years 1-3) or --esu=azure (fourth year too)")
	fl.Lookup("esu").NoOptDefVal = "esu"
	fl.StringVar(&f.strategy, "strategy", "rollup", "rollup (newest cumulative rollup) or security-only (every missing month)")
	fl.StringVar(&f.catalogFile, "catalog", "", "use this updates CSV instead of the embedded catalog")
	fl.BoolVar(&f.exposure, "exposure", false, "add the CVEs the host stays exposed to: open (fixable here) and unfixable")
	fl.StringVar(&f.severity, "severity", "", "with --exposure: only CVEs of this severity or worse (Low, Moderate, Important, Critical)")
	fl.BoolVar(&f.exploited, "exploited", false, "with --exposure: only CVEs with a public exploit")
	fl.StringVar(&f.cvesFile, "cves", "", "with --exposure: use this CVE index (from kbplan catalog import) instead of the embedded one")
	fl.StringVar(&f.assume, "assume", "", "plan for these components although the inputs do not show them: ie7, ie8, ie9, dotnet11, dotnet20, dotnet35, dotnet4, msxml4, adfs, ftp7, wms, wme, wlm, office")
	fl.StringVar(&f.explain, "explain", "", "instead of the plan, say where this KB stands on each host and why (planned, installed, replaced by which chain, conditional, ...)")
	fl.BoolVar(&f.unconfirmed, "unconfirmed", false, "also plan the pre-rollup updates only MSRC lists (no Windows-Update-derived source does)")
	return cmd
}

func (f analyzeFlags) options() (assess.Options, error) {
	var o assess.Options
	switch f.strategy {
	case "rollup", "":
		o.Strategy = assess.RollupStrategy
	case "security-only":
		o.Strategy = assess.SecurityOnlyStrategy
	default:
		return o, fmt.Errorf("--strategy %q: use rollup or security-only", f.strategy)
	}
	switch f.esu {
	case "":
		// No choice made: a bundle's ESU licence state decides.
		o.ESUFromFacts = true
	case "esu", "true", "yes":
		o.ESU = assess.ESU
	case "azure":
		o.ESU = assess.AzureESU
	default:
		return o, fmt.Errorf("--esu=%q: use --esu or --esu=azure", f.esu)
	}
	if f.asOf == "" {
		o.AsOf = catalog.DateOf(time.Now())
	} else {
		d, err := catalog.ParseDate(f.asOf)
		if err != nil || d.Day == 0 {
			return o, fmt.Errorf("--as-of %q: use YYYY-MM-DD", f.asOf)
		}
		o.AsOf = d
	}
	comps, err := catalog.ParseComponents(f.assume)
	if err != nil {
		return o, fmt.Errorf("--assume: %v", err)
	}
	o.Assume, o.Unconfirmed = comps, f.unconfirmed
	n := 0
	for _, b := range []bool{f.json, f.jsonl, f.csv} {
		if b {
			n++
		}
	}
	if n > 1 {
		return o, fmt.Errorf("--json, --jsonl and --csv exclude each other")
	}
	if n > 0 && f.html == "-" {
		return o, fmt.Errorf("--html - prints the HTML report on stdout: it excludes --json, --jsonl and --csv")
	}
	return o, nil
}

func loadCVEs(file string) (*exposure.Index, error) {
	if file == "" {
		return exposure.Default()
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w; check the path", err)
	}
	defer fh.Close()
	return exposure.Read(file, fh)
}

func loadCatalog(file string) (*catalog.Catalog, error) {
	if file == "" {
		return catalog.Default()
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w; check the path", err)
	}
	defer fh.Close()
	return catalog.Load(file, io.LimitReader(fh, 256<<20))
}

func runAnalyze(cmd *cobra.Command, f analyzeFlags, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
	o, c, err := f.planSetup(stderr)
	if err != nil {
		return err
	}
	if f.exposure || f.severity != "" || f.exploited || f.cvesFile != "" {
		if o.Exposure.Index, err = loadCVEs(f.cvesFile); err != nil {
			fmt.Fprintln(stderr, "kbplan:", err)
			return &ExitError{Code: ExitUsage}
		}
		switch f.severity {
		case "", "Low", "Moderate", "Important", "Critical":
			o.Exposure.MinSeverity = f.severity
		default:
			fmt.Fprintf(stderr, "kbplan: --severity %q: use Low, Moderate, Important or Critical\n", f.severity)
			return &ExitError{Code: ExitUsage}
		}
		o.Exposure.Exploited = f.exploited
		// A CSV prints counts, unless the HTML page wants the lists too.
		o.Exposure.CountsOnly = f.format().CountsOnly() && f.html == ""
	}
	jobs, err := input.Collect(args)
	if err != nil {
		fmt.Fprintln(stderr, "kbplan:", err)
		return &ExitError{Code: ExitUsage}
	}
	if len(jobs) > 100 {
		defer batchGC(jobs)()
	}
	// out writes stdout's format; page, with --html, the report page (to
	// stdout with --html -, which then carries nothing else). Stdout is
	// buffered: flushed whenever the next result is not ready yet, before
	// progress is drawn, and at the end.
	stdoutBuf := bufio.NewWriterSize(stdout, 64<<10)
	var out, page report.Handler
	if f.html != "-" {
		out, _ = report.NewHandler(stdoutBuf, f.format(), report.Options{CVEs: o.Exposure.Index})
	}
	var pageFile *os.File
	switch f.html {
	case "":
	case "-":
		page, _ = report.NewHandler(stdoutBuf, report.HTML, report.Options{AsOf: o.AsOf.String()})
	default:
		if pageFile, err = os.Create(f.html); err != nil {
			fmt.Fprintln(stderr, "kbplan: --html:", err)
			return &ExitError{Code: ExitFailure}
		}
		defer pageFile.Close()
		page, _ = report.NewHandler(pageFile, report.HTML, report.Options{AsOf: o.AsOf.String()})
	}
	progress := newProgress(stderr, len(jobs))
	// unreadable: an input could not be read (exit 2); writeErr: the output
	// could not be written (exit 1, said once: the stream keeps its first
	// error); hosts: how many hosts were assessed.
	unreadable, todo, hosts := false, false, 0
	var writeErr error
	flush := func() {
		if err := stdoutBuf.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	// The stdout formats that can be rendered apart are rendered on the
	// workers, in parallel; the handler writes them in input order. A
	// single input is encoded straight to stdout instead: nothing to
	// overlap, and no buffer the size of its document.
	var encode *report.Encoder
	pre, canPre := out.(report.Preencoder)
	if canPre && f.explain == "" && len(jobs) > 1 {
		encode = report.NewEncoder(f.format())
	}
	analyzeAll(stdin, jobs, c, o, encode, func(a assess.Assessment, enc []byte, errs []error) {
		if progress.tty {
			flush()
		}
		progress.step()
		if len(errs) > 0 {
			flush() // the results before the error come before it
		}
		for _, e := range errs {
			progress.clear()
			fmt.Fprintln(stderr, "kbplan:", e)
			unreadable = true
		}
		if a.Host.Format == "" || writeErr != nil {
			return
		}
		hosts++
		todo = todo || a.ToDo()
		progress.clear()
		if page != nil {
			writeErr = page.Assessment(a)
		}
		switch {
		case writeErr != nil || out == nil:
		case f.explain != "":
			writeErr = out.Explanation(a, assess.Explain(a, c, f.explain))
		case enc != nil:
			writeErr = pre.Encoded(enc)
		default:
			writeErr = out.Assessment(a)
		}
	}, flush)
	progress.clear()
	for _, h := range []report.Handler{out, page} {
		if h != nil && writeErr == nil {
			writeErr = h.Close()
		}
	}
	flush()
	if pageFile != nil && writeErr == nil {
		writeErr = pageFile.Close()
	}
	if writeErr != nil {
		fmt.Fprintln(stderr, "kbplan: writing the output:", writeErr)
		return &ExitError{Code: ExitFailure}
	}
	switch {
	case hosts == 0 && !unreadable:
		fmt.Fprintf(stderr, "kbplan: %s: no inventory in it: give kbplan the output of systeminfo, wmic qfe, reg query or ver, or a collector bundle\n", strings.Join(args, ", "))
		return &ExitError{Code: ExitUsage}
	case unreadable:
		return &ExitError{Code: ExitUsage}
	case todo:
		return &ExitError{Code: ExitToDo}
	}
	return nil
}

// batchGC sets the collector for a batch, unless GOGC or GOMEMLIMIT say
// otherwise, and returns what restores it. A batch keeps little alive (a
// few hosts per core in flight, and the list of jobs) but allocates fast
// (≈ 60 KiB per host): collecting when the heap is 9 times what is live,
// not 4, takes two thirds of the collections away (48 → 16 over the
// bench's 10,000 hosts; each one also scans the compiled-in catalog). The memory limit keeps that from multiplying what
// does grow with the hosts, the jobs: past 128 MiB plus twice the jobs'
// names, the collector runs sooner. BENCHMARKS.md, "The batch with fewer
// calls", has the numbers.
func batchGC(jobs []input.Job) (restore func()) {
	percent, limit := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(800)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		names := int64(0)
		for _, j := range jobs {
			for _, p := range j.Paths {
				names += int64(len(p)) + 64 // the name and its share of the Job
			}
		}
		limit = debug.SetMemoryLimit(128<<20 + 2*names)
	}
	return func() {
		if percent != -2 {
			debug.SetGCPercent(percent)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}

// analyzeAll runs the jobs on all cores and hands results over in input
// order. At most a few jobs per core are in flight, so memory stays flat on
// huge directories.
//
// encode, when not nil, renders each assessment on the worker that made it
// (JSON and CSV encoding cost more than the plan): emit then gets the
// bytes, which are given back to encode once emit returns.
// waiting, when not nil, is called each time the next result is not ready
// yet, before analyzeAll waits for it: the caller flushes what it buffered,
// so that a reader of the stream gets each result as soon as it is made
// while hosts come slower than they are written, and few large writes
// when they come faster.
func analyzeAll(stdin io.Reader, jobs []input.Job, c *catalog.Catalog, o assess.Options, encode *report.Encoder,
	emit func(assess.Assessment, []byte, []error), waiting func()) {
	p := assess.NewPlanner(c) // one per run: its memo tables serve every host
	type result struct {
		i    int
		as   []assess.Assessment
		enc  [][]byte
		errs []error
	}
	workers := runtime.GOMAXPROCS(0)
	// A worker takes a slot of the window before it takes the next job,
	// and the slot is freed when that job's results are emitted: at most
	// cap(window) results wait, and done never blocks a worker.
	window := make(chan struct{}, 4*workers)
	done := make(chan result, cap(window))
	var next atomic.Int64
	for w := 0; w < workers; w++ {
		go func() {
			for {
				window <- struct{}{}
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					<-window
					return
				}
				as, errs := analyzeJob(stdin, jobs[i], p, o)
				var enc [][]byte
				if encode != nil {
					for _, a := range as {
						b, err := encode.Encode(a)
						if err != nil {
							errs = append(errs, err)
						}
						enc = append(enc, b)
					}
				}
				done <- result{i, as, enc, errs}
			}
		}()
	}
	pending := map[int]result{} // at most the window's size
	for want := 0; want < len(jobs); {
		r, ok := pending[want]
		if !ok {
			select {
			case r = <-done:
			default:
				if waiting != nil {
					waiting()
				}
				r = <-done
			}
			if r.i != want {
				pending[r.i] = r
				continue
			}
		}
		delete(pending, want)
		jobs[want] = input.Job{}
		want++
		<-window
		if len(r.as) == 0 {
			emit(assess.Assessment{}, nil, r.errs)
		}
		for k, a := range r.as {
			var b []byte
			if k < len(r.enc) {
				b = r.enc[k]
			}
			if k == 0 {
				emit(a, b, r.errs)
			} else {
				emit(a, b, nil)
			}
			if b != nil {
				encode.Release(b)
			}
		}
	}
}

// analyzeJob reads a job's inputs, merges those of the same host, and
// assesses each host.
func analyzeJob(stdin io.Reader, j input.Job, p *assess.Planner, o assess.Options) ([]assess.Assessment, []error) {
	hosts, errs := j.Hosts(stdin)
	out := make([]assess.Assessment, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, p.Assess(h, o))
	}
	return out, errs
}

// format is the streaming output format the flags choose.
func (f analyzeFlags) format() report.Format {
	switch {
	case f.jsonl:
		return report.JSONL
	case f.json:
		return report.JSON
	case f.csv:
		return report.CSV
	}
	return report.Text
}

// progress draws "analysed N/M hosts" on a terminal's stderr only.
type progress struct {
	w     io.Writer
	tty   bool
	n, of int
	last  time.Time
}

// newProgress draws on w only when it is a terminal (term.IsTerminal): a
// character device need not be one (/dev/null is), and drawing there cost
// a write per input and a flush of stdout per result.
func newProgress(w io.Writer, of int) *progress {
	p := &progress{w: w, of: of}
	if f, ok := w.(*os.File); ok && of > 1 {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *progress) step() { p.stepLabel("analysed %d/%d inputs") }

// stepLabel counts one more done and, on a terminal, shows format with
// the count done and the total.
func (p *progress) stepLabel(format string) { p.doneAt(p.n+1, format) }

// doneAt records n done, for callers that are told the count, and shows
// it as stepLabel does.
func (p *progress) doneAt(n int, format string) {
	p.n = n
	if !p.tty || time.Since(p.last) < 100*time.Millisecond && p.n < p.of {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r"+format, p.n, p.of)
}

func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// planSetup reads the plan options and the catalog; a problem is reported
// on stderr and returned as a usage exit.
func (f analyzeFlags) planSetup(stderr io.Writer) (assess.Options, *catalog.Catalog, error) {
	o, err := f.options()
	if err == nil {
		var c *catalog.Catalog
		if f.filesFile != "" && f.catalogFile == "" {
			// A catalog of this run's own: the files are added to it.
			c, err = catalog.Fresh()
		} else {
			c, err = loadCatalog(f.catalogFile)
		}
		if err == nil && f.filesFile != "" {
			err = addFiles(c, f.filesFile)
		}
		if err == nil {
			return o, c, nil
		}
	}
	fmt.Fprintln(stderr, "kbplan:", err)
	return o, nil, &ExitError{Code: ExitUsage}
}

// addFiles reads a files list of one's own (catalog/files.csv's columns)
// into c.
func addFiles(c *catalog.Catalog, file string) error {
	fh, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("--files: %w; check the path", err)
	}
	defer fh.Close()
	fs, err := catalog.ParseMirrorFiles(file, io.LimitReader(fh, 64<<20))
	if err != nil {
		return err
	}
	if c.AddFiles(fs) == 0 && len(fs) > 0 {
		return fmt.Errorf("--files %s: none of its %d files is for an update of the catalog", file, len(fs))
	}
	return nil
}

// addPlanFlags adds the flags that shape a plan to a command that plans
// but does not print analyze's output (kit, download).
func (f *analyzeFlags) addPlanFlags(fl *pflag.FlagSet) {
	fl.StringVar(&f.asOf, "as-of", "", "plan date YYYY-MM-DD (default: today)")
	fl.StringVar(&f.esu, "esu", "", "the host has ESU: --esu (years 1-3) or --esu=azure (fourth year too)")
	fl.Lookup("esu").NoOptDefVal = "esu"
	fl.StringVar(&f.strategy, "strategy", "rollup", "rollup (newest cumulative rollup) or security-only (every missing month)")
	fl.StringVar(&f.catalogFile, "catalog", "", "use this updates CSV instead of the embedded catalog")
	fl.StringVar(&f.filesFile, "files", "", "add the files of this `CSV` (catalog/files.csv's columns; URLs may be a mirror's)")
}
