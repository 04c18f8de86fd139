package fleet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/kbplan/kbplan/report"
	"github.com/kbplan/kbplan/store"
)

// MaxUpload is the default bound of an upload body.
const MaxUpload = 32 << 20

// Server is the fleet's HTTP face: API, exports, metrics and web UI.
type Server struct {
	Fleet     *Fleet
	MaxUpload int64
	// Secure marks cookies Secure and sends HSTS (TLS here, or TLS ending
	// at a proxy in front: kbplan serve --tls-proxy).
	Secure bool
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// (kbplan serve --trusted-proxy): the client is then the last address
	// in it that is not a trusted proxy.
	TrustedProxies []netip.Prefix
	// ingests bounds the uploads read at once (each may hold MaxUpload of
	// body and input.MaxUnpacked of unpacked bundle); bcrypts the password
	// checks (each ~60 ms of one core).
	ingests, bcrypts chan struct{}
	// AdmitWait is how long a request waits for a slot before a 503.
	AdmitWait time.Duration
	metrics   *metrics
	mux       *http.ServeMux
	tokens    tokenCache
	logins    loginLimiter
}

// tokenTTL is how long a server trusts a token it looked up: uploads
// then cost one database round trip, not two. A revocation takes effect
// at once on the server that revokes, and within tokenTTL on the others
// sharing the database (docs/fleet.md).
const tokenTTL = 5 * time.Second

type cachedToken struct {
	tok     store.Token
	expires time.Time
}

// tokenCache maps a token's hash to its row, briefly.
type tokenCache struct{ m sync.Map }

func (c *tokenCache) get(hash string, now time.Time) (store.Token, bool) {
	v, ok := c.m.Load(hash)
	if !ok {
		return store.Token{}, false
	}
	ct := v.(cachedToken)
	if now.After(ct.expires) {
		c.m.Delete(hash)
		return store.Token{}, false
	}
	return ct.tok, true
}

func (c *tokenCache) put(t store.Token, now time.Time) {
	c.m.Store(t.Hash, cachedToken{tok: t, expires: now.Add(tokenTTL)})
}

func (c *tokenCache) forget(id string) {
	c.m.Range(func(k, v any) bool {
		if v.(cachedToken).tok.ID == id {
			c.m.Delete(k)
		}
		return true
	})
}

// NewServer builds the routes.
func NewServer(f *Fleet) *Server {
	s := &Server{Fleet: f, MaxUpload: MaxUpload, metrics: newMetrics(f.Store), mux: http.NewServeMux(),
		ingests: make(chan struct{}, 2*runtime.GOMAXPROCS(0)), bcrypts: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)), AdmitWait: 2 * time.Second}
	s.route("POST /api/v1/inventories", s.need(canWrite, s.postInventory))
	s.route("GET /api/v1/hosts", s.need(canRead, s.getHosts))
	s.route("GET /api/v1/hosts.csv", s.need(canRead, s.getHostsCSV))
	s.route("GET /api/v1/hosts/{name}", s.need(canRead, s.getHost))
	s.route("DELETE /api/v1/hosts/{name}", s.need(isAdmin, s.deleteHost))
	s.route("GET /api/v1/overview", s.need(canRead, s.getOverview))
	s.route("GET /api/v1/tokens", s.need(isAdmin, listAPI(s, (*store.Store).Tokens, TokensJSON)))
	s.route("POST /api/v1/tokens", s.need(isAdmin, s.postToken))
	s.route("DELETE /api/v1/tokens/{id}", s.need(isAdmin, s.deleteToken))
	s.route("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", s.metrics.handler())
	s.campaignRoutes()
	s.webRoutes()
	return s
}

func isAdmin(role string) bool { return role == RoleAdmin }

func (s *Server) route(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.metrics.instrument(pattern, h))
}

// ServeHTTP adds the security headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	if s.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

// apiError is every error the API returns.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// jsonDecoder reads a small JSON request body, refusing unknown fields.
func jsonDecoder(w http.ResponseWriter, r *http.Request, limit int64) *json.Decoder {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	return dec
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, args...)})
}

