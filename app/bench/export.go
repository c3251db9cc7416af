package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"granttrack/app/export"
	"granttrack/app/store"
)

// ExportResult compares a ledger export with PostgreSQL's own COPY of the
// same SELECT to stdout, run in the same process one after the other.
type ExportResult struct {
	Format       string
	Rows         int   // rows the export wrote
	CopyRows     int64 // rows COPY wrote
	Bytes        int64 // bytes the export wrote
	Approved     string
	Export, Copy time.Duration
	PeakHeap     uint64 // most Go heap in use while exporting, bytes
	ExportRSS    int64  // the process's peak resident set while exporting, bytes (Linux; 0 if unknown)
	MaxRSS       int64  // the process's peak resident set over its life, bytes
}

// Ratio is the export's rows per second as a share of COPY's.
func (r ExportResult) Ratio() float64 { return r.Copy.Seconds() / r.Export.Seconds() }

// Export seeds rows approved spend entries on lines of a new programme,
// exports that programme's ledger in format to nowhere, and times COPY
// (the ledger's own query) TO STDOUT of the same rows.
func Export(ctx context.Context, st *store.Store, rows int, format string) (ExportResult, error) {
	res := ExportResult{Format: format}
	s, err := Prepare(ctx, st, 16)
	if err != nil {
		return res, err
	}
	fl, err := st.FundingLine(ctx, s.Lines[0])
	if err != nil {
		return res, err
	}
	approver, err := newApprover(ctx, st)
	if err != nil {
		return res, err
	}
	if err := seedApproved(ctx, st, s, approver.ID, rows); err != nil {
		return res, err
	}

	filter := export.Filter{ProgrammeID: fl.ProgrammeID}
	res.MaxRSS = maxRSS()
	debug.FreeOSMemory() // what seeding used is handed back before measuring
	resetPeakRSS()
	stop := sampleHeap()
	counter := &countingWriter{}
	start := time.Now()
	m, err := export.Ledger(ctx, st, counter, format, filter, nil)
	res.Export = time.Since(start)
	res.PeakHeap = stop()
	res.ExportRSS = peakRSS()
	if err != nil {
		return res, err
	}
	res.Rows, res.Bytes, res.Approved = m.Rows, counter.n, m.Approved

	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	query := st.LedgerQuery(store.LedgerFilter{ProgrammeID: fl.ProgrammeID})
	start = time.Now()
	err = conn.Raw(func(dc any) error {
		tag, err := dc.(*stdlib.Conn).Conn().PgConn().CopyTo(ctx, io.Discard, "COPY ("+query+") TO STDOUT WITH (FORMAT csv, HEADER true)")
		res.CopyRows = tag.RowsAffected()
		return err
	})
	res.Copy = time.Since(start)
	res.MaxRSS = max(res.MaxRSS, maxRSS())
	return res, err
}

// seedApproved COPYs rows approved entries, recorded by s.Actor and
// approved by approverID, spread over s.Lines, in one statement: the
// ledger's budget check runs once for it, over the lines it touched. Each
// line's budget (9,999,999,999.00) covers its rows by construction (at most
// £400.99 each).
func seedApproved(ctx context.Context, st *store.Store, s Setup, approverID int64, rows int) error {
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pg := dc.(*stdlib.Conn).Conn().PgConn()
		pr, pw := io.Pipe()
		go func() {
			w := bufio.NewWriterSize(pw, 1<<20)
			for i := range rows {
				fmt.Fprintf(w, "%d\t%d\t%d.%02d\t2024-%02d-15\tservices\tINV-%d\tBench row %d\tapproved\t%d\t%d\tnow\n",
					s.Lines[i%len(s.Lines)], s.PayeeID, 1+i%400, i%100, 4+i%9, i, i, s.Actor.UserID, approverID)
			}
			pw.CloseWithError(w.Flush())
		}()
		_, err := pg.CopyFrom(ctx, pr, `COPY spend_entries (funding_line_id, payee_id, amount, incurred_on, category, reference, description,
			status, recorded_by, decided_by, decided_at) FROM STDIN`)
		pr.Close()
		return err
	})
}

// sampleHeap samples the Go heap in use until stop is called, which
// returns the largest sample.
func sampleHeap() (stop func() uint64) {
	var mu sync.Mutex
	var max uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		if ms.HeapInuse > max {
			max = ms.HeapInuse
		}
		mu.Unlock()
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return max
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// maxRSS is the process's peak resident set so far (since the last
// resetPeakRSS), in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// resetPeakRSS starts the kernel's count of peak resident memory afresh
// (Linux: writing 5 to clear_refs resets VmHWM), so that peakRSS measures
// the export alone and not the seeding before it.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM, the peak resident set since the last reset, in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
