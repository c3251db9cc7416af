package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// SpendImport is an import and where its entries stand.
type SpendImport struct {
	ID           int64           `bun:"id"`
	FileName     string          `bun:"file_name"`
	Rows         int             `bun:"rows"`
	Total        decimal.Decimal `bun:"total"`
	Forced       bool            `bun:"forced"`
	ImportedBy   int64           `bun:"imported_by"`
	ImporterName string          `bun:"importer"`
	ImportedAt   time.Time       `bun:"imported_at"`
	Pending      int             `bun:"pending"`
	PendingTotal decimal.Decimal `bun:"pending_total"`
	Approved     int             `bun:"approved"`
	Rejected     int             `bun:"rejected"`
}

// spendImportQuery reads imports with their entries counted by status.
const spendImportQuery = `SELECT i.id, i.file_name, i.rows, i.total, i.forced, i.imported_by, u.name AS importer, i.imported_at,
		c.pending, c.pending_total, c.approved, c.rejected
	FROM spend_imports i JOIN users u ON u.id = i.imported_by,
	LATERAL (SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
			coalesce(sum(amount) FILTER (WHERE status = 'pending'), 0) AS pending_total,
			count(*) FILTER (WHERE status = 'approved') AS approved,
			count(*) FILTER (WHERE status = 'rejected') AS rejected
		FROM spend_entries e WHERE e.import_id = i.id) c`

// SpendImportByID returns one import; ENOTFOUND if none.
func (s *Store) SpendImportByID(ctx context.Context, id int64) (*SpendImport, error) {
	imp := new(SpendImport)
	if err := s.db.NewRaw(spendImportQuery+" WHERE i.id = ?", id).Scan(ctx, imp); err != nil {
		return nil, notFound(err, "Import", id)
	}
	return imp, nil
}

// SpendImportsAwaiting lists, oldest first, every import with entries
// still awaiting a decision.
func (s *Store) SpendImportsAwaiting(ctx context.Context) ([]SpendImport, error) {
	l, err := s.SpendImports(ctx, SpendImportFilter{Awaiting: true})
	if err != nil {
		return nil, err
	}
	return l.Imports, nil
}

// SpendImportFilter narrows the list of imports.
type SpendImportFilter struct {
	// Awaiting lists only the imports with entries awaiting a decision,
	// oldest first (a queue); otherwise every import, newest first.
	Awaiting      bool
	NotImportedBy int64 // leaves out this user's imports (theirs to wait on, not decide)
	Page          Page  // no PerPage: every import
}

// SpendImportList is one page of imports with the figures of the whole
// filtered list: how many imports and the money they hold.
type SpendImportList struct {
	Imports []SpendImport
	Count   int
	Amount  decimal.Decimal
}