// caller is who made a request: a token's or a session's role.
type caller struct {
	role    string
	name    string // token id or user name
	token   store.Token
	session *store.Session
}

type callerKey struct{}

// HashToken is how tokens are kept: SHA-256, hex. Tokens are 256 random
// bits, so a fast hash is enough (no password to guess).
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a fresh random token.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "kbp_" + hex.EncodeToString(b)
}

// authenticate finds the caller: a bearer token, else a session cookie.
func (s *Server) authenticate(r *http.Request) (caller, bool) {
	ctx := r.Context()
	if a := r.Header.Get("Authorization"); a != "" {
		tok, ok := strings.CutPrefix(a, "Bearer ")
		if !ok || tok == "" {
			return caller{}, false
		}
		hash, now := HashToken(strings.TrimSpace(tok)), time.Now()
		t, ok := s.tokens.get(hash, now)
		if !ok {
			var err error
			if t, err = s.Fleet.Store.TokenByHash(ctx, hash); err != nil {
				return caller{}, false
			}
			s.tokens.put(t, now)
		}
		return caller{role: t.Role, name: t.ID, token: t}, true
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		se, role, err := s.Fleet.Store.Session(ctx, HashToken(c.Value), time.Now())
		if err == nil {
			return caller{role: role, name: se.User, session: &se}, true
		}
	}
	return caller{}, false
}

// need lets a request through when its caller's role passes allow: 401
// without credentials, 403 with too few rights. A session's write needs
// its CSRF token.
func (s *Server) need(allow func(string) bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kbplan"`)
			fail(w, http.StatusUnauthorized, "a valid token is required: Authorization: Bearer TOKEN (the admin token is in the data folder's admin-token file)")
			return
		}
		if !allow(c.role) {
			fail(w, http.StatusForbidden, "role %s may not %s %s", c.role, r.Method, r.URL.Path)
			return
		}
		if c.session != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(c.session.CSRF)) != 1 {
				fail(w, http.StatusForbidden, "missing or wrong X-CSRF-Token for a session request")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// upload is what the two upload endpoints (inventories, kit results)
// differ in: the name their metrics and logs go by, their size bound and
// the words of their answers.
type upload struct {
	name          string
	count         func(m *metrics, result string, start time.Time)
	limit         int64
	tooBig, empty string // the 413 (with the bound in MiB) and the empty body's 400
	failed        string // the 500
}

// stored is an upload's handler's report: whether the upload was new, the
// answer's body, and what the log line says of it.
type stored struct {
	created bool
	answer  any
	log     []any
}

// receive answers an upload: a slot first (the body is read only with
// one, so waiting uploads hold a connection, not memory), then the body
// within its bound, then store; the status and the metric follow from
// what store returns (an *UploadError is a 422, a *ScopeError a 403). A
// non-empty message from check, which runs first, is a 400.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, u upload, check func() string, store func(body []byte, o Origin) (stored, error)) {
	start := time.Now()
	count := func(result string) { u.count(s.metrics, result, start) }
	release, ok := s.admit(r.Context(), s.ingests)
	if !ok {
		count("busy")
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, "the server is reading %d uploads already: retry after 5 s", cap(s.ingests))
		return
	}
	defer release()
	body, err := s.uploadBody(w, r, u.limit)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		count("too-large")
		fail(w, http.StatusRequestEntityTooLarge, u.tooBig, u.limit>>20)
		return
	case err != nil:
		count("bad-request")
		fail(w, http.StatusBadRequest, "reading the upload: %v", err)
		return
	case len(body) == 0:
		count("bad-request")
		fail(w, http.StatusBadRequest, "%s", u.empty)
		return
	}
	if msg := check(); msg != "" {
		count("bad-request")
		fail(w, http.StatusBadRequest, "%s", msg)
		return
	}
	c, _ := r.Context().Value(callerKey{}).(caller)
	res, err := store(body, Origin{Token: c.token, Remote: s.clientIP(r)})
	var ue *UploadError
	var se *ScopeError
	switch {
	case errors.As(err, &se):
		count("forbidden")
		s.Fleet.Log.Warn(u.name+" refused: out of the token's scope", "token", c.token.ID, "remote", s.clientIP(r), "err", se)
		fail(w, http.StatusForbidden, "%v", se)
		return
	case errors.As(err, &ue):
		count("unreadable")
		fail(w, http.StatusUnprocessableEntity, "%v", ue)
		return
	case err != nil:
		count("error")
		s.Fleet.Log.Error(u.name, "err", err)
		fail(w, http.StatusInternalServerError, "%s", u.failed)
		return
	}
	code, result := http.StatusCreated, "created"
	if !res.created {
		code, result = http.StatusOK, "duplicate"
	}
	count(result)
	s.Fleet.Log.Info(u.name, append(res.log, "result", result)...)
	writeJSON(w, code, res.answer)
}

