// Command gen rebuilds catalog/updates.csv from the curated sources in
// catalog/internal/gen/data (the sourced 2008 SP2 update table and MSRC's
// data as distilled by wesng; SOURCES.md there says where each file comes
// from and under which licence) plus catalog/manual.csv. It runs at development time
// only: the product embeds the generated file.
//
//	go generate ./catalog
package main

import (
	"compress/gzip"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kbplan/kbplan/catalog"
)

// header is the catalog's own column list, so that the two cannot drift.
var header = catalog.Columns

type row map[string]string

const (
	curatedSource = "catalog/internal/gen/data/ws2008sp2-updates.csv"
	msrcSource    = "MSRC data via bitsadmin/wesng definitions.zip CVEs_20260628.csv@026a581d55d653f6612d1374eb77b1db94778fde (catalog/internal/gen/data/wesng-cves-nt60.csv.gz): DatePosted, AffectedProduct, Supersedes"
	// Dates of the channel boundaries: MicrosoftDocs/lifecycle-data
	// windows-server-2008.yml (extendedEnd 2020-01-14, ESU year 3 end
	// 2023-01-10, ESU year 4 (Azure only) end 2024-01-09).
	extendedEnd = "2020-01-14"
	esuEnd      = "2023-01-10"
	azureEnd    = "2024-01-09"
	// KB4472027: updates released from July 2019 need SHA-2 code signing support.
	sha2From = "2019-07"
	// The March 2019 preview KB4489887 (2019-03-19) raised the build to 6003.
	build6003From = "2019-03-19"
)

var kbRe = regexp.MustCompile(`KB(\d{6,7})`)

func main() {
	data := flag.String("data", "internal/gen/data", "the folder of curated inputs")
	out := flag.String("out", "updates.csv", "output file")
	files := flag.String("files", "files.csv", "output file of the updates' package files")
	flag.Parse()
	rows := map[string]row{}
	for _, r := range readCSV(*data + "/ws2008sp2-updates.csv") {
		rows[r["kb"]] = fromShared(r)
	}
	msrc := readMSRC(*data + "/wesng-cves-nt60.csv.gz")
	addMSRC(rows, msrc)
	for _, r := range readCSV("manual.csv") {
		rows[r["kb"]] = r
	}
	uv := readTable(*data + "/updatevista.csv")
	addUpdateVista(rows, uv)
	wo := readTable(*data + "/wsusoffline-w60.csv")
	addWSUSOffline(rows, wo, uv)
	fixDates(rows, uv)
	// MSRC's own edges settle the dates first, so that the family chains
	// below link members in their real order; a second pass checks the
	// edges those chains add.
	orderDates(rows, msrc)
	chainSSUs(rows)
	chainESUPrep(rows)
	dotnetRollups(rows, msrc, dotnetSecurityOnly(wo))
	chainFamilies(rows)
	securityOnlyNotCumulative(rows)
	assignRoles(rows)
	addLatestSSU(rows)
	orderDates(rows, msrc)
	write(*out, rows)
	writeFiles(*files, rows, uv)
}

func readCSV(path string) []row {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	return readRows(f)
}

