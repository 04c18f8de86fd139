package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/download"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/kit"
	"github.com/kbplan/kbplan/report"
)

func downloadCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f analyzeFlags
	var hosts, kbs []string
	var planFile, outDir, arch, rootsFile string
	var jobs int
	var urls bool
	cmd := &cobra.Command{
		Use:   "download (--host INVENTORY|DIR... | --plan FILE | --kb KB... --arch ARCH) (--out DIR | --urls)",
		Short: "Fetch the exact Microsoft files a host's plan needs, on a connected machine",
		Long: `download plans each host (as analyze does) and fetches the Microsoft file of
every step for the host's architecture (the catalog's files list: the Windows
Update name, which carries the file's SHA-1, and its URL), for a kit to carry to
the air-gapped host: kbplan kit --packages DIR takes the folder as it is.

--host takes inventories, bundle folders, or a folder of them (a fleet: the
union of every host's plan is fetched once). --plan takes a saved
analyze --json; --kb takes KB numbers with --arch.

Downloads run --jobs at a time, resume partial files with HTTP Range, retry
server errors and dropped connections with backoff, and use the proxy the
environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). A file is kept only
when its SHA-1 is the one its name carries, then its signatures are checked as
kbplan verify does. A file already in DIR with the right digest is not fetched
again. --urls prints the URLs instead, one a line (wget -i, aria2c -i).

Steps whose file no source names are listed with the Microsoft Update Catalog
search link.

Exit codes: 0 every file is there and genuine; 3 some file could not be
fetched, is not genuine, or no source names it; 1 kbplan failed; 2 bad usage or
an unreadable input.`,
		Example: `  kbplan download --host systeminfo.txt --out updates
  kbplan download --host inventories\ --esu --out updates --jobs 4
  kbplan download --host systeminfo.txt --urls > urls.txt && wget -i urls.txt
  kbplan kit --host systeminfo.txt --packages updates --out kit`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			sources := 0
			for _, on := range []bool{len(hosts) > 0, planFile != "", len(kbs) > 0} {
				if on {
					sources++
				}
			}
			if sources != 1 || (outDir == "") == !urls {
				fmt.Fprintln(stderr, "kbplan: download needs one of --host, --plan or --kb, and one of --out DIR or --urls")
				return &ExitError{Code: ExitUsage}
			}
			o, c, err := f.planSetup(stderr)
			if err != nil {
				return err
			}
			var want []want
			switch {
			case len(hosts) > 0:
				want, err = wantFromHosts(stdin, hosts, c, o)
			case planFile != "":
				want, err = wantFromPlan(planFile)
			default:
				want, err = wantFromKBs(kbs, arch, c)
			}
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			var items []download.Item
			code := ExitOK
			for _, w := range want {
				if w.item.URL == "" {
					fmt.Fprintf(stderr, "kbplan: %s (%s): no source here names its file; find it in the Microsoft Update Catalog: %s\n", w.kb, w.arch, kit.CatalogURL(w.kb))
					code = worse(code, ExitFindings)
					continue
				}
				items = append(items, w.item)
			}
			if urls {
				for _, it := range items {
					fmt.Fprintln(stdout, it.URL)
				}
				fmt.Fprintf(stderr, "kbplan: %d URLs for %d steps\n", len(items), len(want))
				if code != ExitOK {
					return &ExitError{Code: code}
				}
				return nil
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitFailure}
			}
			roots, err := loadRoots(rootsFile)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			p := newProgress(stderr, len(items))
			rs := download.Fetch(ctx, items, outDir, download.Options{Jobs: jobs, Progress: func(done, total int, r download.Result) {
				p.clear()
				switch {
				case r.Err != nil:
					fmt.Fprintf(stderr, "kbplan: %s: %v\n", r.KB, r.Err)
				case !p.tty && r.Present:
					fmt.Fprintf(stderr, "kbplan: %d/%d %s already there\n", done, total, r.Name)
				case !p.tty:
					fmt.Fprintf(stderr, "kbplan: %d/%d %s: %d bytes\n", done, total, r.Name, r.Bytes)
				}
				p.doneAt(done, "downloaded %d/%d files")
			}})
			p.clear()
			var got, present int
			for _, r := range rs {
				if r.Err != nil {
					code = worse(code, ExitFindings)
					continue
				}
				if r.Present {
					present++
				}
				got++
				j, _, err := inspectFile(r.Path, roots)
				switch {
				case err != nil:
					fmt.Fprintf(stderr, "kbplan: %s: %v\n", r.Name, err)
					code = worse(code, ExitFindings)
				case !j.Genuine:
					fmt.Fprintf(stderr, "kbplan: %s: its SHA-1 is Microsoft's, but its signatures do not verify (%s): kbplan verify %s says why\n", r.Name, cmp.Or(j.SignatureErr, "not signed by a trusted root"), r.Path)
					code = worse(code, ExitFindings)
				}
			}
			fmt.Fprintf(stdout, "%d of %d files in %s (%d were there already); %d steps have no known file\n", got, len(items), outDir, present, len(want)-len(items))
			if code != ExitOK {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&hosts, "host", nil, "plan these hosts: inventory `FILE`s, bundle folders, or folders of them (repeatable)")
	fl.StringVar(&planFile, "plan", "", "fetch the steps of a saved analyze --json `FILE`")
	fl.StringSliceVar(&kbs, "kb", nil, "fetch these `KB`s (with --arch)")
	fl.StringVar(&arch, "arch", "", "x86, x64 or ia64, for --kb")
	fl.StringVar(&outDir, "out", "", "the `DIR` to download into (kbplan kit --packages takes it)")
	fl.BoolVar(&urls, "urls", false, "print the URLs, one a line, instead of downloading")
	fl.IntVar(&jobs, "jobs", 4, "files fetched at once")
	fl.StringVar(&rootsFile, "roots", "", "PEM `FILE` of further trusted roots (a test CA, say)")
	f.addPlanFlags(fl)
	return cmd
}