func (s *Server) postInventory(w http.ResponseWriter, r *http.Request) {
	u := upload{name: "ingest", count: (*metrics).ingest, limit: s.MaxUpload,
		tooBig: "upload over %d MiB: a collector bundle is far smaller; send one host per request",
		empty:  "empty upload: send a collector bundle (cab or zip) or an inventory (systeminfo, wmic, reg query ...) as the body",
		failed: "storing the upload failed; it was not kept: retry"}
	name := "upload"
	if n := r.URL.Query().Get("name"); n != "" && len(n) < 256 {
		name = n
	}
	groups := r.URL.Query()["group"]
	check := func() string {
		if len(groups) > 20 {
			return fmt.Sprintf("%d groups: at most 20 per upload", len(groups))
		}
		return ""
	}
	s.receive(w, r, u, check, func(body []byte, o Origin) (stored, error) {
		o.Groups = groups
		res, err := s.Fleet.IngestFrom(r.Context(), o, name, body)
		return stored{res.Created, res, []any{"host", res.Host, "snapshot", res.ID, "bytes", len(body)}}, err
	})
}

// csvExport starts a CSV download named file, with its header row.
func csvExport(w http.ResponseWriter, file string, columns []string) *report.CSVWriter {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	cw := report.NewCSVWriter(w)
	cw.Write(columns)
	return cw
}

// uploadBody reads the upload: the request body, or the first part of a
// multipart/form-data form (curl -F, .NET's WebClient.UploadFile).
func (s *Server) uploadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return io.ReadAll(r.Body)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	part, err := mr.NextPart()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer part.Close()
	return io.ReadAll(part)
}

// HostJSON is one row of GET /api/v1/hosts (docs/fleet.md).
type HostJSON struct {
	Name          string    `json:"hostname"`
	Site          string    `json:"site"`
	Product       string    `json:"product"`
	Architecture  string    `json:"architecture"`
	Build         int       `json:"build"`
	Revision      *int      `json:"revision"`   // null when no input gives it
	PatchLevel    *string   `json:"patchLevel"` // YYYY-MM; null without a monthly update
	Steps         int       `json:"steps"`
	Reboots       int       `json:"reboots"`
	Findings      int       `json:"findings"`
	Critical      int       `json:"criticalFindings"`
	SHA2          bool      `json:"sha2"`
	SSUCurrent    bool      `json:"ssuCurrent"`
	ESUPrepared   bool      `json:"esuPrepared"`
	RebootPending bool      `json:"rebootPending"`
	CVEsOpen      int       `json:"cvesOpen"`
	CVEsCritical  int       `json:"cvesCritical"`
	CVEsExploited int       `json:"cvesExploited"`
	InScope       bool      `json:"inScope"`
	State         string    `json:"state"`        // current, behind, restart, cannot-update, out-of-scope
	Contradicted  int       `json:"contradicted"` // kit installs a later inventory lacks
	Snapshot      int64     `json:"snapshot"`
	Updated       time.Time `json:"updated"`
}