// SpendImports lists one page of imports with where their entries stand.
// The index of imported entries by import and status answers whether an
// import awaits a decision without reading the ledger.
func (s *Store) SpendImports(ctx context.Context, f SpendImportFilter) (*SpendImportList, error) {
	var where []string
	var args []any
	if f.Awaiting {
		where = append(where, "EXISTS (SELECT 1 FROM spend_entries p WHERE p.import_id = i.id AND p.status = 'pending')")
	}
	if f.NotImportedBy != 0 {
		where = append(where, "i.imported_by <> ?")
		args = append(args, f.NotImportedBy)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	out := &SpendImportList{Imports: []SpendImport{}}
	if err := s.db.NewRaw("SELECT count(*), coalesce(sum(i.total), 0) FROM spend_imports i"+cond, args...).Scan(ctx, &out.Count, &out.Amount); err != nil {
		return nil, translate(err)
	}
	order := " ORDER BY i.id DESC"
	if f.Awaiting {
		order = " ORDER BY i.id"
	}
	err := s.db.NewRaw(spendImportQuery+cond+order+f.Page.clause(), args...).Scan(ctx, &out.Imports)
	return out, translate(err)
}

// ImportDecision is what deciding an import did. Every entry it decided
// has this import, the decider and exactly DecidedAt (kept in the audit
// event), so an auditor can list them.
type ImportDecision struct {
	ImportID  int64              `json:"import_id"`
	Status    models.SpendStatus `json:"status"`
	Entries   int                `json:"entries"`
	Total     decimal.Decimal    `json:"total"`
	DecidedAt time.Time          `json:"decided_at"`
}

// ApproveImport approves every pending entry of an import at once, all or
// nothing, under the rules of ApproveSpend: not by the person who imported
// it, only by someone the scheme of delegation allows to approve its largest
// entry (EFORBIDDEN, naming the entries above the decider's limit), only on
// active lines, and never beyond a line's budget or an award (ECONFLICT,
// naming every line and award that would be overspent). The lines are
// locked first, in id order, as every path that changes spend locks them.
func (s *Store) ApproveImport(ctx context.Context, actor models.Actor, id int64) (*ImportDecision, error) {
	var out *ImportDecision
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		pending, importedBy, err := lockImport(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionSpend, decimal.Zero, actor.UserID, importedBy); err != nil {
			return err
		}
		limit, err := decisionLimit(ctx, tx, models.DecisionSpend, actor.UserID)
		if err != nil {
			return err
		}
		if limit != nil {
			var over []int64
			if err := tx.NewRaw(`SELECT id FROM spend_entries WHERE import_id = ? AND status = 'pending' AND abs(amount) > ? ORDER BY id`,
				id, *limit).Scan(ctx, &over); err != nil {
				return err
			}
			if len(over) > 0 {
				return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrAmountAuthority, Message: fmt.Sprintf(
					"%d of the %d entries awaiting approval in import %d are over %s, the most the scheme of delegation lets you approve: %s.",
					len(over), pending, id, models.Pounds(*limit), entryList(over))}
			}
		}
		var closed []string
		if err := tx.NewRaw(`SELECT DISTINCT fl.code || ' (' || fl.status || ')' FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
			WHERE e.import_id = ? AND e.status = 'pending' AND e.reverses_id IS NULL AND fl.status <> 'active' ORDER BY 1`, id).Scan(ctx, &closed); err != nil {
			return err
		}
		if len(closed) > 0 {
			return models.Errorf(models.ECONFLICT, "Import %d has entries on funding lines that are no longer active: %s. Spend is approved only on an active line; reject those entries.",
				id, strings.Join(closed, ", "))
		}
		if err := checkImportBudgets(ctx, tx, id); err != nil {
			return err
		}
		out, err = s.decideImport(ctx, tx, actor, id, models.SpendApproved, nil)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "spend.approve_import", Entity: "spend_import", EntityID: id,
			Before: map[string]any{"pending": pending}, After: out})
	})
	return out, s.recordRefusal(ctx, actor, "spend_import", "spend.approve_import", id, err)
}

// RejectImport rejects every pending entry of an import with one reason;
// the rules of who may decide are ApproveImport's.
func (s *Store) RejectImport(ctx context.Context, actor models.Actor, id int64, reason string) (*ImportDecision, error) {
	var out *ImportDecision
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		pending, importedBy, err := lockImport(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionSpend, decimal.Zero, actor.UserID, importedBy); err != nil {
			return err
		}
		if out, err = s.decideImport(ctx, tx, actor, id, models.SpendRejected, &reason); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "spend.reject_import", Entity: "spend_import", EntityID: id,
			Before: map[string]any{"pending": pending}, After: map[string]any{"decision": out, "reason": reason}})
	})
	return out, s.recordRefusal(ctx, actor, "spend_import", "spend.reject_import", id, err)
}

// lockImport locks an import, refuses its importer, then locks the funding
// lines of its pending entries in id order; it returns how many entries
// await a decision (ECONFLICT if none) and who imported them.
func lockImport(ctx context.Context, tx bun.Tx, actor models.Actor, id int64) (pending int, importedBy int64, err error) {
	if err := tx.NewRaw("SELECT imported_by FROM spend_imports WHERE id = ?", id).Scan(ctx, &importedBy); err != nil {
		return 0, 0, notFound(err, "Import", id)
	}
	if err := lockKey(ctx, tx, "spend_imports", id); err != nil {
		return 0, 0, err
	}
	if importedBy == actor.UserID {
		return 0, 0, models.Errorf(models.EFORBIDDEN, "You imported import %d, so someone else must approve or reject its entries.", id)
	}
	if _, err := tx.NewRaw(`SELECT id FROM funding_lines WHERE id IN (SELECT funding_line_id FROM spend_entries
		WHERE import_id = ? AND status = 'pending') ORDER BY id FOR UPDATE`, id).Exec(ctx); err != nil {
		return 0, 0, err
	}
	if err := tx.NewRaw("SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'pending'", id).Scan(ctx, &pending); err != nil {
		return 0, 0, err
	}
	if pending == 0 {
		return 0, 0, models.Errorf(models.ECONFLICT, "Import %d has no entries awaiting a decision.", id)
	}
	return pending, importedBy, nil
}

