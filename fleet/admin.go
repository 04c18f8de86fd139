package fleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	if len(tok) < 16 {
		return "", fmt.Errorf("the admin token from %s has %d characters; use at least 16 (a fresh one: --reset-admin-token)", source, len(tok))
	}
	err := st.PutToken(ctx, store.Token{ID: AdminTokenID, Name: "admin", Role: RoleAdmin, Hash: HashToken(tok), Created: time.Now().UTC()})
	return source, err
}

func adminTokenSet(ctx context.Context, st *store.Store) bool {
	ts, err := st.Tokens(ctx)
	if err != nil {
		return false
	}
	for _, t := range ts {
		if t.ID == AdminTokenID && t.Revoked == nil {
			return true
		}
	}
	return false
}