func hostJSON(h store.Host) HostJSON {
	j := HostJSON{Name: h.Display, Site: h.Site, Product: h.Product, Architecture: h.Architecture, Build: h.Build,
		Steps: h.Steps, Reboots: h.Reboots, Findings: h.Findings, Critical: h.Critical, SHA2: h.SHA2, SSUCurrent: h.SSUCurrent, ESUPrepared: h.ESUPrepared,
		RebootPending: h.RebootPending, CVEsOpen: h.CVEsOpen, CVEsCritical: h.CVEsCritical, CVEsExploited: h.CVEsExploited, InScope: h.InScope,
		State: h.State, Contradicted: h.Contradicted, Snapshot: h.Snapshot, Updated: h.Updated}
	if h.Revision >= 0 {
		j.Revision = &h.Revision
	}
	if h.PatchLevel != "" {
		j.PatchLevel = &h.PatchLevel
	}
	return j
}

// query reads the host-list parameters: q, build, filter, sort, desc,
// limit, offset.
func query(r *http.Request, now time.Time) (store.Query, error) {
	v := r.URL.Query()
	q := store.Query{Now: now, Search: v.Get("q"), Filter: v.Get("filter"), Sort: v.Get("sort"), Desc: v.Get("desc") == "1" || v.Get("desc") == "true"}
	for _, p := range []struct {
		name string
		to   *int
	}{{"build", &q.Build}, {"limit", &q.Limit}, {"offset", &q.Offset}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, fmt.Errorf("%s=%q: expected a whole number", p.name, s)
			}
			*p.to = n
		}
	}
	if len(q.Search) > 255 {
		return q, fmt.Errorf("q: longer than a host name can be")
	}
	if q.Group = v.Get("group"); q.Group != "" {
		if err := CheckGroup(q.Group); err != nil {
			return q, err
		}
	}
	if q.State = v.Get("state"); q.State != "" && !slices.ContainsFunc(hostStates, func(o option) bool { return o.Value == q.State }) {
		return q, fmt.Errorf("state=%q: expected current, behind, restart, cannot-update or out-of-scope", q.State)
	}
	return q, nil
}

func (s *Server) getHosts(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, s.Fleet.Now())
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	hosts, total, err := s.Fleet.Store.Hosts(r.Context(), q)
	if s.queryFailed(w, err) {
		return
	}
	out := make([]HostJSON, len(hosts))
	for i, h := range hosts {
		out[i] = hostJSON(h)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	writeJSON(w, http.StatusOK, out)
}

// queryFailed answers a failed host query: 400 for the caller's mistake,
// 500 for the database's. It reports whether err was one.
func (s *Server) queryFailed(w http.ResponseWriter, err error) bool {
	var qe *store.QueryError
	switch {
	case err == nil:
		return false
	case errors.As(err, &qe):
		fail(w, http.StatusBadRequest, "%v", err)
	default:
		s.internal(w, err)
	}
	return true
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.Fleet.Log.Error("request", "err", err)
	fail(w, http.StatusInternalServerError, "internal error; the server log has it")
}

// CSVColumns are the columns of the hosts CSV export, in order.
var CSVColumns = []string{"hostname", "product", "architecture", "build", "revision", "patch_level", "steps", "reboots", "findings",
	"critical_findings", "sha2", "ssu_current", "esu_prepared", "reboot_pending", "cves_open", "cves_critical", "cves_exploited", "in_scope", "state", "contradicted", "snapshot", "updated"}

func (s *Server) getHostsCSV(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, s.Fleet.Now())
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	hosts, _, err := s.Fleet.Store.Hosts(r.Context(), q)
	if s.queryFailed(w, err) {
		return
	}
	cw := csvExport(w, "kbplan-hosts.csv", CSVColumns)
	b := strconv.FormatBool
	for _, h := range hosts {
		rev := ""
		if h.Revision >= 0 {
			rev = strconv.Itoa(h.Revision)
		}
		cw.Write([]string{h.Display, h.Product, h.Architecture, strconv.Itoa(h.Build), rev, h.PatchLevel,
			strconv.Itoa(h.Steps), strconv.Itoa(h.Reboots), strconv.Itoa(h.Findings), strconv.Itoa(h.Critical), b(h.SHA2), b(h.SSUCurrent),
			b(h.ESUPrepared), b(h.RebootPending), strconv.Itoa(h.CVEsOpen), strconv.Itoa(h.CVEsCritical), strconv.Itoa(h.CVEsExploited),
			b(h.InScope), h.State, strconv.Itoa(h.Contradicted), strconv.FormatInt(h.Snapshot, 10), h.Updated.Format(time.RFC3339)})
	}
	cw.Flush()
}

