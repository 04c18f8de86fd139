package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/kit"
	"github.com/kbplan/kbplan/report"
	"github.com/kbplan/kbplan/store"
)

// campaignRoutes are the by-update view, groups, install results, users
// and the audit record (docs/fleet.md).
func (s *Server) campaignRoutes() {
	s.route("POST /api/v1/results", s.need(canWrite, s.postResult))
	s.route("GET /api/v1/updates", s.need(canRead, s.getUpdates))
	s.route("GET /api/v1/updates.csv", s.need(canRead, s.getUpdatesCSV))
	s.route("GET /api/v1/updates/{kb}", s.need(canRead, s.getUpdate))
	s.route("GET /api/v1/groups", s.need(canRead, listAPI(s, (*store.Store).Groups, GroupsJSON)))
	s.route("PUT /api/v1/groups/{name}", s.need(isAdmin, s.putGroup))
	s.route("DELETE /api/v1/groups/{name}", s.need(isAdmin, s.deleteGroup))
	s.route("POST /api/v1/groups/{name}/hosts", s.need(isAdmin, s.postGroupHosts))
	s.route("DELETE /api/v1/groups/{name}/hosts/{host}", s.need(isAdmin, s.deleteGroupHost))
	s.route("GET /api/v1/hosts/{name}/runs", s.need(canRead, s.getRuns))
	s.route("GET /api/v1/audit", s.need(isAdmin, s.getAudit))
	s.route("GET /api/v1/audit.csv", s.need(isAdmin, s.getAuditCSV))
	s.route("GET /api/v1/users", s.need(isAdmin, listAPI(s, (*store.Store).Users, UsersJSON)))
	s.route("DELETE /api/v1/users/{name}", s.need(isAdmin, s.deleteUser))
}

// audit records what the caller of r changed.
func (s *Server) audit(r *http.Request, action, target, detail string) {
	c, _ := r.Context().Value(callerKey{}).(caller)
	e := store.AuditEntry{At: s.Fleet.Now().UTC(), Actor: c.name, Action: action, Target: target, Detail: detail, Remote: s.clientIP(r)}
	if err := s.Fleet.Store.AddAudit(r.Context(), e); err != nil {
		s.Fleet.Log.Error("audit", "action", action, "target", target, "err", err)
	}
}

func (s *Server) postResult(w http.ResponseWriter, r *http.Request) {
	u := upload{name: "results", count: (*metrics).result, limit: kit.MaxResult,
		tooBig: "results over %d MiB: a results document is install.state and the end of install.log",
		empty:  "empty upload: send a results document (kbplan-sha256.js /report, docs/kit.md)",
		failed: "storing the results failed; they were not kept: retry"}
	s.receive(w, r, u, func() string { return "" }, func(body []byte, o Origin) (stored, error) {
		res, err := s.Fleet.IngestResult(r.Context(), o, "results", body)
		return stored{res.Created, res, []any{"host", res.Host, "kit", res.Kit, "run", res.ID, "status", res.Status}}, err
	})
}

// groupParam is the group= filter of a request, checked.
func groupParam(r *http.Request) (string, error) {
	g := r.URL.Query().Get("group")
	if g == "" {
		return "", nil
	}
	return g, CheckGroup(g)
}

// UpdateJSON is one row of GET /api/v1/updates.
type UpdateJSON struct {
	KB           string `json:"kb"`
	Title        string `json:"title"`
	Kind         string `json:"kind"`
	Released     string `json:"released"`
	Needed       int    `json:"needed"`       // hosts whose plan holds it
	Conditional  int    `json:"conditional"`  // hosts whose conditional list holds it
	Installed    int    `json:"installed"`    // hosts that have it
	Failed       int    `json:"failed"`       // hosts whose newest kit run failed on it
	Contradicted int    `json:"contradicted"` // hosts whose kit installed it and a later inventory lacks it
}

// Updates is the by-update view of a group.
func (f *Fleet) Updates(ctx context.Context, group string) ([]UpdateJSON, error) {
	counts, err := f.Store.UpdateCounts(ctx, group)
	if err != nil {
		return nil, err
	}
	out := make([]UpdateJSON, len(counts))
	for i, c := range counts {
		u := UpdateJSON{KB: c.KB, Needed: c.Needed, Conditional: c.Conditional, Installed: c.Installed, Failed: c.Failed, Contradicted: c.Contradicted}
		if cu, ok := f.Catalog.Get(c.KB); ok {
			u.Title, u.Kind, u.Released = cu.Title, string(cu.Kind), cu.Released.String()
		}
		out[i] = u
	}
	return out, nil
}

