// Package datadir finds the shared dataset folder (../shared/data beside the checkout, as
// DATA.md lays it out) for commands, tests and benchmarks, so none of them hard-codes a path.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Env is the environment variable that names the data folder explicitly.
const Env = "BINGLI_DATA"

// ErrNotFound is returned when no data folder could be located.
var ErrNotFound = errors.New("shared data folder not found (set " + Env + " or place shared/data beside the checkout)")

// Find returns the data folder: $BINGLI_DATA when set, otherwise the first shared/data found
// beside the current directory or one of its parents (a checkout at X/main has X/shared/data).
func Find() (string, error) {
	if d := os.Getenv(Env); d != "" {
		if isDir(d) {
			return d, nil
		}
		return "", fmt.Errorf("%s=%q is not a directory", Env, d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding data folder: %w", err)
	}
	for {
		for _, cand := range []string{filepath.Join(dir, "shared", "data"), filepath.Join(dir, "..", "shared", "data")} {
			if isDir(cand) {
				return filepath.Clean(cand), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}

// Path joins elems onto the data folder and checks that the result exists.
func Path(elems ...string) (string, error) {
	d, err := Find()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{d}, elems...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("data file missing: %w", err)
	}
	return p, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// TB is the part of testing.TB that OrSkip uses (so this package does not import testing).
type TB interface {
	Helper()
	Skipf(format string, args ...any)
}

// OrSkip returns the data folder, or skips the test or benchmark with the reason.
func OrSkip(tb TB) string {
	tb.Helper()
	d, err := Find()
	if err != nil {
		tb.Skipf("skipping: needs the datasets: %v", err)
	}
	return d
}
