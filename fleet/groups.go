package fleet

import (
	"context"
	"fmt"
	"os/user"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/kbplan/kbplan/store"
)

// CheckGroup refuses a group name that could not be told apart or shown
// safely: 1 to 64 characters, no control characters, no slash (it is a
// path segment of the pages).
func CheckGroup(name string) error {
	if strings.TrimSpace(name) != name || name == "" || len(name) > 64 || strings.ContainsFunc(name, unicode.IsControl) || strings.ContainsAny(name, "/\\?#%") {
		return fmt.Errorf("group %q: 1 to 64 characters, no leading or trailing space, no control characters or / \\ ? # %%", name)
	}
	return nil
}

// CheckRule refuses a host-name pattern path.Match cannot use.
func CheckRule(rule string) error {
	if _, err := path.Match(rule, ""); err != nil || len(rule) > 255 || strings.Contains(rule, "/") {
		return fmt.Errorf("rule %q is not a host-name pattern (*, ?, [a-z]; no /)", rule)
	}
	return nil
}

// rulesTTL is how long a server uses the group rules it read: a rule
// added on one server applies to the others' uploads within it.
const rulesTTL = 5 * time.Second

type groupRules struct {
	read  time.Time
	rules []store.Group
}

// groupsFor is the groups an upload puts its host in: those it names
// and those whose rule matches the host's name.
func (f *Fleet) groupsFor(ctx context.Context, hostname string, named []string) ([]string, error) {
	out := []string{}
	for _, g := range named {
		if err := CheckGroup(g); err != nil {
			return nil, uploadErr("%v", err)
		}
		out = append(out, g)
	}
	rules, err := f.groupRules(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range rules {
		if ok, _ := path.Match(strings.ToLower(g.Rule), strings.ToLower(hostname)); ok {
			out = append(out, g.Name)
		}
	}
	return out, nil
}

func (f *Fleet) groupRules(ctx context.Context) ([]store.Group, error) {
	f.mu.Lock()
	r := f.rules
	f.mu.Unlock()
	if time.Since(r.read) < rulesTTL {
		return r.rules, nil
	}
	gs, err := f.Store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	var rules []store.Group
	for _, g := range gs {
		if g.Rule != "" {
			rules = append(rules, g)
		}
	}
	f.mu.Lock()
	f.rules = groupRules{read: time.Now(), rules: rules}
	f.mu.Unlock()
	return rules, nil
}

// SetGroup makes a group or sets its rule; the hosts the rule matches
// join it now, later ones at their upload. It returns how many joined.
func (f *Fleet) SetGroup(ctx context.Context, name, rule string) (int, error) {
	if err := CheckGroup(name); err != nil {
		return 0, err
	}
	if err := CheckRule(rule); err != nil {
		return 0, err
	}
	if err := f.Store.PutGroup(ctx, name, rule); err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.rules = groupRules{}
	f.mu.Unlock()
	if rule == "" {
		return 0, nil
	}
	var match []string
	err := f.Store.EachHost(ctx, func(h store.Host) error {
		if ok, _ := path.Match(strings.ToLower(rule), h.Name); ok {
			match = append(match, h.Name)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for len(match) > 0 {
		batch := match[:min(len(match), 500)]
		match = match[len(batch):]
		k, err := f.Store.JoinGroup(ctx, name, batch...)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// JoinGroup puts hosts in a group (made if new).
func (f *Fleet) JoinGroup(ctx context.Context, name string, hosts ...string) (int, error) {
	if err := CheckGroup(name); err != nil {
		return 0, err
	}
	if err := checkHostNames(hosts); err != nil {
		return 0, err
	}
	keys := make([]string, len(hosts))
	for i, h := range hosts {
		keys[i] = Key(h)
	}
	return f.Store.JoinGroup(ctx, name, keys...)
}

// checkHostNames refuses names that cannot be a host's.
func checkHostNames(hosts []string) error {
	for _, h := range hosts {
		if k := Key(h); k == "" || len(k) > 255 || strings.ContainsFunc(k, unicode.IsControl) {
			return fmt.Errorf("host %q: not a computer name", h)
		}
	}
	return nil
}

// LocalAudit records a change made with kbplan fleet on the server
// itself: the actor is the operating-system user. A failure to record is
// logged by the caller's store only; the change stands.
func LocalAudit(ctx context.Context, st *store.Store, action, target, detail string) error {
	who := "local"
	if u, err := user.Current(); err == nil {
		who = "local:" + u.Username
	}
	return st.AddAudit(ctx, store.AuditEntry{At: time.Now().UTC(), Actor: who, Action: action, Target: target, Detail: detail, Remote: "local"})
}
