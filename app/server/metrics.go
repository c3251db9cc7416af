package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what GET /metrics shows Prometheus: request durations by
// route and status, the database pool's use, and the Go runtime's.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
}

func newMetrics(pool *pgxpool.Pool) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "granttrack_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template (not the raw path) and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
	}
	m.registry.MustRegister(m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	return m
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
