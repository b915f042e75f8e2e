package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, in a registry of its own so that several
// servers (in tests) do not collide.
type metrics struct {
	reg             *prometheus.Registry
	requestDuration *prometheus.HistogramVec
	batchSize       prometheus.Histogram
	batchSeconds    prometheus.Histogram
	queueDepth      prometheus.Gauge
	jobDocuments    *prometheus.CounterVec
	rateLimited     prometheus.Counter
	distResults     *prometheus.CounterVec
}

func newMetrics(backend string) *metrics {
	if backend == "" {
		backend = "cpu"
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bingli_http_request_duration_seconds", Help: "HTTP request latency by method, route and status.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method", "route", "code"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bingli_batch_documents", Help: "Documents per model batch.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bingli_batch_seconds", Help: "Model time per batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bingli_batch_queue_documents", Help: "Documents waiting for the batcher.",
		}),
		jobDocuments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bingli_job_documents_total", Help: "Job documents committed, by outcome (ok or error).",
		}, []string{"outcome"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bingli_rate_limited_total", Help: "Requests refused by the per-token rate limit.",
		}),
		distResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bingli_dist_results_total",
			Help: "Chunk results read from NATS workers, by outcome: stored, duplicate (dropped: already stored or committed), gone (job canceled, failed or deleted).",
		}, []string{"outcome"}),
	}
	backendInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bingli_backend_info", Help: "The tensor backend the model runs on (value 1).",
	}, []string{"backend"})
	backendInfo.WithLabelValues(backend).Set(1)
	m.reg.MustRegister(m.requestDuration, m.batchSize, m.batchSeconds, m.queueDepth, m.jobDocuments,
		m.rateLimited, m.distResults, backendInfo, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
