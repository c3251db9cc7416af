package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app"
	"granttrack/app/bench"
	"granttrack/app/export"
	"granttrack/app/pgembed"
	"granttrack/app/store"
)

// benchCmd runs `granttrack bench spend`: recording throughput through the
// HTTP API against the raw transaction, in a scratch database (scratch).
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
	fs := c.benchFlags("bench spend")
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
	a, _, done, err := c.scratch()
	if err != nil {
		return err
	}
	defer done()
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
	fs := c.benchFlags("bench import")
	rows := fs.Int("rows", 1_000_000, "rows in the generated file")
	profile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, owner, done, err := c.scratch()
	if err != nil {
		return err
	}
	defer done()
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
	res, err := bench.Import(c.ctx, a.Store, owner, *rows, dir)
	if err != nil {
		return err
	}
	rate := float64(res.Rows) / res.Import.Seconds() // rows per second, not money
	fmt.Fprintf(c.stdout, "import  %d rows in %s: %.0f rows/s\n", res.Rows, res.Import.Round(time.Millisecond), rate)
	fmt.Fprintf(c.stdout, "  imported total £%s\n", res.ImportedTotal)
	fmt.Fprintf(c.stdout, "  reading, checking and staging the file %s; writing the ledger %s; audit event and commit %s\n",
		res.Reading.Round(time.Millisecond), res.Recording.Round(time.Millisecond), res.Finishing.Round(time.Millisecond))
	fmt.Fprintf(c.stdout, "COPY    %d rows in %s: %.0f rows/s\n", res.Rows, res.Copy.Round(time.Millisecond), float64(res.Rows)/res.Copy.Seconds())
	fmt.Fprintf(c.stdout, "  import/COPY throughput: %.0f%%\n", 100*res.Ratio())
	fmt.Fprintf(c.stdout, "COPY of the same rows as ids into a table shaped like the ledger (its checks and indexes, no foreign keys, logged) in %s: %.0f rows/s\n",
		res.LedgerCopy.Round(time.Millisecond), float64(res.Rows)/res.LedgerCopy.Seconds())
	fmt.Fprintf(c.stdout, "  the most any import into this ledger could reach: %.0f%% of COPY\n", 100*res.CeilingRatio())
	fmt.Fprintf(c.stdout, "COPY of the same rows as ids into the ledger itself (spend_entries: its keys, foreign keys, indexes and triggers; rolled back) in %s: %.0f rows/s\n",
		res.LedgerFloor.Round(time.Millisecond), float64(res.Rows)/res.LedgerFloor.Seconds())
	fmt.Fprintf(c.stdout, "  import/ledger COPY throughput: %.0f%% (the floor for any import into this ledger)\n", 100*res.FloorRatio())
	fmt.Fprintf(c.stdout, "approve the whole import (a second officer, one transaction): %d entries in %s: %.0f entries/s\n",
		res.Rows, res.Approve.Round(time.Millisecond), float64(res.Rows)/res.Approve.Seconds())
	return nil
}