// updates answers the by-update rows of the request's group, or writes
// the error and returns false.
func (s *Server) updates(w http.ResponseWriter, r *http.Request) ([]UpdateJSON, bool) {
	g, err := groupParam(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return nil, false
	}
	us, err := s.Fleet.Updates(r.Context(), g)
	if err != nil {
		s.internal(w, err)
		return nil, false
	}
	return us, true
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	if us, ok := s.updates(w, r); ok {
		writeJSON(w, http.StatusOK, us)
	}
}

// UpdateCSVColumns are the columns of the by-update CSV export.
var UpdateCSVColumns = []string{"kb", "title", "kind", "released", "needed", "conditional", "installed", "failed", "contradicted"}

func (s *Server) getUpdatesCSV(w http.ResponseWriter, r *http.Request) {
	us, ok := s.updates(w, r)
	if !ok {
		return
	}
	cw := csvExport(w, "kbplan-updates.csv", UpdateCSVColumns)
	i := strconv.Itoa
	for _, u := range us {
		cw.Write([]string{u.KB, u.Title, u.Kind, u.Released, i(u.Needed), i(u.Conditional), i(u.Installed), i(u.Failed), i(u.Contradicted)})
	}
	cw.Flush()
}

// UpdateDetailJSON is GET /api/v1/updates/{kb}: the counts, why a host
// needs it (the step of one host that does, with its evidence), and the
// hosts in each state.
type UpdateDetailJSON struct {
	Update   UpdateJSON            `json:"update"`
	Example  string                `json:"exampleHost"` // whose plan Step is from
	Step     *report.StepJSON      `json:"step"`
	Hosts    map[string][]HostJSON `json:"hosts"`  // by state: needed, conditional, installed, failed, contradicted (at most 100 each)
	Totals   map[string]int        `json:"totals"` // hosts in each state
	Outcomes []OutcomeJSON         `json:"outcomes"`
	Code     map[string]kit.Code   `json:"codes"` // the meaning of each failure code shown
}

// OutcomeJSON is a host's newest kit outcome for a KB.
type OutcomeJSON struct {
	Host     string    `json:"host"`
	KB       string    `json:"kb"`
	Outcome  string    `json:"outcome"`
	Code     string    `json:"code"`    // 0xXXXXXXXX
	Meaning  string    `json:"meaning"` // what the code means, "" when kbplan does not know it
	Run      int64     `json:"run"`
	Received time.Time `json:"received"`
	Flag     string    `json:"flag"` // failed, contradicted, ""
}

func outcomeJSON(o store.Outcome) OutcomeJSON {
	j := OutcomeJSON{Host: o.Host, KB: o.KB, Outcome: o.Outcome, Code: fmt.Sprintf("0x%08X", uint32(o.Code)), Run: o.Run, Received: o.Received, Flag: o.Flag}
	if c, ok := kit.ExitCode(o.Code); ok {
		j.Meaning = c.Name + ": " + c.Meaning
	}
	return j
}

// updateStates are the states UpdateDetailJSON lists hosts in.
var updateStates = []string{store.UpdateNeeded, store.UpdateConditional, "failed", "contradicted", store.UpdateInstalled}

func (s *Server) updateDetail(ctx context.Context, kb, group string) (UpdateDetailJSON, error) {
	kb = strings.ToUpper(kb)
	d := UpdateDetailJSON{Hosts: map[string][]HostJSON{}, Totals: map[string]int{}, Outcomes: []OutcomeJSON{}, Code: map[string]kit.Code{}}
	d.Update = UpdateJSON{KB: kb}
	if cu, ok := s.Fleet.Catalog.Get(kb); ok {
		d.Update.Title, d.Update.Kind, d.Update.Released = cu.Title, string(cu.Kind), cu.Released.String()
	}
	c, err := s.Fleet.Store.UpdateCount(ctx, kb, group)
	if err != nil {
		return d, err
	}
	d.Update.Needed, d.Update.Conditional, d.Update.Installed, d.Update.Failed, d.Update.Contradicted = c.Needed, c.Conditional, c.Installed, c.Failed, c.Contradicted
	d.Totals = map[string]int{store.UpdateNeeded: c.Needed, store.UpdateConditional: c.Conditional, store.UpdateInstalled: c.Installed, "failed": c.Failed, "contradicted": c.Contradicted}
	for _, st := range updateStates {
		d.Hosts[st] = []HostJSON{}
		if d.Totals[st] == 0 {
			continue
		}
		hosts, err := s.Fleet.Store.HostsWith(ctx, kb, st, group, 100, d.Totals[st])
		if err != nil {
			return d, err
		}
		for _, h := range hosts {
			d.Hosts[st] = append(d.Hosts[st], hostJSON(h))
		}
	}
	if d.Update.Title == "" && d.Update.Needed+d.Update.Conditional+d.Update.Installed+d.Update.Failed == 0 {
		return d, store.ErrNotFound
	}
	// Why: the step of one host that needs it (or may), assessed now.
	for _, st := range []string{store.UpdateNeeded, store.UpdateConditional} {
		if len(d.Hosts[st]) == 0 || d.Step != nil {
			continue
		}
		_, a, err := s.Fleet.Current(ctx, d.Hosts[st][0].Name, true)
		if err != nil {
			continue
		}
		j := report.Assessment(a)
		for _, list := range [][]report.StepJSON{j.Plan.Steps, j.Plan.Conditional} {
			for i := range list {
				if list[i].KB == kb {
					d.Step, d.Example = &list[i], d.Hosts[st][0].Name
					break
				}
			}
		}
	}
	outs, err := s.Fleet.Store.KBOutcomes(ctx, kb, group, 200)
	if err != nil {
		return d, err
	}
	for _, o := range outs {
		j := outcomeJSON(o)
		d.Outcomes = append(d.Outcomes, j)
		if c, ok := kit.ExitCode(o.Code); ok {
			d.Code[j.Code] = c
		}
	}
	return d, nil
}

