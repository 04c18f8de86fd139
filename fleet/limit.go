package fleet

import (
	"sync"
	"time"
)

// Failed logins: after loginFailures wrong passwords for one user name from
// one address within loginWindow, that pair is refused (429) until the
// window has passed. Keyed by both, so that nobody can lock a known user
// out from elsewhere (behind a proxy, the client address comes from
// X-Forwarded-For: kbplan serve --trusted-proxy). Each server counts for itself: with N servers an
// attacker gets N times the tries, still a handful per quarter hour.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
)

type loginLimiter struct {
	mu   sync.Mutex
	fail map[string][]time.Time
}

func loginKey(client, user string) string { return client + "\x00" + user }

// reserve counts an attempt before the password is checked, so that
// parallel guesses cannot all pass the check before any is counted; a
// success takes it back (succeeded). It reports whether the key may try,
// and else until when it may not.
func (l *loginLimiter) reserve(key string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.prune(key, now)
	if len(recent) >= loginFailures {
		return false, recent[0].Add(loginWindow)
	}
	if l.fail == nil {
		l.fail = map[string][]time.Time{}
	}
	l.fail[key] = append(recent, now)
	// Bound the map: forget keys whose failures have all expired.
	if len(l.fail) > 10000 {
		for k := range l.fail {
			if len(l.prune(k, now)) == 0 {
				delete(l.fail, k)
			}
		}
	}
	return true, time.Time{}
}

func (l *loginLimiter) succeeded(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fail, key)
}

// prune drops failures older than the window; l.mu is held.
func (l *loginLimiter) prune(key string, now time.Time) []time.Time {
	ts := l.fail[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > loginWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fail, key)
		return nil
	}
	l.fail[key] = ts
	return ts
}
