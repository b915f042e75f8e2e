package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Job states.
const (
	stateQueued   = "queued"
	stateRunning  = "running"
	stateDone     = "done"
	stateFailed   = "failed"
	stateCanceled = "canceled"
)

// job is one bulk job as the store keeps it and the API shows it.
type job struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Model   string `json:"model"`
	Mode    string `json:"mode,omitempty"` // deid jobs: tag, surrogate or mask
	Seed    uint64 `json:"seed,omitempty"` // deid jobs: the surrogate seed
	State   string `json:"state"`
	Error   string `json:"error,omitempty"`
	Total   int64  `json:"total"`
	Done    int64  `json:"done"`
	Failed  int64  `json:"failed"`
	Created string `json:"created"`
	Updated string `json:"updated"`
	owner   string
	inOff   int64 // input bytes consumed by committed chunks
	resOff  int64 // result bytes committed
	pubOff  int64 // distributed mode: input bytes published as chunks
	pubEOF  bool  // distributed mode: the last chunk is published
}

// store keeps jobs in SQLite (dir/jobs.db) and their files in dir/jobs/ID/.
type store struct {
	dir string
	db  *sql.DB
	// openFile opens a job's input or results file for writing (os.OpenFile; tests inject
	// failing files).
	openFile func(name string, flag int, perm os.FileMode) (jobFile, error)
}

// jobFile is a job file being written (an *os.File).
type jobFile interface {
	io.Writer
	io.WriterAt
	io.Seeker
	io.Closer
	Truncate(size int64) error
	Sync() error
}

func openOSFile(name string, flag int, perm os.FileMode) (jobFile, error) {
	return os.OpenFile(name, flag, perm)
}

// diskError wraps a failed write to the job store with what was being done, and says plainly
// when the disk is full, the store is read-only or permissions are missing. The message goes
// into the job's error, so it carries the system error without the server's file path.
func diskError(what string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%s: the server's disk is full: %w", what, err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%s: the server's job store is on a read-only file system: %w", what, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: the server may not write its job store: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o700); err != nil {
		return nil, fmt.Errorf("job store: %w", err)
	}
	dsn := "file:" + filepath.Join(dir, "jobs.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("job store: %w", err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS jobs (
		id TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL, owner TEXT NOT NULL,
		state TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
		total INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
		in_off INTEGER NOT NULL DEFAULT 0, res_off INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL, updated INTEGER NOT NULL,
		mode TEXT NOT NULL DEFAULT '', seed INTEGER NOT NULL DEFAULT 0)`)
	if err == nil {
		err = addColumns(db)
	}
	if err == nil {
		// chunks are the input ranges published to NATS workers (distributed mode) and, once a
		// worker answers, their result lines until they are appended in input order.
		_, err = db.Exec(`CREATE TABLE IF NOT EXISTS chunks (
			job_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, docs INTEGER NOT NULL,
			failed INTEGER NOT NULL DEFAULT 0, result BLOB, PRIMARY KEY (job_id, start))`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("job store %s: %w", dir, err)
	}
	return &store{dir: dir, db: db, openFile: openOSFile}, nil
}

// addColumns brings a store made before deid jobs up to date.
func addColumns(db *sql.DB) error {
	for _, stmt := range []string{
		`ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE jobs ADD COLUMN seed INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE jobs ADD COLUMN pub_off INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE jobs ADD COLUMN pub_eof INTEGER NOT NULL DEFAULT 0`,
	} {
		if _, err := db.Exec(stmt); err != nil && !strings.Contains(err.Error(), "duplicate column") {
			return err
		}
	}
	return nil
}

func (s *store) close() error { return s.db.Close() }

func (s *store) jobDir(id string) string { return filepath.Join(s.dir, "jobs", id) }

func (s *store) inputPath(id string) string { return filepath.Join(s.jobDir(id), "input.jsonl") }

func (s *store) resultsPath(id string) string { return filepath.Join(s.jobDir(id), "results.jsonl") }

func (s *store) insert(ctx context.Context, j *job) error {
	now := time.Now().UnixMilli()
	_, err := s.db.ExecContext(ctx, `INSERT INTO jobs (id, kind, model, owner, state, total, created, updated, mode, seed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, j.ID, j.Kind, j.Model, j.owner, j.State, j.Total, now, now, j.Mode, int64(j.Seed))
	if err != nil {
		return fmt.Errorf("recording job: %w", err)
	}
	return nil
}

const jobColumns = `id, kind, model, owner, state, error, total, done, failed, in_off, res_off, created, updated, mode, seed, pub_off, pub_eof`

func scanJob(sc interface{ Scan(...any) error }) (*job, error) {
	var j job
	var created, updated, seed int64
	err := sc.Scan(&j.ID, &j.Kind, &j.Model, &j.owner, &j.State, &j.Error, &j.Total, &j.Done, &j.Failed,
		&j.inOff, &j.resOff, &created, &updated, &j.Mode, &seed, &j.pubOff, &j.pubEOF)
	if err != nil {
		return nil, err
	}
	j.Seed = uint64(seed)
	j.Created = time.UnixMilli(created).UTC().Format(time.RFC3339Nano)
	j.Updated = time.UnixMilli(updated).UTC().Format(time.RFC3339Nano)
	return &j, nil
}

// errNoJob is returned for an unknown job id (or one of another owner).
var errNoJob = errors.New("no such job")

func (s *store) get(ctx context.Context, id, owner string) (*job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ? AND owner = ?`, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoJob
	}
	if err != nil {
		return nil, fmt.Errorf("reading job: %w", err)
	}
	return j, nil
}

func (s *store) list(ctx context.Context, owner string) ([]*job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE owner = ? ORDER BY created, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	defer rows.Close()
	jobs := []*job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("listing jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// next returns the oldest queued or running job, or nil.
func (s *store) next(ctx context.Context) (*job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state IN ('queued', 'running') ORDER BY created, id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading job queue: %w", err)
	}
	return j, nil
}

// commit records one chunk: the input consumed and the results written up to the new
// offsets. It reports false when the job is no longer active (canceled meanwhile).
func (s *store) commit(ctx context.Context, id string, done, failed, inOff, resOff int64, final bool) (bool, error) {
	state := stateRunning
	if final {
		state = stateDone
	}
	r, err := s.db.ExecContext(ctx, `UPDATE jobs SET done = done + ?, failed = failed + ?, in_off = ?, res_off = ?,
		state = ?, updated = ? WHERE id = ? AND state IN ('queued', 'running')`,
		done, failed, inOff, resOff, state, time.Now().UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("committing chunk: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// setState moves an active job to state (failed or canceled) with a message.
func (s *store) setState(ctx context.Context, id, state, msg string) (bool, error) {
	r, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, updated = ?
		WHERE id = ? AND state IN ('queued', 'running')`, state, msg, time.Now().UnixMilli(), id)
	if err != nil {
		return false, fmt.Errorf("updating job: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
