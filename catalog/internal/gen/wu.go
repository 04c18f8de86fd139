package main

// The Windows-Update-derived sources: updateVista's file lists and WSUS
// Offline ESR's static lists (data/SOURCES.md). They add what MSRC lacks:
// the non-MSRC updates every host needs, the servicing stack and ESU
// preparation packages of the later years, and "replaced by" facts taken
// from Windows Update.

import (
	"encoding/csv"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
)

const (
	uvSource   = "github:tester9071348/updateVista@71841b6 (catalog/internal/gen/data/updatevista.csv)"
	wsouSource = "github:LizenzFass78851/wsusoffline-release-esr@ab2dd33 (catalog/internal/gen/data/wsusoffline-w60.csv)"
)

type uvFile map[string]string

func readTable(path string) []map[string]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

var (
	replacedByRe = regexp.MustCompile(`(?i)\(Replaced-by-(KB\d+)\)`)
	supersedesRe = regexp.MustCompile(`(?i)\((?:Superseeds|Supersedes|Replaces)-([^()]*)\)`)
)

// wuKinds says which updateVista lines become catalog rows when MSRC lacks
// them: security updates, servicing stacks, ESU preparation packages and
// the .NET 2.0/3.0 rollups. Feature and reliability updates (Platform
// Update, PowerShell 2.0, Media Center ...) are not security fixes and stay
// out of the plan.
func wuKind(f uvFile) (kind string, comps string, ok bool) {
	n := strings.ToLower(f["name"])
	switch {
	case strings.Contains(n, "servicing-stack-update"):
		return "ssu", "", true
	case strings.Contains(n, "preparation-package"):
		return "esu-prep", "", true
	case strings.Contains(n, "rollup-for-.net2.0"):
		return "dotnet", "dotnet20", true
	case strings.Contains(n, "cumulative-security-update-for-ie9"):
		return "ie", "ie9", true
	case strings.Contains(n, "security-update-for-net2.0"):
		return "dotnet", "dotnet20", true
	case strings.Contains(n, "security-update"):
		return "standalone", "", true
	}
	return "", "", false
}

func wuTitle(f uvFile) string {
	n := f["name"]
	n = regexp.MustCompile(`(?i)^(?:ie\d+-)?windows6\.0-kb\d+(?:-v\d+)?-(?:x86|x64|ia64)-`).ReplaceAllString(n, "")
	n = strings.TrimSuffix(strings.TrimSuffix(n, ".msu"), ".cab")
	n = regexp.MustCompile(`-?\[[^\]]*\]`).ReplaceAllString(n, "")
	n = regexp.MustCompile(`-?\((?:Replaced|Superseeds|Supersedes|Replaces|Requires)[^()]*\)`).ReplaceAllString(n, "")
	n = strings.ReplaceAll(n, "-", " ")
	n = strings.ReplaceAll(n, "WS2008", "Windows Server 2008")
	n = strings.ReplaceAll(n, "Windows6.0", "Windows Server 2008 and Vista")
	return strings.TrimSpace(n)
}

