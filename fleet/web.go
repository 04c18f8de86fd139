package fleet

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/report"
	"github.com/kbplan/kbplan/store"
)

//go:embed web
var webFS embed.FS

const (
	sessionCookie = "kbplan_session"
	loginCookie   = "kbplan_login" // CSRF token of the login form (no session yet)
	sessionTTL    = 12 * time.Hour
	pageSize      = 100
)

// pages are parsed on first use, not when any kbplan command starts.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"inc": func(i int) int { return i + 1 },
		// numbered is steps[from:to], each with its plan number (StepJSON.N):
		// a long plan shows its first steps and folds the rest.
		"numbered": func(steps []report.StepJSON, from, to int) []report.StepJSON {
			return steps[min(from, len(steps)):min(to, len(steps))]
		},
	}).ParseFS(webFS, "web/*.tmpl"))
})

// page is what every template gets.
type page struct {
	Title, Page      string
	User, Role, CSRF string
	DataVersion      string
	Error            string
	Overview         *OverviewJSON
	BuildChart       template.HTML
	LevelChart       template.HTML
	Builds           []buildRow
	Detail           *HostDetailJSON
	Hosts            []store.Host
	Total, From, To  int
	Query            store.Query
	BuildOptions     []int
	Filters          []option
	Columns          []column
	Prev, Next       string
	ExportQuery      template.URL
	// The group filter of a page, and the query that keeps it in links:
	// "&group=NAME" and "?group=NAME" ("" for every host).
	GroupFilter                 groupFilter
	GroupQuery, GroupQueryFirst template.URL
	States                      []stateTile
	StateOptions                []option
	StateNames                  []string
	GroupRows                   []groupRow
	Updates                     []UpdateJSON
	Update                      *UpdateDetailJSON
	Runs                        *HostRunsJSON
	HostGroups                  []string
	Audit                       []AuditJSON
}

type groupFilter struct {
	Action string
	Group  string
	Groups []store.Group
}

type stateTile struct {
	Value, Label, Class string
	N                   int
}

type groupRow struct {
	Name string
	N    []int
}

type option struct{ Value, Label string }

type column struct {
	Label, Href string
	Num, Sorted bool
}

type buildRow struct {
	Build   string
	Meaning string
	N       int
}

func (s *Server) webRoutes() {
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "style.css" {
			http.NotFound(w, r)
			return
		}
		b, _ := webFS.ReadFile("web/style.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(b)
	})))
	s.route("GET /login", s.getLogin)
	s.route("POST /login", s.postLogin)
	s.route("POST /logout", s.postLogout)
	s.route("GET /{$}", s.page(s.overviewPage))
	s.route("GET /hosts", s.page(s.hostsPage))
	s.route("GET /hosts/{name}", s.page(s.hostPage))
	s.route("GET /export", s.page(s.exportPage))
	s.route("GET /updates", s.page(s.updatesPage))
	s.route("GET /updates/{kb}", s.page(s.updatePage))
	s.route("GET /groups", s.page(s.groupsPage))
	s.route("GET /audit", s.page(s.auditPage))
	s.route("POST /api/v1/users", s.need(isAdmin, s.postUser))
}

func (s *Server) render(w http.ResponseWriter, code int, name string, p page) {
	p.DataVersion = s.Fleet.DataVersion()
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, p); err != nil {
		s.Fleet.Log.Error("template", "page", name, "err", err)
		http.Error(w, "internal error; the server log has it", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// page requires a web session (any role that reads); without one it
// sends the browser to the login form.
func (s *Server) page(h func(http.ResponseWriter, *http.Request, page)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.authenticate(r)
		if !ok || c.session == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !canRead(c.role) {
			http.Error(w, "this account may not read the fleet", http.StatusForbidden)
			return
		}
		h(w, r, page{User: c.name, Role: c.role, CSRF: c.session.CSRF})
	}
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode}
}

func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) {
	s.loginForm(w, http.StatusOK, "")
}

func (s *Server) loginForm(w http.ResponseWriter, code int, msg string) {
	tok := NewToken()
	http.SetCookie(w, s.cookie(loginCookie, tok, 600))
	s.render(w, code, "login.tmpl", page{Title: "Log in", Page: "login", CSRF: tok, Error: msg})
}

