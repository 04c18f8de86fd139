package report

import (
	"html/template"
	"io"
	"sync"

	"github.com/kbplan/kbplan/assess"
)

// page is parsed on first use: at package start it would cost every
// kbplan command its parse time.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"deref": func(s *string) string {
			if s == nil {
				return "unknown"
			}
			return *s
		},
	}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>kbplan report{{if eq (len .Hosts) 1}}: {{deref (index .Hosts 0).Host.Hostname}}{{end}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1a1a1a;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}.critical{color:#9b0000;font-weight:600}.warning{color:#7a4b00}.info{color:#333}
h2{margin-top:2.5rem;border-bottom:2px solid #ddd}.small{font-size:.9em;color:#555}
</style></head><body>
<h1>kbplan report</h1>
<p class="small">As of {{.AsOf}}. {{len .Hosts}} host(s). Every step explains itself; every finding names the fact it rests on.</p>
{{if gt (len .Hosts) 1}}
<table><caption>Summary</caption><thead><tr><th scope="col">Host</th><th scope="col">OS</th><th scope="col">Build</th><th scope="col">Patched as of</th><th scope="col">Steps</th><th scope="col">Restarts</th><th scope="col">Findings</th></tr></thead><tbody>
{{range .Hosts}}<tr><td><a href="#{{deref .Host.Hostname}}">{{deref .Host.Hostname}}</a></td><td>{{deref .Host.OS.Release}}</td><td>{{with .Host.OS.Build}}{{.}}{{end}}</td><td>{{deref .PatchLevel}}</td><td>{{len .Plan.Steps}}</td><td>{{.Plan.Reboots}}</td><td>{{len .Findings}}</td></tr>
{{end}}</tbody></table>{{end}}
{{range .Hosts}}
<h2 id="{{deref .Host.Hostname}}">{{deref .Host.Hostname}}: {{deref .Host.OS.Release}} {{deref .Host.OS.Edition}} {{deref .Host.OS.Architecture}}</h2>
<p>Version {{deref .Host.OS.Version}}. Patched as of {{deref .PatchLevel}}. {{.Lifecycle.Message}}</p>
{{if .Findings}}<h3>Findings</h3><ul>{{range .Findings}}<li class="{{.Severity}}"><strong>{{.Severity}}</strong>: {{.Message}} <span class="small">({{.Fact}})</span></li>{{end}}</ul>{{end}}
{{if .InScope}}<h3>Plan ({{.Plan.Strategy}} strategy, {{.Plan.Channel}} channel): {{len .Plan.Steps}} steps, {{.Plan.Reboots}} restarts{{with .Plan.PossibleReboots}} known, up to {{.}} more possible{{end}}</h3>
<table><thead><tr><th scope="col">#</th><th scope="col">KB</th><th scope="col">Kind</th><th scope="col">Why</th><th scope="col">Restart after</th></tr></thead><tbody>
{{range $s := .Plan.Steps}}<tr><td>{{$s.N}}</td><td>{{$s.KB}}</td><td>{{$s.Kind}}</td><td>{{$s.Why}}</td><td>{{if $s.RebootAfter}}yes{{else if eq $s.Restart "unknown"}}may{{end}}</td></tr>
{{end}}</tbody></table>
{{range .Plan.Unavailable}}<p class="small">Not planned: {{.KB}}: {{.Why}}</p>{{end}}
{{with .Plan.Conditional}}<p class="small">Conditional, not planned: {{len .}} updates for components nothing read from this host shows (IE 8/9, .NET 3.5/4.x, ...); the JSON says how to check each, <code>--assume</code> plans them.</p>{{end}}
{{with .Plan.Unconfirmed}}<p class="small">Unconfirmed, not planned: {{len .}} pre-rollup updates that only MSRC lists; <code>--unconfirmed</code> plans them.</p>{{end}}{{end}}
{{end}}
</body></html>
`))
})

// WriteHTML writes one self-contained page: a host, or a batch summary
// followed by every host.
func WriteHTML(w io.Writer, as []assess.Assessment, asOf string) error {
	data := struct {
		AsOf  string
		Hosts []AssessmentJSON
	}{AsOf: asOf}
	for _, a := range as {
		data.Hosts = append(data.Hosts, Assessment(a))
	}
	return page().Execute(w, data)
}
