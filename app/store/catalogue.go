package store

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// lineCatalogue keeps the reported lines of a few financial years as they
// were last read, each with the line_catalogue_version it was read at. The
// database bumps that version in the same transaction as any change to the
// lines, their budget profiles or their programmes, so lines read at the
// version a report's snapshot shows are exactly the lines that snapshot
// holds. Money is kept apart (lineMoney), with the lines it was read with.
type lineCatalogue struct {
	mu    sync.Mutex
	years map[models.FinancialYear]*catalogueEntry
}

type catalogueEntry struct {
	version int64
	readAt  time.Time
	lines   []ReportedLine // every reported line, by programme and code
	index   map[int64]int  // each line's position in lines, by id; read only
}

// catalogueMaxAge bounds how long lines are kept even at an unchanged
// version, so that nothing outside the version's reach (a database restored
// under a running process) is served for long.
const catalogueMaxAge = 5 * time.Minute

// catalogueYears bounds the years kept (each ~5 MB at 10,000 lines).
const catalogueYears = 4

func newLineCatalogue() *lineCatalogue {
	return &lineCatalogue{years: map[models.FinancialYear]*catalogueEntry{}}
}

// reportedLines returns the figures of every approved, active or closed
// line in scope, with its profiled budget for from's financial year and
// money figures zero, by programme and code, and their positions by id (a
// map the caller only reads).
func (s *Store) reportedLines(ctx context.Context, from time.Time, scope ReportScope) ([]LineFigures, map[int64]int, error) {
	e, err := s.catalogueFor(ctx, models.FinancialYearOf(from))
	if err != nil {
		return nil, nil, err
	}
	out, index := e.figures(scope)
	return out, index, nil
}

// figures are the entry's lines in scope with money figures zero, and their
// positions by id. Each line's figures point at the kept line, shared and
// read only; only the money is the caller's.
func (e *catalogueEntry) figures(scope ReportScope) ([]LineFigures, map[int64]int) {
	if scope == (ReportScope{}) {
		out := make([]LineFigures, len(e.lines))
		for i := range e.lines {
			out[i].ReportedLine = &e.lines[i]
		}
		return out, e.index
	}
	out := make([]LineFigures, 0, len(e.lines))
	index := make(map[int64]int, len(e.lines))
	for i := range e.lines {
		l := &e.lines[i]
		if (scope.ProgrammeID == 0 || l.ProgrammeID == scope.ProgrammeID) && (scope.FundingLineID == 0 || l.LineID == scope.FundingLineID) {
			index[l.LineID] = len(out)
			out = append(out, LineFigures{ReportedLine: l})
		}
	}
	return out, index
}

// catalogueFor is the year's reported lines from the catalogue when it
// holds the year at the version the database shows now, else from the
// database (and then kept). Read only.
func (s *Store) catalogueFor(ctx context.Context, year models.FinancialYear) (*catalogueEntry, error) {
	var version int64
	if err := s.db.NewRaw(`SELECT version FROM line_catalogue_version`).Scan(ctx, &version); err != nil {
		return nil, translate(err)
	}
	if e, ok := s.catalogue.get(year, version, time.Now()); ok {
		return e, nil
	}
	all, version, err := s.readReportedLines(ctx, year)
	if err != nil {
		return nil, err
	}
	e := &catalogueEntry{version: version, readAt: time.Now(), lines: all, index: make(map[int64]int, len(all))}
	for i, l := range all {
		e.index[l.LineID] = i
	}
	s.catalogue.put(year, e)
	return e, nil
}

func (c *lineCatalogue) get(year models.FinancialYear, version int64, now time.Time) (*catalogueEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.years[year]
	if !ok || e.version != version || now.Sub(e.readAt) > catalogueMaxAge || now.Before(e.readAt) {
		return nil, false
	}
	return e, true
}

func (c *lineCatalogue) put(year models.FinancialYear, e *catalogueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.years[year]; !ok && len(c.years) >= catalogueYears {
		clear(c.years)
	}
	c.years[year] = e
}

// readReportedLines reads every approved, active or closed line with its
// profiled budget for the year, and the catalogue version in the same
// statement, so the two describe the same moment whatever the isolation.
// Scanned by hand: ten thousand lines through Bun's reflection took a third
// of a large report's own time.
func (s *Store) readReportedLines(ctx context.Context, year models.FinancialYear) ([]ReportedLine, int64, error) {
	var n int
	if err := s.db.NewRaw(`SELECT count(*) FROM funding_lines WHERE status IN (?)`, bun.In(reportedStatuses)).Scan(ctx, &n); err != nil {
		return nil, 0, translate(err)
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT v.version, fl.id, fl.code, fl.title, fl.kind, fl.status, fl.programme_id, p.code, p.name,
			fl.budget, bp.amount, fl.starts_on, fl.ends_on, fl.tender_min_value, fl.tender_max_value, fl.contract_value
		FROM line_catalogue_version v
		CROSS JOIN funding_lines fl
		JOIN programmes p ON p.id = fl.programme_id
		LEFT JOIN budget_profiles bp ON bp.funding_line_id = fl.id AND bp.financial_year = ?0
		WHERE fl.status IN (?1)`, int(year), bun.In(reportedStatuses))
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var version int64
	out := make([]ReportedLine, 0, n)
	for rows.Next() {
		var f ReportedLine
		var yearBudget *decimal.Decimal
		if err := rows.Scan(&version, &f.LineID, &f.Code, &f.Title, &f.Kind, &f.Status, &f.ProgrammeID, &f.ProgrammeCode, &f.ProgrammeName,
			&f.Budget, &yearBudget, &f.StartsOn, &f.EndsOn, &f.TenderMin, &f.TenderMax, &f.ContractValue); err != nil {
			return nil, 0, translate(err)
		}
		if yearBudget != nil {
			f.YearBudget = *yearBudget
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err)
	}
	// Kept in the reports' order, by programme and line code (byte order,
	// whatever the database's collation), so no report sorts them again.
	slices.SortFunc(out, func(a, b ReportedLine) int {
		return cmp.Or(cmp.Compare(a.ProgrammeCode, b.ProgrammeCode), cmp.Compare(a.Code, b.Code))
	})
	if len(out) == 0 {
		// No line to carry it: the version read is what the catalogue
		// shows now (an empty year is cheap to read again anyway).
		return out, -1, nil
	}
	return out, version, nil
}
