package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/internal/apijson"
)

// jobRunner works through queued jobs one at a time, oldest first, a chunk at a time: it tags
// a chunk through the batcher, appends its results, syncs the file, then records the new
// input and result offsets in one SQLite update (writing and committing overlap the tagging
// of the next chunk). On restart a job resumes at its committed offsets (the results file is
// truncated back to its committed length first), so every input gets exactly one result line.
type jobRunner struct {
	st      *store
	b       *batcher
	chunk   int
	model   string
	metrics *metrics
	log     *slog.Logger
	wakeC   chan struct{}

	mu       sync.Mutex
	activeID string
	cancelFn context.CancelFunc
}

func newJobRunner(st *store, b *batcher, chunk int, model string, m *metrics, log *slog.Logger) *jobRunner {
	return &jobRunner{st: st, b: b, chunk: chunk, model: model, metrics: m, log: log, wakeC: make(chan struct{}, 1)}
}

func (r *jobRunner) wake() {
	select {
	case r.wakeC <- struct{}{}:
	default:
	}
}

// cancel stops the job's chunk in progress if it is the active one.
func (r *jobRunner) cancel(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.activeID == id && r.cancelFn != nil {
		r.cancelFn()
	}
}

func (r *jobRunner) run(ctx context.Context) {
	for {
		j, err := r.st.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("job queue", "err", err)
			j = nil
		}
		if j == nil {
			select {
			case <-r.wakeC:
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		jctx, cancel := context.WithCancel(ctx)
		r.mu.Lock()
		r.activeID, r.cancelFn = j.ID, cancel
		r.mu.Unlock()
		err = r.process(jctx, j)
		canceled := jctx.Err() != nil // read before cancel(), which always sets it
		cancel()
		r.mu.Lock()
		r.activeID, r.cancelFn = "", nil
		r.mu.Unlock()
		if ctx.Err() != nil {
			return // shutting down: the job resumes from its last commit on the next start
		}
		if err != nil && !canceled {
			r.log.Error("job failed", "job", j.ID, "err", err)
			if _, serr := r.st.setState(ctx, j.ID, stateFailed, err.Error()); serr != nil {
				r.log.Error("job state", "job", j.ID, "err", serr)
			}
		}
	}
}

// process runs job j from its committed offsets to the end.
func (r *jobRunner) process(ctx context.Context, j *job) error {
	if j.pubOff > j.inOff || j.pubEOF { // chunks were published to NATS workers by an earlier run
		if err := r.st.resetPublished(ctx, j.ID, j.inOff); err != nil {
			return err
		}
	}
	in, err := os.Open(r.st.inputPath(j.ID))
	if err != nil {
		return fmt.Errorf("opening job input: %w", err)
	}
	defer in.Close()
	if _, err := in.Seek(j.inOff, io.SeekStart); err != nil {
		return fmt.Errorf("seeking job input: %w", err)
	}
	out, err := r.st.openFile(r.st.resultsPath(j.ID), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return diskError("opening job results", err)
	}
	defer out.Close()
	if err := out.Truncate(j.resOff); err != nil {
		return diskError("truncating job results to the last commit", err)
	}
	if _, err := out.Seek(j.resOff, io.SeekStart); err != nil {
		return diskError("seeking job results", err)
	}
	br := bufio.NewReaderSize(in, 1<<16)

	// The chunk's results are written, synced and committed by a second goroutine while the
	// next chunk is tagged, so the model does not wait for the disk. Commits stay in input
	// order: one writer, and at most one chunk queued for it.
	type pending struct {
		lines                  []byte
		docs, failed, consumed int64
		eof                    bool
	}
	commits := make(chan pending, 1)
	written := make(chan error, 1)
	go func() {
		inOff, resOff := j.inOff, j.resOff
		err := func() error {
			for p := range commits {
				if _, err := out.Write(p.lines); err != nil {
					return diskError("writing job results", err)
				}
				if err := out.Sync(); err != nil {
					return diskError("syncing job results", err)
				}
				inOff += p.consumed
				resOff += int64(len(p.lines))
				ok, err := r.st.commit(ctx, j.ID, p.docs, p.failed, inOff, resOff, p.eof)
				if err != nil || !ok {
					return err // !ok: canceled meanwhile
				}
				r.metrics.jobDocuments.WithLabelValues("ok").Add(float64(p.docs - p.failed))
				r.metrics.jobDocuments.WithLabelValues("error").Add(float64(p.failed))
			}
			return nil
		}()
		written <- err
	}()
	finish := func(err error) error {
		close(commits)
		if werr := <-written; werr != nil {
			return werr // the first error in input order
		}
		return err
	}
	inOff := j.inOff
	for {
		docs, consumed, eof, err := readChunk(br, r.chunk)
		if err != nil {
			return finish(fmt.Errorf("reading job input at byte %d: %w", inOff, err))
		}
		inOff += consumed
		res, err := r.b.tag(ctx, docTexts(docs))
		if err != nil {
			return finish(fmt.Errorf("tagging: %w", err))
		}
		var buf bytes.Buffer
		failed, err := encodeResults(&buf, j.Kind, deid.Mode(j.Mode), j.Seed, docs, res)
		if err != nil {
			return finish(err)
		}
		select {
		case commits <- pending{lines: buf.Bytes(), docs: int64(len(docs)), failed: failed, consumed: consumed, eof: eof}:
		case werr := <-written: // the writer stopped: an error, or the job was canceled
			written <- werr
			return finish(nil)
		}
		if eof {
			return finish(nil)
		}
	}
}

// encodeResults appends one result line per document to buf (the `bingli tag` or `bingli
// deid` shape, by kind) and returns how many documents failed.
func encodeResults(buf *bytes.Buffer, kind string, mode deid.Mode, seed uint64, docs []document, res []tagResult) (int64, error) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	var failed int64
	for i, tr := range res {
		var v any
		if kind == "deid" {
			dr := deidResult{ID: docs[i].ID, PHI: []phiSpan{}}
			if err := deidOne(&dr, docs[i].Text, tr, &apijson.DeidRequest{Mode: mode, Seed: seed}); err != nil {
				dr.Error = err.Error()
			}
			if dr.Error != "" {
				failed++
			}
			v = dr
		} else {
			if tr.err != nil {
				failed++
			}
			v = newDocResult(docs[i].ID, tr)
		}
		if err := enc.Encode(v); err != nil {
			return 0, fmt.Errorf("encoding result: %w", err)
		}
	}
	return failed, nil
}

