package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Token is an API token, kept only as its SHA-256.
type Token struct {
	ID      string
	Name    string
	Role    string // "admin" or "enroll"
	Hash    string
	Created time.Time
	Revoked *time.Time
	// Site and Hosts bound what an enrollment token may write: hosts of
	// that site only (new hosts join it), and only host names matching the
	// pattern (path.Match, case-insensitive). Empty: no bound.
	Site, Hosts string
}

// AddToken stores a token.
func (s *Store) AddToken(ctx context.Context, t Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (id, name, role, hash, created, site, hosts) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, t.Role, t.Hash, ms(t.Created), t.Site, t.Hosts)
	return err
}

// PutToken stores a token under a fixed id, replacing the one there (the
// admin token, which KBPLAN_ADMIN_TOKEN or the admin-token file sets).
func (s *Store) PutToken(ctx context.Context, t Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (id, name, role, hash, created) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, hash = excluded.hash, revoked = NULL`,
		t.ID, t.Name, t.Role, t.Hash, ms(t.Created))
	return err
}

func scanToken(r scanner) (Token, error) {
	var t Token
	var created int64
	var revoked sql.NullInt64
	err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created, &revoked, &t.Site, &t.Hosts)
	t.Created = fromMS(created)
	if revoked.Valid {
		r := fromMS(revoked.Int64)
		t.Revoked = &r
	}
	return t, err
}

// TokenByHash finds a valid (unrevoked) token.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT id, name, role, hash, created, revoked, site, hosts FROM tokens WHERE hash = $1 AND revoked IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	return t, err
}

// Tokens lists every token, revoked ones too.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	return collect(ctx, s.db, scanToken, `SELECT id, name, role, hash, created, revoked, site, hosts FROM tokens ORDER BY created, id`)
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	r, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL`, ms(at), id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// User is a web login.
type User struct {
	Name     string
	Role     string // "admin" or "viewer"
	Password string // bcrypt hash
	Created  time.Time
}

// PutUser creates or replaces a user. Replacing one (a new password or
// role) ends the user's sessions.
func (s *Store) PutUser(ctx context.Context, u User) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE username = $1`, u.Name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET role = excluded.role, password = excluded.password`, u.Name, u.Role, u.Password, ms(u.Created))
		return err
	})
}

// DeleteUser removes a user and ends the user's sessions.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE username = $1`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Users lists every user, by name (passwords are not read).
func (s *Store) Users(ctx context.Context) ([]User, error) {
	return collect(ctx, s.db, func(r scanner) (User, error) {
		var u User
		var created int64
		err := r.Scan(&u.Name, &u.Role, &created)
		u.Created = fromMS(created)
		return u, err
	}, `SELECT name, role, created FROM users ORDER BY name`)
}

// User finds a user.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	var u User
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT name, role, password, created FROM users WHERE name = $1`, name).Scan(&u.Name, &u.Role, &u.Password, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	u.Created = fromMS(created)
	return u, err
}

// Session is a web login session, kept as the SHA-256 of its cookie.
type Session struct {
	Hash    string
	User    string
	CSRF    string
	Expires time.Time
}

// AddSession stores a session.
func (s *Store) AddSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (hash, username, csrf, expires) VALUES ($1, $2, $3, $4)`, se.Hash, se.User, se.CSRF, ms(se.Expires))
	return err
}

// Session finds an unexpired session and its user's role.
func (s *Store) Session(ctx context.Context, hash string, now time.Time) (Session, string, error) {
	var se Session
	var expires int64
	var role string
	err := s.db.QueryRowContext(ctx, `SELECT s.hash, s.username, s.csrf, s.expires, u.role FROM sessions s JOIN users u ON u.name = s.username
		WHERE s.hash = $1 AND s.expires > $2`, hash, ms(now)).Scan(&se.Hash, &se.User, &se.CSRF, &expires, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, "", ErrNotFound
	}
	se.Expires = fromMS(expires)
	return se, role, err
}

// DeleteSession ends a session; it also drops every expired one.
func (s *Store) DeleteSession(ctx context.Context, hash string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1 OR expires <= $2`, hash, ms(now))
	return err
}