// dummyHash makes a login with an unknown user cost what a wrong password
// costs, so that timing does not tell which users exist.
// It is made on first use: a bcrypt hash costs ~60 ms, which every kbplan
// command would pay at start if it were a package variable.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("kbplan"), bcrypt.DefaultCost)
	return h
})

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	if err := r.ParseForm(); err != nil {
		s.loginForm(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		s.loginForm(w, http.StatusForbidden, "The form expired: log in again.")
		return
	}
	name, pass := r.PostForm.Get("user"), r.PostForm.Get("password")
	client := s.clientIP(r)
	key, now := loginKey(client, name), time.Now()
	if ok, until := s.logins.reserve(key, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(until.Sub(now).Seconds())+1))
		s.Fleet.Log.Warn("login refused: too many failures", "user", name, "remote", client)
		s.loginForm(w, http.StatusTooManyRequests, fmt.Sprintf("Too many wrong passwords: try again after %s.", until.UTC().Format("15:04 UTC")))
		return
	}
	// bcrypt costs ~60 ms of a core: at most half the cores check
	// passwords at once, whoever asks.
	release, ok := s.admit(r.Context(), s.bcrypts)
	if !ok {
		s.logins.succeeded(key) // not an attempt: give the try back
		w.Header().Set("Retry-After", "2")
		s.loginForm(w, http.StatusServiceUnavailable, "The server is busy checking other logins: try again in a moment.")
		return
	}
	u, err := s.Fleet.Store.User(r.Context(), name)
	hash := dummyHash()
	if err == nil {
		hash = []byte(u.Password)
	}
	wrong := bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || err != nil
	release()
	if wrong {
		s.Fleet.Log.Warn("login failed", "user", name, "remote", client)
		s.loginForm(w, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	s.logins.succeeded(key)
	tok := NewToken()
	se := store.Session{Hash: HashToken(tok), User: u.Name, CSRF: NewToken(), Expires: time.Now().Add(sessionTTL)}
	// Sessions that were never logged out expire in the table: drop them
	// at each login.
	s.Fleet.Store.DeleteSession(r.Context(), "", time.Now())
	if err := s.Fleet.Store.AddSession(r.Context(), se); err != nil {
		s.internal(w, err)
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, tok, int(sessionTTL.Seconds())))
	http.SetCookie(w, s.cookie(loginCookie, "", -1))
	s.Fleet.Log.Info("login", "user", u.Name, "remote", client)
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(r)
	if ok && c.session != nil {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		r.ParseForm()
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(c.session.CSRF)) != 1 {
			http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
			return
		}
		s.Fleet.Store.DeleteSession(r.Context(), c.session.Hash, time.Now())
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// buildMeaning is what each NT 6.0 build is (PRODUCT.md, winver).
var buildMeaning = map[string]string{
	"6000": "Vista RTM", "6001": "Vista SP1 / Server 2008 RTM (SP1)", "6002": "SP2",
	"6003": "SP2 after the March 2019 servicing change (KB4489887 and later)",
}

// withGroup reads a page's group= filter and the groups for its
// selector; false when it answered (a bad name, a failed read).
func (s *Server) withGroup(w http.ResponseWriter, r *http.Request, p *page, action string) bool {
	g, err := groupParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	gs, err := s.Fleet.Store.Groups(r.Context())
	if err != nil {
		s.internal(w, err)
		return false
	}
	p.GroupFilter = groupFilter{Action: action, Group: g, Groups: gs}
	if g != "" {
		q := url.Values{"group": {g}}.Encode()
		p.GroupQuery, p.GroupQueryFirst = template.URL("&"+q), template.URL("?"+q)
	}
	return true
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, p page) {
	if !s.withGroup(w, r, &p, "/") {
		return
	}
	o, j, err := s.Fleet.Overview(r.Context(), p.GroupFilter.Group)
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Overview = "Overview", "overview", &j
	for _, st := range hostStates {
		t := stateTile{Value: st.Value, Label: st.Label, N: j.ByState[st.Value]}
		if t.N > 0 {
			switch assess.HostState(st.Value) {
			case assess.StateBehind, assess.StateCannotUpdate:
				t.Class = "warn"
			case assess.StateRestart:
				t.Class = "bad"
			}
		}
		p.States = append(p.States, t)
		p.StateNames = append(p.StateNames, st.Value)
	}
	for _, g := range p.GroupFilter.Groups {
		row := groupRow{Name: g.Name}
		for _, st := range hostStates {
			row.N = append(row.N, j.ByGroup[g.Name][st.Value])
		}
		p.GroupRows = append(p.GroupRows, row)
	}
	var bars []bar
	for _, c := range o.ByBuild {
		m := buildMeaning[c.Key]
		if m == "" {
			m = "not NT 6.0, or unknown"
		}
		p.Builds = append(p.Builds, buildRow{Build: c.Key, Meaning: m, N: c.N})
		bars = append(bars, bar{Label: c.Key, N: c.N, Href: "/hosts?build=" + c.Key + string(p.GroupQuery)})
	}
	p.BuildChart = barChart("Hosts by build", bars)
	p.LevelChart = barChart("Hosts by patch level (month)", monthBars(o.ByPatchLevel))
	s.render(w, http.StatusOK, "overview.tmpl", p)
}

func (s *Server) updatesPage(w http.ResponseWriter, r *http.Request, p page) {
	if !s.withGroup(w, r, &p, "/updates") {
		return
	}
	us, err := s.Fleet.Updates(r.Context(), p.GroupFilter.Group)
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Updates = "Updates", "updates", us
	s.render(w, http.StatusOK, "updates.tmpl", p)
}

func (s *Server) updatePage(w http.ResponseWriter, r *http.Request, p page) {
	kb := strings.ToUpper(r.PathValue("kb"))
	if !s.withGroup(w, r, &p, "/updates/"+kb) {
		return
	}
	d, err := s.updateDetail(r.Context(), kb, p.GroupFilter.Group)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, fmt.Sprintf("%s: no host of the fleet needs, may need, has or failed on it", kb), http.StatusNotFound)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Update = d.Update.KB, "updates", &d
	s.render(w, http.StatusOK, "update.tmpl", p)
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request, p page) {
	if !s.withGroup(w, r, &p, "/groups") {
		return
	}
	p.Title, p.Page = "Groups", "groups"
	s.render(w, http.StatusOK, "groups.tmpl", p)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p page) {
	if p.Role != RoleAdmin {
		http.Error(w, "the audit record is for admins", http.StatusForbidden)
		return
	}
	es, err := s.auditEntries(r)
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Audit = "Audit", "audit", es
	s.render(w, http.StatusOK, "audit.tmpl", p)
}