// HostDetailJSON is GET /api/v1/hosts/{name}: the summary row, the full
// assessment of the newest snapshot (docs/json.md), and the history.
type HostDetailJSON struct {
	Host       HostJSON              `json:"host"`
	Assessment report.AssessmentJSON `json:"assessment"`
	History    []SnapshotJSON        `json:"history"`
}

// SnapshotJSON is one upload of a host.
type SnapshotJSON struct {
	ID       int64     `json:"id"`
	Received time.Time `json:"received"`
	Format   string    `json:"format"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	// What the snapshot was assessed to when it arrived (null for
	// snapshots stored before schema 2).
	Build      *int    `json:"build"`
	Revision   *int    `json:"revision"`
	PatchLevel *string `json:"patchLevel"`
	Steps      *int    `json:"steps"`
	// Who sent it (schema 3; "" before): the token's id ("" for kbplan
	// fleet import) and the client's address.
	Token  string `json:"token"`
	Remote string `json:"remote"`
}

func (s *Server) hostDetail(ctx context.Context, name string, countsOnly bool) (HostDetailJSON, error) {
	row, a, err := s.Fleet.Current(ctx, name, countsOnly)
	if err != nil {
		return HostDetailJSON{}, err
	}
	hist, err := s.Fleet.Store.History(ctx, row.Name, 100)
	if err != nil {
		return HostDetailJSON{}, err
	}
	d := HostDetailJSON{Host: hostJSON(row), Assessment: report.Assessment(a), History: []SnapshotJSON{}}
	for _, h := range hist {
		d.History = append(d.History, SnapshotJSON{ID: h.ID, Received: h.Received, Format: h.Format, Size: h.Size, SHA256: h.Digest,
			Build: h.Build, Revision: h.Revision, PatchLevel: h.PatchLevel, Steps: h.Steps, Token: h.Token, Remote: h.Remote})
	}
	return d, nil
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	var countsOnly bool
	switch r.URL.Query().Get("exposure") {
	case "", "full":
	case "counts":
		countsOnly = true
	default:
		fail(w, http.StatusBadRequest, "exposure=%q: expected full (every CVE, the default) or counts", r.URL.Query().Get("exposure"))
		return
	}
	d, err := s.hostDetail(r.Context(), r.PathValue("name"), countsOnly)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no host %q in the fleet", r.PathValue("name"))
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deleteHost(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	n, err := s.Fleet.Store.DeleteHost(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no host %q in the fleet", name)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	c := r.Context().Value(callerKey{}).(caller)
	s.Fleet.Log.Info("host deleted", "host", name, "snapshots", n, "by", c.name)
	s.audit(r, "host-delete", name, fmt.Sprintf("%d snapshots", n))
	writeJSON(w, http.StatusOK, map[string]any{"host": name, "snapshotsDeleted": n})
}

// OverviewJSON is GET /api/v1/overview.
type OverviewJSON struct {
	Hosts         int            `json:"hosts"`
	InScope       int            `json:"inScope"`
	NoSHA2        int            `json:"noSha2"`
	SSUOld        int            `json:"ssuOld"`
	ESUUnprepared int            `json:"esuUnprepared"`
	RebootPending int            `json:"rebootPending"`
	Stale         int            `json:"stale"` // no upload for 30 days
	Exposed       int            `json:"exposedHosts"`
	Critical      int            `json:"criticalHosts"`     // hosts with an open critical CVE
	Exploited     int            `json:"exploitedHosts"`    // hosts with an open CVE known to be exploited
	Contradicted  int            `json:"contradictedHosts"` // hosts whose kit reported an install a later inventory lacks
	CVEsOpen      int            `json:"cvesOpen"`
	CVEsCritical  int            `json:"cvesCritical"`
	CVEsExploited int            `json:"cvesExploited"`
	ByBuild       map[string]int `json:"byBuild"`
	ByPatchLevel  map[string]int `json:"byPatchLevel"` // "" is hosts without a monthly update
	Group         string         `json:"group"`        // "": every host
	ByState       map[string]int `json:"byState"`      // current, behind, restart, cannot-update, out-of-scope
	Oldest        []HostJSON     `json:"oldest"`       // the in-scope hosts at the oldest patch levels
	TopUpdates    []UpdateJSON   `json:"topUpdates"`   // the updates needed by the most hosts
	// ByGroup is each group's hosts by state (every group, whatever the
	// filter).
	ByGroup map[string]map[string]int `json:"byGroup"`
}

// Overview is where the fleet (or a group) stands.
// It returns the store's overview too, whose buckets are in order.
func (f *Fleet) Overview(ctx context.Context, group string) (store.Overview, OverviewJSON, error) {
	o, err := f.Store.Overview(ctx, f.Now(), group)
	if err != nil {
		return o, OverviewJSON{}, err
	}
	j := overviewJSON(o)
	us, err := f.Updates(ctx, group)
	if err != nil {
		return o, j, err
	}
	for _, u := range us {
		if u.Needed == 0 || len(j.TopUpdates) == 10 {
			break
		}
		j.TopUpdates = append(j.TopUpdates, u)
	}
	gs, err := f.Store.GroupStates(ctx)
	if err != nil {
		return o, j, err
	}
	for _, g := range gs {
		if j.ByGroup[g.Group] == nil {
			j.ByGroup[g.Group] = map[string]int{}
		}
		j.ByGroup[g.Group][g.State] = g.N
	}
	return o, j, nil
}

func overviewJSON(o store.Overview) OverviewJSON {
	j := OverviewJSON{Hosts: o.Hosts, InScope: o.InScope, NoSHA2: o.NoSHA2, SSUOld: o.SSUOld, ESUUnprepared: o.ESUUnprepared,
		RebootPending: o.RebootPending, Stale: o.Stale, Exposed: o.Exposed, CVEsOpen: o.CVEsOpen, CVEsCritical: o.CVEsCritical, CVEsExploited: o.CVEsExploited,
		Critical: o.Critical, Exploited: o.Exploited, Contradicted: o.Contradicted, Group: o.Group,
		ByBuild: map[string]int{}, ByPatchLevel: map[string]int{}, ByState: map[string]int{}, Oldest: []HostJSON{}, TopUpdates: []UpdateJSON{},
		ByGroup: map[string]map[string]int{}}
	for _, c := range o.ByState {
		j.ByState[c.Key] = c.N
	}
	for _, h := range o.Oldest {
		j.Oldest = append(j.Oldest, hostJSON(h))
	}
	for _, c := range o.ByBuild {
		j.ByBuild[c.Key] = c.N
	}
	for _, c := range o.ByPatchLevel {
		j.ByPatchLevel[c.Key] = c.N
	}
	return j
}

func (s *Server) getOverview(w http.ResponseWriter, r *http.Request) {
	g, err := groupParam(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	_, j, err := s.Fleet.Overview(r.Context(), g)
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// TokenJSON is a token as the API shows it; Token only once, when made.
type TokenJSON struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Role    string     `json:"role"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked"`
	Site    string     `json:"site"`  // "": any site
	Hosts   string     `json:"hosts"` // host-name pattern; "": any
	Token   string     `json:"token,omitempty"`
}