// want is one file a plan needs: its step's KB and architecture, and the
// file when a source names it (URL empty otherwise).
type want struct {
	kb, arch string
	item     download.Item
}

func itemOf(kb string, f *catalog.File) download.Item {
	return download.Item{Name: f.Name, URL: f.URL, SHA1: f.SHA1, KB: kb}
}

// addWant appends w unless the same file (or the same missing KB and
// architecture) is there already: a fleet's plans overlap.
func addWant(ws []want, w want) []want {
	if slices.ContainsFunc(ws, func(o want) bool {
		return w.item.Name != "" && o.item.Name == w.item.Name || w.item.Name == "" && o.item.Name == "" && o.kb == w.kb && o.arch == w.arch
	}) {
		return ws
	}
	return append(ws, w)
}

func wantFromHosts(stdin io.Reader, args []string, c *catalog.Catalog, o assess.Options) ([]want, error) {
	jobs, err := input.Collect(args)
	if err != nil {
		return nil, err
	}
	var ws []want
	p := assess.NewPlanner(c)
	for _, j := range jobs {
		as, errs := analyzeJob(stdin, j, p, o)
		if len(errs) > 0 {
			return nil, errs[0]
		}
		for _, a := range as {
			arch := a.Host.OS.Architecture
			for _, s := range a.Plan.Steps {
				w := want{kb: s.KB, arch: arch}
				if s.File != nil {
					w.item = itemOf(s.KB, s.File)
				}
				ws = addWant(ws, w)
			}
		}
	}
	return ws, nil
}

// wantFromPlan reads the steps of a saved analyze --json (docs/json.md).
func wantFromPlan(file string) ([]want, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w; check the path", err)
	}
	var as []report.AssessmentJSON
	if err := json.Unmarshal(b, &as); err != nil {
		return nil, fmt.Errorf("%s: %v; expected the output of kbplan analyze --json", file, err)
	}
	var ws []want
	for _, a := range as {
		arch := ""
		if a.Host.OS.Architecture != nil {
			arch = *a.Host.OS.Architecture
		}
		for _, s := range a.Plan.Steps {
			w := want{kb: s.KB, arch: arch}
			if s.File != nil {
				if !strings.HasPrefix(s.File.URL, "https://") && !strings.HasPrefix(s.File.URL, "http://") {
					return nil, fmt.Errorf("%s: step %s: %q is not a URL", file, s.KB, s.File.URL)
				}
				w.item = download.Item{Name: filepath.Base(s.File.Name), URL: s.File.URL, SHA1: s.File.SHA1, KB: s.KB}
			}
			ws = addWant(ws, w)
		}
	}
	return ws, nil
}

func wantFromKBs(kbs []string, arch string, c *catalog.Catalog) ([]want, error) {
	if arch != "x86" && arch != "x64" && arch != "ia64" {
		return nil, fmt.Errorf("--kb needs --arch x86, x64 or ia64")
	}
	var ws []want
	for _, k := range kbs {
		kb := strings.ToUpper(strings.TrimSpace(k))
		if !strings.HasPrefix(kb, "KB") {
			kb = "KB" + kb
		}
		u, ok := c.Get(kb)
		if !ok {
			return nil, fmt.Errorf("%s is not in the %s catalog", kb, c.Name)
		}
		w := want{kb: kb, arch: arch}
		if f := u.FileFor(arch); f != nil {
			w.item = itemOf(kb, f)
		}
		ws = addWant(ws, w)
	}
	return ws, nil
}