func readRows(r io.Reader) []row {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	var out []row
	for _, rec := range recs[1:] {
		m := row{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

var kinds = map[string]string{
	"rollup": "rollup", "security-only": "security-only", "preview": "preview-rollup", "ssu": "ssu",
	"sha2": "sha2", "esu-prep": "esu-prep", "tls": "standalone", "security (standalone)": "standalone",
	"standalone (WU scan prerequisite)": "standalone",
}

func yesNo(s string) string {
	switch {
	case strings.HasPrefix(s, "yes"):
		return "yes"
	case strings.HasPrefix(s, "no"):
		return "no"
	}
	return ""
}

func kbs(s string) []string {
	var out []string
	for _, m := range kbRe.FindAllStringSubmatch(s, -1) {
		if kb := "KB" + m[1]; !slices.Contains(out, kb) {
			out = append(out, kb)
		}
	}
	return out
}

func channel(released string) string {
	switch {
	case released == "" || released <= extendedEnd || len(released) == 7 && released <= extendedEnd[:7]:
		return "public"
	case released <= esuEnd:
		return "esu"
	case released <= azureEnd:
		return "azure-esu"
	}
	return "custom"
}

func monthly(kind string) bool {
	return kind == "rollup" || kind == "security-only" || kind == "preview-rollup"
}

func fromShared(s row) row {
	kind, ok := kinds[s["type"]]
	if !ok {
		log.Fatalf("%s: unknown type %q", s["kb"], s["type"])
	}
	r := row{"kb": s["kb"], "kind": kind, "title": s["title"], "released": s["released"],
		"reboot": yesNo(s["requires_reboot"]), "sha2_only": yesNo(s["sha2_only"]),
		"products": "server2008", "notes": s["notes"]}
	r["channel"] = channel(r["released"])
	if kind == "esu-prep" {
		r["channel"] = "public"
		r["notes"] = strings.TrimSpace(r["notes"] + "; channel public: the package prepares ESU key activation, so it cannot itself need the key")
	}
	if v := s["ntoskrnl_version"]; strings.HasPrefix(v, "6.0.600") {
		r["revision"] = v
	} else if v := s["build_revision"]; strings.Count(v, ".") == 3 && !strings.Contains(v, " ") {
		r["revision"] = v
	}
	switch {
	case r["revision"] != "":
		r["build"] = strings.Split(r["revision"], ".")[2]
	case monthly(kind) && r["released"] >= build6003From:
		r["build"] = "6003"
	case monthly(kind) && r["released"] != "" && r["released"] < "2019-03":
		r["build"] = "6002"
	}
	if s["kb"] == "KB4489887" {
		r["raises_build"] = "6003"
	}
	r["supersedes"] = strings.Join(kbs(s["supersedes"]), ";")
	r["prerequisites"] = strings.Join(kbs(s["prerequisites"]), ";")
	if strings.Contains(s["prerequisites"], "latest SSU") {
		r["prerequisites"] += ";latest-ssu"
	}
	src := s["source"]
	r["source"] = strings.TrimSpace(src + " | " + curatedSource)
	return r
}

type msrcKB struct {
	first    string
	title    string
	cves     map[string]bool
	products map[string]bool
	sup      map[string]bool
	comps    map[string]bool
	dates    map[string]bool
}

// family says whether an MSRC product is the SP2 family kbplan plans for,
// and whether it is Vista, IE or .NET.
func family(p string) (ok, vista bool, kind string) {
	sp2 := strings.Contains(p, "Service Pack 2")
	switch {
	case !sp2 || strings.Contains(p, "R2"):
		return false, false, ""
	case strings.HasPrefix(p, "Internet Explorer"):
		return true, strings.Contains(p, "Vista"), "ie"
	case strings.Contains(p, ".NET Framework"):
		return true, strings.Contains(p, "Vista"), "dotnet"
	case strings.HasPrefix(p, "Windows Server 2008"):
		return true, false, "standalone"
	case strings.HasPrefix(p, "Windows Vista"):
		return true, true, "standalone"
	}
	return false, false, ""
}

func readMSRC(path string) map[string]*msrcKB {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	cr := csv.NewReader(gz)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		log.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	out := map[string]*msrcKB{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		kbnum := rec[col["BulletinKB"]]
		prod := rec[col["AffectedProduct"]]
		if ok, _, _ := family(prod); !ok || kbnum == "" {
			continue
		}
		kb := "KB" + kbnum
		m := out[kb]
		if m == nil {
			m = &msrcKB{cves: map[string]bool{}, products: map[string]bool{}, sup: map[string]bool{}, comps: map[string]bool{}, dates: map[string]bool{}}
			out[kb] = m
		}
		d := rec[col["DatePosted"]]
		d = d[:4] + "-" + d[4:6] + "-" + d[6:8]
		if m.first == "" || d < m.first || d == m.first && rec[col["Title"]] < m.title {
			m.first, m.title = d, rec[col["Title"]]
		}
		m.cves[rec[col["CVE"]]] = true
		m.dates[d] = true
		m.products[prod] = true
		if c := rec[col["AffectedComponent"]]; c != "" {
			m.comps[c] = true
		}
		for _, s := range strings.FieldsFunc(rec[col["Supersedes"]], func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
			if s != "" && s != kbnum {
				m.sup["KB"+strings.TrimPrefix(s, "KB")] = true
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func archs(products map[string]bool) (string, bool) {
	var a []string
	vista := false
	add := func(s string) {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	for p := range products {
		_, v, _ := family(p)
		vista = vista || v
		switch {
		case strings.Contains(p, "x64"):
			add("x64")
		case strings.Contains(p, "Itanium"):
			add("ia64")
		default:
			add("x86")
		}
	}
	order := map[string]int{"x86": 0, "x64": 1, "ia64": 2}
	sort.Slice(a, func(i, j int) bool { return order[a[i]] < order[a[j]] })
	return strings.Join(a, ";"), vista
}

func addMSRC(rows map[string]row, msrc map[string]*msrcKB) {
	// Supersedence edges count only between updates of the SP2 family: MSRC
	// also names updates of other systems (KB4474419 "supersedes" the Windows
	// 7 update KB3212642, catalog/internal/gen/data/ws2008sp2-updates.md §5.7).
	known := func(kb string) bool {
		_, inMSRC := msrc[kb]
		_, inRows := rows[kb]
		return inMSRC || inRows
	}
	for _, m := range msrc {
		for s := range m.sup {
			if !known(s) {
				delete(m.sup, s)
			}
		}
	}
	for kb, m := range msrc {
		arch, vista := archs(m.products)
		products := "server2008"
		if vista {
			products = "server2008;vista"
			onlyVista := true
			for p := range m.products {
				if strings.Contains(p, "Server 2008") {
					onlyVista = false
				}
			}
			if onlyVista {
				products = "vista"
			}
		}
		if r, ok := rows[kb]; ok {
			// The curated row wins; MSRC adds architectures, Vista and
			// supersedence the curated row lacks.
			if r["architectures"] == "" {
				r["architectures"] = arch
			}
			if vista && r["products"] == "server2008" {
				r["products"] = products
			}
			sup := kbs(r["supersedes"])
			for _, s := range sortedKeys(m.sup) {
				if !slices.Contains(sup, s) && s != kb {
					sup = append(sup, s)
				}
			}
			r["supersedes"] = strings.Join(sup, ";")
			r["source"] += " | " + msrcSource
			continue
		}
		kind := "standalone"
		for p := range m.products {
			if _, _, k := family(p); k != "standalone" {
				kind = k
			}
		}
		title := "Security update: " + m.title
		if n := len(m.cves); n > 1 {
			title += fmt.Sprintf(" and %d more CVEs", n-1)
		}
		r := row{"kb": kb, "kind": kind, "title": title, "released": m.first, "channel": channel(m.first),
			"products": products, "architectures": arch, "supersedes": strings.Join(sortedKeys(m.sup), ";"),
			"components": components(m.products, m.comps), "family": familyOf(kind, m.title),
			"source": msrcSource,
			"notes": "title and date from MSRC (first DatePosted of the KB; the KB's own title is not in MSRC data); MSRC components: " +
				strings.Join(sortedKeys(m.comps), ", ")}
		if m.first >= sha2From {
			r["sha2_only"] = "yes"
			r["prerequisites"] = "KB4493730;KB4474419"
			r["notes"] += "; SHA-2 rule of KB4472027 (updates from July 2019)"
		}
		rows[kb] = r
	}
}

// orderDates fixes release dates of MSRC-only rows that would precede an
// update they supersede. MSRC's DatePosted values include dates of CVE
// revisions, so a KB's earliest one can be too early; the earliest date
// that is not before any superseded update is used instead. When no date
// fits, MSRC's edges contradict its own dates and the offending edges are
// dropped, with a note.
// msrcOnlyDate says whether a row's release date comes from MSRC alone
// (no curated date, no package folder month).
func msrcOnlyDate(r row) bool {
	return strings.HasPrefix(r["source"], "MSRC") && strings.Contains(r["notes"], "title and date from MSRC") && !strings.Contains(r["notes"], "released is")
}

func orderDates(rows map[string]row, msrc map[string]*msrcKB) {
	// In KB order: a date capped here moves the floor of others, so the
	// order must not be the map's (go generate must give the same file
	// every time).
	keys := make([]string, 0, len(rows))
	for kb := range rows {
		keys = append(keys, kb)
	}
	sort.Strings(keys)
	for pass := 0; pass < 5; pass++ {
		changed := false
		for _, kb := range keys {
			r := rows[kb]
			m, ok := msrc[kb]
			if !ok || !strings.HasPrefix(r["source"], "MSRC") {
				continue
			}
			floor := ""
			for _, s := range kbs(r["supersedes"]) {
				if o, ok := rows[s]; ok && o["released"] > floor {
					floor = o["released"]
				}
			}
			if floor == "" || r["released"] >= floor {
				continue
			}
			// An update cannot be replaced before it exists. When the
			// superseded update's date comes from MSRC alone, it is taken
			// as a revision date and capped at this KB's first posting,
			// which is likelier its release than any later DatePosted.
			capped := false
			for _, s := range kbs(r["supersedes"]) {
				if o, ok := rows[s]; ok && o["released"] > r["released"] && msrcOnlyDate(o) {
					redate(o, r["released"], "released is at most "+r["released"]+", the release of "+kb+" that supersedes it (MSRC); MSRC's DatePosted "+o["released"]+" is a revision date")
					capped = true
				}
			}
			if capped {
				changed = true
				continue
			}
			best := ""
			for _, d := range sortedKeys(m.dates) {
				if d >= floor {
					best = d
					break
				}
			}
			if best != "" {
				r["notes"] += "; released is the earliest MSRC DatePosted not before the updates it supersedes (the earliest, " + r["released"] + ", precedes them)"
				r["released"], r["channel"] = best, channel(best)
				changed = true
				continue
			}
			var keep, dropped []string
			for _, s := range kbs(r["supersedes"]) {
				o, ok := rows[s]
				switch {
				case ok && o["released"] > r["released"]:
					dropped = append(dropped, s)
				default:
					keep = append(keep, s)
				}
			}
			r["supersedes"] = strings.Join(keep, ";")
			if len(dropped) > 0 {
				r["notes"] += "; MSRC says it supersedes " + strings.Join(dropped, ", ") + ", released later than every date MSRC gives this KB: edge dropped"
			}
			changed = true
		}
		if !changed {
			return
		}
	}
}

// chainSSUs links every servicing stack update to the one before it: each
// later SSU supersedes the previous one (WSUS Offline ESR's servicing list
// names only the newest, KB5016129, for every w60 host:
// client/static/StaticUpdateIds-servicing-w60-sha2.txt@ab2dd33).
func chainSSUs(rows map[string]row) {
	chainKind(rows, "ssu", "by the rule that each SSU supersedes the previous one (WSUS Offline ESR servicing lists)")
}

// addLatestSSU resolves "latest SSU" in a prerequisite list to the newest
// SSU released on or before the update.
func addLatestSSU(rows map[string]row) {
	var ssus []row
	for _, r := range rows {
		if r["kind"] == "ssu" {
			ssus = append(ssus, r)
		}
	}
	sort.Slice(ssus, func(i, j int) bool { return ssus[i]["released"] < ssus[j]["released"] })
	for _, r := range rows {
		pre := strings.Split(r["prerequisites"], ";")
		i := slices.Index(pre, "latest-ssu")
		if i < 0 {
			continue
		}
		latest := ""
		for _, s := range ssus {
			if s["released"] <= r["released"] || len(s["released"]) == 7 && s["released"] < r["released"][:7] {
				latest = s["kb"]
			}
		}
		pre = slices.Delete(pre, i, i+1)
		if latest != "" && !slices.Contains(pre, latest) {
			pre = append(pre, latest)
			r["notes"] = strings.TrimSpace(r["notes"] + "; 'latest SSU' resolved to " + latest + ", the newest SSU released by then")
		}
		r["prerequisites"] = strings.Join(pre, ";")
	}
}

func write(path string, rows map[string]row) {
	var list []row
	for _, r := range rows {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i]["released"] != list[j]["released"] {
			return list[i]["released"] < list[j]["released"]
		}
		return list[i]["kb"] < list[j]["kb"]
	})
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	for _, r := range list {
		rec := make([]string, len(header))
		for i, h := range header {
			rec[i] = r[h]
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "gen: %d updates written to %s\n", len(list), path)
}
