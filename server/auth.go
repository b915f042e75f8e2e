package server

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Tokens is a set of bearer tokens kept only as SHA-256 hashes.
type Tokens struct{ hashes [][sha256.Size]byte }

// minTokenLen is the shortest token accepted, so a typo cannot leave an API guessable.
const minTokenLen = 16

// LoadTokens reads tokens from file (one a line; blank lines and # comments skipped) and from
// env (comma-separated). Either may be empty.
func LoadTokens(file, env string) (*Tokens, error) {
	t := &Tokens{}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("tokens file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			tok := strings.TrimSpace(sc.Text())
			if tok == "" || strings.HasPrefix(tok, "#") {
				continue
			}
			if err := t.add(tok); err != nil {
				return nil, fmt.Errorf("tokens file %s:%d: %w", file, line, err)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("tokens file: %w", err)
		}
	}
	for i, tok := range strings.Split(env, ",") {
		if tok = strings.TrimSpace(tok); tok == "" {
			continue
		}
		if err := t.add(tok); err != nil {
			return nil, fmt.Errorf("BINGLI_TOKENS entry %d: %w", i+1, err)
		}
	}
	return t, nil
}

func (t *Tokens) add(tok string) error {
	if len(tok) < minTokenLen {
		return fmt.Errorf("token shorter than %d characters", minTokenLen)
	}
	t.hashes = append(t.hashes, sha256.Sum256([]byte(tok)))
	return nil
}

// Len returns how many tokens are configured.
func (t *Tokens) Len() int { return len(t.hashes) }

// match returns the presented token's fingerprint (the first 8 hex digits of its hash) when
// it is one of the set. Every stored hash is compared, in constant time.
func (t *Tokens) match(tok string) (string, bool) {
	h := sha256.Sum256([]byte(tok))
	found := 0
	for i := range t.hashes {
		found |= subtle.ConstantTimeCompare(h[:], t.hashes[i][:])
	}
	return hex.EncodeToString(h[:4]), found == 1
}

// principalKey is the echo context key of the caller's identity: a token fingerprint, or
// "local" without tokens.
const principalKey = "bingli.principal"

// authenticate guards /v1: a valid bearer token when tokens are configured, otherwise a
// loopback client (unless insecure), then the caller's rate limit.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		principal := "local"
		switch {
		case s.cfg.Tokens.Len() > 0:
			h := c.Request().Header.Get("Authorization")
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || tok == "" {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="bingli"`)
				return apiError(401, "unauthorized", "", "missing bearer token")
			}
			fp, ok := s.cfg.Tokens.match(tok)
			if !ok {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="bingli", error="invalid_token"`)
				return apiError(401, "unauthorized", "", "invalid bearer token")
			}
			principal = fp
		case !s.cfg.InsecureNoAuth:
			host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
			if err != nil || !isLoopbackHost(host) {
				return apiError(403, "forbidden", "", "no tokens are configured: /v1 is served to loopback clients only")
			}
		default:
			principal = clientHost(c.Request().RemoteAddr)
		}
		c.Set(principalKey, principal)
		if wait, ok := s.limiter.allow(principal, time.Now()); !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			s.metrics.rateLimited.Inc()
			return apiError(429, "rate_limited", "", "too many requests for this token")
		}
		return next(c)
	}
}

func clientHost(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

func principal(c echo.Context) string {
	p, _ := c.Get(principalKey).(string)
	return p
}

// rateLimiter is a token bucket per principal.
type rateLimiter struct {
	rate    float64
	burst   float64
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes one request from key's bucket, or says how long until one is available.
func (l *rateLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	if l.rate <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 { // forget idle callers rather than grow without bound
			clear(l.buckets)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}