// readChunk reads up to n stored input lines; eof reports that the input is exhausted.
func readChunk(br *bufio.Reader, n int) (docs []document, consumed int64, eof bool, err error) {
	for len(docs) < n {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return docs, consumed, true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, false, err
		}
		consumed += int64(len(line))
		var d document
		if err := json.Unmarshal(line, &d); err != nil {
			return nil, 0, false, fmt.Errorf("corrupt job input: %w", err)
		}
		docs = append(docs, d)
	}
	_, err = br.Peek(1)
	return docs, consumed, errors.Is(err, io.EOF), nil
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deadlineReader pushes the connection's read deadline forward before every read, so a large
// upload is bounded by idleness rather than by the server's overall read timeout.
type deadlineReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	_ = d.rc.SetReadDeadline(time.Now().Add(d.timeout))
	return d.r.Read(p)
}

func (s *Server) jobStore() (*store, error) {
	if s.store == nil {
		return nil, apiError(503, "unavailable", "", "bulk jobs are disabled (no data directory)")
	}
	return s.store, nil
}

// handleSubmitJob stores a JSON-lines upload ({"id", "text"} per line; other fields ignored,
// as `bingli tag` does) as a new queued job. Options are query parameters: kind (ner or
// deid), model, and for deid jobs mode (tag, surrogate, mask; default tag) and seed
// (default 1).
func (s *Server) handleSubmitJob(c echo.Context) error {
	st, err := s.jobStore()
	if err != nil {
		return err
	}
	q := c.QueryParams()
	for k := range q {
		if k != "kind" && k != "model" && k != "mode" && k != "seed" {
			return apiError(400, "bad_request", k, fmt.Sprintf("unknown option %q", k))
		}
	}
	kind := q.Get("kind")
	if kind == "" {
		kind = "ner"
	}
	if kind != "ner" && kind != "deid" {
		return apiError(400, "bad_request", "kind", fmt.Sprintf("kind %q: want ner or deid", kind))
	}
	var mode deid.Mode
	var seed uint64
	if kind == "deid" {
		mode, seed = deid.ModeTag, 1
		if m := q.Get("mode"); m != "" {
			var err error
			if mode, err = deid.ParseMode(m); err != nil {
				return apiError(400, "bad_request", "mode", "mode must be tag, surrogate or mask")
			}
		}
		if v := q.Get("seed"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n > math.MaxInt64 {
				return apiError(400, "bad_request", "seed", "seed must be a non-negative integer")
			}
			seed = n
		}
	} else if q.Has("mode") || q.Has("seed") {
		field := "mode"
		if !q.Has("mode") {
			field = "seed"
		}
		return apiError(400, "bad_request", field, field+" applies to deid jobs only")
	}
	if m := q.Get("model"); m != "" && m != s.cfg.Model.Name {
		return apiError(400, "bad_request", "model", fmt.Sprintf("unknown model %q (see GET /v1/models)", m))
	}
	req := c.Request()
	if req.ContentLength > s.cfg.MaxJobBody {
		return apiError(413, "too_large", "", fmt.Sprintf("upload larger than %d bytes", s.cfg.MaxJobBody))
	}
	var body io.Reader = &deadlineReader{r: http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxJobBody),
		rc: http.NewResponseController(c.Response().Writer), timeout: s.cfg.ReadTimeout}
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return apiError(400, "bad_request", "", "invalid gzip body")
		}
		defer zr.Close()
		body = zr
	default:
		return apiError(415, "unsupported_encoding", "", fmt.Sprintf("Content-Encoding %q: want gzip or none", enc))
	}
	j := &job{ID: newJobID(), Kind: kind, Model: s.cfg.Model.Name, Mode: string(mode), Seed: seed, State: stateQueued, owner: principal(c)}
	if err := os.MkdirAll(st.jobDir(j.ID), 0o700); err != nil {
		return storageError(diskError("creating job folder", err))
	}
	total, err := s.spoolInput(body, st.inputPath(j.ID))
	if err == nil && total == 0 {
		err = apiError(400, "bad_request", "", "no documents in the upload")
	}
	if err == nil {
		j.Total = total
		err = st.insert(c.Request().Context(), j)
	}
	if err != nil {
		_ = os.RemoveAll(st.jobDir(j.ID))
		return err
	}
	s.runner.wake()
	stored, err := st.get(c.Request().Context(), j.ID, j.owner)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/v1/jobs/"+j.ID)
	return writeJSON(c, 202, stored)
}

