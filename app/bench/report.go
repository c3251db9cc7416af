package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"granttrack/app/auth"
	"granttrack/app/report"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// ReportSize is the large data set the board's reports are measured on.
type ReportSize struct {
	Lines      int // funding lines, over 20 programmes
	Entries    int // approved spend entries, spread over five financial years
	Indicators int // each with a monthly measurement over the five years
}

// BoardScale is the size the board issue asks for.
var BoardScale = ReportSize{Lines: 10_000, Entries: 1_000_000, Indicators: 2_000}

// benchProgramme marks the seeded data, so a second run reuses it.
const benchProgramme = "RPT-P01"

// SeedReportData builds the data set unless it is already there. It loads
// with set-based INSERT … SELECT in one transaction with the ledger's
// triggers (and so its per-row rule checks) switched off, which only the
// schema's owner can do: owner connects as the owner to st's database, a
// scratch database of the bench's own. The rows keep the rules by
// construction: every line's budget covers its spend and every entry was
// approved by a second person.
func SeedReportData(ctx context.Context, st, owner *store.Store, size ReportSize, first models.FinancialYear) (seeded bool, err error) {
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM programmes WHERE code = ?", benchProgramme).Scan(ctx, &n); err != nil || n > 0 {
		return false, err
	}
	start := first.Start()
	days := models.PeriodOf(first+4, 0).End.Sub(start).Hours()/24 + 1
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return false, err
	}
	err = owner.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		steps := []seedStep{
			// Until the end of this transaction, which switches them on again:
			// the lines are born active with their profiles, which the rules
			// (two-person line decisions, proposed profiles) would refuse.
			{"ALTER TABLE spend_entries DISABLE TRIGGER USER", nil},
			{"ALTER TABLE funding_lines DISABLE TRIGGER USER", nil},
			{"ALTER TABLE budget_profiles DISABLE TRIGGER USER", nil},
			{`INSERT INTO users (email, name, role, password_hash, active) VALUES
				('bench-maker@bench.example', 'Bench maker', 'finance_officer', ?0, true),
				('bench-checker@bench.example', 'Bench checker', 'finance_officer', ?0, true),
				(?1, 'Bench board member', 'board_member', ?0, true)
				ON CONFLICT (email) DO NOTHING`, []any{hash, benchBoardEmail}},
			{`INSERT INTO programmes (code, name, plan)
				SELECT 'RPT-P' || lpad(p::text, 2, '0'), 'Bench programme ' || p, 'Bench plan' FROM generate_series(1, 20) p`, nil},
			{`INSERT INTO organisations (name, is_funder, is_recipient)
				SELECT 'Bench organisation ' || o, o = 1, o > 1 FROM generate_series(1, 201) o`, nil},
			{`INSERT INTO funding_lines (code, title, kind, programme_id, funder_id, budget, starts_on, ends_on, status)
				SELECT 'RPT-L' || lpad(l::text, 5, '0'), 'Bench line ' || l, 'grant',
					(SELECT id FROM programmes WHERE code = 'RPT-P' || lpad((1 + l % 20)::text, 2, '0')),
					(SELECT id FROM organisations WHERE name = 'Bench organisation 1'),
					5000000.00, ?0::date + (l % 3) * interval '1 year', ?0::date + (5 + l % 3) * interval '1 year' - interval '1 day', 'active'
				FROM generate_series(1, ?1) l`, []any{start, size.Lines}},
			// Triggers are off while seeding, so the lines' proposed profiles
			// are written here.
			{`INSERT INTO budget_profiles (funding_line_id, financial_year, amount)
				SELECT fl.id, p.financial_year, p.amount FROM funding_lines fl, straight_line_profile(fl.budget, fl.starts_on, fl.ends_on) p
				WHERE fl.code LIKE 'RPT-L%'`, nil},
			{`CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
				SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM funding_lines WHERE code LIKE 'RPT-L%'`, nil},
			{`CREATE TEMP TABLE bench_orgs ON COMMIT DROP AS
				SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM organisations WHERE name LIKE 'Bench organisation %' AND is_recipient`, nil},
			{`INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, reference, status, recorded_by, decided_by, decided_at)
				SELECT l.id, o.id, 1 + (i * 7919 % 99999) / 100.0, ?0::date + (i * 31 % ?2)::int, 'services', 'RPT-' || i, 'approved',
					(SELECT id FROM users WHERE email = 'bench-maker@bench.example'),
					(SELECT id FROM users WHERE email = 'bench-checker@bench.example'), now()
				FROM generate_series(0::bigint, ?1 - 1) i
				JOIN bench_lines l ON l.n = i % ?3
				JOIN bench_orgs o ON o.n = i % 200`, []any{start, size.Entries, int(days), size.Lines}},
		}
		steps = append(steps, rollUp("RPT-%")...)
		steps = append(steps, []seedStep{
			{`INSERT INTO indicators (funding_line_id, name, unit, direction, baseline_value, baseline_on, target_value, target_on, frequency)
				SELECT l.id, 'Bench indicator ' || l.n, 'count', 'higher_is_better', 100, ?0::date - 1, 200, ?0::date + interval '5 years', 'monthly'
				FROM bench_lines l WHERE l.n < ?1`, []any{start, size.Indicators}},
			// Each indicator's definition is its first revision, as CreateIndicator writes it.
			{`INSERT INTO indicator_revisions (indicator_id, revision, name, unit, direction, baseline_value, baseline_on, target_value, target_on)
				SELECT id, 1, name, unit, direction, baseline_value, baseline_on, target_value, target_on
				FROM indicators WHERE name LIKE 'Bench indicator %'`, nil},
			{`INSERT INTO measurements (indicator_id, period_start, period_end, value, source)
				SELECT i.id, m::date, (m + interval '1 month' - interval '1 day')::date, 100 + extract(month FROM m) + i.id % 7, 'bench'
				FROM indicators i CROSS JOIN generate_series(?0::date, ?0::date + interval '59 months', interval '1 month') m
				WHERE i.name LIKE 'Bench indicator %'`, []any{start}},
			{"ALTER TABLE spend_entries ENABLE TRIGGER USER", nil},
			{"ALTER TABLE funding_lines ENABLE TRIGGER USER", nil},
			{"ALTER TABLE budget_profiles ENABLE TRIGGER USER", nil},
			// The lines changed with their triggers off, so the catalogue's
			// version is moved by hand (see line_catalogue_version).
			{"UPDATE line_catalogue_version SET version = version + 1", nil},
		}...)
		for _, s := range steps {
			if _, err := tx.NewRaw(s.sql, s.args...).Exec(ctx); err != nil {
				return fmt.Errorf("seeding the report data set (as the schema's owner): %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	// Vacuumed as well as analysed, as autovacuum leaves a database that
	// has been in use: a million rows just loaded have no visibility map
	// yet, so every index-only scan of the rollups would visit the heap
	// (measured: the dashboard took a third longer until the first VACUUM).
	_, err = owner.DB().ExecContext(ctx, "VACUUM (ANALYZE)")
	return true, err
}

// seedStep is one statement of a bench's seeding, run as the schema's owner.
type seedStep struct {
	sql  string
	args []any
}

// rollUp adds the spend entries whose reference is LIKE pattern to the
// monthly and yearly rollups and the monthly totals, whose triggers are off
// while a bench seeds.
func rollUp(pattern string) []seedStep {
	return []seedStep{
		{`INSERT INTO spend_monthly AS m (funding_line_id, month, status, amount, entries)
			SELECT funding_line_id, date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
			FROM spend_entries WHERE reference LIKE ? GROUP BY 1, 2, 3
			ON CONFLICT (funding_line_id, month, status)
			DO UPDATE SET amount = m.amount + EXCLUDED.amount, entries = m.entries + EXCLUDED.entries`, []any{pattern}},
		{`INSERT INTO spend_yearly AS y (funding_line_id, financial_year, status, reversal, amount, entries)
			SELECT funding_line_id, financial_year_of(incurred_on), status, reverses_id IS NOT NULL, sum(amount), count(*)
			FROM spend_entries WHERE reference LIKE ? GROUP BY 1, 2, 3, 4
			ON CONFLICT (funding_line_id, financial_year, status, reversal)
			DO UPDATE SET amount = y.amount + EXCLUDED.amount, entries = y.entries + EXCLUDED.entries`, []any{pattern}},
		{`INSERT INTO spend_month_totals (month, status, amount, entries)
			SELECT date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
			FROM spend_entries WHERE reference LIKE ? GROUP BY 1, 2`, []any{pattern}},
	}
}

const (
	benchBoardEmail = "bench-board@bench.example"
	benchPassword   = "bench-password-not-for-use"
)

// Timing is how long one measured operation took over several runs.
type Timing struct {
	Name    string
	Runs    []time.Duration
	Comment string
	// Raw is the raw query this is compared with, when it is not the
	// first timing's.
	Raw *Timing
}

// Median is the middle run.
func (t Timing) Median() time.Duration {
	r := slices.Clone(t.Runs)
	slices.Sort(r)
	return r[len(r)/2]
}

func (t Timing) String() string {
	return fmt.Sprintf("%-28s median %8.1f ms  min %8.1f ms  (%d runs) %s", t.Name, ms(t.Median()), ms(slices.Min(t.Runs)), len(t.Runs), t.Comment)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Reports measures, for one financial year, the raw GROUP BY of the year's
// spend by line, the budget report through the HTTP API, and the board's
// dashboard page through the web app, each runs times in the same run.
func Reports(ctx context.Context, st *store.Store, srv *server.Server, fy models.FinancialYear, runs int) ([]Timing, error) {
	token := auth.NewAPIToken()
	board, err := st.UserByEmail(ctx, benchBoardEmail)
	if err != nil {
		return nil, err
	}
	if _, err := st.CreateAPIToken(ctx, models.SystemActor("bench"), board.ID, "bench", token); err != nil {
		return nil, err
	}
	cookies, err := signIn(srv, benchBoardEmail, benchPassword)
	if err != nil {
		return nil, err
	}
	p := models.PeriodOf(fy, 0)
	raw := Timing{Name: "raw GROUP BY (pgx)", Comment: "spend by line and status for the year, rows read"}
	api := Timing{Name: "budget report (API)", Comment: "GET /api/v1/reports/budget?fy=" + fy.String()}
	dash := Timing{Name: "dashboard (web page)", Comment: "GET /dashboard?fy=" + fy.String()}
	// The same just after a finance officer records spend on a line, as in
	// a working day: that line's money is read again, and the lines'
	// ratings and groups are worked out again.
	changed := Timing{Name: "dashboard after a change", Comment: "the same, each run just after spend is recorded on another line"}
	change, err := spendRecorder(ctx, st, p, runs)
	if err != nil {
		return nil, err
	}
	// The dashboard as the board opens it, for the current financial year,
	// whose line figures its alerts share, against the raw GROUP BY of
	// that year.
	current := models.PeriodOf(models.FinancialYearOf(time.Now()), 0)
	rawCurrent := Timing{Name: "raw GROUP BY, current year", Comment: "the same for " + current.Year.String()}
	dashCurrent := Timing{Name: "dashboard, current year", Comment: "GET /dashboard (" + current.Year.String() + ")"}
	// Where the dashboard's time goes: its figures without the page and
	// the user's alerts, and the plain read of the yearly rollup that the
	// reports' money comes from (the floor for any report of every line).
	figures := Timing{Name: "dashboard figures (report)", Comment: "report.DashboardReport, no page, no alerts"}
	rollup := Timing{Name: "raw rollup read (pgx)", Comment: "the year's spend_yearly rows, read"}
	rawGroupBy := func(p models.Period) (time.Duration, error) {
		began := time.Now()
		rows, err := st.Pool().Query(ctx, `SELECT funding_line_id, status, sum(amount)::text FROM spend_entries
			WHERE incurred_on BETWEEN $1 AND $2 GROUP BY funding_line_id, status`, p.Start, p.End)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var status, sum string
			if err := rows.Scan(&id, &status, &sum); err != nil {
				return 0, err
			}
		}
		return time.Since(began), rows.Err()
	}
	for range runs {
		took, err := rawGroupBy(p)
		if err != nil {
			return nil, err
		}
		raw.Runs = append(raw.Runs, took)
		took, err = timeGet(srv, "/api/v1/reports/budget?fy="+fy.String(), http.Header{"Authorization": {"Bearer " + token}})
		if err != nil {
			return nil, err
		}
		api.Runs = append(api.Runs, took)
		took, err = timeGet(srv, "/dashboard?fy="+fy.String(), http.Header{"Cookie": {cookies}})
		if err != nil {
			return nil, err
		}
		dash.Runs = append(dash.Runs, took)
		if err := change(); err != nil {
			return nil, err
		}
		if took, err = timeGet(srv, "/dashboard?fy="+fy.String(), http.Header{"Cookie": {cookies}}); err != nil {
			return nil, err
		}
		changed.Runs = append(changed.Runs, took)
		if took, err = rawGroupBy(current); err != nil {
			return nil, err
		}
		rawCurrent.Runs = append(rawCurrent.Runs, took)
		if took, err = timeGet(srv, "/dashboard", http.Header{"Cookie": {cookies}}); err != nil {
			return nil, err
		}
		dashCurrent.Runs = append(dashCurrent.Runs, took)
		began := time.Now()
		q := report.Query{Period: p, AsOf: st.Clock().Today(), GroupBy: report.ByProgramme} // as the page asks
		if _, err := report.DashboardReport(ctx, st, q, 25, 10); err != nil {
			return nil, err
		}
		figures.Runs = append(figures.Runs, time.Since(began))
		began = time.Now()
		if err := readAll(ctx, st, `SELECT funding_line_id, status, reversal, amount::text, entries FROM spend_yearly WHERE financial_year = $1`,
			[]any{int(fy)}); err != nil {
			return nil, err
		}
		rollup.Runs = append(rollup.Runs, time.Since(began))
	}
	out := []Timing{raw, api, dash, changed, figures, rollup, rawCurrent, dashCurrent}
	out[7].Raw = &out[6]
	return out, nil
}

// spendRecorder returns a function that records 1.00 of spend in p as the
// bench's finance officer, on another of the seeded lines running through
// p each time it is called (up to n lines).
func spendRecorder(ctx context.Context, st *store.Store, p models.Period, n int) (func() error, error) {
	maker, err := st.UserByEmail(ctx, benchMakerEmail)
	if err != nil {
		return nil, err
	}
	var lines []int64
	var payee int64
	if err := st.DB().NewRaw(`SELECT id FROM funding_lines WHERE code LIKE 'RPT-L%' AND starts_on <= ? AND ends_on >= ? ORDER BY code LIMIT ?`,
		p.Start, p.End, max(n, 1)).Scan(ctx, &lines); err != nil {
		return nil, err
	}
	if err := st.DB().NewRaw(`SELECT id FROM organisations WHERE name LIKE 'Bench organisation %' AND is_recipient ORDER BY id LIMIT 1`).
		Scan(ctx, &payee); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("bench: no seeded line runs through %s", p)
	}
	by := models.Actor{UserID: maker.ID, Label: maker.Email, Role: maker.Role}
	next := 0
	return func() error {
		e, err := models.SpendInput{FundingLineID: lines[next%len(lines)], PayeeID: payee, Amount: "1.00",
			IncurredOn: p.Start.AddDate(0, 0, 9).Format(models.DateLayout), Category: "services", Purpose: "Bench change",
			VFMReason: "Bench"}.Validate()
		if err != nil {
			return err
		}
		next++
		_, err = st.RecordSpend(ctx, by, e, "", nil)
		return err
	}, nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn signs in to the web app as a browser would and returns the
// session cookies as a Cookie header.
func signIn(srv *server.Server, email, password string) (string, error) {
	resp, err := srv.App().Test(httptest.NewRequest("GET", "/login", nil), -1)
	if err != nil {
		return "", err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("no CSRF token on the sign-in page")
	}
	jar := map[string]string{}
	keep := func(r *http.Response) {
		for _, c := range r.Cookies() {
			jar[c.Name] = c.Value
		}
	}
	header := func() string {
		var parts []string
		for k, v := range jar {
			parts = append(parts, k+"="+v)
		}
		return strings.Join(parts, "; ")
	}
	keep(resp)
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", header())
	resp, err = srv.App().Test(req, -1)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	keep(resp)
	return header(), nil
}
