package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"granttrack/app/store"
	"granttrack/models"
)

// ImportResult compares an import with a raw COPY of the same file, and with
// the fastest any import into the ledger's table could be.
type ImportResult struct {
	Rows          int
	Import, Copy  time.Duration
	ImportedTotal string
	// LedgerCopy is a COPY of the same rows, their names already resolved
	// to ids, into a logged table with the ledger's columns, defaults,
	// checks and indexes but none of its foreign keys or triggers, rolled
	// back: the floor under any import that keeps the ledger as it is.
	LedgerCopy time.Duration
	// LedgerFloor is a COPY of the same rows, names already resolved to
	// ids, straight into spend_entries itself (its primary key, foreign
	// keys, indexes and triggers in force) as the application, in one
	// transaction rolled back: the floor under any import into this ledger.
	LedgerFloor time.Duration
	// Reading, Recording and Finishing split Import: reading, checking and
	// staging the file and resolving its names; the INSERTs into the ledger
	// (hashing the entries as they return); the audit event and the commit.
	Reading, Recording, Finishing time.Duration
	// Approve is a second officer approving the whole import at once.
	Approve time.Duration
}

// FloorRatio is the import's rows per second as a share of LedgerFloor's.
func (r ImportResult) FloorRatio() float64 { return r.LedgerFloor.Seconds() / r.Import.Seconds() }

// Ratio is the import's rows per second as a share of raw COPY's.
func (r ImportResult) Ratio() float64 { return r.Copy.Seconds() / r.Import.Seconds() }

// CeilingRatio is LedgerCopy's rows per second as a share of raw COPY's:
// the best Ratio an import into this ledger could reach.
func (r ImportResult) CeilingRatio() float64 { return r.Copy.Seconds() / r.LedgerCopy.Seconds() }

