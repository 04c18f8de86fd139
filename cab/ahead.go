package cab

// A folder's decoder can run ahead of its reader, on a goroutine of its
// own: the decoder then has a core to itself, and what the reader does
// with the bytes (E8 translation, copying them into a file's buffers,
// hashing them) runs beside it. Decoding itself cannot be split: every
// frame may refer to the frames before it.
//
// A folder's blocks are read the same way, ahead of its decoder. The
// frames live in the producer's own memory (LZX's window, MSZIP's ring of
// blocks, the ring of compressed payloads) until it reuses it. Every frame holds a credit from the start
// of its decoding until the reader is done with its bytes, so with no
// more credits than the decoder has places for frames, it never overwrites
// bytes still being read. Frames are handed over in batches of up to
// aheadBatch, one wake-up of the reader per batch, not per frame; a batch
// takes at most half the credits, so that the decoder fills the next one
// while the reader works through the last (and never waits for a credit
// the reader could only give back after a batch not yet sent).
type ahead[F any] struct {
	batches chan batch[F]
	credits chan struct{}
	batch   batch[F] // the batch being handed out
	next    int      // its next frame
	held    bool     // the frame last taken still holds its credit
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

const aheadBatch = 8

// A batch is frames decoded in a row and, after them, the error that
// ended decoding (io.EOF after the last frame), if it did.
type batch[F any] struct {
	frames [aheadBatch]F
	n      int
	err    error
}

// startAhead runs decode on a goroutine of its own, at most credits frames
// ahead of take (credits at least 1). decode returns the next frame, or
// the error that ends the stream (io.EOF after the last frame).
func startAhead[F any](credits int, decode func() (F, error)) *ahead[F] {
	size := max(1, min(aheadBatch, credits/2))
	a := &ahead[F]{batches: make(chan batch[F], credits/size+1), credits: make(chan struct{}, credits),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range credits {
		a.credits <- struct{}{}
	}
	go func() {
		defer close(a.done)
		var b batch[F]
		for {
			select {
			case <-a.credits:
			case <-a.stop:
				return
			}
			f, err := decode()
			if err == nil {
				b.frames[b.n] = f
				b.n++
			}
			if err != nil || b.n == size {
				b.err = err
				a.batches <- b // never blocks: each batch but the last holds size credits
				if err != nil {
					return
				}
				b = batch[F]{}
			}
		}
	}()
	return a
}

// take returns the next frame, or the error that ended decoding, once
// every frame before it was taken; the frame taken before is given back.
// After close it fails with errClosed.
func (a *ahead[F]) take() (F, error) {
	if a.closed {
		var zero F
		return zero, errClosed
	}
	a.release() // the reader is done with the previous frame
	if a.next == a.batch.n {
		if a.batch.err != nil {
			var zero F
			return zero, a.batch.err
		}
		a.batch, a.next = <-a.batches, 0
		if a.batch.n == 0 {
			var zero F
			return zero, a.batch.err
		}
	}
	f := a.batch.frames[a.next]
	a.next++
	a.held = true
	return f, nil
}

// release gives the frame last taken's credit back before the next take,
// once the reader has copied its bytes out (a no-op on a nil ahead, or
// when already given).
func (a *ahead[F]) release() {
	if a != nil && a.held {
		a.held = false
		a.credits <- struct{}{}
	}
}

// close stops the decoding goroutine and waits for it (a no-op on a nil
// ahead, or after the first).
func (a *ahead[F]) close() {
	if a != nil && !a.closed {
		a.closed = true
		close(a.stop)
		<-a.done
	}
}
