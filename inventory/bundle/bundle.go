// Package bundle reads the folder kbplan's collectors write (format:
// docs/bundle.md): the usual inventories (ver, systeminfo, wmic, reg query)
// plus the facts only a collector records: pending restart, SHA-2 support
// state, servicing stack version, CBS packages, file versions, ESU licence
// state, IE and .NET versions. One bundle is one host.
package bundle

import (
	_ "embed"
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

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/internal/regular"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/detect"
	"github.com/kbplan/kbplan/winver"
)

// Manifest is the file that marks a folder as a bundle.
const Manifest = "kbplan-bundle.txt"

// Version is the bundle format version this kbplan reads.
const Version = 1

//go:embed esu-ids.tsv
var esuIDs string

// esuYears maps each ESU activation ID to its year, parsed once.
var esuYears = sync.OnceValue(func() map[string]int {
	years := map[string]int{}
	for _, row := range strings.Split(esuIDs, "\n") {
		if y, id, ok := strings.Cut(strings.TrimSpace(row), "\t"); ok && !strings.HasPrefix(row, "#") {
			n, _ := strconv.Atoi(y)
			years[id] = n
		}
	}
	return years
})

// IsBundle reports whether dir is a collector bundle.
func IsBundle(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, Manifest))
	return err == nil && st.Mode().IsRegular()
}

// inventories are the bundle files that are ordinary inventories, read by
// package detect, in merge order (the richest first).
var inventories = []string{"systeminfo.csv", "wmic-os.txt", "reg-currentversion.txt", "wmic-qfe.txt", "ver.txt"}

// Files are every file of bundle format 1 besides the manifest: the
// inventories, then the collector-only facts (docs/bundle.md).
var Files = append(slices.Clone(inventories), "reg-sha2.txt", "reg-ie.txt", "reg-dotnet.txt", "reg-uninstall.txt", "roles.txt",
	"servicing-version.txt", "servicing-packages.txt", "pending.txt",
	"file-ntoskrnl.txt", "file-wuaueng.txt", "file-mshtml.txt", "file-srv.txt", "esu.txt")

// maxFact bounds a fact file (real ones are a few KiB, a CBS package list
// some hundred KiB) and maxInventory an inventory file.
const (
	maxFact      = 4 << 20
	maxInventory = 64 << 20
)

// Read reads a bundle folder into one host.
func Read(dir string) (inventory.Host, error) { return ReadSeen(dir, nil) }

// ReadSeen is Read of a folder already looked at (seen, as the caller's
// stat or open found it): the folder opened must be that one, not one put
// in its place since (a link swapped in for a folder of a listing).
func ReadSeen(dir string, seen fs.FileInfo) (inventory.Host, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return inventory.Host{}, err
	}
	defer root.Close()
	if seen != nil {
		if st, err := root.Stat("."); err != nil || !os.SameFile(st, seen) {
			return inventory.Host{}, fmt.Errorf("%s: the folder changed while it was read (replaced, or by a link): read it again", dir)
		}
	}
	return ReadFS(RegularFS{root}, dir)
}

// RegularFS opens only regular files of a folder: a symbolic link is not
// followed (it could point anywhere), a FIFO not opened (it would block),
// and nothing leaves the folder (os.Root). Every folder kbplan reads
// files from by name (a bundle, a kit brought back) reads through it.
type RegularFS struct{ Root *os.Root }

func (r RegularFS) Open(name string) (fs.File, error) {
	f, _, err := regular.OpenIn(r.Root, name)
	if err != nil {
		var re *regular.Error
		if errors.As(err, &re) {
			what := "a symbolic link: not followed"
			if re.Mode&fs.ModeSymlink == 0 {
				what = "not a regular file (" + re.Mode.Type().String() + "): not read"
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New(what)}
		}
		return nil, err
	}
	return f, nil
}