// monthBars is the patch-level histogram: hosts without a monthly update
// first, then every month from the oldest level to the newest, empty
// months included, so that the gaps show.
func monthBars(levels []store.Count) []bar {
	var out []bar
	var first, last time.Time
	n := map[string]int{}
	for _, c := range levels {
		if c.Key == "" {
			out = append(out, bar{Label: "none", N: c.N})
			continue
		}
		m, err := time.Parse("2006-01", c.Key)
		if err != nil {
			continue
		}
		n[c.Key] = c.N
		if first.IsZero() || m.Before(first) {
			first = m
		}
		if m.After(last) {
			last = m
		}
	}
	for m := first; !first.IsZero() && !m.After(last) && len(out) < 400; m = m.AddDate(0, 1, 0) {
		k := m.Format("2006-01")
		out = append(out, bar{Label: k, N: n[k]})
	}
	return out
}

var filterLabels = map[string]string{
	"no-sha2": "without SHA-2 support", "ssu-old": "behind on the servicing stack", "esu-unprepared": "without ESU preparation",
	"reboot-pending": "waiting for a restart", "exposed": "with open CVEs", "out-of-scope": "not NT 6.0",
	"stale": "no upload for 30 days", "exploited": "exposed to an exploited CVE", "critical-cves": "exposed to a critical CVE",
	"contradicted": "kit installs a later inventory lacks",
}

var listColumns = []struct {
	label, sort string
	num         bool
}{
	{"Host", "name", false}, {"Build", "build", true}, {"Revision", "revision", true}, {"Patch level", "patchLevel", false},
	{"Steps", "steps", true}, {"Findings", "findings", true}, {"Open CVEs", "cvesOpen", true}, {"Attention", "", false}, {"Updated (UTC)", "updated", false},
}