// addUpdateVista adds the rows MSRC lacks and the supersedence facts the
// lists carry.
func addUpdateVista(rows map[string]row, files []map[string]string) {
	byKB := map[string][]uvFile{}
	for _, f := range files {
		byKB[f["kb"]] = append(byKB[f["kb"]], f)
	}
	var kbList []string
	for kb := range byKB {
		kbList = append(kbList, kb)
	}
	sort.Strings(kbList)
	for _, kb := range kbList {
		fs := byKB[kb]
		f := fs[0]
		lines := make([]string, 0, len(fs))
		var archs []string
		for _, x := range fs {
			lines = append(lines, x["line"])
			if !slices.Contains(archs, x["arch"]) {
				archs = append(archs, x["arch"])
			}
		}
		sort.Strings(archs)
		src := uvSource + " " + strings.Join(lines, ", ")
		r, known := rows[kb]
		if !known {
			kind, comps, ok := wuKind(f)
			if !ok || f["folder"] == "" {
				continue
			}
			r = row{"kb": kb, "kind": kind, "title": wuTitle(f), "released": f["folder"], "channel": channel(f["folder"]),
				"products": "server2008;vista", "architectures": strings.Join(archs, ";"), "components": comps, "source": src,
				"notes": "from updateVista's list: released is the month of the package's download folder (" + f["folder"] + "); title from the list's description"}
			if kind == "esu-prep" {
				r["channel"] = "public"
				r["products"] = "server2008"
			}
			if kind == "ssu" {
				r["products"] = "server2008"
			}
			if f["folder"] >= sha2From {
				r["sha2_only"] = "yes"
				r["prerequisites"] = "KB4493730;KB4474419"
			}
			rows[kb] = r
		} else if !strings.Contains(r["source"], uvSource) {
			r["source"] += " | " + src
			// MSRC-only rows carry a bulletin title; the list's description
			// names the package itself.
			if strings.HasPrefix(r["title"], "Security update: ") {
				r["notes"] = note(r["notes"], "MSRC bulletin title: "+strings.TrimPrefix(r["title"], "Security update: "))
				r["title"] = wuTitle(f)
			}
		}
		if f["active"] == "no" {
			r["notes"] = note(r["notes"], "updateVista lists it commented out (not installed by its Full list)")
		}
		// "Replaced-by-KBx": x supersedes this update in Windows Update.
		for _, m := range replacedByRe.FindAllStringSubmatch(f["name"], -1) {
			by := strings.ToUpper(m[1])
			if o, ok := rows[by]; ok && by != kb {
				addEdge(o, kb, "updateVista: "+kb+" replaced by "+by+" ("+f["line"]+")")
			}
		}
		for _, m := range supersedesRe.FindAllStringSubmatch(f["name"], -1) {
			for _, old := range kbs(strings.ToUpper(m[1])) {
				if old != kb {
					addEdge(r, old, "updateVista: "+kb+" supersedes "+old+" ("+f["line"]+")")
				}
			}
		}
	}
}

// addEdge makes r supersede old, noting the source.
func addEdge(r row, old, why string) {
	sup := kbs(r["supersedes"])
	if slices.Contains(sup, old) {
		r["notes"] = note(r["notes"], "also "+why)
		return
	}
	r["supersedes"] = strings.Join(append(sup, old), ";")
	r["notes"] = note(r["notes"], why)
}

func note(notes, s string) string {
	if notes == "" {
		return s
	}
	return notes + "; " + s
}

// wsouRows are the WSUS Offline static updates MSRC does not list, with the
// facts the row needs beyond the list's own title (updateVista's file gives
// the month and architectures).
var wsouRows = map[string]string{
	"KB2506014": "x64", // StaticUpdateIds-w60-x64.txt: the OS loader update, x64 only
	"KB4019478": "x86;x64",
}

// addWSUSOffline adds WSUS Offline's static w60 updates MSRC lacks and marks
// the ones it installs on every host.
func addWSUSOffline(rows map[string]row, lists []map[string]string, uv []map[string]string) {
	month := map[string]string{}
	for _, f := range uv {
		if month[f["kb"]] == "" {
			month[f["kb"]] = f["folder"]
		}
	}
	for _, l := range lists {
		kb := l["kb"]
		src := fmt.Sprintf("%s %s line %s", wsouSource, l["list"], l["line"])
		r, ok := rows[kb]
		if !ok {
			arch, known := wsouRows[kb]
			if !known || month[kb] == "" {
				continue
			}
			r = row{"kb": kb, "kind": "standalone", "title": l["title"], "released": month[kb], "channel": channel(month[kb]),
				"products": "server2008;vista", "architectures": arch, "source": src,
				"notes": "WSUS Offline installs it on every w60 host; released is the month of its download folder in updateVista's list"}
			rows[kb] = r
			continue
		}
		if !strings.Contains(r["source"], src) {
			r["source"] += " | " + src
		}
	}
}