// spoolInput validates the upload line by line and writes it to path as compact
// {"id","text"} lines, synced. It returns the number of documents.
func (s *Server) spoolInput(body io.Reader, path string) (int64, error) {
	f, err := s.store.openFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, storageError(diskError("creating job input", err))
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<16)
	br := bufio.NewReaderSize(body, 1<<16)
	maxLine := 4*s.cfg.MaxDocChars + 64<<10
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var total int64
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br, maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.As(err, new(*http.MaxBytesError)) {
				return 0, apijson.JSONError(err, "")
			}
			return 0, apiError(400, "bad_request", "", "reading upload failed")
		}
		where := fmt.Sprintf("line %d", line)
		if tooLong {
			return 0, apiError(413, "too_large", where, fmt.Sprintf("line longer than %d bytes", maxLine))
		}
		if len(bytes.TrimSpace(b)) > 0 {
			d, derr := apijson.DecodeDocument(b, where, false, s.cfg.MaxDocChars)
			if derr != nil {
				return 0, derr
			}
			if err := enc.Encode(d); err != nil {
				return 0, storageError(diskError("writing job input", err))
			}
			total++
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, storageError(diskError("writing job input", err))
	}
	if err := f.Sync(); err != nil {
		return 0, storageError(diskError("syncing job input", err))
	}
	return total, nil
}

