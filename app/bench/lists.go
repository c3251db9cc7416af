package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/uptrace/bun"

	"granttrack/app/auth"
	"granttrack/app/server"
	"granttrack/app/store"
)

// The pages that grow with the data (issue 15): each timed through the web
// app against the raw SQL of the same figures, in the same run.

const (
	benchAuditorEmail = "bench-auditor@bench.example"
	benchMakerEmail   = "bench-maker@bench.example"
	benchAward        = "RPT-AWARD-1"
	benchAwardEntries = 1_000
)

// SeedListData adds to the report data set (SeedReportData) what the list
// pages need beside it: an auditor, and an approved award on the first
// line with its own approved spend, unless they are there. Like the
// report data it is written as the schema's owner with the ledger's
// triggers off, so it also writes the monthly rollup itself.
func SeedListData(ctx context.Context, st, owner *store.Store) error {
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM awards WHERE reference = ?", benchAward).Scan(ctx, &n); err != nil || n > 0 {
		return err
	}
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return err
	}
	return owner.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		steps := []seedStep{
			{"ALTER TABLE awards DISABLE TRIGGER USER", nil},
			{"ALTER TABLE spend_entries DISABLE TRIGGER USER", nil},
			{`INSERT INTO users (email, name, role, password_hash, active) VALUES (?, 'Bench auditor', 'auditor', ?, true)
				ON CONFLICT (email) DO NOTHING`, []any{benchAuditorEmail, hash}},
			// The bench's people sign in by password alone: the scratch
			// database asks no one for a second factor, so the pages are
			// timed, not the enrolment page they would be sent to.
			{`UPDATE two_factor_settings SET required_roles = '{}'`, nil},
			{`UPDATE organisations SET org_id = 'GB-CHC-' || id WHERE name = 'Bench organisation 2' AND org_id IS NULL`, nil},
			{`INSERT INTO awards (funding_line_id, recipient_id, reference, purpose, amount, awarded_on, starts_on, ends_on, status,
					proposed_by, decided_by, decided_at)
				SELECT fl.id, o.id, ?, 'Bench award', 100000.00, fl.starts_on, fl.starts_on, fl.ends_on, 'approved',
					(SELECT id FROM users WHERE email = 'bench-maker@bench.example'),
					(SELECT id FROM users WHERE email = 'bench-checker@bench.example'), now()
				FROM funding_lines fl, organisations o WHERE fl.code = 'RPT-L00001' AND o.name = 'Bench organisation 2'`, []any{benchAward}},
			{`INSERT INTO spend_entries (funding_line_id, award_id, payee_id, amount, incurred_on, category, reference, status, recorded_by, decided_by, decided_at)
				SELECT a.funding_line_id, a.id, a.recipient_id, 10.00, a.starts_on + (i % 365), 'grant_payment', 'RPT-AWARD-' || i, 'approved',
					a.proposed_by, a.decided_by, now()
				FROM awards a, generate_series(1, ?) i WHERE a.reference = ?`, []any{benchAwardEntries, benchAward}},
		}
		steps = append(steps, rollUp("RPT-AWARD-%")...)
		steps = append(steps,
			seedStep{"ALTER TABLE spend_entries ENABLE TRIGGER USER", nil},
			seedStep{"ALTER TABLE awards ENABLE TRIGGER USER", nil},
			seedStep{"ANALYZE awards", nil})
		for _, step := range steps {
			if _, err := tx.NewRaw(step.sql, step.args...).Exec(ctx); err != nil {
				return fmt.Errorf("seeding the list pages' data (as the schema's owner): %w", err)
			}
		}
		return nil
	})
}

// listPage is one page timed against the raw SQL of its figures.
type listPage struct {
	name, path, email string
	raw               []string // each query's rows are read to the end
	args              []any
}