func tokenJSON(t store.Token, secret string) TokenJSON {
	return TokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Created: t.Created, Revoked: t.Revoked, Site: t.Site, Hosts: t.Hosts, Token: secret}
}

// TokensJSON is tokens as the API and kbplan fleet token list --json show
// them (never the secret).
func TokensJSON(ts []store.Token) []TokenJSON {
	out := []TokenJSON{}
	for _, t := range ts {
		out = append(out, tokenJSON(t, ""))
	}
	return out
}

// listAPI answers a GET with a list the store keeps (groups, users,
// tokens), in the JSON form the API and kbplan fleet ... list --json share.
func listAPI[T, J any](s *Server, load func(*store.Store, context.Context) ([]T, error), show func([]T) []J) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := load(s.Fleet.Store, r.Context())
		if err != nil {
			s.internal(w, err)
			return
		}
		writeJSON(w, http.StatusOK, show(v))
	}
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name  string `json:"name"`
		Role  string `json:"role"`
		Site  string `json:"site"`
		Hosts string `json:"hosts"`
	}
	if err := jsonDecoder(w, r, 4096).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "expected {\"name\": \"...\", \"role\": \"enroll\", \"site\": \"...\", \"hosts\": \"PATTERN\"}: %v", err)
		return
	}
	if req.Role == "" {
		req.Role = RoleEnroll
	}
	if req.Role != RoleEnroll {
		fail(w, http.StatusBadRequest, "role %q: tokens made through the API are enrollment tokens (role enroll); the admin token is set with KBPLAN_ADMIN_TOKEN", req.Role)
		return
	}
	scope := Scope{Site: req.Site, Hosts: req.Hosts}
	if err := scope.check(req.Name); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	t, tok, err := AddEnrollToken(r.Context(), s.Fleet.Store, req.Name, scope)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.audit(r, "token-add", t.ID, fmt.Sprintf("name %q, site %q, hosts %q", t.Name, t.Site, t.Hosts))
	writeJSON(w, http.StatusCreated, tokenJSON(t, tok))
}

