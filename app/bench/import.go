package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"granttrack/app/store"
	"granttrack/models"
)

// ImportResult compares an import with a raw COPY of the same file.
type ImportResult struct {
	Rows          int
	Import, Copy  time.Duration
	ImportedTotal string
}

// Ratio is the import's rows per second as a share of raw COPY's.
func (r ImportResult) Ratio() float64 { return r.Copy.Seconds() / r.Import.Seconds() }

// Import writes a CSV of rows spend entries, imports it through the real
// import (checks, staging, insert, audit), and times a plain COPY of the same
// file into a scratch table in the same run.
func Import(ctx context.Context, st *store.Store, rows int, dir string) (ImportResult, error) {
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

	f, err = os.Open(path)
	if err != nil {
		return res, err
	}
	start := time.Now()
	out, err := st.ImportSpend(ctx, s.Actor, bufio.NewReaderSize(f, 1<<20), store.ImportOptions{FileName: "bench-import.csv", Force: true})
	res.Import = time.Since(start)
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
	return res, err
}
