package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// MaxSearch bounds a search box's text: longer text is refused with a
// message rather than sent to the database.
const MaxSearch = 100

// CheckSearch refuses search text that could not have been typed (control
// characters, invalid UTF-8) or is longer than MaxSearch characters; the
// error is EINVALID on field.
func CheckSearch(field, text string) error {
	if msg := SearchProblem(text); msg != "" {
		return models.Problems{{Field: field, Message: msg}}.Err()
	}
	return nil
}

// SearchProblem is what is wrong with search text, "" when nothing is.
func SearchProblem(text string) string {
	if err := models.CheckText(text, false); err != nil {
		return models.ErrorMessage(err)
	}
	if n := len([]rune(text)); n > MaxSearch {
		return fmt.Sprintf("is %d characters; search with at most %d", n, MaxSearch)
	}
	return ""
}

// containsPattern is an ILIKE pattern matching text anywhere, with LIKE's
// own wildcards (% and _) and its escape character taken literally.
func containsPattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.TrimSpace(text)) + "%"
}

// SpendCursor is a position in the ledger's order (newest first): the
// date incurred and id of an entry. Its text form is "2024-05-01.123".
type SpendCursor struct {
	IncurredOn time.Time
	ID         int64
}

func (c SpendCursor) String() string {
	return c.IncurredOn.Format(time.DateOnly) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseSpendCursor reads a cursor's text form; false when it is not one.
func ParseSpendCursor(text string) (*SpendCursor, bool) {
	day, id, ok := strings.Cut(text, ".")
	t, derr := time.Parse(time.DateOnly, day)
	n, ierr := strconv.ParseInt(id, 10, 64)
	if !ok || derr != nil || ierr != nil || n < 1 {
		return nil, false
	}
	return &SpendCursor{IncurredOn: t, ID: n}, true
}

func cursorOf(e *models.SpendEntry) *SpendCursor {
	return &SpendCursor{IncurredOn: e.IncurredOn, ID: e.ID}
}

// SpendList is one page of the ledger with the figures of the whole
// filtered list: how many entries and how much money, not the page's.
type SpendList struct {
	Entries []*models.SpendEntry
	Count   int
	Amount  decimal.Decimal
	// Prev and Next are the cursors of the pages before and after this
	// one, nil at either end.
	Prev, Next *SpendCursor
}

// SpendPage lists one page of entries, newest first. With f.After (or
// f.Before) it reads the page after (before) that position from the
// ledger-order index, however deep; without either, page f.Page.Number.
func (s *Store) SpendPage(ctx context.Context, f SpendFilter) (*SpendList, error) {
	out := &SpendList{}
	var err error
	if out.Count, out.Amount, err = s.spendTotals(ctx, f); err != nil {
		return nil, err
	}
	per := f.Page.PerPage
	if per <= 0 {
		per = MaxPerPage
	}
	q := s.db.NewSelect().Model(&out.Entries).Limit(int64(per + 1))
	s.spendWhere(q, f)
	switch {
	case f.After != nil:
		q = q.Where("(incurred_on, id) < (?, ?)", f.After.IncurredOn, f.After.ID).Order("incurred_on DESC", "id DESC")
	case f.Before != nil:
		q = q.Where("(incurred_on, id) > (?, ?)", f.Before.IncurredOn, f.Before.ID).Order("incurred_on", "id")
	default:
		q = q.Order("incurred_on DESC", "id DESC").Offset(int64((max(f.Page.Number, 1) - 1) * per))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	out.Entries, out.Prev, out.Next = keysetPage(out.Entries, per, f.After != nil, f.Before != nil, f.Page.Number, cursorOf)
	return out, nil
}

// keysetPage trims a keyset read of up to per+1 rows to its page and finds
// the cursors of the pages either side (zero at either end): the rows were
// read forward from an after cursor, backward from a before cursor (they
// are turned round here), or from the start of page number n by offset.
func keysetPage[T any, K any](rows []T, per int, fromAfter, fromBefore bool, n int, key func(T) K) (page []T, prev, next K) {
	more := len(rows) > per
	rows = rows[:min(len(rows), per)]
	if fromBefore {
		slices.Reverse(rows)
	}
	if len(rows) == 0 {
		return rows, prev, next
	}
	first, last := key(rows[0]), key(rows[len(rows)-1])
	switch {
	case fromBefore:
		next = last
		if more {
			prev = first
		}
	case fromAfter:
		prev = first
		if more {
			next = last
		}
	default:
		if n > 1 {
			prev = first
		}
		if more {
			next = last
		}
	}
	return rows, prev, next
}

// spendWhere adds f's conditions (not its paging) to a query on
// spend_entries.
func (s *Store) spendWhere(q *bun.SelectQuery, f SpendFilter) {
	if f.FundingLineID != 0 {
		q.Where("funding_line_id = ?", f.FundingLineID)
	}
	if f.AwardID != 0 {
		q.Where("award_id = ?", f.AwardID)
	}
	if f.PayeeID != 0 {
		q.Where("payee_id = ?", f.PayeeID)
	}
	if f.ImportID != 0 {
		q.Where("import_id = ?", f.ImportID)
	}
	if f.Status != "" {
		q.Where("status = ?", f.Status)
	}
	if f.From != nil {
		q.Where("incurred_on >= ?", *f.From)
	}
	if f.To != nil {
		q.Where("incurred_on <= ?", *f.To)
	}
	if strings.TrimSpace(f.Search) != "" {
		// Each arm has its own index (trigram on the entry's text, the
		// payee's and line's ids), so PostgreSQL combines bitmaps rather
		// than reading the ledger.
		p := containsPattern(f.Search)
		q.Where(`(description ILIKE ?0 OR reference ILIKE ?0
			OR payee_id IN (SELECT id FROM organisations WHERE name ILIKE ?0)
			OR funding_line_id IN (SELECT id FROM funding_lines WHERE code ILIKE ?0 OR title ILIKE ?0))`, p)
	}
}

// spendTotals counts and sums the entries f selects (all pages). A filter
// the monthly rollup can answer (line, status, whole months) is read from
// it, thousands of rows instead of millions; any other from the ledger.
func (s *Store) spendTotals(ctx context.Context, f SpendFilter) (count int, amount decimal.Decimal, err error) {
	on := func(t *time.Time, month, day int) bool {
		return t == nil || (int(t.Month()) == month && t.Day() == day)
	}
	wholeMonth := func(t *time.Time, end bool) bool {
		if t == nil {
			return true
		}
		if end {
			return t.AddDate(0, 0, 1).Day() == 1
		}
		return t.Day() == 1
	}
	if f.AwardID == 0 && f.PayeeID == 0 && f.ImportID == 0 && strings.TrimSpace(f.Search) == "" && wholeMonth(f.From, false) && wholeMonth(f.To, true) {
		// Whole financial years (or no dates) read the yearly rollup, a
		// row a line and year: the unfiltered ledger's totals at a
		// million entries are 50,000 rows there, 600,000 by month.
		q := s.db.NewSelect().ColumnExpr("coalesce(sum(entries), 0), coalesce(sum(amount), 0)")
		if on(f.From, 4, 1) && on(f.To, 3, 31) {
			q.TableExpr("spend_yearly")
			if f.From != nil {
				q.Where("financial_year >= ?", int(models.FinancialYearOf(*f.From)))
			}
			if f.To != nil {
				q.Where("financial_year <= ?", int(models.FinancialYearOf(*f.To)))
			}
		} else {
			q.TableExpr("spend_monthly")
			if f.From != nil {
				q.Where("month >= ?", *f.From)
			}
			if f.To != nil {
				q.Where("month <= ?", *f.To)
			}
		}
		if f.FundingLineID != 0 {
			q.Where("funding_line_id = ?", f.FundingLineID)
		}
		if f.Status != "" {
			q.Where("status = ?", f.Status)
		}
		err = q.Scan(ctx, &count, &amount)
		return count, amount, translate(err)
	}
	q := s.db.NewSelect().TableExpr("spend_entries").ColumnExpr("count(*), coalesce(sum(amount), 0)")
	s.spendWhere(q, f)
	err = q.Scan(ctx, &count, &amount)
	return count, amount, translate(err)
}

// LineCodes returns the codes of the funding lines asked for, by id.
func (s *Store) LineCodes(ctx context.Context, ids ...int64) (map[int64]string, error) {
	return s.namesOf(ctx, "funding_lines", "code", ids)
}

// OrganisationNames returns the names of the organisations asked for, by id.
func (s *Store) OrganisationNames(ctx context.Context, ids ...int64) (map[int64]string, error) {
	return s.namesOf(ctx, "organisations", "name", ids)
}

func (s *Store) namesOf(ctx context.Context, table, column string, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	err := s.db.NewSelect().TableExpr(table).ColumnExpr("id, ? AS name", bun.Ident(column)).
		Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, translate(err)
}