// Scope bounds what an enrollment token may write: the hosts of one site
// (hosts it creates join the site), and host names matching a pattern
// (path.Match syntax, case-insensitive: "PLANT-A-*"). Empty: no bound.
type Scope struct{ Site, Hosts string }

func (sc Scope) check(name string) error {
	if err := checkTokenName(name); err != nil {
		return err
	}
	if len(sc.Site) > 100 || strings.ContainsFunc(sc.Site, unicode.IsControl) {
		return fmt.Errorf("site: at most 100 characters, no control characters")
	}
	if _, err := path.Match(sc.Hosts, ""); err != nil || len(sc.Hosts) > 255 || strings.Contains(sc.Hosts, "/") {
		return fmt.Errorf("hosts: %q is not a host-name pattern (*, ?, [a-z]; no /)", sc.Hosts)
	}
	return nil
}

func checkTokenName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		return fmt.Errorf("token name: 1 to 100 characters, to tell the token apart (a site, a team)")
	}
	return nil
}

// AddEnrollToken makes an enrollment token named name; it returns the row
// and the token, which is never stored.
func AddEnrollToken(ctx context.Context, st *store.Store, name string, scope Scope) (store.Token, string, error) {
	if err := scope.check(name); err != nil {
		return store.Token{}, "", err
	}
	tok := NewToken()
	// The id is random on its own: no part of the secret is ever shown.
	id := make([]byte, 6)
	rand.Read(id)
	t := store.Token{ID: hex.EncodeToString(id), Name: name, Role: RoleEnroll, Hash: HashToken(tok), Created: time.Now().UTC(), Site: scope.Site, Hosts: scope.Hosts}
	return t, tok, st.AddToken(ctx, t)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == AdminTokenID {
		fail(w, http.StatusBadRequest, "the admin token is replaced, not revoked: restart the server with a new KBPLAN_ADMIN_TOKEN or delete the admin-token file")
		return
	}
	err := s.Fleet.Store.RevokeToken(r.Context(), id, time.Now())
	s.tokens.forget(id)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no valid token %q", id)
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	s.audit(r, "token-revoke", id, "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Fleet.Store.Ping(ctx); err != nil {
		fail(w, http.StatusServiceUnavailable, "database: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": s.Fleet.Store.Dialect})
}

// SetMaxIngests bounds the uploads read at once (default: two per core).
func (s *Server) SetMaxIngests(n int) { s.ingests = make(chan struct{}, max(1, n)) }

// admit takes a slot of sem, waiting up to admitWait; release gives it back.
func (s *Server) admit(ctx context.Context, sem chan struct{}) (release func(), ok bool) {
	t := time.NewTimer(s.AdmitWait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// clientIP is the request's client: the connection's address, or, from a
// trusted proxy, the last X-Forwarded-For address that is not one.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing before it
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
