package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"granttrack/app/bench"
	"granttrack/app/export"
)

// benchCmd runs `granttrack bench spend`: recording throughput through the
// HTTP API against the raw transaction. It writes rows, so point it at a
// scratch data dir (--data-dir /tmp/gt-bench) or database.
func (c *command) benchCmd(args []string) error {
	if len(args) > 0 && args[0] == "import" {
		return c.benchImport(args[1:])
	}
	if len(args) > 0 && args[0] == "report" {
		return c.benchReport(args[1:])
	}
	if len(args) > 0 && args[0] == "export" {
		return c.benchExport(args[1:])
	}
	if len(args) == 0 || args[0] != "spend" {
		return usageError{"bench needs spend, import, export or report"}
	}
	fs := c.flags("bench spend")
	clientsFlag := fs.String("clients", "1,8,32", "concurrent clients, comma-separated")
	n := fs.Int("n", 3000, "requests per run")
	profile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var clients []int
	for _, f := range strings.Split(*clientsFlag, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return usageError{"--clients takes positive whole numbers, e.g. 1,8,32"}
		}
		clients = append(clients, v)
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	srv, err := a.Server()
	if err != nil {
		return err
	}
	stop, err := startProfile(*profile)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(c.stdout, "Recording spend: %d requests per run\n", *n)
	return bench.Spend(c.ctx, a.Store, srv, clients, *n, func(api, raw bench.Result) {
		fmt.Fprintln(c.stdout, api)
		fmt.Fprintln(c.stdout, raw)
		fmt.Fprintf(c.stdout, "  API/raw throughput: %.0f%%\n", 100*api.PerSecond()/raw.PerSecond())
	})
}

// benchImport runs `granttrack bench import [--rows N]`.
func (c *command) benchImport(args []string) error {
	fs := c.flags("bench import")
	rows := fs.Int("rows", 1_000_000, "rows in the generated file")
	profile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	dir, err := os.MkdirTemp("", "granttrack-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stop, err := startProfile(*profile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := bench.Import(c.ctx, a.Store, *rows, dir)
	if err != nil {
		return err
	}
	rate := float64(res.Rows) / res.Import.Seconds() // rows per second, not money
	fmt.Fprintf(c.stdout, "import  %d rows in %s: %.0f rows/s\n", res.Rows, res.Import.Round(time.Millisecond), rate)
	fmt.Fprintf(c.stdout, "  imported total £%s\n", res.ImportedTotal)
	fmt.Fprintf(c.stdout, "COPY    %d rows in %s: %.0f rows/s\n", res.Rows, res.Copy.Round(time.Millisecond), float64(res.Rows)/res.Copy.Seconds())
	fmt.Fprintf(c.stdout, "  import/COPY throughput: %.0f%%\n", 100*res.Ratio())
	fmt.Fprintf(c.stdout, "COPY of the same rows as ids into a table shaped like the ledger (its checks and indexes, no foreign keys, logged) in %s: %.0f rows/s\n",
		res.LedgerCopy.Round(time.Millisecond), float64(res.Rows)/res.LedgerCopy.Seconds())
	fmt.Fprintf(c.stdout, "  the most any import into this ledger could reach: %.0f%% of COPY\n", 100*res.CeilingRatio())
	fmt.Fprintf(c.stdout, "approve the whole import (a second officer, one transaction): %d entries in %s: %.0f entries/s\n",
		res.Rows, res.Approve.Round(time.Millisecond), float64(res.Rows)/res.Approve.Seconds())
	return nil
}

// benchExport runs `granttrack bench export [--rows N] [--format csv]`: it
// seeds N approved entries, then times the ledger export against
// PostgreSQL's COPY of the same rows, and reports the export's peak memory.
func (c *command) benchExport(args []string) error {
	fs := c.flags("bench export")
	rows := fs.Int("rows", 1_000_000, "approved entries to seed and export")
	format := fs.String("format", "csv", strings.Join(export.Formats(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rows < 1 {
		return usageError{"--rows must be at least 1"}
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(c.stdout, "Seeding %d approved entries...\n", *rows)
	res, err := bench.Export(c.ctx, a.Store, *rows, *format)
	if err != nil {
		return err
	}
	mb := func(b int64) float64 { return float64(b) / (1 << 20) } // megabytes, not money
	fmt.Fprintf(c.stdout, "export %-9s %d rows in %s: %.0f rows/s (%.1f MB written)\n", res.Format, res.Rows,
		res.Export.Round(time.Millisecond), float64(res.Rows)/res.Export.Seconds(), mb(res.Bytes))
	fmt.Fprintf(c.stdout, "  approved total £%s\n", res.Approved)
	fmt.Fprintf(c.stdout, "COPY TO STDOUT   %d rows in %s: %.0f rows/s\n", res.CopyRows, res.Copy.Round(time.Millisecond),
		float64(res.CopyRows)/res.Copy.Seconds())
	fmt.Fprintf(c.stdout, "  export/COPY throughput: %.0f%%\n", 100*res.Ratio())
	fmt.Fprintf(c.stdout, "  peak Go heap in use while exporting: %.1f MB; process peak RSS while exporting: %.1f MB (over the whole run: %.1f MB)\n",
		mb(int64(res.PeakHeap)), mb(res.ExportRSS), mb(res.MaxRSS))
	return nil
}

// startProfile writes a CPU profile to path until stop is called; with no
// path it does nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
