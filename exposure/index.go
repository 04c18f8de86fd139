// Package exposure holds kbplan's CVE index for the Windows NT 6.0
// products: which CVEs Microsoft lists for Windows Server 2008 SP2 and Vista
// SP2, with severity, impact, known exploits, and the updates that fix
// them. The data is Microsoft's MSRC data as distilled by wesng (BSD-3,
// NOTICE-wesng.txt). The index is embedded and parsed only when exposure is
// asked for.
package exposure

//go:generate go run ./internal/gen -in ../catalog/internal/gen/data/wesng-cves-nt60.csv.gz -out cves.tsv.gz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/kbplan/kbplan/budget"
)

//go:embed cves.tsv.gz
var embedded []byte

// Product bits: the SP2-family products a fix or CVE applies to.
const (
	Server2008x86 uint8 = 1 << iota
	Server2008x64
	Server2008ia64
	VistaX86
	VistaX64
)

// ProductBit returns the bit of a product ("server2008", "vista") and
// architecture; an empty architecture means every architecture.
func ProductBit(product, arch string) uint8 {
	var bits uint8
	switch product {
	case "server2008":
		bits = Server2008x86 | Server2008x64 | Server2008ia64
	case "vista":
		bits = VistaX86 | VistaX64
	}
	switch arch {
	case "x86":
		return bits & (Server2008x86 | VistaX86)
	case "x64":
		return bits & (Server2008x64 | VistaX64)
	case "ia64":
		return bits & Server2008ia64
	}
	return bits
}

// Fix is one update MSRC lists as fixing a CVE.
type Fix struct {
	KB       string // "" when MSRC lists the CVE with no update
	Posted   string // YYYY-MM-DD, MSRC DatePosted
	Products uint8
}

// CVE is one vulnerability.
type CVE struct {
	ID       string
	Title    string
	Severity string // Critical, Important, Moderate, Low, or ""
	Impact   string // Remote Code Execution, Elevation of Privilege, ...
	Exploits int    // number of public exploit references MSRC/wesng list
	Exploit  string // the first of them
	Fixes    []Fix
}

// Index is the CVE index.
type Index struct {
	Name string
	CVEs []*CVE
}

// Fixes counts the (CVE, update) pairs.
func (x *Index) Fixes() int {
	n := 0
	for _, c := range x.CVEs {
		n += len(c.Fixes)
	}
	return n
}

var embeddedIndex = sync.OnceValues(func() (*Index, error) {
	return Read("embedded", bytes.NewReader(embedded))
})

// Default returns the embedded index, parsed on first use.
func Default() (*Index, error) { return embeddedIndex() }

// family reads an MSRC product name of the SP2 family.
// Components "on" a product (Internet Explorer 9 on ..., .NET Framework
// on ...) are left out: whether they are installed is not in an inventory.
func family(p string) uint8 {
	if !strings.Contains(p, "Service Pack 2") || strings.Contains(p, "R2") || strings.Contains(p, " on ") {
		return 0
	}
	switch {
	case strings.Contains(p, "Windows Server 2008 for 32-bit"):
		return Server2008x86
	case strings.Contains(p, "Windows Server 2008 for x64"):
		return Server2008x64
	case strings.Contains(p, "Windows Server 2008 for Itanium"):
		return Server2008ia64
	case strings.Contains(p, "Windows Vista x64"):
		return VistaX64
	case strings.Contains(p, "Windows Vista"):
		return VistaX86
	}
	return 0
}

// MaxRows bounds a wesng file; the full definitions hold about 600,000.
const MaxRows = 5_000_000

// FromWesng builds an index from wesng's CVE rows (CVEs_*.csv, with a
// header naming DatePosted, CVE, BulletinKB, Title, AffectedProduct,
// Severity, Impact, Exploits), plain or gzip-compressed. Rows for other
// products are skipped.
func FromWesng(name string, r io.Reader) (*Index, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	// Whatever the container claims, the table read is bounded, and so is
	// one record: csv would otherwise hold a field of any size in memory.
	rr := &recordLimit{r: budget.New(nil, "the CVE table", MaxDefinitions).Reader(br)}
	cr := csv.NewReader(rr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header row: %v; expected wesng's CVEs_*.csv", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	for _, need := range []string{"DatePosted", "CVE", "BulletinKB", "Title", "AffectedProduct", "Severity", "Impact", "Exploits"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s line 1: no %s column; expected wesng's CVEs_*.csv header", name, need)
		}
	}
	get := func(rec []string, k string) string {
		if i := col[k]; i < len(rec) {
			return rec[i]
		}
		return ""
	}
	byID := map[string]*CVE{}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s line %d: %v", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rr.n = 0
		if rows++; rows > MaxRows {
			return nil, fmt.Errorf("%s: more than %d rows; this is not a wesng definitions file", name, MaxRows)
		}
		bit := family(get(rec, "AffectedProduct"))
		if bit == 0 {
			continue
		}
		id := get(rec, "CVE")
		if !strings.HasPrefix(id, "CVE-") && !strings.HasPrefix(id, "ADV") {
			continue
		}
		c := byID[id]
		if c == nil {
			c = &CVE{ID: id, Title: get(rec, "Title"), Severity: get(rec, "Severity"), Impact: normImpact(get(rec, "Impact"))}
			byID[id] = c
		}
		if ex := strings.TrimSpace(get(rec, "Exploits")); ex != "" {
			urls := strings.Split(ex, ",")
			if len(urls) > c.Exploits {
				c.Exploits, c.Exploit = len(urls), strings.TrimSpace(urls[0])
			}
		}
		if rank(get(rec, "Severity")) > rank(c.Severity) {
			c.Severity = get(rec, "Severity")
		}
		kb := ""
		if n := strings.TrimSpace(get(rec, "BulletinKB")); n != "" {
			kb = "KB" + strings.TrimPrefix(n, "KB")
		}
		posted := get(rec, "DatePosted")
		if len(posted) == 8 {
			posted = posted[:4] + "-" + posted[4:6] + "-" + posted[6:]
		}
		found := false
		for i := range c.Fixes {
			if c.Fixes[i].KB == kb {
				c.Fixes[i].Products |= bit
				if posted < c.Fixes[i].Posted {
					c.Fixes[i].Posted = posted
				}
				found = true
				break
			}
		}
		if !found {
			c.Fixes = append(c.Fixes, Fix{KB: kb, Posted: posted, Products: bit})
		}
	}
	idx := &Index{Name: name}
	for _, c := range byID {
		sort.Slice(c.Fixes, func(i, j int) bool { return c.Fixes[i].KB < c.Fixes[j].KB })
		idx.CVEs = append(idx.CVEs, c)
	}
	idx.sortWorstFirst()
	return idx, nil
}