// fixDates takes an update's month from its package's download folder when
// its MSRC date is far later: more than two months for an SSU (MSRC dates
// SSUs by its ADV990001 advisory revisions), more than a year for others
// (a package folder can be months older than the release, e.g. KB2862330:
// folder 2013-07, MS13-081 2013-10-08): MSRC's DatePosted can be an advisory or CVE
// revision (KB5039341: MSRC 2024-09-11, package folder secu/2024/06;
// KB4039038: MSRC 2019-12-04, package folder 2017/08). Only MSRC-derived
// dates move; both are kept in the notes.
func fixDates(rows map[string]row, uv []map[string]string) {
	folder := map[string]string{}
	for _, f := range uv {
		if f["folder"] != "" && (folder[f["kb"]] == "" || f["folder"] < folder[f["kb"]]) {
			folder[f["kb"]] = f["folder"]
		}
	}
	for kb, r := range rows {
		d := folder[kb]
		fromMSRC := r["kind"] == "ssu" || strings.HasPrefix(r["source"], "MSRC")
		gap := 12
		if r["kind"] == "ssu" {
			gap = 2
		}
		if !fromMSRC || d == "" || r["released"] == "" || months(d, r["released"][:7]) <= gap {
			continue
		}
		redate(r, d, "MSRC dates it "+r["released"]+" (a revision date); its package folder is "+d+", which is used")
	}
}

// redate moves a row's release date to d, saying why; an update that moves
// before July 2019 no longer falls under the SHA-2 rule.
func redate(r row, d, why string) {
	r["notes"] = note(r["notes"], why)
	r["released"], r["channel"] = d, channel(d)
	if d < sha2From && strings.Contains(r["notes"], "SHA-2 rule of KB4472027") {
		r["sha2_only"], r["prerequisites"] = "", ""
		r["notes"] = note(r["notes"], "released before July 2019, so the SHA-2 rule does not apply")
	}
}

// chainESUPrep makes each ESU Licensing Preparation Package supersede the
// one before it: a public ESU guide lists only the newest, KB5016891, as
// the Server 2008 SP2 ESU prerequisite (after KB4493730, KB4474419 and a
// restart), and updateVista installs KB5016891 with KB4575904 commented out.
// Which ESU years each package enables has no source here: the planner uses
// the newest one released by the analysis date.
func chainESUPrep(rows map[string]row) {
	chainKind(rows, "esu-prep", "each ESU Licensing Preparation Package replaces the previous one (public ESU prerequisite guide, search-index file id 4609562590, lists only KB5016891 for Server 2008 SP2; updateVista installs only KB5016891)")
}

// chainKind makes each row of a kind supersede the one released before it.
func chainKind(rows map[string]row, kind, why string) {
	var list []row
	for _, r := range rows {
		if r["kind"] == kind {
			list = append(list, r)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i]["released"] != list[j]["released"] {
			return list[i]["released"] < list[j]["released"]
		}
		return list[i]["kb"] < list[j]["kb"]
	})
	for i := 1; i < len(list); i++ {
		addEdge(list[i], list[i-1]["kb"], "supersedes "+list[i-1]["kb"]+" "+why)
	}
}

// securityOnlyNotCumulative drops supersedence between security-only
// updates: they are not cumulative, every month's is needed
// (MicrosoftDocs windows-itpro-docs windows/deployment/update/waas-servicing-differences.md).
// MSRC records such edges (KB4489876 "supersedes" KB4487019).
func securityOnlyNotCumulative(rows map[string]row) {
	for _, r := range rows {
		if r["kind"] != "security-only" {
			continue
		}
		var keep, dropped []string
		for _, s := range kbs(r["supersedes"]) {
			if o, ok := rows[s]; ok && o["kind"] == "security-only" {
				dropped = append(dropped, s)
			} else {
				keep = append(keep, s)
			}
		}
		if len(dropped) > 0 {
			r["supersedes"] = strings.Join(keep, ";")
			r["notes"] = note(r["notes"], "MSRC says it supersedes the security-only update(s) "+strings.Join(dropped, ", ")+"; security-only updates are not cumulative (waas-servicing-differences.md), so the edge is dropped")
		}
	}
}