// benchExport runs `granttrack bench export [--rows N] [--format csv]`: it
// seeds N approved entries, then times the ledger export against
// PostgreSQL's COPY of the same rows, and reports the export's peak memory.
func (c *command) benchExport(args []string) error {
	fs := c.benchFlags("bench export")
	rows := fs.Int("rows", 1_000_000, "approved entries to seed and export")
	format := fs.String("format", "csv", strings.Join(export.Formats(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rows < 1 {
		return usageError{"--rows must be at least 1"}
	}
	a, _, done, err := c.scratch()
	if err != nil {
		return err
	}
	defer done()
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

// benchFlags are a bench's flags: --data-dir, which must be new or empty,
// and --owner-url, which makes the scratch database on an external server.
func (c *command) benchFlags(name string) *flag.FlagSet {
	fs := c.flags(name)
	fs.StringVar(&c.cfg.OwnerURL, "owner-url", c.cfg.OwnerURL, "with DATABASE_URL: a role that may create databases, which makes and drops the bench's own (GRANTTRACK_OWNER_DATABASE_URL)")
	return fs
}

// scratch makes a database for this bench run alone, because a bench writes
// rows no ledger should hold (a million approved entries with no audit
// events, say): without DATABASE_URL, a private cluster in a new temporary
// data dir, or in --data-dir if that is new or empty (kept, for a look
// afterwards); with DATABASE_URL, a new database on that server, made and
// dropped afterwards by the owner's connection. It returns the app, as the
// application role, the owner's store on the same database (for what only
// the owner may do), and what closes and removes them.
func (c *command) scratch() (a *app.App, owner *store.Store, done func(), err error) {
	if err := c.checkTarget(); err != nil {
		return nil, nil, nil, err
	}
	if c.cfg.DatabaseURL != "" {
		return c.scratchDatabase()
	}
	cfg := c.cfg
	remove := func() {}
	if !c.dataDirSet {
		if cfg.DataDir, err = os.MkdirTemp("", "granttrack-bench-"); err != nil {
			return nil, nil, nil, err
		}
		dir := cfg.DataDir
		remove = func() { os.RemoveAll(dir) }
		// When run as root, the server runs as postgres, which must get in.
		if err := os.Chmod(dir, 0o755); err != nil {
			remove()
			return nil, nil, nil, err
		}
	} else if entries, err := os.ReadDir(cfg.DataDir); err == nil && len(entries) > 0 {
		return nil, nil, nil, fmt.Errorf("bench runs only in a scratch data dir of its own, and %s is not empty; give a new or empty --data-dir, or none for a temporary one", cfg.DataDir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, err
	}
	if a, err = app.Open(c.ctx, cfg, c.logger()); err != nil {
		remove()
		return nil, nil, nil, err
	}
	if owner, err = store.Open(c.ctx, a.Cluster.OwnerDSN()); err != nil {
		a.Close()
		remove()
		return nil, nil, nil, err
	}
	if c.dataDirSet {
		fmt.Fprintf(c.stdout, "Benchmarking in a new private cluster in %s (kept afterwards)\n", cfg.DataDir)
	}
	return a, owner, func() { owner.Close(); a.Close(); remove() }, nil
}

// scratchDatabase makes a new database on DATABASE_URL's server with the
// owner's connection, migrates it and grants the application role its
// privileges there, and drops it when done.
func (c *command) scratchDatabase() (a *app.App, owner *store.Store, done func(), err error) {
	if c.cfg.OwnerURL == "" {
		return nil, nil, nil, errors.New("with DATABASE_URL, a bench makes a database of its own and drops it afterwards: give a role that may create databases with --owner-url or GRANTTRACK_OWNER_DATABASE_URL")
	}
	name := "granttrack_bench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	server, err := pgx.Connect(c.ctx, c.cfg.OwnerURL)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("owner's connection: %w", err)
	}
	defer server.Close(context.Background())
	if _, err := server.Exec(c.ctx, "CREATE DATABASE "+name); err != nil {
		return nil, nil, nil, fmt.Errorf("making the bench's database (the owner needs CREATEDB): %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.cfg.OwnerURL)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "granttrack: dropping the bench's database %s: %v\n", name, err)
		}
	}
	cfg := c.cfg
	if cfg.DatabaseURL, err = pgembed.WithDatabase(c.cfg.DatabaseURL, name); err == nil {
		cfg.OwnerURL, err = pgembed.WithDatabase(c.cfg.OwnerURL, name)
	}
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	o, err := app.OpenOwner(c.ctx, cfg, c.logger())
	if err == nil {
		if _, err = o.Migrate(c.ctx); err == nil {
			a, err = app.Open(c.ctx, cfg, c.logger())
		}
	}
	if err != nil {
		if o != nil {
			o.Close()
		}
		drop()
		return nil, nil, nil, err
	}
	fmt.Fprintf(c.stdout, "Benchmarking in a new database %s (dropped afterwards)\n", name)
	return a, o.Store, func() { a.Close(); o.Close(); drop() }, nil
}
