// Package budget bounds the work one input may cost. Every byte a decoder
// inflates for the input counts, whichever decoder it is (cabinet folders,
// zip members, the cabinet inside an .msu, gzip), skipped bytes included:
// a bomb is stopped by what it costs, not by what it claims. A budget also
// carries the context of the request or command the input belongs to, so
// that decoders stop when it is cancelled.
package budget

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
)

// Budget is the inflated bytes an input may still cost. A nil *Budget
// allows everything. It is safe for concurrent use.
type Budget struct {
	name  string
	limit int64
	left  atomic.Int64
	ctx   context.Context
}

// New returns a budget of limit bytes for the input called name (used in
// its error). ctx may be nil.
func New(ctx context.Context, name string, limit int64) *Budget {
	b := &Budget{name: name, limit: limit, ctx: ctx}
	b.left.Store(limit)
	return b
}

// ExceededError says an input cost more than its budget.
type ExceededError struct {
	Name  string
	Limit int64
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("%s inflates to more than %s: refused as a decompression bomb (or an input too large for kbplan)", e.Name, size(e.Limit))
}

func size(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Spend takes n bytes from the budget. It fails when the budget is spent
// or the context is done; after a failure every later call fails too.
func (b *Budget) Spend(n int) error {
	if b == nil {
		return nil
	}
	if b.ctx != nil {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	if b.left.Add(-int64(n)) < 0 {
		return &ExceededError{Name: b.name, Limit: b.limit}
	}
	return nil
}

// Left is what remains (the limit when b is nil is unbounded: -1).
func (b *Budget) Left() int64 {
	if b == nil {
		return -1
	}
	return max(b.left.Load(), 0)
}

// Reader counts every byte read from r against b.
func (b *Budget) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{r: r, b: b}
}

type reader struct {
	r io.Reader
	b *Budget
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		if serr := r.b.Spend(n); serr != nil {
			return n, serr
		}
	}
	return n, err
}
