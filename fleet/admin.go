package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
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

// EnsureAdminToken sets the admin token: fromEnv (KBPLAN_ADMIN_TOKEN) when
// given; else the one in DIR/admin-token; else a new one written there
// (mode 0600). It returns where the token came from, for the log.
func EnsureAdminToken(ctx context.Context, st *store.Store, dataDir, fromEnv string) (string, error) {
	tok, source := strings.TrimSpace(fromEnv), "KBPLAN_ADMIN_TOKEN"
	path := filepath.Join(dataDir, AdminTokenFile)
	if tok == "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			tok, source = strings.TrimSpace(string(b)), path
		case errors.Is(err, fs.ErrNotExist):
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
		return "", fmt.Errorf("the admin token from %s has %d characters; use at least 16 (a fresh one: delete %s and restart)", source, len(tok), path)
	}
	err := st.PutToken(ctx, store.Token{ID: AdminTokenID, Name: "admin", Role: RoleAdmin, Hash: HashToken(tok), Created: time.Now().UTC()})
	return source, err
}

func jsonDecoder(w http.ResponseWriter, r *http.Request, limit int64) *json.Decoder {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	return dec
}
