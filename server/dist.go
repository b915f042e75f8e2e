package server

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// distRunner runs jobs on NATS JetStream workers (`bingli serve --nats`). It has two halves:
//
//   - The publisher takes active jobs oldest first and cuts each job's input into chunks
//     (at most JobChunk documents and ChunkBytes bytes; a chunk is a byte range of the job's
//     input file). It records a chunk in SQLite (table chunks, and the job's pub_off) before
//     it publishes it to the work-queue stream BINGLI_CHUNKS, subject
//     bingli.chunks.<model>.<job>, with the message id "<job>:<start>-<end>". At most Window
//     chunks of a job are outstanding at once.
//   - The result consumer reads BINGLI_RESULTS (bingli.results.<job>), where workers publish
//     each chunk's result lines. It stores the lines in the chunk's row (only if the row
//     exists and has no result yet), then appends every stored result that starts at the
//     job's committed input offset to the results file, fsyncs, and commits the new offsets
//     and deletes the row in one transaction, exactly as the local runner commits a chunk.
//     Only then does it ack the result message.
//
// Each input document's result therefore lands exactly once: the results file is a tiling of
// the input by byte ranges, a result is appended only at the committed offset, and a
// duplicate (a chunk redelivered after its worker died, a worker that published but died
// before acking, a republished chunk) either finds its row already answered or gone, and is
// acked and dropped.
type distRunner struct {
	st         *store
	nc         *nats.Conn
	js         jetstream.JetStream
	chunks     jetstream.Stream
	results    jetstream.Stream
	chunkDocs  int
	chunkBytes int64
	window     int
	metrics    *metrics
	log        *slog.Logger
	wakeC      chan struct{}
	progress   chan struct{} // a chunk was committed (the publisher's window may open)

	mu sync.Mutex // serialises appending results with canceling jobs
}

func newDistRunner(ctx context.Context, st *store, url string, chunkDocs int, chunkBytes int64, window int, m *metrics, log *slog.Logger) (*distRunner, error) {
	nc, err := connectNATS(url, "bingli-server")
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream: %w", err)
	}
	chunks, results, err := ensureStreams(ctx, js)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// A chunk message must fit the server's max payload, compressed; keep raw chunks well
	// under it so a chunk of incompressible text still fits.
	if lim := nc.MaxPayload() / 2; chunkBytes > lim {
		chunkBytes = lim
	}
	return &distRunner{st: st, nc: nc, js: js, chunks: chunks, results: results, chunkDocs: chunkDocs,
		chunkBytes: chunkBytes, window: window, metrics: m, log: log,
		wakeC: make(chan struct{}, 1), progress: make(chan struct{}, 1)}, nil
}

func (d *distRunner) wake() {
	select {
	case d.wakeC <- struct{}{}:
	default:
	}
}

// cancel drops the job's chunks still queued in NATS (results still on their way are dropped
// by the result consumer: the job is gone).
func (d *distRunner) cancel(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	j, err := d.st.getAny(ctx, id)
	if err != nil {
		return
	}
	if err := d.chunks.Purge(ctx, jetstream.WithPurgeSubject(chunkSubject(j.Model, id))); err != nil {
		d.log.Warn("purging a canceled job's chunks", "job", id, "err", err)
	}
}

func (d *distRunner) run(ctx context.Context) {
	defer d.nc.Close()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		d.consumeResults(ctx)
	}()
	defer func() { <-consumed }()
	if err := d.republish(ctx); err != nil && ctx.Err() == nil {
		d.log.Error("republishing chunks", "err", err)
	}
	for {
		j, err := d.st.nextToPublish(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Error("job queue", "err", err)
			j = nil
		}
		if j == nil {
			select {
			case <-d.wakeC:
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		err = d.publish(ctx, j)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.fail(j.ID, j.Model, err)
		}
	}
}

