// Package lazyre holds regular expressions that compile on first use. A
// package-level regexp.MustCompile runs at every start of the binary,
// whichever command runs: the readers' and the kit's expressions took about
// a third of a one-host analyze before they were made lazy.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled the first time it is used. An
// invalid expression would panic then, as regexp.MustCompile would at
// start: every expression New made is listed, and cmd/kbplan's
// TestExpressionsCompile compiles them all (Check), which is what
// MustCompile at start used to prove.
type Regexp struct {
	expr string
	re   func() *regexp.Regexp
}

var (
	mu  sync.Mutex
	all []string
)

// New returns the expression, not compiled yet.
func New(expr string) *Regexp {
	mu.Lock()
	all = append(all, expr)
	mu.Unlock()
	return &Regexp{expr: expr, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// Check compiles every expression New has made so far (those of every
// package initialised): the errors, and how many it compiled.
func Check() (n int, errs []error) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range all {
		if _, err := regexp.Compile(e); err != nil {
			errs = append(errs, err)
		}
	}
	return len(all), errs
}

// Regexp returns the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.re() }

// String returns the source text.
func (r *Regexp) String() string { return r.expr }

// MatchString is regexp.Regexp.MatchString.
func (r *Regexp) MatchString(s string) bool { return r.re().MatchString(s) }

// FindString is regexp.Regexp.FindString.
func (r *Regexp) FindString(s string) string { return r.re().FindString(s) }

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.re().FindAllStringSubmatch(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (r *Regexp) ReplaceAllString(src, repl string) string { return r.re().ReplaceAllString(src, repl) }