// roles are the parts a few updates play in every plan (catalog/roles.go),
// each with its source.
var roles = map[string][2]string{
	"KB936330":  {"vista-sp1", "Vista SP1 comes before SP2 on a Vista without a service pack (Microsoft, SP2 requires SP1)"},
	"KB948465":  {"sp2", "Service Pack 2 for Server 2008 and Vista: every later update needs it"},
	"KB4493730": {"ssu-before-sha2", "the April 2019 SSU installs before SHA-2 support (WSUS Offline ESR StaticUpdateIds-servicing-w60.txt and ExcludeList-superseded-exclude.txt keep it although later SSUs supersede it)"},
	"KB4474419": {"sha2-support", "SHA-2 code signing support (Microsoft KB4472027: updates from July 2019 need it; restart after it)"},
}

func assignRoles(rows map[string]row) {
	var kbList []string
	for kb := range roles {
		kbList = append(kbList, kb)
	}
	sort.Strings(kbList)
	for _, kb := range kbList {
		r, ok := rows[kb]
		if !ok {
			log.Fatalf("role %s: %s is not in the catalog", roles[kb][0], kb)
		}
		r["roles"] = roles[kb][0]
		r["notes"] = note(r["notes"], "role "+roles[kb][0]+": "+roles[kb][1])
	}
}

// chainFamilies links the members of each cumulative family: for every
// component a member serves, it supersedes the newest older member serving
// that component (an IE cumulative update carries every earlier IE fix for
// the IE versions it serves; WSUS Offline ESR's wupre list and updateVista
// install only the newest one, KB4525106 and KB5034120/KB5040426).
// Whether the newer member applies to a host (IE 9 only, or IE 7 too) is
// the planner's question; the edges only say what replaces what.
func chainFamilies(rows map[string]row) {
	// Curated rows carry no components: an IE cumulative update from
	// February 2016 on is for IE 9 only on Server 2008 SP2 (Microsoft's IE
	// support policy from January 2016; WSUS Offline names KB4525106's
	// package ie9-windows6.0-kb4525106 in ExcludeList-superseded-exclude.txt).
	for _, r := range rows {
		if strings.Contains(strings.ToLower(r["title"]), "cumulative security update for internet explorer") && r["family"] == "" {
			r["family"] = "ie-cumulative"
			if r["components"] == "" && r["released"] >= "2016-02" {
				r["components"] = "ie9"
				r["notes"] = note(r["notes"], "for IE 9 only: Server 2008 SP2's IE cumulative updates from February 2016 are IE 9 packages (WSUS Offline ExcludeList-superseded-exclude.txt names ie9-windows6.0-kb4525106)")
			}
		}
	}
	byFam := map[string][]row{}
	for _, r := range rows {
		if r["family"] != "" && r["released"] != "" {
			byFam[r["family"]] = append(byFam[r["family"]], r)
		}
	}
	for fam, ms := range byFam {
		sort.Slice(ms, func(i, j int) bool {
			if ms[i]["released"] != ms[j]["released"] {
				return ms[i]["released"] < ms[j]["released"]
			}
			return ms[i]["kb"] < ms[j]["kb"]
		})
		last := map[string]string{} // component -> newest member so far
		for _, m := range ms {
			comps := strings.Split(m["components"], ";")
			for _, c := range comps {
				// A release date can be an MSRC revision date; an edge that
				// MSRC's own chain contradicts (prev already replaces m)
				// is not added.
				if prev := last[c]; prev != "" && prev != m["kb"] && rows[prev]["released"] < m["released"] && !reaches(rows, prev, m["kb"]) {
					if !slices.Contains(kbs(m["supersedes"]), prev) {
						addEdge(m, prev, fam+": replaces the previous member for "+c)
					}
				}
			}
			for _, c := range comps {
				last[c] = m["kb"]
			}
		}
	}
}

// months is the number of months from a to b (both YYYY-MM).
func months(a, b string) int {
	var ay, am, by, bm int
	fmt.Sscanf(a, "%d-%d", &ay, &am)
	fmt.Sscanf(b, "%d-%d", &by, &bm)
	return (by-ay)*12 + bm - am
}

// reaches says whether from supersedes to, directly or through others.
func reaches(rows map[string]row, from, to string) bool {
	seen := map[string]bool{from: true}
	todo := []string{from}
	for len(todo) > 0 {
		kb := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, s := range kbs(rows[kb]["supersedes"]) {
			if s == to {
				return true
			}
			if !seen[s] {
				seen[s] = true
				todo = append(todo, s)
			}
		}
	}
	return false
}