// Lists times each list page (first page, no filter) and the raw queries
// of the same figures, runs times each, in the same run; it returns the
// timings in pairs, raw first.
func Lists(ctx context.Context, st *store.Store, srv *server.Server, runs int) ([]Timing, error) {
	var awardID int64
	if err := st.DB().NewRaw("SELECT id FROM awards WHERE reference = ?", benchAward).Scan(ctx, &awardID); err != nil {
		return nil, fmt.Errorf("the bench award: %w", err)
	}
	pages := []listPage{
		{name: "/audit", path: "/audit", email: benchAuditorEmail, raw: []string{
			`SELECT seq, occurred_at, actor, action, entity, entity_id, before::text, after::text FROM audit_events ORDER BY seq DESC LIMIT 50`,
			`SELECT count(*) FROM audit_events`}},
		{name: "/spend", path: "/spend", email: benchBoardEmail, raw: []string{
			`SELECT e.id, e.incurred_on, e.amount::text, e.status, fl.code, o.name FROM spend_entries e
				JOIN funding_lines fl ON fl.id = e.funding_line_id JOIN organisations o ON o.id = e.payee_id
				ORDER BY e.incurred_on DESC, e.id DESC LIMIT 50`,
			`SELECT count(*), sum(amount)::text FROM spend_entries`}},
		{name: "record-spend form", path: "/spend/new", email: benchMakerEmail, raw: []string{
			`SELECT fl.id, fl.code, fl.title, (fl.budget - coalesce((SELECT sum(e.amount) FROM spend_entries e
				WHERE e.funding_line_id = fl.id AND e.status = 'approved'), 0))::text
				FROM funding_lines fl WHERE fl.status = 'active' ORDER BY fl.code LIMIT 20`,
			`SELECT id, name FROM organisations ORDER BY name LIMIT 20`}},
		{name: "funding lines list", path: "/funding-lines", email: benchBoardEmail, raw: []string{
			`SELECT fl.id, fl.code, fl.title, fl.budget::text, coalesce((SELECT sum(e.amount) FROM spend_entries e
				WHERE e.funding_line_id = fl.id AND e.status = 'approved'), 0)::text FROM funding_lines fl ORDER BY fl.code LIMIT 50`,
			`SELECT count(*), sum(budget)::text FROM funding_lines`}},
		{name: "award page", path: fmt.Sprintf("/awards/%d", awardID), email: benchBoardEmail, args: []any{awardID}, raw: []string{
			`SELECT a.reference, a.amount::text, coalesce((SELECT sum(e.amount) FROM spend_entries e
				WHERE e.award_id = a.id AND e.status = 'approved'), 0)::text FROM awards a WHERE a.id = $1`,
			`SELECT id, amount::text, due_on FROM tranches WHERE award_id = $1 ORDER BY seq`,
			// The rest of what the page shows: its line, recipient,
			// variations, history and the decision records a variation
			// may cite.
			`SELECT fl.code, fl.title, fl.budget::text FROM funding_lines fl JOIN awards a ON a.funding_line_id = fl.id WHERE a.id = $1`,
			`SELECT o.name FROM organisations o JOIN awards a ON a.recipient_id = o.id WHERE a.id = $1`,
			`SELECT id, kind, amount::text, status FROM award_variations WHERE award_id = $1 ORDER BY id`,
			`SELECT seq, occurred_at, action FROM audit_events WHERE entity = 'award' AND entity_id = $1::text ORDER BY seq DESC LIMIT 50`,
			`SELECT id, reference, title FROM decision_records WHERE $1::bigint > 0 ORDER BY signed_on DESC`}},
	}
	cookies := map[string]string{}
	var out []Timing
	for _, p := range pages {
		if cookies[p.email] == "" {
			c, err := signIn(srv, p.email, benchPassword)
			if err != nil {
				return nil, fmt.Errorf("signing in as %s: %w", p.email, err)
			}
			cookies[p.email] = c
		}
		raw := Timing{Name: "raw: " + p.name, Comment: "the same figures in plain SQL (pgx)"}
		page := Timing{Name: p.name, Comment: "GET " + p.path}
		for range runs {
			began := time.Now()
			for _, q := range p.raw {
				if err := readAll(ctx, st, q, p.args); err != nil {
					return nil, fmt.Errorf("raw %s: %w", p.name, err)
				}
			}
			raw.Runs = append(raw.Runs, time.Since(began))
			took, err := timeGet(srv, p.path, http.Header{"Cookie": {cookies[p.email]}})
			if err != nil {
				return nil, err
			}
			page.Runs = append(page.Runs, took)
		}
		out = append(out, raw, page)
	}
	return out, nil
}

// readAll runs a query and reads every row.
func readAll(ctx context.Context, st *store.Store, query string, args []any) error {
	rows, err := st.Pool().Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// timeGet times one GET through the web app, which must answer 200.
func timeGet(srv *server.Server, path string, header http.Header) (time.Duration, error) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header = header
	began := time.Now()
	resp, err := srv.App().Test(req, -1)
	took := time.Since(began)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %d", path, resp.StatusCode)
	}
	return took, nil
}
