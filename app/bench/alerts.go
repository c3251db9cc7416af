package bench

import (
	"context"
	"fmt"
	"time"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// rawAlerts computes the alerts' figures the plain way, each straight from
// its table with one GROUP BY and no rollup: the year's approved spend and
// profiled budget by line (budget used, and what red lines are rated from),
// what is unawarded on lines ending soon, what is unpaid on overdue
// tranches, the spend after each line's end and each indicator's last
// reading. $1 and $2 are the year's first and last days, $3 the day.
const rawAlerts = `
	WITH spent AS (
		SELECT funding_line_id, sum(amount) AS spent FROM spend_entries
		WHERE status = 'approved' AND incurred_on BETWEEN $1 AND $2 GROUP BY funding_line_id)
	SELECT 'year', fl.id, bp.amount::text, coalesce(s.spent, 0)::text
	FROM funding_lines fl JOIN budget_profiles bp ON bp.funding_line_id = fl.id AND bp.financial_year = extract(year FROM $1::date)
	LEFT JOIN spent s ON s.funding_line_id = fl.id
	UNION ALL
	SELECT 'ending', fl.id, fl.budget::text, (fl.budget - coalesce(sum(a.amount), 0))::text
	FROM funding_lines fl LEFT JOIN awards a ON a.funding_line_id = fl.id AND a.status IN ('pending', 'approved')
	WHERE fl.ends_on BETWEEN $3 AND $3::date + 60 GROUP BY fl.id
	UNION ALL
	SELECT 'tranche', t.id, t.amount::text, (t.amount - coalesce(sum(e.amount), 0))::text
	FROM tranches t LEFT JOIN spend_entries e ON e.tranche_id = t.id AND e.status = 'approved'
	WHERE t.due_on < $3 GROUP BY t.id
	UNION ALL
	SELECT 'late', e.funding_line_id, count(*)::text, sum(e.amount)::text
	FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
	WHERE e.status <> 'rejected' AND e.incurred_on > fl.ends_on GROUP BY e.funding_line_id
	UNION ALL
	SELECT 'reading', indicator_id, max(period_end)::text, '' FROM measurements GROUP BY indicator_id`

// Alerts measures, on the last day of the year fy, the raw query of the
// alerts' figures (rawAlerts) and a board member's alerts list
// (report.Alerts: the store's alerts query and the report's red lines),
// each runs times in the same run, and says how many alerts the list had.
func Alerts(ctx context.Context, st *store.Store, fy models.FinancialYear, runs int) ([]Timing, error) {
	board, err := st.UserByEmail(ctx, benchBoardEmail)
	if err != nil {
		return nil, err
	}
	p := models.PeriodOf(fy, 0)
	raw := Timing{Name: "raw alerts figures (pgx)", Comment: "GROUP BYs over the ledger, rows read"}
	list := Timing{Name: "alerts list (store)", Comment: "report.Alerts as at " + p.End.Format(models.DateLayout)}
	for range runs {
		began := time.Now()
		rows, err := st.Pool().Query(ctx, rawAlerts, p.Start, p.End, p.End)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var kind, a, b string
			var id int64
			if err := rows.Scan(&kind, &id, &a, &b); err != nil {
				rows.Close()
				return nil, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		raw.Runs = append(raw.Runs, time.Since(began))
		began = time.Now()
		alerts, err := report.Alerts(ctx, st, board.ID, p.End)
		if err != nil {
			return nil, err
		}
		list.Runs = append(list.Runs, time.Since(began))
		list.Comment = fmt.Sprintf("report.Alerts as at %s: %d alerts", p.End.Format(models.DateLayout), len(alerts))
	}
	return []Timing{raw, list}, nil
}
