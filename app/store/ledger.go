package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// LedgerRow is one spend entry with the names an auditor reads.
type LedgerRow struct {
	ID          int64
	PayeeID     int64
	FundingLine string
	Programme   string
	Award       *string
	Payee       string
	PayeeOrgID  *string
	Amount      decimal.Decimal
	Status      models.SpendStatus
	IncurredOn  time.Time
	Category    string
	Reference   string
	Description string
	Purpose     string
	VFMReason   string
	RecordedBy  string
	RecordedAt  time.Time
	DecidedBy   *string
	DecidedAt   *time.Time
	// RejectionReason is why a rejected entry was rejected; nil otherwise.
	RejectionReason *string
	ReversesID      *int64
	ReversalReason  *string
}

// LedgerFilter narrows the ledger.
type LedgerFilter struct {
	Year          *models.FinancialYear
	From, To      *time.Time // incurred on, inclusive
	ProgrammeID   int64
	FundingLineID int64
	PayeeID       int64
	// ByDate orders the rows by the day incurred (then id), as books are
	// read, instead of by id.
	ByDate bool
}

// ChainHead is the audit chain's last sequence number and hash.
type ChainHead struct {
	Seq  int64
	Hash []byte
}

// ledgerSQL selects the ledger rows a filter keeps; LedgerQuery adds the order.
const ledgerSQL = `
	SELECT e.id, fl.code AS funding_line, p.code AS programme, a.reference AS award, o.name AS payee, o.org_id AS payee_org_id,
		e.amount, e.status, e.incurred_on, e.category, e.reference, e.description, ru.email AS recorded_by, e.recorded_at,
		du.email AS decided_by, e.decided_at, e.reverses_id, e.reversal_reason, e.payee_id,
		e.purpose, e.vfm_reason, e.rejection_reason
	FROM spend_entries e
	JOIN funding_lines fl ON fl.id = e.funding_line_id
	JOIN programmes p ON p.id = fl.programme_id
	JOIN organisations o ON o.id = e.payee_id
	JOIN users ru ON ru.id = e.recorded_by
	LEFT JOIN users du ON du.id = e.decided_by
	LEFT JOIN awards a ON a.id = e.award_id
	WHERE (?::date IS NULL OR e.incurred_on BETWEEN ?::date AND ?::date)
	  AND (?::date IS NULL OR e.incurred_on >= ?::date)
	  AND (?::date IS NULL OR e.incurred_on <= ?::date)
	  AND (? = 0 OR fl.programme_id = ?)
	  AND (? = 0 OR e.funding_line_id = ?)
	  AND (? = 0 OR e.payee_id = ?)
	ORDER BY `

// LedgerQuery is the SQL StreamLedger runs for f, with its values in
// place, for the export benchmark to hand the same query to COPY.
func (s *Store) LedgerQuery(f LedgerFilter) string {
	order := "e.id"
	if f.ByDate {
		order = "e.incurred_on, e.id"
	}
	return s.bun.NewRaw(ledgerSQL+order, yearStart(f.Year), yearStart(f.Year), yearEnd(f.Year), f.From, f.From, f.To, f.To,
		f.ProgrammeID, f.ProgrammeID, f.FundingLineID, f.FundingLineID, f.PayeeID, f.PayeeID).String()
}

// StreamLedger calls fn for each spend entry in id order (or by date, see
// LedgerFilter.ByDate), reading in one
// REPEATABLE READ snapshot so that the rows and the audit head it returns
// describe the same moment. Rows are fetched as they are written, never all
// at once. It talks to pgx directly, scanning each column into its typed
// place (binary numeric straight into a decimal), because database/sql's
// conversions and bun's reflection took most of an export's time.
func (s *Store) StreamLedger(ctx context.Context, f LedgerFilter, fn func(LedgerRow) error) (ChainHead, error) {
	var head ChainHead
	conn, err := s.bun.Conn(ctx)
	if err != nil {
		return head, translate(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&head.Seq, &head.Hash); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, s.LedgerQuery(f), pgx.QueryExecModeDescribeExec)
			if err != nil {
				return err
			}
			defer rows.Close()
			var r LedgerRow
			var amount pgtype.Numeric
			var status string
			dest := []any{&r.ID, &r.FundingLine, &r.Programme, &r.Award, &r.Payee, &r.PayeeOrgID, &amount, &status, &r.IncurredOn,
				&r.Category, &r.Reference, &r.Description, &r.RecordedBy, &r.RecordedAt, &r.DecidedBy, &r.DecidedAt, &r.ReversesID,
				&r.ReversalReason, &r.PayeeID, &r.Purpose, &r.VFMReason, &r.RejectionReason}
			for rows.Next() {
				r = LedgerRow{}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				if !amount.Valid || amount.NaN || amount.InfinityModifier != pgtype.Finite {
					return fmt.Errorf("store: spend entry %d has no finite amount", r.ID)
				}
				r.Amount, r.Status = decimal.NewFromBigInt(amount.Int, amount.Exp), models.SpendStatus(status)
				if err := fn(r); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	})
	return head, translate(err)
}