func (s *Server) hostsPage(w http.ResponseWriter, r *http.Request, p page) {
	q, err := query(r, s.Fleet.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q.Limit = pageSize
	hosts, total, err := s.Fleet.Store.Hosts(r.Context(), q)
	var qe *store.QueryError
	if errors.As(err, &qe) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Hosts, p.Total, p.Query = "Hosts", "hosts", hosts, total, q
	if !s.withGroup(w, r, &p, "/hosts") {
		return
	}
	p.StateOptions = hostStates
	p.From, p.To = q.Offset+1, q.Offset+len(hosts)
	if p.BuildOptions, err = s.Fleet.Store.Builds(r.Context()); err != nil {
		s.internal(w, err)
		return
	}
	for _, f := range store.Filters() {
		p.Filters = append(p.Filters, option{f, filterLabels[f]})
	}
	link := func(edit func(url.Values)) string {
		v := url.Values{}
		if q.Search != "" {
			v.Set("q", q.Search)
		}
		if q.Build != 0 {
			v.Set("build", strconv.Itoa(q.Build))
		}
		if q.Filter != "" {
			v.Set("filter", q.Filter)
		}
		if q.Group != "" {
			v.Set("group", q.Group)
		}
		if q.State != "" {
			v.Set("state", q.State)
		}
		if q.Sort != "" {
			v.Set("sort", q.Sort)
		}
		if q.Desc {
			v.Set("desc", "1")
		}
		edit(v)
		return "/hosts?" + v.Encode()
	}
	for _, c := range listColumns {
		col := column{Label: c.label, Num: c.num, Sorted: c.sort != "" && (q.Sort == c.sort || q.Sort == "" && c.sort == "name")}
		if c.sort != "" {
			col.Href = link(func(v url.Values) {
				v.Set("sort", c.sort)
				v.Del("desc")
				if col.Sorted && !q.Desc {
					v.Set("desc", "1")
				}
			})
		}
		p.Columns = append(p.Columns, col)
	}
	if q.Offset > 0 {
		p.Prev = link(func(v url.Values) { v.Set("offset", strconv.Itoa(max(q.Offset-pageSize, 0))) })
	}
	if q.Offset+len(hosts) < total {
		p.Next = link(func(v url.Values) { v.Set("offset", strconv.Itoa(q.Offset+pageSize)) })
	}
	p.ExportQuery = template.URL(strings.TrimPrefix(link(func(url.Values) {}), "/hosts?"))
	s.render(w, http.StatusOK, "hosts.tmpl", p)
}

func (s *Server) hostPage(w http.ResponseWriter, r *http.Request, p page) {
	d, err := s.hostDetail(r.Context(), r.PathValue("name"), false)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, fmt.Sprintf("no host %q in the fleet", r.PathValue("name")), http.StatusNotFound)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Title, p.Page, p.Detail = d.Host.Name, "host", &d
	runs, err := s.hostRuns(r.Context(), d.Host.Name)
	if err != nil {
		s.internal(w, err)
		return
	}
	p.Runs = &runs
	if p.HostGroups, err = s.Fleet.Store.HostGroups(r.Context(), d.Host.Name); err != nil {
		s.internal(w, err)
		return
	}
	s.render(w, http.StatusOK, "host.tmpl", p)
}

func (s *Server) exportPage(w http.ResponseWriter, r *http.Request, p page) {
	p.Title, p.Page = "Export", "export"
	s.render(w, http.StatusOK, "export.tmpl", p)
}

// MinPassword is the shortest password the server accepts.
const MinPassword = 12

// AddUser creates or replaces a web user with a bcrypt hash of password.
func AddUser(ctx context.Context, st *store.Store, name, role, password string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("user name %q: 1 to 64 characters, no spaces", name)
	}
	if role != RoleAdmin && role != RoleViewer {
		return fmt.Errorf("role %q: expected admin or viewer", role)
	}
	if len(password) < MinPassword || len(password) > 72 {
		return fmt.Errorf("password: %d to 72 characters (bcrypt reads no more)", MinPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return st.PutUser(ctx, store.User{Name: name, Role: role, Password: string(hash), Created: time.Now().UTC()})
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	var req struct{ Name, Role, Password string }
	if err := jsonDecoder(w, r, 4096).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "expected {\"name\": ..., \"role\": \"viewer\"|\"admin\", \"password\": ...}: %v", err)
		return
	}
	if err := AddUser(r.Context(), s.Fleet.Store, req.Name, req.Role, req.Password); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.audit(r, "user-add", req.Name, "role "+req.Role+"; any earlier password and sessions ended")
	writeJSON(w, http.StatusCreated, map[string]string{"name": req.Name, "role": req.Role})
}

// safeNext is where a login goes on: next when it is a path on this site
// (one leading slash, no backslash, no control character, no scheme or
// host), else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}