// storageError answers a failed write of an upload to the job store: 507 when the disk is
// full, 500 otherwise, with the plain message of diskError (no file path) either way.
func storageError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &httpError{Status: 507, Code: "insufficient_storage", Message: err.Error()}
	}
	return &httpError{Status: 500, Code: "storage_error", Message: err.Error()}
}

// readLine returns the next line without its terminator; a line over max bytes is reported
// with tooLong.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, true, nil
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		return line, false, err
	}
}

func (s *Server) handleListJobs(c echo.Context) error {
	st, err := s.jobStore()
	if err != nil {
		return err
	}
	jobs, err := st.list(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return writeJSON(c, 200, map[string][]*job{"jobs": jobs})
}

func (s *Server) lookupJob(c echo.Context) (*store, *job, error) {
	st, err := s.jobStore()
	if err != nil {
		return nil, nil, err
	}
	j, err := st.get(c.Request().Context(), c.Param("id"), principal(c))
	if errors.Is(err, errNoJob) {
		return nil, nil, apiError(404, "not_found", "id", "no such job")
	}
	return st, j, err
}

func (s *Server) handleGetJob(c echo.Context) error {
	_, j, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	return writeJSON(c, 200, j)
}

// handleDeleteJob cancels an unfinished job and deletes the job with its files.
func (s *Server) handleDeleteJob(c echo.Context) error {
	st, j, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := st.setState(ctx, j.ID, stateCanceled, "canceled"); err != nil {
		return err
	}
	s.runner.cancel(j.ID)
	if err := st.deleteChunks(ctx, j.ID); err != nil {
		return err
	}
	if _, err := st.db.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, j.ID); err != nil {
		return fmt.Errorf("deleting job: %w", err)
	}
	if err := os.RemoveAll(st.jobDir(j.ID)); err != nil {
		return fmt.Errorf("deleting job files: %w", err)
	}
	return c.NoContent(204)
}

// handleJobResults streams the committed result lines (all of them once the job is done),
// compressed with zstd or gzip when the client accepts it. X-Bingli-Job-State says whether
// more are to come.
func (s *Server) handleJobResults(c echo.Context) error {
	st, j, err := s.lookupJob(c)
	if err != nil {
		return err
	}
	f, err := os.Open(st.resultsPath(j.ID))
	if errors.Is(err, os.ErrNotExist) && j.resOff == 0 {
		f = nil
	} else if err != nil {
		return fmt.Errorf("opening results: %w", err)
	} else {
		defer f.Close()
	}
	h := c.Response().Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("X-Bingli-Job-State", j.State)
	h.Add("Vary", "Accept-Encoding")
	rc := http.NewResponseController(c.Response().Writer)
	var w io.Writer = c.Response()
	var closer io.Closer
	switch pickEncoding(c.Request().Header.Get("Accept-Encoding")) {
	case "zstd":
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		w, closer = zw, zw
		h.Set("Content-Encoding", "zstd")
	case "gzip":
		gw := gzip.NewWriter(w)
		w, closer = gw, gw
		h.Set("Content-Encoding", "gzip")
	}
	c.Response().WriteHeader(200)
	if f != nil {
		src := io.NewSectionReader(f, 0, j.resOff)
		buf := make([]byte, 256<<10)
		for {
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			n, rerr := src.Read(buf)
			if n > 0 {
				if _, err := w.Write(buf[:n]); err != nil {
					return nil // client went away; nothing more to say
				}
			}
			if rerr != nil {
				break
			}
		}
	}
	if closer != nil {
		_ = closer.Close()
	}
	return nil
}

// pickEncoding chooses zstd, gzip or "" from an Accept-Encoding header (q=0 excludes).
func pickEncoding(accept string) string {
	ok := map[string]bool{}
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := strings.ReplaceAll(params, " ", "")
		ok[strings.ToLower(strings.TrimSpace(name))] = q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	switch {
	case ok["zstd"]:
		return "zstd"
	case ok["gzip"]:
		return "gzip"
	}
	return ""
}
