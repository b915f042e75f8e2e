// Package server is bingli's HTTP API (echo v4): synchronous tagging (POST /v1/ner) and
// de-identification (POST /v1/deid) through a dynamic batcher that merges concurrent requests
// into batches for the one model instance, durable bulk jobs kept in an embedded SQLite store
// (modernc.org/sqlite) with their inputs and results as files beside it, bearer-token auth
// with per-token rate limits, Prometheus metrics, health checks and a hand-written OpenAPI 3
// document. RunWorker is the other side of distributed jobs (`bingli worker`).
//
// # Batching
//
// One goroutine owns the model. Requests and job chunks queue their documents; the batcher
// takes up to MaxBatch documents, waiting at most MaxWait for more, and hands them to the
// model in one call. The model then buckets by length before padding: it splits the documents
// into sentences, sorts all sentences of the batch by length and pads only within each group
// of similar length (tagger.Batches), so one long document does not pad a batch of short ones.
//
// # Jobs on one machine
//
// The job runner takes active jobs oldest first, a chunk (JobChunk documents) at a time: it
// tags the chunk through the batcher, appends the result lines to results.jsonl, fsyncs, and
// then records the new input and result byte offsets in one SQLite update (a second goroutine
// does the writing and committing, in order, while the next chunk is tagged). After a crash the
// job resumes at its committed offsets (the results file is truncated back to its committed
// length first), so every input document gets exactly one result line. A write that fails
// (disk full, read-only file system, permissions) fails the job with a message saying so.
//
// # Jobs on NATS workers (Config.NATS, `bingli serve --nats URL`)
//
// The store stays on the server; only chunks travel. Two JetStream work-queue streams with
// file storage:
//
//   - BINGLI_CHUNKS, subjects bingli.chunks.<model>.<job>: the server cuts a job's stored
//     input into chunks (≤ JobChunk documents, ≤ ChunkBytes), records each chunk (its input
//     byte range) in SQLite and then publishes it, zstd-compressed, with the message id
//     "<job>:<start>-<end>", at most Window chunks of a job outstanding. Workers of a model
//     share one durable pull consumer (workers-<model>), so each chunk goes to one worker.
//   - BINGLI_RESULTS, subjects bingli.results.<job>: a worker tags its chunk, publishes the
//     result lines (same message id) and waits for JetStream's acknowledgement that they are
//     stored; only then does it ack the chunk. While tagging it reports progress every
//     AckWait/3, so a chunk is redelivered only when its worker died or hung.
//
// The server's result consumer stores a result in the chunk's SQLite row only if the row
// exists and has no result yet, appends every stored result that starts at the job's
// committed input offset to results.jsonl (fsync), commits offsets, counts and the row's
// removal in one transaction, and only then acks the result message. The results file is
// thus a tiling of the input by byte ranges in input order, and each document's result is
// written exactly once: a redelivered chunk's second result, a result published by a worker
// that died before acking, or a chunk republished after a server crash is either dropped by
// JetStream's duplicate window (same message id) or finds its row answered or gone and is
// dropped by the server (metric bingli_dist_results_total{outcome="duplicate"}). Nothing is
// lost: an unacked chunk is redelivered, an unacked result is redelivered, and a chunk
// recorded but not yet published when the server died is published again at start-up.
// /v1/ner and /v1/deid are still tagged by the server's own model. /metrics adds
// bingli_job_chunks_outstanding (published, not yet committed) and bingli_dist_results_total.
//
// Request text is never logged: the access log records method, route, status, size, latency
// and a short token fingerprint only, and client-error messages are not logged at all (a
// field name can come from the request). Workers log job ids and byte offsets, never text.
package server