// checkImportBudgets refuses an import whose pending entries would take a
// line's approved spend above its budget or a year's profiled budget, or an
// award's above the award,
// naming each with its figures.
func checkImportBudgets(ctx context.Context, tx bun.Tx, id int64) error {
	var short []struct {
		What    string          `bun:"what"`
		Limit   decimal.Decimal `bun:"limit_amount"`
		Spent   decimal.Decimal `bun:"spent"`
		Pending decimal.Decimal `bun:"pending"`
	}
	err := tx.NewRaw(`
		WITH p AS (SELECT funding_line_id, award_id, sum(amount) AS amount FROM spend_entries
			WHERE import_id = ?0 AND status = 'pending' GROUP BY 1, 2)
		SELECT 'funding line ' || fl.code AS what, fl.budget AS limit_amount, s.spent, l.pending
		FROM (SELECT funding_line_id, sum(amount) AS pending FROM p GROUP BY 1) l
		JOIN funding_lines fl ON fl.id = l.funding_line_id,
		LATERAL (SELECT coalesce(sum(amount), 0) AS spent FROM spend_entries
			WHERE funding_line_id = fl.id AND status = 'approved') s
		WHERE s.spent + l.pending > fl.budget
		UNION ALL
		SELECT 'award ' || a.reference, a.amount, s.spent, w.pending
		FROM (SELECT award_id, sum(amount) AS pending FROM p WHERE award_id IS NOT NULL GROUP BY 1) w
		JOIN awards a ON a.id = w.award_id,
		LATERAL (SELECT coalesce(sum(amount), 0) AS spent FROM spend_entries
			WHERE award_id = a.id AND status = 'approved') s
		WHERE s.spent + w.pending > a.amount
		UNION ALL
		SELECT 'funding line ' || fl.code || ' in ' || y.fy || '-' || lpad(((y.fy + 1) % 100)::text, 2, '0'), coalesce(bp.amount, 0), s.spent, y.pending
		FROM (SELECT funding_line_id, financial_year_of(incurred_on) AS fy, sum(amount) AS pending FROM spend_entries
			WHERE import_id = ?0 AND status = 'pending' GROUP BY 1, 2) y
		JOIN funding_lines fl ON fl.id = y.funding_line_id
		LEFT JOIN budget_profiles bp ON bp.funding_line_id = y.funding_line_id AND bp.financial_year = y.fy,
		LATERAL (SELECT year_spent(fl.id, y.fy) AS spent) s
		WHERE s.spent + y.pending > coalesce(bp.amount, 0)
		ORDER BY 1`, id).Scan(ctx, &short)
	if err != nil || len(short) == 0 {
		return err
	}
	parts := make([]string, len(short))
	for i, sh := range short {
		parts[i] = fmt.Sprintf("%s has %s, with %s approved so far and %s in this import, so it is %s short",
			sh.What, models.Pounds(sh.Limit), models.Pounds(sh.Spent), models.Pounds(sh.Pending),
			models.Pounds(sh.Spent.Add(sh.Pending).Sub(sh.Limit)))
	}
	return models.Errorf(models.ECONFLICT, "Approving import %d would overspend: %s. Nothing was approved; reject the entries that do not fit, or approve them one by one.",
		id, strings.Join(parts, "; "))
}

// decideImport moves every pending entry of import id to status, by actor.
func (s *Store) decideImport(ctx context.Context, tx bun.Tx, actor models.Actor, id int64, status models.SpendStatus, reason *string) (*ImportDecision, error) {
	// Microseconds, as PostgreSQL stores it, so the time in the audit event
	// is exactly the entries' decided_at.
	out := &ImportDecision{ImportID: id, Status: status, DecidedAt: s.clock.Now().UTC().Truncate(time.Microsecond)}
	err := tx.NewRaw(`WITH decided AS (
			UPDATE spend_entries SET status = ?, decided_by = ?, decided_at = ?, rejection_reason = ?
			WHERE import_id = ? AND status = 'pending' RETURNING amount)
		SELECT count(*), coalesce(sum(amount), 0) FROM decided`,
		status, actor.UserID, out.DecidedAt, reason, id).Scan(ctx, &out.Entries, &out.Total)
	return out, err
}

// entryList names entries as #12, #40 and #77, the first ten of them.
func entryList(ids []int64) string {
	names := make([]string, 0, min(len(ids), 10))
	for _, id := range ids[:min(len(ids), 10)] {
		names = append(names, "#"+itoa(id))
	}
	s := strings.Join(names, ", ")
	if len(ids) > 10 {
		s += fmt.Sprintf(" and %d more", len(ids)-10)
	}
	return s
}
