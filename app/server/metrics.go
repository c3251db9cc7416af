package server

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"granttrack/app/export"
	"granttrack/app/store"
)

// metrics are what GET /metrics shows Prometheus: request durations by
// route and status, the database pool's use, and the Go runtime's.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
	// exports and exportedBytes count ledger exports by format and outcome.
	exports       *prometheus.CounterVec
	exportedBytes *prometheus.CounterVec
}

func newMetrics(pool *pgxpool.Pool, st *store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "granttrack_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template (not the raw path) and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
		exports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "granttrack_exports_total",
			Help: "Ledger exports answered, by format and outcome (ok, failed)."}, []string{"format", "outcome"}),
		exportedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "granttrack_exported_bytes_total",
			Help: "Bytes of the ledger exports answered, by format."}, []string{"format"}),
	}
	m.registry.MustRegister(m.duration, m.exports, m.exportedBytes, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		stat := func(f func(*pgxpool.Stat) float64) func() float64 { return func() float64 { return f(pool.Stat()) } }
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "granttrack_db_pool_acquired_connections", Help: "Database connections in use."},
				stat(func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "granttrack_db_pool_idle_connections", Help: "Database connections open and idle."},
				stat(func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "granttrack_db_pool_max_connections", Help: "The most connections the pool opens."},
				stat(func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "granttrack_db_pool_acquires_total", Help: "Connections taken from the pool."},
				stat(func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "granttrack_db_pool_waited_acquires_total", Help: "Connections taken only after waiting for one: the pool was exhausted."},
				stat(func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "granttrack_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a connection."},
				stat(func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() })),
		)
	}
	if st != nil {
		m.registry.MustRegister(verificationCollector{st}, activityCollector{st})
	}
	if st != nil && st.HasReplica() {
		lag := func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			d, err := st.ReplicaLag(ctx)
			if err != nil {
				return math.NaN()
			}
			return d.Seconds()
		}
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "granttrack_replica_lag_seconds",
			Help: "How far the read replica is behind the primary (0: it has replayed everything); NaN when either does not answer."}, lag))
	}
	return m
}

// verificationCollector reports the background verification's last runs,
// read from PostgreSQL at each scrape so that every node reports the same.
type verificationCollector struct{ st *store.Store }

var (
	verificationOK = prometheus.NewDesc("granttrack_audit_verification_ok",
		"1 if the last verification run of this scope found the audit chain and the ledger intact, 0 if not.", []string{"scope"}, nil)
	verificationAge = prometheus.NewDesc("granttrack_audit_verification_age_seconds",
		"Seconds since the last verification run of this scope finished.", []string{"scope"}, nil)
	verificationHead = prometheus.NewDesc("granttrack_audit_verification_head_seq",
		"The audit event sequence the last verification run of this scope reached.", []string{"scope"}, nil)
)

func (verificationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- verificationOK
	ch <- verificationAge
	ch <- verificationHead
}

func (c verificationCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	last, err := c.st.LastVerification(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(verificationOK, err)
		return
	}
	for _, run := range []*store.VerificationRun{last.Full, last.Incremental} {
		if run == nil {
			continue
		}
		ok := 0.0
		if run.OK() {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(verificationOK, prometheus.GaugeValue, ok, run.Scope)
		ch <- prometheus.MustNewConstMetric(verificationAge, prometheus.GaugeValue, time.Since(run.FinishedAt).Seconds(), run.Scope)
		ch <- prometheus.MustNewConstMetric(verificationHead, prometheus.GaugeValue, float64(run.HeadSeq), run.Scope)
	}
}

// activityCollector reports the store's counts of decisions and imports,
// read at each scrape.
type activityCollector struct{ st *store.Store }

var (
	decisionsTotal = prometheus.NewDesc("granttrack_decisions_total",
		"Decisions made, by kind (spend_entry, spend_import, award, line_decision, …) and outcome (approved, rejected, withdrawn, or refused: the decider was not allowed).",
		[]string{"kind", "outcome"}, nil)
	importsTotal = prometheus.NewDesc("granttrack_imports_total",
		"Spend imports, by outcome (stored, refused: bad rows or file, duplicate: imported before, failed).", []string{"outcome"}, nil)
	importedRows = prometheus.NewDesc("granttrack_imported_rows_total", "Spend entries stored by imports.", nil, nil)
)

func (activityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- decisionsTotal
	ch <- importsTotal
	ch <- importedRows
}

func (c activityCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.st.Activity()
	for d, n := range a.Decisions {
		ch <- prometheus.MustNewConstMetric(decisionsTotal, prometheus.CounterValue, n, d.Kind, d.Outcome)
	}
	for outcome, n := range a.Imports {
		ch <- prometheus.MustNewConstMetric(importsTotal, prometheus.CounterValue, n, outcome)
	}
	ch <- prometheus.MustNewConstMetric(importedRows, prometheus.CounterValue, a.ImportedRows)
}

// countExport counts one ledger export of format, of size bytes if it was
// sent; a format no export writes is counted as "unknown", so that a
// request cannot make a series of its own.
func (m *metrics) countExport(format string, size int64, err error) {
	if _, _, ok := export.ContentType(format); !ok {
		format = "unknown"
	}
	if err != nil {
		m.exports.WithLabelValues(format, "failed").Inc()
		return
	}
	m.exports.WithLabelValues(format, "ok").Inc()
	m.exportedBytes.WithLabelValues(format).Add(float64(size))
}

// observe records one answered request under its route template: the
// pattern it matched, such as /api/v1/spend/:id (or the prefix of the
// middleware that answered it), so that ids do not make a series each; a
// request no route matched is "unmatched".
func (m *metrics) observe(c *fiber.Ctx, status int, took time.Duration) {
	route := c.Route().Path
	if c.Locals(localUnmatched) != nil {
		route = "unmatched"
	}
	m.duration.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Observe(took.Seconds())
}

// handler serves the metrics in Prometheus's text format.
func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}
