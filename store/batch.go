package store

import (
	"context"
	"database/sql"
	"errors"
)

// On SQLite, uploads are written in shared transactions (group commit):
// while one transaction is being written, the uploads that arrive wait,
// and the next transaction writes all of them (up to maxBatch), with one
// commit. SQLite has one writer at a time anyway, and a commit writes to
// its log every page the transaction touched, the summary rows that every
// upload touches among them: shared, under load, by the batch; alone, an
// upload is written in a transaction of its own, as before. Each upload's
// writes run in the order the uploads came, and each sees the ones before
// it, as one after another would. PostgreSQL writes uploads concurrently,
// each in its own transaction, and groups concurrent commits' log
// flushes itself: one writer there made ingest slower (BENCHMARKS.md,
// "Group commit"), so it has none.
//
// Where any upload of a batch fails, or the commit does, the transaction
// is rolled back (and the profile cache forgotten, as after any rollback:
// a profile one upload of the batch made and another found was never
// committed), and each upload is written again in a transaction of its
// own, so that one bad upload fails alone.
type writeReq struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

// maxBatch bounds the uploads of one transaction (and the queue).
const maxBatch = 64

var errClosed = errors.New("the store is closed")

// startWriter starts the goroutine that writes batched transactions
// (SQLite only).
func (s *Store) startWriter() {
	if s.Dialect != "sqlite" {
		return
	}
	s.writes = make(chan writeReq, maxBatch)
	s.quit = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writer()
}

// batched runs fn in a transaction that may be shared with other
// uploads' (fn must do nothing but write through tx, and may be run twice:
// a second time alone if the shared transaction rolls back).
func (s *Store) batched(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writes == nil {
		return s.tx(ctx, fn)
	}
	r := writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return errClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-s.writerDone:
		// Sent as the store closed, after the writer's last look at the
		// queue: unless it was written after all, it never will be.
		select {
		case err := <-r.done:
			return err
		default:
			return errClosed
		}
	}
}

func (s *Store) writer() {
	defer close(s.writerDone)
	for {
		var batch []writeReq
		select {
		case r := <-s.writes:
			batch = append(batch, r)
		case <-s.quit:
			// Whatever was queued before the close is written.
			for {
				select {
				case r := <-s.writes:
					s.write([]writeReq{r})
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.write(batch)
	}
}

// write writes a batch: in one transaction, or, when that fails, each in
// its own.
func (s *Store) write(batch []writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // gone before its turn: nothing written
			continue
		}
		live = append(live, r)
	}
	if len(live) > 1 {
		if s.shared(live) == nil {
			for _, r := range live {
				r.done <- nil
			}
			return
		}
		s.sharedFailed.Add(1)
	}
	for _, r := range live {
		r.done <- s.tx(r.ctx, r.fn)
	}
}

// shared writes the batch in one transaction (Store.tx), committed only
// if every upload's writes succeeded.
func (s *Store) shared(batch []writeReq) error {
	s.sharedN.Add(1)
	return s.tx(context.Background(), func(tx *sql.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
}