// ReadFS reads a bundle from fsys (a folder, or an unpacked upload); dir is
// the name messages and the host's source use.
func ReadFS(fsys fs.FS, dir string) (inventory.Host, error) {
	man, err := readText(fsys, Manifest, filepath.Join(dir, Manifest))
	if err != nil {
		return inventory.Host{}, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(man), "\n")
	var v int
	if _, err := fmt.Sscanf(strings.TrimSpace(first), "kbplan-bundle %d", &v); err != nil {
		return inventory.Host{}, fmt.Errorf("%s line 1: %q is not \"kbplan-bundle N\"; write the bundle with kbplan's collector", filepath.Join(dir, Manifest), strings.TrimSpace(first))
	}
	if v > Version {
		return inventory.Host{}, fmt.Errorf("%s: bundle format %d is newer than this kbplan reads (%d); update kbplan", filepath.Join(dir, Manifest), v, Version)
	}
	var hosts []inventory.Host
	var notes []string
	for _, name := range inventories {
		p := filepath.Join(dir, name)
		f, err := fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			notes = append(notes, name+": missing")
			continue
		}
		if err != nil {
			notes = append(notes, name+": "+err.Error())
			continue
		}
		if st, err := f.Stat(); err == nil && st.Size() > maxInventory {
			f.Close()
			notes = append(notes, fmt.Sprintf("%s: %d bytes, more than the %d a real one can be: not read; collect it again", name, st.Size(), maxInventory))
			continue
		}
		h, err := detect.Read(p, io.LimitReader(f, maxInventory))
		f.Close()
		if err != nil {
			// A tool that failed or is a stub (Wine's systeminfo) leaves an
			// empty or error file: the other inputs still count.
			notes = append(notes, name+": not readable ("+firstLine(err.Error())+")")
			continue
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return inventory.Host{}, fmt.Errorf("%s: bundle holds no readable inventory (%s)", dir, strings.Join(notes, "; "))
	}
	h := inventory.Merge(hosts...)
	h.Source, h.Format = dir, "kbplan-bundle"
	for _, n := range notes {
		h.Warnf("bundle %s", n)
	}
	facts(fsys, dir, &h)
	h.Finish()
	return h, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// readText reads a small file in any encoding kbplan detects.
func readText(fsys fs.FS, name, path string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: %w; check the path", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxFact {
		return "", fmt.Errorf("%s: %d bytes, more than the %d a real one can be: not read; collect it again", path, st.Size(), maxFact)
	}
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	enc, bom := inventory.DetectEncoding(head)
	r := io.MultiReader(strings.NewReader(string(head[bom:])), io.LimitReader(f, maxFact))
	var b strings.Builder
	lines := inventory.NewLines(inventory.Decoder(r, enc))
	for {
		l, ok := lines.Next()
		if !ok {
			break
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String(), lines.Err()
}

var (
	dwordRe = lazyre.New(`(?m)^\s+(SHA2-(?:Core-)?Codesigning-Support)\s+REG_DWORD\s+0x([0-9a-fA-F]+)`)
	// Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.1.0.mum: name,
	// public key token, architecture, language (empty), version.
	packageRe = lazyre.New(`(?i)Package_(?:\d+_)?for_KB(\d{4,8})~(?:[0-9a-f]*~[a-z0-9]*~[a-z-]*~(\d+(?:\.\d+){3})\b)?`)
	versionRe = lazyre.New(`(?m)Version=(\d+\.\d+\.\d+\.\d+)`)
	ieRe      = lazyre.New(`(?m)^\s+(svcVersion|Version)\s+REG_SZ\s+(\S+)`)
	netRe     = lazyre.New(`(?m)^\s+Version\s+REG_SZ\s+(\d+\.\d+\S*)`)
	// servermanagercmd -query: "[X] Web Server (IIS)  [Web-Server]",
	// indented for role services; the command IDs are not translated.
	roleRe    = lazyre.New(`(?m)^\s*\[X\]\s+(\S.*?)\s+\[([A-Za-z0-9-]+)\]\s*$`)
	programRe = lazyre.New(`(?m)^\s+DisplayName\s+REG_SZ\s+(\S.*?)\s*$`)
	pendRe    = lazyre.New(`(?m)^(\w+)=(present|absent)\s*$`)
	esuRe     = lazyre.New(`(?m)^esu-year\d+\s+([0-9a-f-]{36})\s+LicenseStatus=(\S+)`)
	folderRe  = lazyre.New(`(?m)^(\d+\.\d+\.\d+\.\d+)\s*$`)
)

// facts reads the collector-only files into h.Facts.
func facts(fsys fs.FS, dir string, h *inventory.Host) {
	f := &inventory.Facts{Files: map[string]string{}}
	read := func(name string) (string, bool) {
		s, err := readText(fsys, name, filepath.Join(dir, name))
		switch {
		case err == nil:
			return s, true
		case !errors.Is(err, fs.ErrNotExist):
			h.Warnf("bundle %s", err)
		}
		return "", false
	}
	if s, ok := read("pending.txt"); ok {
		for _, m := range pendRe.FindAllStringSubmatch(s, -1) {
			f.PendingKnown = true
			if m[2] == "present" {
				f.PendingReboot = append(f.PendingReboot, m[1])
			}
		}
	}
	if s, ok := read("reg-sha2.txt"); ok {
		vals := map[string]bool{}
		for _, m := range dwordRe.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.ParseUint(m[2], 16, 32)
			vals[m[1]] = n > 0
		}
		active := vals["SHA2-Codesigning-Support"] && vals["SHA2-Core-Codesigning-Support"]
		f.SHA2Active = &active
	}
	if s, ok := read("servicing-version.txt"); ok {
		best := winver.Version{}
		for _, m := range folderRe.FindAllStringSubmatch(s, -1) {
			if v, err := winver.Parse(m[1]); err == nil && v.Compare(best) > 0 {
				best, f.ServicingStack = v, m[1]
			}
		}
	}
	if s, ok := read("servicing-packages.txt"); ok {
		for _, m := range packageRe.FindAllStringSubmatch(s, -1) {
			kb, ok := inventory.NormalizeKB(m[1])
			if !ok {
				continue
			}
			if !slices.Contains(f.CBSPackages, kb) {
				f.CBSPackages = append(f.CBSPackages, kb)
				h.AddHotfix(kb)
			}
			if v, err := winver.Parse(m[2]); err == nil {
				if old, err := winver.Parse(f.CBSVersions[kb]); err != nil || v.Compare(old) > 0 {
					if f.CBSVersions == nil {
						f.CBSVersions = map[string]string{}
					}
					f.CBSVersions[kb] = m[2]
				}
			}
		}
	}
	for file, name := range map[string]string{"file-ntoskrnl.txt": "ntoskrnl.exe", "file-wuaueng.txt": "wuaueng.dll",
		"file-mshtml.txt": "mshtml.dll", "file-srv.txt": "srv.sys"} {
		if s, ok := read(file); ok {
			if m := versionRe.FindStringSubmatch(s); m != nil {
				f.Files[name] = m[1]
			}
		}
	}
	if s, ok := read("esu.txt"); ok {
		years := esuYears()
		for _, m := range esuRe.FindAllStringSubmatch(s, -1) {
			if m[2] == "unknown" {
				continue
			}
			f.ESUKnown = true
			if m[2] == "1" {
				if y := years[m[1]]; y > 0 {
					f.ESULicensed = append(f.ESULicensed, y)
				}
			}
		}
	}
	if s, ok := read("reg-ie.txt"); ok {
		for _, m := range ieRe.FindAllStringSubmatch(s, -1) {
			if m[1] == "svcVersion" || f.IEVersion == "" {
				f.IEVersion = m[2]
			}
		}
	}
	if s, ok := read("reg-dotnet.txt"); ok {
		for _, m := range netRe.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(f.DotNet, m[1]) {
				f.DotNet = append(f.DotNet, m[1])
			}
		}
		slices.Sort(f.DotNet)
	}
	if s, ok := read("reg-uninstall.txt"); ok {
		for _, m := range programRe.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(f.Programs, m[1]) && len(f.Programs) < inventory.MaxRecords {
				f.Programs = append(f.Programs, m[1])
			}
		}
		slices.Sort(f.Programs)
	}
	if s, ok := read("roles.txt"); ok {
		for _, m := range roleRe.FindAllStringSubmatch(s, -1) {
			f.RolesKnown = true
			if r := m[1] + " [" + m[2] + "]"; !slices.Contains(f.Roles, r) && len(f.Roles) < inventory.MaxRecords {
				f.Roles = append(f.Roles, r)
			}
		}
		// An empty list still counts when servermanagercmd ran: it prints
		// its section headers with nothing marked.
		f.RolesKnown = f.RolesKnown || strings.Contains(s, "[ ]")
		slices.Sort(f.Roles)
	}
	kernel(f, h)
	h.Facts = f
}

