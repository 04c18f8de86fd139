package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/fleet"
	"github.com/kbplan/kbplan/internal/regular"
	"github.com/kbplan/kbplan/inventory/bundle"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/kit"
	"github.com/kbplan/kbplan/store"
)

// storeFlags open the fleet store, for serve and fleet.
type storeFlags struct {
	data, db, esu string
}

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "kbplan-data", "the data `DIR`: the SQLite database and the admin token")
	cmd.Flags().StringVar(&f.db, "db", os.Getenv("KBPLAN_DB"), "PostgreSQL `URL` (postgres://user@host:5432/db) instead of SQLite; also KBPLAN_DB")
	cmd.Flags().StringVar(&f.esu, "esu", "", "ESU mode for hosts whose upload does not say: esu or azure (a collector bundle's licence facts win)")
}

func (f *storeFlags) open(ctx context.Context, log *slog.Logger) (*fleet.Fleet, error) {
	var esu assess.ESUMode
	switch f.esu {
	case "":
	case "esu":
		esu = assess.ESU
	case "azure":
		esu = assess.AzureESU
	default:
		return nil, fmt.Errorf("--esu %q: expected esu or azure", f.esu)
	}
	st, err := store.Open(ctx, f.db, f.data)
	if err != nil {
		return nil, err
	}
	fl, err := fleet.New(st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	fl.ESU = esu
	return fl, nil
}

func serveCmd(stdout, stderr io.Writer) *cobra.Command {
	var sf storeFlags
	var listen, certFile, keyFile string
	var resetAdmin, tlsProxy bool
	var maxUpload int64
	var maxIngests int
	var proxies []string
	cmd := &cobra.Command{
		Use:   "serve [--data DIR] [--listen ADDR] [--db postgres://...] [--tls-cert FILE --tls-key FILE] [--trusted-proxy CIDR --tls-proxy]",
		Short: "Run the fleet server: uploads, API, exports, metrics and the web dashboard",
		Long: `serve runs the fleet server (docs/fleet.md). With no flags it keeps an
embedded SQLite database in ./kbplan-data and listens on 127.0.0.1:8080.

On first start it makes an admin token and writes it to DIR/admin-token
(KBPLAN_ADMIN_TOKEN sets it instead; servers sharing a PostgreSQL database
share one admin token: start the others with KBPLAN_ADMIN_TOKEN, or a new
server refuses to replace it unless given --reset-admin-token). Collectors upload with it, or with an
enrollment token the admin makes:

  curl -H "Authorization: Bearer $(cat kbplan-data/admin-token)" \
       --data-binary @systeminfo.txt http://127.0.0.1:8080/api/v1/inventories

Web users (admin or viewer) are made with kbplan fleet user add.

With --db postgres://... several servers share one database; they keep no
state of their own.

Behind a reverse proxy, --trusted-proxy CIDR (repeatable) says whose
X-Forwarded-For to believe: the login limiter and the snapshot records then
see each client, not the proxy. --tls-proxy says TLS ends at that proxy:
cookies are Secure and HSTS is sent. --max-ingests bounds the uploads read at
once (default two per core); beyond it uploads get 503 with Retry-After. Logs are JSON lines on stderr. SIGINT or SIGTERM stops
the server after the requests in flight.

Exit codes: 0 stopped cleanly; 1 the server failed; 2 bad usage or no database.`,
		Example: `  kbplan serve
  kbplan serve --listen 0.0.0.0:8443 --tls-cert server.crt --tls-key server.key
  KBPLAN_ADMIN_TOKEN=... kbplan serve --db postgres://kbplan@db:5432/kbplan
  kbplan serve --listen 10.0.0.5:8080 --trusted-proxy 10.0.0.1/32 --tls-proxy`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if maxUpload < 1 {
				fmt.Fprintf(stderr, "kbplan: --max-upload %d: expected at least 1 (MiB)\n", maxUpload)
				return &ExitError{Code: ExitUsage}
			}
			if (certFile == "") != (keyFile == "") {
				fmt.Fprintln(stderr, "kbplan: --tls-cert and --tls-key go together")
				return &ExitError{Code: ExitUsage}
			}
			var trusted []netip.Prefix
			for _, p := range proxies {
				pre, err := netip.ParsePrefix(p)
				if err != nil {
					if a, aerr := netip.ParseAddr(p); aerr == nil {
						pre, err = a.Prefix(a.BitLen())
					}
				}
				if err != nil {
					fmt.Fprintf(stderr, "kbplan: --trusted-proxy %q: expected an address or CIDR (10.0.0.1, 10.0.0.0/24)\n", p)
					return &ExitError{Code: ExitUsage}
				}
				trusted = append(trusted, pre.Masked())
			}
			if maxIngests < 0 {
				fmt.Fprintf(stderr, "kbplan: --max-ingests %d: expected at least 1\n", maxIngests)
				return &ExitError{Code: ExitUsage}
			}
			log := slog.New(slog.NewJSONHandler(stderr, nil))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fl, err := sf.open(ctx, log)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			defer fl.Store.Close()
			source, err := fleet.EnsureAdminToken(ctx, fl.Store, sf.data, os.Getenv("KBPLAN_ADMIN_TOKEN"), resetAdmin)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			srv := fleet.NewServer(fl)
			srv.MaxUpload = maxUpload << 20
			srv.Secure = certFile != "" || tlsProxy
			srv.TrustedProxies = trusted
			if maxIngests > 0 {
				srv.SetMaxIngests(maxIngests)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			scheme := "http"
			if certFile != "" {
				scheme = "https"
			}
			log.Info("kbplan fleet server", "url", scheme+"://"+ln.Addr().String(), "database", fl.Store.Where, "admin_token", source, "data", fl.DataVersion())
			// A new catalog (an upgrade) changes assessments: redo them
			// in the background from the stored snapshots.
			go func() {
				start := time.Now()
				n, err := fl.Reassess(ctx)
				if err != nil && ctx.Err() == nil {
					log.Error("reassessing hosts", "err", err)
				} else if n > 0 {
					log.Info("reassessed hosts with the current catalog", "hosts", n, "took", time.Since(start).String())
				}
			}()
			// The by-update counts: fold the logged profile moves every
			// second, so that a page view has little to fold.
			go func() {
				t := time.NewTicker(time.Second)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						if err := fl.Store.Fold(ctx); err != nil && ctx.Err() == nil {
							log.Warn("folding the by-update counts", "err", err)
						}
					}
				}
			}()
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, WriteTimeout: 2 * time.Minute,
				IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
			errc := make(chan error, 1)
			go func() {
				if certFile != "" {
					errc <- hs.ServeTLS(ln, certFile, keyFile)
				} else {
					errc <- hs.Serve(ln)
				}
			}()
			select {
			case err := <-errc:
				log.Error("server stopped", "err", err)
				return &ExitError{Code: ExitFailure}
			case <-ctx.Done():
			}
			log.Info("shutting down: finishing requests in flight")
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				log.Error("shutdown", "err", err)
				return &ExitError{Code: ExitFailure}
			}
			log.Info("stopped")
			return nil
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "the `ADDR` to listen on")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "serve TLS with this certificate `FILE` (PEM)")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "the TLS key `FILE` (PEM)")
	cmd.Flags().Int64Var(&maxUpload, "max-upload", fleet.MaxUpload>>20, "the largest upload, in `MiB`")
	cmd.Flags().BoolVar(&resetAdmin, "reset-admin-token", false, "make a new admin token in DIR/admin-token, replacing the one in the database")
	cmd.Flags().StringSliceVar(&proxies, "trusted-proxy", nil, "believe X-Forwarded-For from this proxy `CIDR` (repeatable)")
	cmd.Flags().BoolVar(&tlsProxy, "tls-proxy", false, "TLS ends at a proxy in front: Secure cookies and HSTS")
	cmd.Flags().IntVar(&maxIngests, "max-ingests", 0, "uploads read at once (default two per core); more get 503")
	return cmd
}

func fleetCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Work on the fleet database offline: bulk import, groups, web users, tokens",
		Args:  cobra.NoArgs,
	}
	var sf storeFlags
	var groups []string
	imp := &cobra.Command{
		Use:   "import DIR...",
		Short: "Import inventories and collector bundles into the fleet database",
		Long: `import reads each DIR as analyze does (a file, a bundle folder, or a subfolder
of one host's files per host) and stores every input as a snapshot, as an
upload would: assessed, idempotent (the same file twice is one snapshot), and
merged with the host's newest input of each other kind. A bundle folder is
stored packed as a zip.

A kit folder (kit.json and install.cmd, after install.cmd ran: install.state
and install.log), or a folder of kit folders, is imported as the kit's
results, as install.cmd --report-to would send them. --group puts every host
imported in a group.

Exit codes: 0 every entry imported; 2 some entry could not be read (the rest
are imported), bad usage or no database; 1 the import failed.`,
		Example: `  kbplan fleet import collected/
  kbplan fleet import --group plant-a collected/plant-a/
  kbplan fleet import kits/          # kit folders brought back after install.cmd ran
  kbplan fleet import --db postgres://kbplan@db/kbplan collected/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, dirs []string) error {
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx := context.Background()
			fl, err := sf.open(ctx, log)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			defer fl.Store.Close()
			var created, dup, bad int
			for _, g := range groups {
				if err := fleet.CheckGroup(g); err != nil {
					fmt.Fprintln(stderr, "kbplan: --group:", err)
					return &ExitError{Code: ExitUsage}
				}
			}
			origin := fleet.Origin{Remote: "local", Groups: groups}
			dirs, kits := kitFolders(dirs)
			for _, k := range kits {
				body, err := kit.ReadResultDir(k)
				var res fleet.ResultIngested
				if err == nil {
					res, err = fl.IngestResult(ctx, origin, k, body)
				}
				switch {
				case err != nil:
					bad++
					fmt.Fprintf(stderr, "kbplan: %s: %v\n", k, err)
				case res.Created:
					created++
					fmt.Fprintf(stdout, "%s\t%s\tkit %s: %s (run %d)\n", k, res.Host, res.Kit, res.Status, res.ID)
				default:
					dup++
					fmt.Fprintf(stdout, "%s\t%s\tkit %s: %s (run %d, already there)\n", k, res.Host, res.Kit, res.Status, res.ID)
				}
				if err == nil && len(groups) > 0 {
					for _, g := range groups {
						if _, err := fl.JoinGroup(ctx, g, res.Host); err != nil {
							fmt.Fprintf(stderr, "kbplan: %s: group %s: %v\n", k, g, err)
							bad++
						}
					}
				}
			}
			if len(dirs) == 0 {
				fmt.Fprintf(stderr, "kbplan: imported %d new kit results, %d already there, %d unreadable, into %s\n", created, dup, bad, fl.Store.Where)
				fleet.LocalAudit(ctx, fl.Store, "import", strings.Join(kits, " "), fmt.Sprintf("%d kit results new, %d already there, %d unreadable", created, dup, bad))
				if bad > 0 {
					return &ExitError{Code: ExitUsage}
				}
				return nil
			}
			jobs, err := input.Collect(dirs)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			// Every job's inputs are uploaded one by one, as collectors upload
			// them: the fleet merges a host's inputs of each kind.
			for _, j := range jobs {
				if j.Err != nil {
					fmt.Fprintln(stderr, "kbplan:", j.Err)
					bad++
					continue
				}
				for _, p := range j.Paths {
					body, err := importBody(j, p)
					var res fleet.Ingested
					if err == nil {
						res, err = fl.IngestFrom(ctx, origin, p, body)
					}
					switch {
					case err != nil:
						bad++
						fmt.Fprintf(stderr, "kbplan: %s: %v\n", p, err)
					case res.Created:
						created++
						fmt.Fprintf(stdout, "%s\t%s\tsnapshot %d\n", p, res.Host, res.ID)
					default:
						dup++
						fmt.Fprintf(stdout, "%s\t%s\tsnapshot %d (already there)\n", p, res.Host, res.ID)
					}
				}
			}
			what := "snapshots"
			if len(kits) > 0 {
				what = "snapshots and kit results"
			}
			fmt.Fprintf(stderr, "kbplan: imported %d new %s, %d already there, %d unreadable, into %s\n", created, what, dup, bad, fl.Store.Where)
			fleet.LocalAudit(ctx, fl.Store, "import", strings.Join(append(dirs, kits...), " "), fmt.Sprintf("%d new, %d already there, %d unreadable", created, dup, bad))
			if bad > 0 {
				return &ExitError{Code: ExitUsage}
			}
			return nil
		},
	}
	sf.add(imp)
	imp.Flags().StringSliceVar(&groups, "group", nil, "put every imported host in this `GROUP` (repeatable)")

	cmd.AddCommand(imp, userCmd(stdin, stdout, stderr), tokenCmd(stdout, stderr), groupCmd(stdout, stderr))
	return cmd
}

// importBody is what an upload of p, one of j's paths, would carry: the
// file (opened as the job opens its paths: Job.Open),
// or a bundle folder packed as a zip (deterministic: sorted names, fixed
// times, so that importing a folder twice is one snapshot).
func importBody(j input.Job, p string) ([]byte, error) {
	f, st, err := j.Open(p)
	switch {
	case regular.IsDir(err):
		return importBundle(p)
	case err != nil:
		return nil, err
	}
	defer f.Close()
	if st.Size() > fleet.MaxUpload {
		return nil, fmt.Errorf("%d bytes, more than an upload may have (%d MiB)", st.Size(), fleet.MaxUpload>>20)
	}
	body, err := io.ReadAll(io.LimitReader(f, fleet.MaxUpload+1))
	if err == nil && len(body) > fleet.MaxUpload {
		err = fmt.Errorf("more than an upload may have (%d MiB): it grew while it was read", fleet.MaxUpload>>20)
	}
	return body, err
}

// importBundle packs a bundle folder's regular files (read through
// bundle.RegularFS: no link followed, no FIFO waited on) as a zip.
func importBundle(p string) ([]byte, error) {
	if !bundle.IsBundle(p) {
		return nil, fmt.Errorf("a folder that is not a collector bundle (no %s)", bundle.Manifest)
	}
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var total int64
	for _, n := range names {
		// Each file read only up to what the bundle may still hold: a
		// huge one fails without being read whole.
		f, err := bundle.RegularFS{Root: root}.Open(n)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, fleet.MaxUnpacked-total+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if total += int64(len(b)); total > fleet.MaxUnpacked {
			return nil, fmt.Errorf("bundle larger than %d MiB: not a collector bundle", fleet.MaxUnpacked>>20)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// kitFolders splits import's arguments: kit folders (an argument that is
// one, or the kit folders directly inside an argument) and the rest.
func kitFolders(args []string) (rest, kits []string) {
	for _, a := range args {
		if kit.IsKitFolder(a) {
			kits = append(kits, a)
			continue
		}
		entries, err := os.ReadDir(a)
		found := false
		if err == nil {
			for _, e := range entries {
				if p := filepath.Join(a, e.Name()); e.IsDir() && kit.IsKitFolder(p) {
					kits, found = append(kits, p), true
				}
			}
		}
		if !found {
			rest = append(rest, a)
		}
	}
	return rest, kits
}