// fail marks the job failed with err's message and drops its queued chunks.
func (d *distRunner) fail(id, model string, err error) {
	d.log.Error("job failed", "job", id, "err", err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, serr := d.st.setState(ctx, id, stateFailed, err.Error()); serr != nil {
		d.log.Error("job state", "job", id, "err", serr)
	}
	if perr := d.chunks.Purge(ctx, jetstream.WithPurgeSubject(chunkSubject(model, id))); perr != nil {
		d.log.Warn("purging a failed job's chunks", "job", id, "err", perr)
	}
}

// republish publishes again every recorded chunk still waiting for its result: a chunk may
// have been recorded and the server killed before it was published. A chunk that did reach
// the stream is dropped by JetStream as a duplicate (same message id), or if that window has
// passed, its second result is dropped by the result consumer.
func (d *distRunner) republish(ctx context.Context) error {
	pend, err := d.st.pendingChunks(ctx)
	if err != nil {
		return err
	}
	for _, p := range pend {
		f, err := os.Open(d.st.inputPath(p.j.ID))
		if err != nil {
			d.fail(p.j.ID, p.j.Model, fmt.Errorf("opening job input: %w", err))
			continue
		}
		raw := make([]byte, p.end-p.start)
		_, err = f.ReadAt(raw, p.start)
		f.Close()
		if err != nil {
			d.fail(p.j.ID, p.j.Model, fmt.Errorf("reading job input: %w", err))
			continue
		}
		if err := d.publishChunk(ctx, p.j, chunkHeader{job: p.j.ID, start: p.start, end: p.end, docs: p.docs}, raw); err != nil {
			return err
		}
	}
	if len(pend) > 0 {
		d.log.Info("republished chunks", "chunks", len(pend))
	}
	return nil
}

// publish cuts job j's unpublished input into chunks and publishes them, at most window
// outstanding at a time.
func (d *distRunner) publish(ctx context.Context, j *job) error {
	if j.pubOff < j.inOff { // the local runner made progress since this job was last published
		if err := d.st.resetPublished(ctx, j.ID, j.inOff); err != nil {
			return err
		}
		j.pubOff = j.inOff
	}
	in, err := os.Open(d.st.inputPath(j.ID))
	if err != nil {
		return fmt.Errorf("opening job input: %w", err)
	}
	defer in.Close()
	if _, err := in.Seek(j.pubOff, io.SeekStart); err != nil {
		return fmt.Errorf("seeking job input: %w", err)
	}
	br := bufio.NewReaderSize(in, 1<<16)
	off := j.pubOff
	for {
		if err := d.waitWindow(ctx, j.ID); err != nil {
			return err
		}
		raw, docs, eof, err := readRawChunk(br, d.chunkDocs, d.chunkBytes)
		if err != nil {
			return fmt.Errorf("reading job input at byte %d: %w", off, err)
		}
		if docs == 0 { // only when the input ends exactly at a published chunk
			if err := d.st.markPublished(ctx, j.ID); err != nil {
				return err
			}
			return d.st.finishIfDrained(ctx, j.ID)
		}
		h := chunkHeader{job: j.ID, start: off, end: off + int64(len(raw)), docs: docs}
		ok, err := d.st.addChunk(ctx, h, eof)
		if err != nil {
			return err
		}
		if !ok {
			return nil // canceled or failed meanwhile
		}
		if err := d.publishChunk(ctx, j, h, raw); err != nil {
			return err
		}
		off = h.end
		if eof {
			return nil
		}
	}
}

// waitWindow blocks while the job has window chunks outstanding.
func (d *distRunner) waitWindow(ctx context.Context, id string) error {
	for {
		n, err := d.st.outstanding(ctx, id)
		if err != nil {
			return err
		}
		if n < d.window {
			return nil
		}
		select {
		case <-d.progress:
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// publishChunk publishes one chunk (zstd-compressed input lines) and waits for JetStream to
// store it, retrying while NATS is unreachable.
func (d *distRunner) publishChunk(ctx context.Context, j *job, h chunkHeader, raw []byte) error {
	msg := nats.NewMsg(chunkSubject(j.Model, j.ID))
	h.set(msg.Header)
	msg.Header.Set(hdrKind, j.Kind)
	msg.Header.Set(hdrModel, j.Model)
	if j.Kind == "deid" {
		msg.Header.Set(hdrMode, j.Mode)
		msg.Header.Set(hdrSeed, strconv.FormatUint(j.Seed, 10))
	}
	msg.Data = zenc.EncodeAll(raw, nil)
	if int64(len(msg.Data)) > d.nc.MaxPayload()-8<<10 {
		return fmt.Errorf("a chunk of input bytes %d-%d is %d bytes compressed, more than the NATS max payload (%d)",
			h.start, h.end, len(msg.Data), d.nc.MaxPayload())
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		_, err := d.js.PublishMsg(ctx, msg, jetstream.WithMsgID(chunkMsgID(h.job, h.start, h.end)))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Warn("publishing a chunk failed; retrying", "job", h.job, "err", err, "retry_in", wait.String())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readRawChunk reads up to n stored input lines, stopping before maxBytes unless the chunk is
// still empty; it returns the lines as stored.
func readRawChunk(br *bufio.Reader, n int, maxBytes int64) (raw []byte, docs int64, eof bool, err error) {
	for docs < int64(n) {
		if docs > 0 { // a line too long to peek at is too long to join a non-empty chunk
			if next, perr := peekLine(br); perr != nil || int64(len(raw)+next) > maxBytes {
				break
			}
		}
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return raw, docs, true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, false, err
		}
		if len(line) == 0 || line[len(line)-1] != '\n' {
			return nil, 0, false, errors.New("corrupt job input: unterminated line")
		}
		raw = append(raw, line...)
		docs++
	}
	_, err = br.Peek(1)
	return raw, docs, errors.Is(err, io.EOF), nil
}

// peekLine returns the length of the next line (with its newline) without consuming it, if
// it fits the reader's buffer; otherwise (or at the end of the input) an error.
func peekLine(br *bufio.Reader) (int, error) {
	for size := 4 << 10; ; size *= 2 {
		size = min(size, br.Size())
		b, err := br.Peek(size)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return i + 1, nil
		}
		if err != nil || size == br.Size() {
			return 0, errors.New("line longer than the buffer")
		}
	}
}

// consumeResults stores workers' results until ctx is done, reconnecting its consumer if
// NATS is unreachable.
func (d *distRunner) consumeResults(ctx context.Context) {
	// A server killed with results delivered to it but not acked (the consumer hands out up
	// to 8 at a time) would see them again only after the consumer's AckWait, a minute in
	// which the job stands still. The server is the results stream's one reader, so it drops
	// the consumer and makes it anew: a work-queue stream keeps every unacked message, and a
	// new consumer delivers them at once.
	if err := d.results.DeleteConsumer(ctx, resultsDurable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		d.log.Warn("resetting the results consumer", "err", err)
	}
	for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 5*time.Second) {
		cons, err := d.results.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: resultsDurable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute, MaxDeliver: -1,
			Description: "the bingli server storing chunk results",
		})
		if err == nil {
			var cc jetstream.ConsumeContext
			cc, err = cons.Consume(func(m jetstream.Msg) { d.handleResult(ctx, m) }, jetstream.PullMaxMessages(8))
			if err == nil {
				<-ctx.Done()
				cc.Drain()
				<-cc.Closed()
				return
			}
		}
		d.log.Warn("consuming results failed; retrying", "err", err, "retry_in", wait.String())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
}

// handleResult stores one chunk's result and appends whatever is now in order. It acks the
// message once the result is durable (or is a duplicate or belongs to a gone job), and naks it
// on a store error so that it comes back.
func (d *distRunner) handleResult(ctx context.Context, m jetstream.Msg) {
	h, err := parseChunkHeader(m.Headers())
	if err != nil {
		d.log.Error("dropping a malformed result message", "err", err)
		_ = m.Term()
		return
	}
	j, err := d.st.getAny(ctx, h.job)
	if errors.Is(err, errNoJob) || (err == nil && j.State != stateQueued && j.State != stateRunning) {
		d.metrics.distResults.WithLabelValues("gone").Inc()
		_ = m.Ack() // the job was canceled, deleted or failed
		return
	}
	if err != nil {
		d.log.Error("reading job", "job", h.job, "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	if msg := m.Headers().Get(hdrError); msg != "" {
		d.fail(j.ID, j.Model, fmt.Errorf("worker %s: %s", m.Headers().Get(hdrWorker), msg))
		_ = m.Ack()
		return
	}
	lines, err := zdec.DecodeAll(m.Data(), nil)
	if err == nil && int64(bytes.Count(lines, []byte{'\n'})) != h.docs {
		err = fmt.Errorf("%d result lines for %d documents", bytes.Count(lines, []byte{'\n'}), h.docs)
	}
	if err != nil {
		d.fail(j.ID, j.Model, fmt.Errorf("worker %s sent a bad result for input bytes %d-%d: %w", m.Headers().Get(hdrWorker), h.start, h.end, err))
		_ = m.Ack()
		return
	}
	stored, err := d.st.saveResult(ctx, h, lines)
	if err != nil {
		d.log.Error("storing a result", "job", h.job, "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	if stored {
		d.metrics.distResults.WithLabelValues("stored").Inc()
	} else {
		d.metrics.distResults.WithLabelValues("duplicate").Inc()
	}
	if err := d.drain(ctx, j.ID); err != nil {
		if ctx.Err() != nil {
			_ = m.Nak()
			return
		}
		d.fail(j.ID, j.Model, err)
	}
	if err := m.Ack(); err != nil {
		d.log.Warn("acking a result", "job", h.job, "err", err)
	}
}

// drain appends the stored results that start at the job's committed input offset, one chunk
// at a time: write at the committed result offset, fsync, then commit offsets, counts and the
// chunk's removal in one transaction.
func (d *distRunner) drain(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out jobFile
	defer func() {
		if out != nil {
			out.Close()
		}
	}()
	for {
		j, err := d.st.getAny(ctx, id)
		if errors.Is(err, errNoJob) {
			return nil
		}
		if err != nil {
			return err
		}
		if j.State != stateQueued && j.State != stateRunning {
			return nil
		}
		c, err := d.st.readyChunk(ctx, id, j.inOff)
		if err != nil || c == nil {
			return err
		}
		if out == nil {
			if out, err = d.st.openFile(d.st.resultsPath(id), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
				return diskError("opening job results", err)
			}
		}
		if err := out.Truncate(j.resOff); err != nil {
			return diskError("truncating job results to the last commit", err)
		}
		if _, err := out.WriteAt(c.result, j.resOff); err != nil {
			return diskError("writing job results", err)
		}
		if err := out.Sync(); err != nil {
			return diskError("syncing job results", err)
		}
		if ok, err := d.st.commitChunk(ctx, j, c); err != nil || !ok {
			return err
		}
		d.metrics.jobDocuments.WithLabelValues("ok").Add(float64(c.docs - c.failed))
		d.metrics.jobDocuments.WithLabelValues("error").Add(float64(c.failed))
		select {
		case d.progress <- struct{}{}:
		default:
		}
	}
}

// pendingChunk is a published chunk waiting for its result, with its job.
type pendingChunk struct {
	j          *job
	start, end int64
	docs       int64
}

// readyChunkRow is a stored chunk result.
type readyChunkRow struct {
	start, end, docs, failed int64
	result                   []byte
}

// getAny reads a job whoever owns it.
func (s *store) getAny(ctx context.Context, id string) (*job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoJob
	}
	if err != nil {
		return nil, fmt.Errorf("reading job: %w", err)
	}
	return j, nil
}

// nextToPublish returns the oldest active job whose input is not all published, or nil.
func (s *store) nextToPublish(ctx context.Context) (*job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state IN ('queued', 'running') AND pub_eof = 0 ORDER BY created, id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading job queue: %w", err)
	}
	return j, nil
}

// resetPublished forgets the job's published chunks and publishes again from off (the local
// runner, or a previous distributed run, committed up to there).
func (s *store) resetPublished(ctx context.Context, id string, off int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("resetting published chunks: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE job_id = ?`, id); err != nil {
		return fmt.Errorf("resetting published chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET pub_off = ?, pub_eof = 0 WHERE id = ?`, off, id); err != nil {
		return fmt.Errorf("resetting published chunks: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("resetting published chunks: %w", err)
	}
	return nil
}

// addChunk records a chunk about to be published and advances the job's published offset;
// eof marks the job's last chunk. It reports false if the job is no longer active.
func (s *store) addChunk(ctx context.Context, h chunkHeader, eof bool) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("recording a chunk: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `UPDATE jobs SET pub_off = ?, pub_eof = ?, state = 'running', updated = ?
		WHERE id = ? AND state IN ('queued', 'running')`, h.end, eof, time.Now().UnixMilli(), h.job)
	if err != nil {
		return false, fmt.Errorf("recording a chunk: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO chunks (job_id, start, end, docs) VALUES (?, ?, ?, ?)
		ON CONFLICT (job_id, start) DO NOTHING`, h.job, h.start, h.end, h.docs); err != nil {
		return false, fmt.Errorf("recording a chunk: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("recording a chunk: %w", err)
	}
	return true, nil
}

// markPublished marks the job's input as all published.
func (s *store) markPublished(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE jobs SET pub_eof = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("recording a job as published: %w", err)
	}
	return nil
}

// finishIfDrained marks a fully published job done when every chunk is committed.
func (s *store) finishIfDrained(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'done', updated = ? WHERE id = ? AND pub_eof = 1
		AND in_off = pub_off AND state IN ('queued', 'running')`, time.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("finishing job: %w", err)
	}
	return nil
}

// outstanding counts the job's published chunks not yet committed.
func (s *store) outstanding(ctx context.Context, id string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM chunks WHERE job_id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting chunks: %w", err)
	}
	return n, nil
}

// pendingChunks lists every active job's published chunks still waiting for a result.
func (s *store) pendingChunks(ctx context.Context) ([]pendingChunk, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.start, c.end, c.docs, j.id FROM chunks c JOIN jobs j ON j.id = c.job_id
		WHERE c.result IS NULL AND j.state IN ('queued', 'running') ORDER BY j.created, j.id, c.start`)
	if err != nil {
		return nil, fmt.Errorf("listing chunks: %w", err)
	}
	var out []pendingChunk
	for rows.Next() {
		var p pendingChunk
		var id string
		if err := rows.Scan(&p.start, &p.end, &p.docs, &id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing chunks: %w", err)
		}
		p.j = &job{ID: id}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing chunks: %w", err)
	}
	for i := range out {
		j, err := s.getAny(ctx, out[i].j.ID)
		if err != nil {
			return nil, err
		}
		out[i].j = j
	}
	return out, nil
}

// saveResult stores a worker's result lines for a recorded chunk that has none yet; it
// reports false for a duplicate or a chunk the store does not know (already committed).
func (s *store) saveResult(ctx context.Context, h chunkHeader, lines []byte) (bool, error) {
	r, err := s.db.ExecContext(ctx, `UPDATE chunks SET result = ?, failed = ? WHERE job_id = ? AND start = ? AND end = ?
		AND docs = ? AND result IS NULL`, lines, h.failed, h.job, h.start, h.end, h.docs)
	if err != nil {
		return false, fmt.Errorf("storing a chunk result: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// readyChunk returns the stored result of the chunk starting at off, or nil.
func (s *store) readyChunk(ctx context.Context, id string, off int64) (*readyChunkRow, error) {
	var c readyChunkRow
	err := s.db.QueryRowContext(ctx, `SELECT start, end, docs, failed, result FROM chunks
		WHERE job_id = ? AND start = ? AND result IS NOT NULL`, id, off).Scan(&c.start, &c.end, &c.docs, &c.failed, &c.result)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading a chunk result: %w", err)
	}
	return &c, nil
}

// commitChunk records chunk c's result lines as appended (the results file already holds
// them, synced): offsets and counts advance, the chunk row goes, and the job is done when its
// input is all published and committed.
func (s *store) commitChunk(ctx context.Context, j *job, c *readyChunkRow) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("committing chunk: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `UPDATE jobs SET in_off = ?, res_off = ?, done = done + ?, failed = failed + ?,
		state = CASE WHEN pub_eof = 1 AND pub_off = ? THEN 'done' ELSE 'running' END, updated = ?
		WHERE id = ? AND in_off = ? AND state IN ('queued', 'running')`,
		c.end, j.resOff+int64(len(c.result)), c.docs, c.failed, c.end, time.Now().UnixMilli(), j.ID, c.start)
	if err != nil {
		return false, fmt.Errorf("committing chunk: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return false, err // the job was canceled or failed meanwhile
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE job_id = ? AND start = ?`, j.ID, c.start); err != nil {
		return false, fmt.Errorf("committing chunk: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("committing chunk: %w", err)
	}
	return true, nil
}

// deleteChunks forgets a job's chunks (the job is being deleted).
func (s *store) deleteChunks(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM chunks WHERE job_id = ?`, id); err != nil {
		return fmt.Errorf("deleting job chunks: %w", err)
	}
	return nil
}
