package catalog

import (
	"fmt"
	"slices"

	"github.com/kbplan/kbplan/winver"
)

// Problem is one thing wrong with a catalog.
type Problem struct {
	KB      string `json:"kb,omitempty"`
	Line    int    `json:"line,omitempty"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.KB != "" {
		return fmt.Sprintf("line %d: %s: %s: %s", p.Line, p.KB, p.Rule, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Rule, p.Message)
}

// FirstMonthly is the month of the first Windows Server 2008 SP2 monthly
// rollup and security-only pair (KB4458010 / KB4457984, September 2018:
// vuls, Tenable and WSUS Offline all start there; catalog/internal/gen/data/ws2008sp2-updates.md §2.1).
var FirstMonthly = Date{Year: 2018, Month: 9}

// requiredMilestones are the lifecycle dates kbplan's answers use.
var requiredMilestones = [][2]string{
	{"server2008", "mainstream-end"}, {"server2008", "extended-end"}, {"server2008", "esu-end"},
	{"server2008", "azure-esu-end"}, {"vista", "extended-end"},
}

// Validate checks the rules every catalog must keep: known kinds (checked
// when parsing), every role (Roles) played by exactly one update, no
// security-only update superseding another, a source on every row, supersedence that is acyclic and in
// date order, every prerequisite present, a rollup and a security-only
// update for x86 and x64 in every month from September 2018 to the newest
// month, channels that match the lifecycle dates, and package files for
// architectures the row lists (each file's name, digest and URL are
// checked when files.csv is parsed).
func (c *Catalog) Validate() []Problem {
	var ps []Problem
	add := func(u *Update, rule, format string, args ...any) {
		p := Problem{Rule: rule, Message: fmt.Sprintf(format, args...)}
		if u != nil {
			p.KB, p.Line = u.KB, u.Line
		}
		ps = append(ps, p)
	}
	for _, m := range requiredMilestones {
		if _, ok := c.Milestone(m[0], m[1]); !ok {
			add(nil, "lifecycle", "no %s date for %s", m[1], m[0])
		}
	}
	for _, u := range c.Updates {
		for _, f := range u.Files {
			if len(u.Architectures) > 0 && !slices.Contains(u.Architectures, f.Arch) {
				add(u, "file-arch", "files.csv line %d: %s is for %s, which the row does not list (%v)", f.Line, f.Name, f.Arch, u.Architectures)
			}
		}
		if u.Source == "" {
			add(u, "source", "no source: name the Microsoft KB page or the public repository path the row comes from")
		}
		if u.Released.IsZero() && (u.Kind.Monthly() || u.Kind == SSU) {
			add(u, "date", "a %s needs a release date", u.Kind)
		}
		for _, p := range u.Prerequisites {
			if c.row(p) == nil {
				add(u, "prerequisite", "prerequisite %s is not in the catalog", p)
			}
		}
		for _, s := range u.Supersedes {
			old := c.row(s)
			ok := old != nil
			if !ok || old.Released.IsZero() || u.Released.IsZero() {
				continue
			}
			if monthCompare(u.Released, old.Released) < 0 {
				add(u, "date-order", "released %s but supersedes %s, released later (%s)", u.Released, s, old.Released)
			}
		}
		if want := c.channelFor(u.Released); !u.Released.IsZero() && u.Kind != ESUPrep && u.Channel != want {
			add(u, "channel", "released %s, so its channel is %s, not %s", u.Released, want, u.Channel)
		}
	}
	for _, r := range Roles {
		var players []string
		for _, u := range c.Updates {
			if u.HasRole(r) {
				players = append(players, u.KB)
			}
		}
		switch len(players) {
		case 0:
			add(nil, "role", "no update plays the role %s: the planner needs it (mark one row's roles column)", r)
		case 1:
		default:
			add(nil, "role", "the role %s is played by %v: exactly one update must play it", r, players)
		}
	}
	for _, u := range c.Updates {
		if u.Kind != SecurityOnly {
			continue
		}
		for _, s := range u.Supersedes {
			if o := c.row(s); o != nil && o.Kind == SecurityOnly {
				add(u, "security-only", "supersedes the security-only update %s; security-only updates are not cumulative, every month's is needed", s)
			}
		}
	}
	ps = append(ps, c.cycles()...)
	ps = append(ps, c.monthlyCoverage()...)
	return ps
}

// monthCompare compares two dates, at month precision when either lacks a day.
func monthCompare(a, b Date) int {
	if a.Day == 0 || b.Day == 0 {
		a.Day, b.Day = 0, 0
	}
	return a.Compare(b)
}

func (c *Catalog) channelFor(d Date) Channel {
	bound := func(event string) Date {
		m, _ := c.Milestone("server2008", event)
		return m.Date
	}
	switch {
	case monthCompare(d, bound("extended-end")) <= 0:
		return Public
	case monthCompare(d, bound("esu-end")) <= 0:
		return ESU
	case monthCompare(d, bound("azure-esu-end")) <= 0:
		return AzureESU
	}
	return Custom
}

// ChannelFor returns the channel of an update released on d.
func (c *Catalog) ChannelFor(d Date) Channel { return c.channelFor(d) }

func (c *Catalog) cycles() []Problem {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var ps []Problem
	var visit func(kb string, path []string)
	visit = func(kb string, path []string) {
		color[kb] = grey
		u := c.row(kb)
		for _, s := range u.Supersedes {
			if c.row(s) == nil {
				continue
			}
			switch color[s] {
			case grey:
				cycle := append(slices.Clone(path[slices.Index(path, s):]), s)
				ps = append(ps, Problem{KB: kb, Line: u.Line, Rule: "acyclic", Message: fmt.Sprintf("supersedence cycle %v", cycle)})
			case white:
				visit(s, append(path, s))
			}
		}
		color[kb] = black
	}
	for _, u := range c.Updates {
		if color[u.KB] == white {
			visit(u.KB, []string{u.KB})
		}
	}
	return ps
}

// NewestRevision returns the newest OS revision any update produces.
func (c *Catalog) NewestRevision() winver.Version {
	return c.revision
}

// NewestMonthly returns the month of the newest monthly update.
func (c *Catalog) NewestMonthly() Date {
	return c.newest
}

func (c *Catalog) monthlyCoverage() []Problem {
	var ps []Problem
	last := c.NewestMonthly()
	if last.IsZero() {
		return []Problem{{Rule: "monthly", Message: "no monthly rollup or security-only update at all"}}
	}
	for m := FirstMonthly; monthCompare(m, last) <= 0; m = nextMonth(m) {
		for _, kind := range []Kind{Rollup, SecurityOnly} {
			for _, arch := range []string{"x86", "x64"} {
				found := false
				for _, u := range c.Updates {
					if u.Kind == kind && u.Released.SameMonth(m) && u.AppliesTo("server2008", arch) {
						found = true
						break
					}
				}
				if !found {
					ps = append(ps, Problem{Rule: "monthly", Message: fmt.Sprintf("no %s for %s in %s", kind, arch, m.YearMonth())})
				}
			}
		}
	}
	return ps
}

func nextMonth(d Date) Date {
	if d.Month == 12 {
		return Date{Year: d.Year + 1, Month: 1}
	}
	return Date{Year: d.Year, Month: d.Month + 1}
}
