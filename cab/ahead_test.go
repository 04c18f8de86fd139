package cab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestAhead holds ahead to its rule: a decoder writing frame j into place
// j mod places of its own memory, with as many credits as places, never
// overwrites a frame the reader still holds; every frame is handed over,
// in order, and then the error that ended decoding; close stops the
// decoder wherever it is. The reader checks each frame's bytes when it
// takes it and again just before the next take (when it still holds it),
// at paces that let the decoder run ahead as far as it may.
func TestAhead(t *testing.T) {
	for _, tc := range []struct {
		places, frames int
		end            error
	}{
		{1, 5, io.EOF},
		{2, 17, io.EOF},
		{3, 40, io.EOF},
		{16, 200, io.EOF},
		{63, 1000, io.EOF},
		{16, 37, errors.New("damaged")}, // ends inside a batch
		{16, 32, errors.New("damaged")}, // ends on a batch's edge
		{4, 0, io.EOF},
	} {
		t.Run(fmt.Sprintf("%d-places-%d-frames-%v", tc.places, tc.frames, tc.end), func(t *testing.T) {
			mem := make([][]int, tc.places)
			for i := range mem {
				mem[i] = make([]int, 64)
			}
			j := 0
			decode := func() ([]int, error) {
				if j == tc.frames {
					return nil, tc.end
				}
				f := mem[j%tc.places]
				for i := range f {
					f[i] = j
				}
				j++
				if j%7 == 0 {
					runtime.Gosched() // let the reader catch up now and then
				}
				return f, nil
			}
			a := startAhead(tc.places, decode)
			defer a.close()
			done := make(chan struct{})
			var got int
			var err error
			go func() {
				defer close(done)
				var last []int
				for {
					var f []int
					if last != nil && !all(last, got-1) {
						err = fmt.Errorf("frame %d overwritten while held", got-1)
						return
					}
					f, err = a.take()
					if err != nil {
						return
					}
					if !all(f, got) {
						err = fmt.Errorf("frame %d handed over holds %d", got, f[0])
						return
					}
					got++
					last = f
					if got%3 == 0 {
						time.Sleep(10 * time.Microsecond) // a slow reader: the decoder runs ahead
					}
				}
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the reader waits for ever: a credit was not given back or a batch not sent")
			}
			if err != tc.end || got != tc.frames {
				t.Errorf("%d frames, then %v; want %d, then %v", got, err, tc.frames, tc.end)
			}
			// After the end, the end again.
			if _, err := a.take(); err != tc.end {
				t.Errorf("take after the end: %v, want %v", err, tc.end)
			}
		})
	}
}

func all(f []int, j int) bool {
	for _, v := range f {
		if v != j {
			return false
		}
	}
	return true
}

// TestAheadClose: closing stops a decoder that waits for a credit, a take
// after it fails, and a second close does nothing.
func TestAheadClose(t *testing.T) {
	n := 0
	a := startAhead(4, func() (int, error) { n++; return n, nil })
	if f, err := a.take(); err != nil || f != 1 {
		t.Fatalf("take: %d, %v", f, err)
	}
	a.close()
	select {
	case <-a.done:
	default:
		t.Fatal("the decoder still runs after close")
	}
	a.close()
	if _, err := a.take(); !errors.Is(err, errClosed) {
		t.Errorf("take after close: %v, want %v", err, errClosed)
	}
	if n > 5 {
		t.Errorf("%d frames decoded with 4 credits", n)
	}
}

// TestMSZIPCabSeed: the fuzz seed mszipCab writes is a valid MSZIP folder
// long enough to be inflated ahead (so the fuzzer starts from that path).
func TestMSZIPCabSeed(t *testing.T) {
	want := testData("text", mszipAheadBlocks*maxFrame+5000, 5)
	c := open(t, mszipCab("m", want))
	var m *mszipReader
	var got []byte
	err := c.Walk(func(f *File, r io.Reader) error {
		m = r.(*fileReader).src.(*mszipReader)
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Walk: %v, %d bytes of %d", err, len(got), len(want))
	}
	if m.ahead == nil {
		t.Error("not inflated ahead")
	}
}

// TestReadAfterClose: a file reader closed early refuses further reads,
// whatever its folder's compression, with its blocks read ahead or not
// (a closed read-ahead must not leave the next read waiting for ever).
func TestReadAfterClose(t *testing.T) {
	long := testData("text", 40*maxFrame, 7)
	var blocks [][]byte
	var sizes []int
	for off := 0; off < len(long); off += maxFrame {
		b := long[off:min(off+maxFrame, len(long))]
		blocks, sizes = append(blocks, b), append(sizes, len(b))
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"stored", writeCab(None, blocks, sizes, []string{"f"}, []int{len(long)})},
		{"stored-short", writeCab(None, blocks[:2], sizes[:2], []string{"f"}, []int{2 * maxFrame})},
		{"mszip", mszipCab("f", long)},
		{"lzx", lzxCab(21, 0, []int{blockVerbatim}, 2, []string{"f"}, [][]byte{long})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := open(t, tc.data).Files[0].Open()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			done := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(rc)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, errClosed) {
					t.Errorf("a read after Close: %v, want %v", err, errClosed)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a read after Close waits for ever")
			}
		})
	}
}
