package fleet

import (
	"fmt"
	"html/template"
	"strings"
)

// bar is one bar of a chart.
type bar struct {
	Label string
	N     int
	Href  string
}

// barChart draws a vertical bar chart as inline SVG, on the server: no
// script, no CDN, readable by a screen reader (a title, and each bar's
// label and count as text).
func barChart(title string, bars []bar) template.HTML {
	if len(bars) == 0 {
		return template.HTML("<p>No hosts yet.</p>")
	}
	const h, top, bottom, left = 180, 16, 52, 30
	barW, gap := 28, 6
	if len(bars) > 40 {
		barW, gap = 12, 2
	}
	w := left*2 + len(bars)*(barW+gap)
	maxN := 1
	for _, b := range bars {
		maxN = max(maxN, b.N)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		template.HTMLEscapeString(title), w, h+top+bottom, w, h+top+bottom, template.HTMLEscapeString(title))
	for i, b := range bars {
		x := left + i*(barW+gap)
		bh := b.N * h / maxN
		if b.N > 0 && bh == 0 {
			bh = 1
		}
		y := top + h - bh
		label := template.HTMLEscapeString(b.Label)
		rect := fmt.Sprintf(`<rect class="bar" x="%d" y="%d" width="%d" height="%d"><title>%s: %d hosts</title></rect>`, x, y, barW, bh, label, b.N)
		if b.Href != "" {
			rect = fmt.Sprintf(`<a href="%s">%s</a>`, template.HTMLEscapeString(b.Href), rect)
		}
		sb.WriteString(rect)
		if len(bars) <= 40 {
			fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle">%d</text>`, x+barW/2, y-3, b.N)
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" transform="rotate(-60 %d %d)">%s</text>`, x+barW/2, top+h+12, x+barW/2, top+h+12, label)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
