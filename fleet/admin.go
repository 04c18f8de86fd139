package fleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbplan/kbplan/store"
)

// AdminTokenID is the admin token's id in the store.
const AdminTokenID = "admin"

// AdminTokenFile is the admin token's file in the data folder.
const AdminTokenFile = "admin-token"

// ErrAdminTokenExists is EnsureAdminToken refusing to replace the admin
// token another server (or an earlier data folder) set in the database.
var ErrAdminTokenExists = errors.New("the database already has an admin token, set by another server or an earlier data folder: start this server with KBPLAN_ADMIN_TOKEN set to that token (servers sharing a database share it), or with --reset-admin-token to replace it")

// EnsureAdminToken sets the admin token: fromEnv (KBPLAN_ADMIN_TOKEN) when
// given; else the one in DIR/admin-token; else a new one written there
// (mode 0600), unless the database holds one already and reset is false.
// It returns where the token came from, for the log.
func EnsureAdminToken(ctx context.Context, st *store.Store, dataDir, fromEnv string, reset bool) (string, error) {
	tok, source := strings.TrimSpace(fromEnv), "KBPLAN_ADMIN_TOKEN"
	path := filepath.Join(dataDir, AdminTokenFile)
	if tok == "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil && !reset:
			tok, source = strings.TrimSpace(string(b)), path
		case err == nil || errors.Is(err, fs.ErrNotExist):
			if !reset && adminTokenSet(ctx, st) {
				return "", ErrAdminTokenExists
			}
			tok, source = NewToken(), path+" (new)"
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return "", err
			}
			if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("writing the admin token: %w", err)
			}
		default:
			return "", fmt.Errorf("reading the admin token: %w", err)
		}
	}
	if err := strongToken(tok); err != nil {
		return "", fmt.Errorf("the admin token from %s: %w (a fresh one: --reset-admin-token)", source, err)
	}
	// A token that differs from the database's replaces it only when
	// asked: an old data folder, or a second server with a folder of its
	// own, must not take the fleet's admin token away from the others.
	if old, ok := adminToken(ctx, st); ok && old.Hash != HashToken(tok) && !reset {
		return "", fmt.Errorf("the admin token from %s differs from the one in the database (set by another server or an earlier data folder): start with KBPLAN_ADMIN_TOKEN set to the database's token, or with --reset-admin-token to replace it", source)
	}
	err := st.PutToken(ctx, store.Token{ID: AdminTokenID, Name: "admin", Role: RoleAdmin, Hash: HashToken(tok), Created: time.Now().UTC()})
	return source, err
}

// MinTokenBits is the least estimated entropy an admin token may have.
const MinTokenBits = 96

// strongToken refuses a token that is short or guessable: at least 24
// characters and MinTokenBits by the Shannon estimate of its characters
// (a token from kbplan has 256 bits; "password1234password1234" has 79).
func strongToken(tok string) error {
	if len(tok) < 24 {
		return fmt.Errorf("%d characters; use at least 24", len(tok))
	}
	count := map[rune]int{}
	n := 0
	for _, r := range tok {
		count[r]++
		n++
	}
	bits := 0.0
	for _, c := range count {
		p := float64(c) / float64(n)
		bits -= float64(n) * p * math.Log2(p)
	}
	if bits < MinTokenBits {
		return fmt.Errorf("about %.0f bits of entropy, fewer than %d: it can be guessed; use a random one (kbplan makes one)", bits, MinTokenBits)
	}
	return nil
}

// adminToken is the database's valid admin token.
func adminToken(ctx context.Context, st *store.Store) (store.Token, bool) {
	ts, err := st.Tokens(ctx)
	if err != nil {
		return store.Token{}, false
	}
	for _, t := range ts {
		if t.ID == AdminTokenID && t.Revoked == nil {
			return t, true
		}
	}
	return store.Token{}, false
}

func adminTokenSet(ctx context.Context, st *store.Store) bool {
	_, ok := adminToken(ctx, st)
	return ok
}