// sortWorstFirst orders CVEs by severity, then by number of public
// exploits, then by id, newest first: the order kbplan shows them in.
func (x *Index) sortWorstFirst() {
	sort.SliceStable(x.CVEs, func(i, j int) bool {
		a, b := x.CVEs[i], x.CVEs[j]
		if ra, rb := rank(a.Severity), rank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Exploits != b.Exploits {
			return a.Exploits > b.Exploits
		}
		return a.ID > b.ID
	})
}

func normImpact(s string) string {
	if strings.EqualFold(s, "Remote code execution") {
		return "Remote Code Execution"
	}
	return s
}

// rank orders severities, most severe highest.
func rank(s string) int {
	switch s {
	case "Critical":
		return 4
	case "Important":
		return 3
	case "Moderate":
		return 2
	case "Low":
		return 1
	}
	return 0
}

// Rank orders severities, most severe highest.
func Rank(s string) int { return rank(s) }

// Write stores the index, worst CVE first, in kbplan's compact form: gzip-compressed lines of
// "C id severity impact exploits first-exploit title" followed by one
// "F kb posted products" line per fix.
func (x *Index) Write(w io.Writer) error {
	x.sortWorstFirst()
	gz := gzip.NewWriter(w)
	bw := bufio.NewWriter(gz)
	fmt.Fprintln(bw, "# kbplan CVE index for Windows Server 2008 SP2 and Vista SP2; data: Microsoft MSRC via wesng (BSD-3, NOTICE-wesng.txt)")
	for _, c := range x.CVEs {
		fmt.Fprintf(bw, "C\t%s\t%s\t%s\t%d\t%s\t%s\n", clean(c.ID), clean(c.Severity), clean(c.Impact), c.Exploits, clean(c.Exploit), clean(c.Title))
		for _, f := range c.Fixes {
			fmt.Fprintf(bw, "F\t%s\t%s\t%d\n", clean(f.KB), clean(f.Posted), f.Products)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return gz.Close()
}

var cleaner = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

// clean keeps a field on one line and in one column.
func clean(s string) string { return cleaner.Replace(s) }

// MaxIndex bounds the uncompressed size of an index file.
const MaxIndex = 256 << 20

// Read loads an index written by Write.
func Read(name string, r io.Reader) (*Index, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("CVE index %s: %v; expected a file written by kbplan catalog import", name, err)
	}
	defer gz.Close()
	sc := bufio.NewScanner(io.LimitReader(gz, MaxIndex))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	x := &Index{Name: name}
	var cur *CVE
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Split(t, "\t")
		bad := func(want string) error {
			return fmt.Errorf("CVE index %s line %d: expected %s", name, line, want)
		}
		switch {
		case f[0] == "C" && len(f) == 7:
			n, err := strconv.Atoi(f[4])
			if err != nil || n < 0 {
				return nil, bad("an exploit count")
			}
			cur = &CVE{ID: f[1], Severity: f[2], Impact: f[3], Exploits: n, Exploit: f[5], Title: f[6]}
			x.CVEs = append(x.CVEs, cur)
		case f[0] == "F" && len(f) == 4 && cur != nil:
			p, err := strconv.Atoi(f[3])
			if err != nil || p < 0 || p > 255 {
				return nil, bad("a product mask 0-255")
			}
			cur.Fixes = append(cur.Fixes, Fix{KB: f[1], Posted: f[2], Products: uint8(p)})
		default:
			return nil, bad(`"C" (CVE) or "F" (fix) fields`)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("CVE index %s line %d: %w", name, line+1, err)
	}
	x.sortWorstFirst()
	return x, nil
}

// MaxRecord bounds one row of a CVE table; wesng's are under 2 KiB.
const MaxRecord = 1 << 20

// recordLimit fails a read once more than MaxRecord bytes passed since the
// last record (n is reset after each).
type recordLimit struct {
	r io.Reader
	n int
}

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.n > MaxRecord {
		return 0, fmt.Errorf("a row of more than %d KiB: not a wesng CVE table", MaxRecord>>10)
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}
