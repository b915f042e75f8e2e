package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS JetStream names shared by the server (publisher of chunks, consumer of results) and
// the workers (consumers of chunks, publishers of results).
const (
	chunkStream    = "BINGLI_CHUNKS"
	resultStream   = "BINGLI_RESULTS"
	chunkSubjects  = "bingli.chunks.>" // bingli.chunks.<model>.<job>
	resultPrefix   = "bingli.results." // bingli.results.<job>
	resultsDurable = "bingli-server"

	hdrJob    = "Bingli-Job"
	hdrStart  = "Bingli-Start"
	hdrEnd    = "Bingli-End"
	hdrDocs   = "Bingli-Docs"
	hdrFailed = "Bingli-Failed"
	hdrKind   = "Bingli-Kind"
	hdrMode   = "Bingli-Mode"
	hdrSeed   = "Bingli-Seed"
	hdrModel  = "Bingli-Model"
	hdrError  = "Bingli-Error"
	hdrWorker = "Bingli-Worker"
)

// subjectToken makes a model name usable as one subject token (no dots, spaces or wildcards).
func subjectToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}

func chunkSubject(model, jobID string) string {
	return "bingli.chunks." + subjectToken(model) + "." + jobID
}

// chunkMsgID names one chunk (or its result) for JetStream's duplicate detection: the job and
// the input byte range, so a chunk republished after a crash is dropped as a duplicate.
func chunkMsgID(jobID string, start, end int64) string {
	return jobID + ":" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)
}

// connectNATS connects with reconnects forever (a worker or server outlives a NATS restart).
func connectNATS(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s: %w", url, err)
	}
	return nc, nil
}

// ensureStreams creates (or updates to this configuration) the two work-queue streams: file
// storage, so chunks and results survive a NATS restart, and a duplicate window that drops a
// republished chunk or result.
func ensureStreams(ctx context.Context, js jetstream.JetStream) (chunks, results jetstream.Stream, err error) {
	chunks, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: chunkStream, Subjects: []string{chunkSubjects}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute,
		Description: "bingli bulk-job chunks waiting for a worker",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", chunkStream, err)
	}
	results, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: resultStream, Subjects: []string{resultPrefix + ">"}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute,
		Description: "bingli bulk-job chunk results waiting for the server to store them",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", resultStream, err)
	}
	return chunks, results, nil
}

// zstd coders shared by the publisher, the result consumer and the workers (both are safe for
// concurrent EncodeAll/DecodeAll).
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
)

// chunkHeader is the metadata of a chunk message and of its result.
type chunkHeader struct {
	job        string
	start, end int64
	docs       int64
	failed     int64
}

func (h chunkHeader) set(hd nats.Header) {
	hd.Set(hdrJob, h.job)
	hd.Set(hdrStart, strconv.FormatInt(h.start, 10))
	hd.Set(hdrEnd, strconv.FormatInt(h.end, 10))
	hd.Set(hdrDocs, strconv.FormatInt(h.docs, 10))
	hd.Set(hdrFailed, strconv.FormatInt(h.failed, 10))
	hd.Set(nats.MsgIdHdr, chunkMsgID(h.job, h.start, h.end))
}

func parseChunkHeader(hd nats.Header) (chunkHeader, error) {
	h := chunkHeader{job: hd.Get(hdrJob)}
	if h.job == "" {
		return h, errors.New("message without " + hdrJob)
	}
	for _, f := range []struct {
		name string
		p    *int64
	}{{hdrStart, &h.start}, {hdrEnd, &h.end}, {hdrDocs, &h.docs}, {hdrFailed, &h.failed}} {
		v, err := strconv.ParseInt(hd.Get(f.name), 10, 64)
		if err != nil || v < 0 {
			return h, fmt.Errorf("header %s %q: want a non-negative integer", f.name, hd.Get(f.name))
		}
		*f.p = v
	}
	if h.end <= h.start || h.docs == 0 || h.failed > h.docs {
		return h, fmt.Errorf("chunk %d-%d with %d documents (%d failed) is malformed", h.start, h.end, h.docs, h.failed)
	}
	return h, nil
}
