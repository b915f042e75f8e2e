// Package server is bingli's HTTP API (echo v4): synchronous tagging (POST /v1/ner) through
// a dynamic batcher that merges concurrent requests into batches for the one model instance,
// durable bulk jobs kept in an embedded SQLite store (modernc.org/sqlite) with their inputs
// and results as files beside it, bearer-token auth with per-token rate limits, Prometheus
// metrics, health checks and a hand-written OpenAPI 3 document.
//
// Request text is never logged: the access log records method, route, status, size, latency
// and a short token fingerprint only, and client-error messages are not logged at all (a
// field name can come from the request).
package server
