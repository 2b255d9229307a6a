package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, on a registry of its own.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec   // handler, code
	latency      *prometheus.HistogramVec // handler
	batchDocs    *prometheus.HistogramVec // model, group
	batchTokens  *prometheus.HistogramVec // model, group
	queueDepth   *prometheus.GaugeVec     // model, group
	tokens       *prometheus.CounterVec   // model, group
	tokensPerSec *prometheus.GaugeVec     // model, group
	cancelled    *prometheus.CounterVec   // model, group
	inFlight     prometheus.Gauge
}

func newMetrics() *metrics {
	mg := []string{"model", "group"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "biobertpt_http_requests_total",
			Help: "HTTP requests answered, by handler and status code.",
		}, []string{"handler", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "biobertpt_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by handler.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"handler"}),
		batchDocs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "biobertpt_batch_documents",
			Help:    "Documents tagged together in one batch.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}, mg),
		batchTokens: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "biobertpt_batch_tokens",
			Help:    "Sub-tokens tagged together in one batch.",
			Buckets: prometheus.ExponentialBuckets(16, 2, 11),
		}, mg),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "biobertpt_queue_documents",
			Help: "Documents waiting to be tagged.",
		}, mg),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "biobertpt_tokens_total",
			Help: "Sub-tokens tagged (rate() of it is tokens per second).",
		}, mg),
		tokensPerSec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "biobertpt_batch_tokens_per_second",
			Help: "Sub-tokens per second of the last batch.",
		}, mg),
		cancelled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "biobertpt_cancelled_documents_total",
			Help: "Queued documents dropped because their client went away.",
		}, mg),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "biobertpt_http_requests_in_flight",
			Help: "Requests being answered.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.batchDocs, m.batchTokens, m.queueDepth, m.tokens,
		m.tokensPerSec, m.cancelled, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