func (s *Server) getUpdate(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	d, err := s.updateDetail(r.Context(), r.PathValue("kb"), g)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "%s: no host of the fleet needs, may need, has or failed on it, and the catalog does not know it", r.PathValue("kb"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// GroupJSON is one group.
type GroupJSON struct {
	Name    string    `json:"name"`
	Rule    string    `json:"rule"` // host-name pattern; "" none
	Hosts   int       `json:"hosts"`
	Created time.Time `json:"created"`
}

// GroupsJSON is groups as the API and kbplan fleet group list --json show
// them.
func GroupsJSON(gs []store.Group) []GroupJSON {
	out := []GroupJSON{}
	for _, g := range gs {
		out = append(out, GroupJSON{Name: g.Name, Rule: g.Rule, Hosts: g.Hosts, Created: g.Created})
	}
	return out
}

func (s *Server) putGroup(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rule string `json:"rule"`
	}
	if err := jsonDecoder(w, r, 4096).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "expected {\"rule\": \"PATTERN\"} (\"\" for none): %v", err)
		return
	}
	name := r.PathValue("name")
	if err := errors.Join(CheckGroup(name), CheckRule(req.Rule)); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	n, err := s.Fleet.SetGroup(r.Context(), name, req.Rule)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.audit(r, "group-set", name, "rule "+strconv.Quote(req.Rule)+fmt.Sprintf(", %d hosts joined", n))
	writeJSON(w, http.StatusOK, map[string]any{"group": name, "rule": req.Rule, "joined": n})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := s.Fleet.Store.DeleteGroup(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no group %q", name)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.Fleet.mu.Lock()
	s.Fleet.rules = groupRules{}
	s.Fleet.mu.Unlock()
	s.audit(r, "group-delete", name, "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postGroupHosts(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Hosts []string `json:"hosts"`
	}
	if err := jsonDecoder(w, r, 1<<20).Decode(&req); err != nil || len(req.Hosts) == 0 || len(req.Hosts) > 10000 {
		fail(w, http.StatusBadRequest, "expected {\"hosts\": [\"NAME\", ...]} with 1 to 10000 names: %v", err)
		return
	}
	name := r.PathValue("name")
	if err := errors.Join(CheckGroup(name), checkHostNames(req.Hosts)); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	n, err := s.Fleet.JoinGroup(r.Context(), name, req.Hosts...)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.audit(r, "group-add", name, fmt.Sprintf("%d hosts named, %d joined: %s", len(req.Hosts), n, clipList(req.Hosts)))
	writeJSON(w, http.StatusOK, map[string]any{"group": name, "joined": n})
}

func clipList(l []string) string {
	if len(l) > 10 {
		return strings.Join(l[:10], ", ") + fmt.Sprintf(" and %d more", len(l)-10)
	}
	return strings.Join(l, ", ")
}

func (s *Server) deleteGroupHost(w http.ResponseWriter, r *http.Request) {
	name, host := r.PathValue("name"), r.PathValue("host")
	n, err := s.Fleet.Store.LeaveGroup(r.Context(), name, Key(host))
	if err != nil {
		s.internal(w, err)
		return
	}
	if n == 0 {
		fail(w, http.StatusNotFound, "host %q is not in group %q", host, name)
		return
	}
	s.audit(r, "group-remove", name, host)
	w.WriteHeader(http.StatusNoContent)
}

// RunJSON is one results upload of a host.
type RunJSON struct {
	ID       int64     `json:"id"`
	Kit      string    `json:"kit"`
	Received time.Time `json:"received"`
	Event    string    `json:"event"`
	Status   string    `json:"status"`
	Detail   string    `json:"detail"`
	Steps    int       `json:"steps"`
	Done     int       `json:"done"`
	Failed   int       `json:"failed"`
	Boots    int       `json:"restarts"`
	Token    string    `json:"token"`
	Remote   string    `json:"remote"`
}

