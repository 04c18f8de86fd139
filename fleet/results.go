package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/kbplan/kbplan/kit"
	"github.com/kbplan/kbplan/store"
)

// ResultIngested is what IngestResult made of a results upload.
type ResultIngested struct {
	Host    string `json:"host"`
	Kit     string `json:"kit"`
	ID      int64  `json:"id"`
	Created bool   `json:"created"` // false: the same upload was there already
	Status  string `json:"status"`
	Known   bool   `json:"knownHost"` // false: no inventory of the host yet
}

// IngestResult reads and stores a kit's results (install.state and the
// end of install.log, docs/kit.md): each step's outcome becomes the
// host's outcome for its KB, and a run waiting for a restart puts the
// host in the restart state. A document kbplan cannot read is an
// *UploadError; a host the token may not write a *ScopeError.
func (f *Fleet) IngestResult(ctx context.Context, o Origin, name string, body []byte) (ResultIngested, error) {
	res, err := kit.ParseResult(name, bytes.NewReader(body))
	if err != nil {
		return ResultIngested{}, &UploadError{Err: err}
	}
	if err := f.inScope(ctx, o.Token, res.Host); err != nil {
		return ResultIngested{}, err
	}
	sum := sha256.Sum256(body)
	key := Key(res.Host)
	run := store.Run{Host: key, Kit: res.Kit, Digest: hex.EncodeToString(sum[:]), Received: f.Now().UTC(), Token: o.Token.ID, Remote: o.Remote,
		Event: res.Event, Status: res.Status, Detail: res.Detail, Steps: res.Steps, Done: len(res.Outcomes), Boots: res.Boots, Body: body}
	outcomes := make([]store.Outcome, 0, len(res.Outcomes))
	seen := map[string]int{}
	for _, x := range res.Outcomes {
		if x.Outcome == kit.Failed {
			run.Failed++
		}
		// A KB twice in one kit (it should not be): its later step wins.
		if i, ok := seen[x.KB]; ok {
			outcomes[i] = store.Outcome{KB: x.KB, Outcome: x.Outcome, Code: x.Code}
			continue
		}
		seen[x.KB] = len(outcomes)
		outcomes = append(outcomes, store.Outcome{KB: x.KB, Outcome: x.Outcome, Code: x.Code})
	}
	state := ""
	known := true
	row, err := f.Store.Host(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		known = false
	case err != nil:
		return ResultIngested{}, err
	default:
		state = State(row.PlanState, &run, row.Updated)
	}
	id, created, err := f.Store.AddRun(ctx, run, outcomes, state)
	if err != nil {
		return ResultIngested{}, err
	}
	return ResultIngested{Host: res.Host, Kit: res.Kit, ID: id, Created: created, Status: res.Status, Known: known}, nil
}