// Import writes a CSV of rows spend entries, imports it through the real
// import (checks, staging, insert, audit), and times a plain COPY of the same
// file into a scratch table in the same run; then a second officer approves
// the whole import at once. owner connects as the schema's owner to st's
// database, a scratch database of the bench's own: the ledger-shaped table
// is made in the schema, where the application role creates nothing.
func Import(ctx context.Context, st, owner *store.Store, rows int, dir string) (ImportResult, error) {
	var res ImportResult
	s, err := Prepare(ctx, st, 16)
	if err != nil {
		return res, err
	}
	codes := make([]string, len(s.Lines))
	for i, id := range s.Lines {
		fl, err := st.FundingLine(ctx, id)
		if err != nil {
			return res, err
		}
		codes[i] = fl.Code
	}
	payee, err := st.Organisation(ctx, s.PayeeID)
	if err != nil {
		return res, err
	}
	path := dir + "/bench-import.csv"
	f, err := os.Create(path)
	if err != nil {
		return res, err
	}
	defer os.Remove(path)
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, strings.Join(models.SpendImportColumns, ","))
	for i := range rows {
		fmt.Fprintf(w, "%s,,%s,%d.%02d,2024-%02d-15,services,INV-%d,Bench row,,\n", codes[i%len(codes)], payee.Name, 1+i%400, i%100, 4+i%9, i)
	}
	if err := w.Flush(); err != nil {
		return res, err
	}
	f.Close()

	// The floor runs first, and its dead rows are vacuumed away, so that the
	// import and the floor each write into the same ledger.
	if res.LedgerFloor, err = ledgerFloor(ctx, st, s, codes, rows, dir); err != nil {
		return res, err
	}
	if _, err := owner.DB().ExecContext(ctx, "VACUUM spend_entries"); err != nil {
		return res, err
	}
	f, err = os.Open(path)
	if err != nil {
		return res, err
	}
	start := time.Now()
	var recording, recorded time.Time
	progress := func(stage store.ImportStage, done, total int) {
		if stage == store.ImportRecording && recording.IsZero() {
			recording = time.Now()
		}
		if stage == store.ImportRecording && done == total {
			recorded = time.Now()
		}
	}
	out, err := st.ImportSpend(ctx, s.Actor, bufio.NewReaderSize(f, 1<<20), store.ImportOptions{FileName: "bench-import.csv", Force: true, Progress: progress})
	res.Import = time.Since(start)
	res.Reading, res.Recording, res.Finishing = recording.Sub(start), recorded.Sub(recording), start.Add(res.Import).Sub(recorded)
	f.Close()
	if err != nil {
		return res, err
	}
	res.Rows, res.ImportedTotal = out.Rows, models.FormatMoney(out.Total)

	f, err = os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE bench_copy (funding_line text, award text, payee text, amount text,
		incurred_on text, category text, reference text, description text, purpose text, vfm_reason text)`); err != nil {
		return res, err
	}
	start = time.Now()
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)")
		return err
	})
	res.Copy = time.Since(start)
	if err != nil {
		return res, err
	}
	ownerConn, err := owner.DB().Conn(ctx)
	if err != nil {
		return res, err
	}
	defer ownerConn.Close()
	if res.LedgerCopy, err = ledgerCopy(ctx, ownerConn, out.ID, dir); err != nil {
		return res, err
	}
	approver, err := newApprover(ctx, st)
	if err != nil {
		return res, err
	}
	start = time.Now()
	d, err := st.ApproveImport(ctx, models.Actor{UserID: approver.ID, Label: approver.Email, Role: approver.Role}, out.ID)
	res.Approve = time.Since(start)
	if err == nil && d.Entries != out.Rows {
		err = fmt.Errorf("bench: approved %d of the import's %d entries", d.Entries, out.Rows)
	}
	return res, err
}

// ledgerCopy times a COPY of import importID's entries, as ids, into a
// scratch table shaped like spend_entries without its foreign keys and
// triggers, inside a transaction it rolls back.
func ledgerCopy(ctx context.Context, conn bun.Conn, importID int64, dir string) (time.Duration, error) {
	const cols = "funding_line_id, award_id, payee_id, amount, incurred_on, category, reference, description, purpose, vfm_reason, recorded_by, import_id"
	path := dir + "/bench-ledger.csv"
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	var took time.Duration
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := pc.CopyTo(ctx, w, fmt.Sprintf("COPY (SELECT %s FROM spend_entries WHERE import_id = %d ORDER BY id) TO STDOUT", cols, importID)); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := pc.Exec(ctx, `BEGIN; CREATE TABLE bench_ledger_shape (LIKE spend_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`).ReadAll(); err != nil {
			return err
		}
		defer func() { _, _ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll() }()
		start := time.Now()
		_, err := pc.CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY bench_ledger_shape ("+cols+") FROM STDIN")
		took = time.Since(start)
		return err
	})
	return took, err
}

// ledgerFloor times a COPY into spend_entries, as the application role, of
// the rows the bench's file holds with their names resolved to the ids the
// import would find (line, payee; no award), under an import row of its
// own, in one transaction it rolls back.
func ledgerFloor(ctx context.Context, st *store.Store, s Setup, codes []string, rows int, dir string) (time.Duration, error) {
	path := dir + "/bench-floor.tsv"
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var took time.Duration
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
			return err
		}
		defer func() { _, _ = pc.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll() }()
		var importID int64
		if err := queryInt(ctx, pc, fmt.Sprintf(`INSERT INTO spend_imports (file_name, file_sha256, rows, total, forced, imported_by)
			VALUES ('bench-floor', decode(repeat('00', 32), 'hex'), %d, 0, true, %d) RETURNING id`, rows, s.Actor.UserID), &importID); err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := range rows {
			// The columns of floorColumns, in COPY's text format.
			fmt.Fprintf(w, "%d\t\\N\t%d\t%d.%02d\t2024-%02d-15\tservices\tINV-%d\tBench row\t\t\t%d\t%d\n",
				s.Lines[i%len(codes)], s.PayeeID, 1+i%400, i%100, 4+i%9, i, s.Actor.UserID, importID)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		start := time.Now()
		_, err := pc.CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY spend_entries ("+floorColumns+") FROM STDIN")
		took = time.Since(start)
		return err
	})
	return took, err
}

const floorColumns = "funding_line_id, award_id, payee_id, amount, incurred_on, category, reference, description, purpose, vfm_reason, recorded_by, import_id"

// queryInt reads one bigint the query returns.
func queryInt(ctx context.Context, pc *pgconn.PgConn, query string, into *int64) error {
	res := pc.ExecParams(ctx, query, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return res.Err
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("bench: %d rows, want 1", len(res.Rows))
	}
	v, err := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	*into = v
	return err
}
