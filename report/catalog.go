package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kbplan/kbplan/catalog"
)

// UpdateJSON is the stable JSON form of a catalog update (docs/json.md).
type UpdateJSON struct {
	KB             string     `json:"kb"`
	Title          string     `json:"title"`
	Kind           string     `json:"kind"`
	Released       *string    `json:"released"`
	Channel        string     `json:"channel"`
	Products       []string   `json:"products"`
	Architectures  []string   `json:"architectures"`
	Build          *int       `json:"build"`
	Revision       *string    `json:"revision"`
	RaisesBuildTo  *int       `json:"raisesBuildTo"`
	Supersedes     []string   `json:"supersedes"`
	SupersededBy   []string   `json:"supersededBy"`
	Prerequisites  []string   `json:"prerequisites"`
	RebootRequired *bool      `json:"rebootRequired"`
	SHA2Only       *bool      `json:"sha2Only"`
	Components     []string   `json:"components"`
	Family         *string    `json:"family"`
	Roles          []string   `json:"roles"`
	Files          []FileJSON `json:"files"`
	Source         string     `json:"source"`
	Notes          string     `json:"notes,omitempty"`
}

// FileJSON is one Microsoft package file of an update.
type FileJSON struct {
	Arch     string  `json:"arch"`
	Revision *string `json:"revision"`
	Name     string  `json:"name"`
	URL      string  `json:"url"`
	SHA1     string  `json:"sha1"`
	Size     *int64  `json:"size"`
	Source   string  `json:"source"`
}

func filesJSON(u *catalog.Update) []FileJSON {
	out := []FileJSON{}
	for _, f := range u.Files {
		j := FileJSON{Arch: f.Arch, Revision: str(f.Revision), Name: f.Name, URL: f.URL, SHA1: f.SHA1, Source: f.Source}
		if f.Size > 0 {
			j.Size = &f.Size
		}
		out = append(out, j)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func intPtr(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// Update converts a catalog update to its JSON form.
func Update(c *catalog.Catalog, u *catalog.Update) UpdateJSON {
	return UpdateJSON{
		KB: u.KB, Title: u.Title, Kind: string(u.Kind), Released: str(u.Released.String()), Channel: string(u.Channel),
		Products: nonNil(u.Products), Architectures: nonNil(u.Architectures), Build: intPtr(u.Build),
		Revision: str(u.Revision), RaisesBuildTo: intPtr(u.RaisesBuild), Supersedes: nonNil(u.Supersedes),
		SupersededBy: nonNil(c.SupersededBy(u.KB)), Prerequisites: nonNil(u.Prerequisites),
		RebootRequired: u.Reboot, SHA2Only: u.SHA2Only, Components: componentIDs(u), Family: str(u.Family),
		Roles: roleNames(u), Files: filesJSON(u), Source: u.Source, Notes: u.Notes,
	}
}

func componentIDs(u *catalog.Update) []string {
	out := []string{}
	for _, c := range u.Components {
		out = append(out, string(c))
	}
	return out
}

func roleNames(u *catalog.Update) []string {
	out := []string{}
	for _, r := range u.Roles {
		out = append(out, string(r))
	}
	return out
}

// WriteUpdatesJSON writes updates as one JSON array.
func WriteUpdatesJSON(w io.Writer, c *catalog.Catalog, us []*catalog.Update) error {
	out := make([]UpdateJSON, 0, len(us))
	for _, u := range us {
		out = append(out, Update(c, u))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteUpdateJSON writes one update as a JSON object.
func WriteUpdateJSON(w io.Writer, c *catalog.Catalog, u *catalog.Update) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Update(c, u))
}

// WriteUpdatesText writes a table of updates.
func WriteUpdatesText(w io.Writer, us []*catalog.Update) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KB\tRELEASED\tKIND\tCHANNEL\tTITLE")
	for _, u := range us {
		title := u.Title
		if len(title) > 70 {
			title = title[:69] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.KB, orDash(u.Released.String()), u.Kind, u.Channel, title)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteUpdateText writes one update for a human.
func WriteUpdateText(w io.Writer, c *catalog.Catalog, u *catalog.Update) error {
	j := Update(c, u)
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "  %-15s %s\n", k, v) }
	fmt.Fprintf(&b, "%s  %s\n", u.KB, u.Title)
	row("Kind", string(u.Kind))
	row("Released", orDash(u.Released.String()))
	row("Channel", channelText(u.Channel))
	row("Applies to", strings.Join(u.Products, ", ")+archText(u.Architectures))
	if !u.ForOS() {
		var names []string
		for _, c := range u.Components {
			if i, ok := catalog.ComponentInfo(c); ok {
				names = append(names, i.Name)
			}
		}
		row("Needs", "one of: "+strings.Join(names, ", ")+" (a host without them gets it as conditional)")
	}
	if u.Family != "" {
		row("Family", u.Family+" (each member replaces the older ones for the components it serves)")
	}
	if len(u.Roles) > 0 {
		row("Role", strings.Join(roleNames(u), ", "))
	}
	switch {
	case u.RaisesBuild != 0:
		row("Build", fmt.Sprintf("raised the OS build to %d (the first update to do so)", u.RaisesBuild))
	case u.Build != 0:
		row("Build", fmt.Sprint(u.Build))
	}
	row("Revision", orText(j.Revision, "unknown (no source gives it)"))
	row("Supersedes", listText(u.Supersedes))
	row("Superseded by", listText(c.SupersededBy(u.KB)))
	row("Prerequisites", listText(u.Prerequisites)+" (each: this KB or any KB that supersedes it)")
	row("Restart", triText(u.Reboot, "required", "not required"))
	sha2 := "KB4474419"
	if r := c.Role(catalog.RoleSHA2); r != nil {
		sha2 = r.KB
	}
	row("SHA-2 only", triText(u.SHA2Only, "yes: needs "+sha2+" and a restart first", "no"))
	if len(u.Files) == 0 {
		row("Files", "unknown (no source here names the package files; search the Microsoft Update Catalog for "+u.KB+")")
	}
	for i, f := range u.Files {
		k := ""
		if i == 0 {
			k = "Files"
		}
		row(k, f.Arch+"  "+f.Name)
		row("", "  "+f.URL)
		row("", "  SHA-1 "+f.SHA1+", from "+f.Source)
	}
	row("Source", u.Source)
	if u.Notes != "" {
		row("Notes", u.Notes)
	}
	err := writeText(w, b.String())
	return err
}

func channelText(ch catalog.Channel) string {
	switch ch {
	case catalog.Public:
		return "public (free to everyone)"
	case catalog.ESU:
		return "esu (Extended Security Updates years 1-3: needs an ESU key)"
	case catalog.AzureESU:
		return "azure-esu (fourth ESU year: Azure and Azure Stack only)"
	}
	return "custom (only with a custom support agreement)"
}

func archText(a []string) string {
	if len(a) == 0 {
		return " (architectures not stated by the sources)"
	}
	return " (" + strings.Join(a, ", ") + ")"
}

func listText(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func orText(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func triText(b *bool, yes, no string) string {
	switch {
	case b == nil:
		return "unknown (no source states it)"
	case *b:
		return yes
	}
	return no
}
