package assess

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/catalog"
)

// HostComponent is something the host has besides the OS, with the evidence.
type HostComponent struct {
	ID  catalog.Component
	Why string
}

// components works out what the host has: the in-box components of its
// product (catalog.InBox), what its installed updates and the collector's
// facts show, and what the caller assumes (--assume). An IE 8 or IE 9
// replaces the in-box IE 7.
func (s *state) components() []HostComponent {
	var out []HostComponent
	add := func(c catalog.Component, why string) {
		if i := slices.IndexFunc(out, func(h HostComponent) bool { return h.ID == c }); i >= 0 {
			if !strings.Contains(out[i].Why, why) {
				out[i].Why += "; " + why
			}
			return
		}
		out = append(out, HostComponent{c, why})
	}
	for _, c := range catalog.InBox() {
		add(c, "in-box on Windows Server 2008 SP2 and Vista SP2 (catalog.InBox)")
	}
	// An installed update for exactly one component shows that component.
	for _, u := range s.installedUpdates() {
		if len(u.Components) == 1 && u.Components[0] != catalog.OS {
			add(u.Components[0], fmt.Sprintf("installed update %s is for it", u.KB))
		}
	}
	if f := s.a.Host.Facts; f != nil {
		if c, ok := ieComponent(f.IEVersion); ok {
			add(c, "the collector read Internet Explorer "+f.IEVersion+" from the registry")
		}
		for _, v := range f.DotNet {
			if c, ok := dotNetComponent(v); ok {
				add(c, "the collector read .NET Framework "+v+" from the NDP registry keys")
			}
		}
		for _, p := range f.Programs {
			if c, ok := programComponent(p); ok {
				add(c, "Programs and Features lists "+strconv.Quote(p))
			}
		}
		for _, r := range f.Roles {
			if c, ok := programComponent(r); ok {
				add(c, "servermanagercmd -query marks "+strconv.Quote(r)+" installed")
			}
		}
	}
	for _, c := range s.o.Assume {
		add(c, "assumed (--assume)")
	}
	// IE 8 and IE 9 replace IE 7: its updates no longer apply.
	if slices.ContainsFunc(out, func(h HostComponent) bool { return h.ID == catalog.IE8 || h.ID == catalog.IE9 }) &&
		!slices.Contains(s.o.Assume, catalog.IE7) {
		out = slices.DeleteFunc(out, func(h HostComponent) bool { return h.ID == catalog.IE7 })
	}
	slices.SortFunc(out, func(a, b HostComponent) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

func ieComponent(v string) (catalog.Component, bool) {
	switch {
	case strings.HasPrefix(v, "7."):
		return catalog.IE7, true
	case strings.HasPrefix(v, "8."):
		return catalog.IE8, true
	case strings.HasPrefix(v, "9."):
		return catalog.IE9, true
	}
	return "", false
}

func dotNetComponent(v string) (catalog.Component, bool) {
	switch {
	case strings.HasPrefix(v, "1.1"):
		return catalog.DotNet11, true
	case strings.HasPrefix(v, "2.0"), strings.HasPrefix(v, "3.0"):
		return catalog.DotNet20, true
	case strings.HasPrefix(v, "3.5"):
		return catalog.DotNet35, true
	case strings.HasPrefix(v, "4."):
		return catalog.DotNet4, true
	}
	return "", false
}

// programs maps Programs and Features display names, and Server Manager
// role names, to components: the product names Microsoft's installers
// register (matched case-insensitively, as a prefix or substring where
// versions and service packs follow). Roles that ship with the OS (IIS,
// DNS, Hyper-V...) map to nothing: their binaries are in every NT 6.0
// component store, and Windows Update services them whether the role is
// on or not.
var programs = []struct {
	match string
	c     catalog.Component
}{
	{"microsoft .net framework 1.1", catalog.DotNet11},
	{"microsoft .net framework 3.5", catalog.DotNet35},
	{"microsoft .net framework 4", catalog.DotNet4},
	{"msxml 4.0", catalog.MSXML4},
	{"active directory federation services", catalog.ADFS},
	{"microsoft ftp service", catalog.FTP7},
	{"microsoft ftp publishing service for iis 7", catalog.FTP7},
	{"windows media services", catalog.WMS},
	{"streaming media services", catalog.WMS}, // the Server Manager role Windows Media Services 2008 adds
	{"windows media encoder", catalog.WME},
	{"windows live mail", catalog.WLM},
	{"microsoft office", catalog.Office},
	{"windows internet explorer 8", catalog.IE8},
	{"windows internet explorer 9", catalog.IE9},
}

func programComponent(name string) (catalog.Component, bool) {
	n := strings.ToLower(name)
	for _, p := range programs {
		if strings.Contains(n, p.match) {
			return p.c, true
		}
	}
	return "", false
}

// hasComponent reports whether the host has c.
func (s *state) hasComponent(c catalog.Component) bool {
	return slices.ContainsFunc(s.a.Components, func(h HostComponent) bool { return h.ID == c })
}

// applies reports whether an update is for the OS or for a component the
// host has.
func (s *state) applies(u *catalog.Update) bool {
	if u.ForOS() {
		return true
	}
	return slices.ContainsFunc(u.Components, s.hasComponent)
}

// componentKey is the host's components as one string, for memo keys.
func (s *state) componentKey() string {
	ids := make([]string, len(s.a.Components))
	for i, c := range s.a.Components {
		ids[i] = string(c.ID)
	}
	return strings.Join(ids, ",")
}

// conditionalWhy says when a conditional update is needed and how to check.
func conditionalWhy(u *catalog.Update) string {
	var names, checks []string
	for _, c := range u.Components {
		if i, ok := catalog.ComponentInfo(c); ok {
			names = append(names, i.Name)
			if i.Check != "" {
				checks = append(checks, i.Check)
			}
		}
	}
	return fmt.Sprintf("install only if %s is present (check: %s); nothing read from this host shows it, so it is not a plan step (--assume %s plans it)",
		strings.Join(names, " or "), strings.Join(checks, "; or "), u.Components[0])
}