func yearStart(fy *models.FinancialYear) *time.Time {
	if fy == nil {
		return nil
	}
	t := fy.Start()
	return &t
}

func yearEnd(fy *models.FinancialYear) *time.Time {
	if fy == nil {
		return nil
	}
	t := fy.End()
	return &t
}

// SpendRecordedAfter finds which spend entries were recorded after audit
// sequence seq (by hand, as a reversal or in an import), among ids and the
// ids from lo to hi, and gives each the sequence of the event that recorded
// it. An export taken at seq could not hold them.
func (s *Store) SpendRecordedAfter(ctx context.Context, seq int64, ids []int64, lo, hi int64) (map[int64]int64, error) {
	if ids == nil {
		ids = []int64{}
	}
	// Both halves start from the events after seq, usually few.
	rows, err := s.db.QueryContext(ctx, `
		SELECT ev.entity_id::bigint, ev.seq FROM audit_events ev
		WHERE ev.seq > ? AND ev.entity = 'spend_entry' AND ev.action IN ('spend.record', 'spend.reverse')
			AND (ev.entity_id::bigint = ANY(?) OR ev.entity_id::bigint BETWEEN ? AND ?)
		UNION ALL
		SELECT e.id, ev.seq FROM spend_entries e
		JOIN (SELECT entity_id::bigint AS import_id, seq FROM audit_events
			WHERE seq > ? AND entity = 'spend_import' AND action = 'spend.import') ev ON ev.import_id = e.import_id
		WHERE e.id = ANY(?) OR e.id BETWEEN ? AND ?`, seq, pgdialect.Array(ids), lo, hi, seq, pgdialect.Array(ids), lo, hi)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = at
	}
	return out, translate(rows.Err())
}

// LineBudget is a funding line's budget and period, by code, for the books.
type LineBudget struct {
	Programme   string
	FundingLine string
	Budget      decimal.Decimal
	StartsOn    time.Time
	EndsOn      time.Time
}

// LineBudgets lists the budgets of the funding lines a ledger filter
// reaches, by programme and line code: its programme or line, a period
// that overlaps its dates, and, for a payee, the lines that paid it.
func (s *Store) LineBudgets(ctx context.Context, f LedgerFilter) ([]LineBudget, error) {
	from, to := f.From, f.To
	if s := yearStart(f.Year); s != nil && (from == nil || s.After(*from)) {
		from = s
	}
	if e := yearEnd(f.Year); e != nil && (to == nil || e.Before(*to)) {
		to = e
	}
	var out []LineBudget
	err := s.db.NewRaw(`
		SELECT p.code AS programme, fl.code AS funding_line, fl.budget, fl.starts_on, fl.ends_on
		FROM funding_lines fl JOIN programmes p ON p.id = fl.programme_id
		WHERE (?::date IS NULL OR fl.ends_on >= ?::date)
		  AND (?::date IS NULL OR fl.starts_on <= ?::date)
		  AND (? = 0 OR fl.programme_id = ?)
		  AND (? = 0 OR fl.id = ?)
		  AND (? = 0 OR EXISTS (SELECT 1 FROM spend_entries e WHERE e.funding_line_id = fl.id AND e.payee_id = ?))
		ORDER BY p.code, fl.code`, from, from, to, to, f.ProgrammeID, f.ProgrammeID, f.FundingLineID, f.FundingLineID,
		f.PayeeID, f.PayeeID).Scan(ctx, &out)
	return out, translate(err)
}