func runJSON(x store.Run) RunJSON {
	return RunJSON{ID: x.ID, Kit: x.Kit, Received: x.Received, Event: x.Event, Status: x.Status, Detail: x.Detail, Steps: x.Steps, Done: x.Done,
		Failed: x.Failed, Boots: x.Boots, Token: x.Token, Remote: x.Remote}
}

// HostRunsJSON is GET /api/v1/hosts/{name}/runs: the kit runs and each
// KB's newest outcome.
type HostRunsJSON struct {
	Runs     []RunJSON     `json:"runs"`
	Outcomes []OutcomeJSON `json:"outcomes"`
}

func (s *Server) hostRuns(ctx context.Context, name string) (HostRunsJSON, error) {
	d := HostRunsJSON{Runs: []RunJSON{}, Outcomes: []OutcomeJSON{}}
	runs, err := s.Fleet.Store.Runs(ctx, Key(name), 50)
	if err != nil {
		return d, err
	}
	for _, x := range runs {
		d.Runs = append(d.Runs, runJSON(x))
	}
	outs, err := s.Fleet.Store.Outcomes(ctx, Key(name))
	if err != nil {
		return d, err
	}
	for _, o := range outs {
		d.Outcomes = append(d.Outcomes, outcomeJSON(o))
	}
	return d, nil
}

func (s *Server) getRuns(w http.ResponseWriter, r *http.Request) {
	d, err := s.hostRuns(r.Context(), r.PathValue("name"))
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// AuditJSON is one entry of the audit record.
type AuditJSON struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
	Remote string    `json:"remote"`
}

// auditEntries returns the audit entries the request asks for (limit,
// before). A bad parameter is a *paramError (a 400); anything else is the
// store's (a 500).
func (s *Server) auditEntries(r *http.Request) ([]AuditJSON, error) {
	limit := 200
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, &paramError{fmt.Errorf("limit=%q: expected 1 to 10000", v)}
		}
		limit = n
	}
	var before time.Time
	if v := r.URL.Query().Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, &paramError{fmt.Errorf("before=%q: expected a time like 2026-12-01T10:00:00Z", v)}
		}
		before = t
	}
	es, err := s.Fleet.Store.Audit(r.Context(), before, limit)
	if err != nil {
		return nil, err
	}
	out := []AuditJSON{}
	for _, e := range es {
		out = append(out, AuditJSON(e))
	}
	return out, nil
}

// paramError is a request parameter that does not parse.
type paramError struct{ error }

// auditFor is auditEntries for the API: it writes the error and returns
// false.
func (s *Server) auditFor(w http.ResponseWriter, r *http.Request) ([]AuditJSON, bool) {
	es, err := s.auditEntries(r)
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		fail(w, http.StatusBadRequest, "%v", err)
		return nil, false
	case err != nil:
		s.internal(w, err)
		return nil, false
	}
	return es, true
}

func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	if es, ok := s.auditFor(w, r); ok {
		writeJSON(w, http.StatusOK, es)
	}
}

func (s *Server) getAuditCSV(w http.ResponseWriter, r *http.Request) {
	es, ok := s.auditFor(w, r)
	if !ok {
		return
	}
	cw := csvExport(w, "kbplan-audit.csv", []string{"at", "actor", "action", "target", "detail", "remote"})
	for _, e := range es {
		cw.Write([]string{e.At.Format(time.RFC3339), e.Actor, e.Action, e.Target, e.Detail, e.Remote})
	}
	cw.Flush()
}

// UserJSON is a web user as the API shows it (never the password).
type UserJSON struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// UsersJSON is users as the API and kbplan fleet user list --json show
// them.
func UsersJSON(us []store.User) []UserJSON {
	out := []UserJSON{}
	for _, u := range us {
		out = append(out, UserJSON{Name: u.Name, Role: u.Role, Created: u.Created})
	}
	return out
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if c, _ := r.Context().Value(callerKey{}).(caller); c.session != nil && c.name == name {
		fail(w, http.StatusBadRequest, "you cannot remove yourself: another admin, or kbplan fleet user remove on the server, can")
		return
	}
	err := s.Fleet.Store.DeleteUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no user %q", name)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.audit(r, "user-remove", name, "sessions ended")
	w.WriteHeader(http.StatusNoContent)
}

// hostStates are assess's host states in the overview's order, with
// their labels.
var hostStates = []option{
	{string(assess.StateBehind), "behind: updates to install"},
	{string(assess.StateRestart), "waiting for a restart"},
	{string(assess.StateCannotUpdate), "cannot update further (no ESU year, no SHA-2)"},
	{string(assess.StateCurrent), "current on their channel"},
	{string(assess.StateOutOfScope), "out of scope (not NT 6.0)"},
}