// kernel takes the true revision from ntoskrnl.exe (NT 6.0 has no UBR, and
// the registry's BuildLabEx can lag behind a pending restart).
func kernel(f *inventory.Facts, h *inventory.Host) {
	kv, ok := f.Files["ntoskrnl.exe"]
	if !ok {
		return
	}
	v, err := winver.Parse(kv)
	if err != nil || h.OS.Version == nil {
		return
	}
	cur := *h.OS.Version
	switch {
	case cur.Major != v.Major || cur.Minor != v.Minor:
		h.Disagreef("ntoskrnl.exe is %s but the OS reports %s: the inputs come from different systems", kv, cur.Short())
	case cur.Build != v.Build:
		h.Disagreef("ntoskrnl.exe is %s but the registry and systeminfo say build %d: a restart is pending after an update that changed the kernel", kv, cur.Build)
	case cur.HasRevision() && cur.Revision != v.Revision:
		if cur.Revision > v.Revision {
			h.Disagreef("ntoskrnl.exe is %s but BuildLabEx says revision %d: an installed update has rewritten the registry but its kernel takes over only at the next restart (a restart is pending, or the install failed); kbplan uses the kernel's revision", kv, cur.Revision)
		} else {
			h.Disagreef("ntoskrnl.exe is %s but BuildLabEx says revision %d: the registry lags behind the kernel (the last update did not rewrite BuildLabEx); kbplan uses the kernel's revision", kv, cur.Revision)
		}
		cur.Revision = v.Revision
		h.SetVersion(cur)
	default:
		cur.Revision = v.Revision
		h.SetVersion(cur)
	}
}
