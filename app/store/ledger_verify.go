package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// LedgerStatus is the outcome of checking the spend ledger against the
// audit trail.
type LedgerStatus struct {
	OK       bool            `json:"ok"`
	Entries  int64           `json:"entries"`
	Findings []LedgerFinding `json:"findings,omitempty"` // the first maxLedgerFindings
	More     int64           `json:"more_findings,omitempty"`
}

// LedgerFinding is one way the ledger differs from its audit trail, or
// one funding line and financial year whose rollup differs from the ledger
// (then EntryID is 0 and FundingLineID and FinancialYear name them).
type LedgerFinding struct {
	EntryID       int64  `json:"entry_id"`
	FundingLineID int64  `json:"funding_line_id,omitempty"`
	FinancialYear string `json:"financial_year,omitempty"`
	Problem       string `json:"problem"`
}

const maxLedgerFindings = 50

// entryDigest is the canonical text of an imported entry's recorded
// content, PostgreSQL's text of the row value below; an import's digest,
// which its spend.import event keeps as entries_sha256, is the SHA-256 of
// its entries' texts in id order joined by line feeds (the empty string's
// for none). It is computed as a stream (entriesDigest), as the import
// writes the entries and when VerifyLedger reads them (importDigest), so
// that no value ever holds every entry's text; it is the same digest
// earlier releases computed with one string_agg.
const entryDigest = `ROW(e.id, e.funding_line_id, e.award_id, e.tranche_id, e.payee_id, e.amount, to_char(e.incurred_on, 'YYYY-MM-DD'),
		e.category, e.reference, e.description, e.purpose, e.vfm_reason, e.recorded_by, e.reverses_id)::text`

// rowQuerier is a connection, a transaction or the pool.
type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// importDigest streams import importID's entries in id order through
// SHA-256 (see entryDigest) and returns the hex digest.
func importDigest(ctx context.Context, db rowQuerier, importID int64) (string, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+entryDigest+` FROM spend_entries e WHERE e.import_id = ? ORDER BY e.id`, importID)
	if err != nil {
		return "", err
	}
	d := newEntriesDigest()
	if err := d.add(rows); err != nil {
		return "", err
	}
	return d.sum(), nil
}

// entriesDigest hashes entries' texts (entryDigest) as they come, in id
// order, joined by line feeds.
type entriesDigest struct {
	h     hash.Hash
	first bool
}

func newEntriesDigest() *entriesDigest { return &entriesDigest{h: sha256.New(), first: true} }

// add hashes every entry text rows holds, then closes rows.
func (d *entriesDigest) add(rows *sql.Rows) error {
	defer rows.Close()
	var text sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return err
		}
		if !d.first {
			d.h.Write([]byte{'\n'})
		}
		d.first = false
		d.h.Write(text)
	}
	return rows.Err()
}

// sum is the hex digest of the entries added so far.
func (d *entriesDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// ledgerFindings compares every spend entry with the audit events that
// recorded and decided it. The append-only triggers stop changes through
// SQL; this finds what someone able to switch them off changed anyway:
//   - an entry no event recorded (inserted behind the application's back),
//   - an entry recorded one by one whose content differs from its event,
//   - an event's entry missing from the ledger (deleted),
//   - an import with more or fewer entries than its event counted (and
//     importFindings: one whose entries no longer hash to its digest),
//   - an approved or rejected entry with no matching decision event (by the
//     decider, and for a whole import at the decision's moment), or a
//     pending entry with a decision event.
const ledgerFindings = `
	WITH rec AS (
		SELECT DISTINCT ON (entity_id) entity_id::bigint AS id, seq, after FROM audit_events
		WHERE entity = 'spend_entry' AND action IN ('spend.record', 'spend.reverse') ORDER BY entity_id, seq),
	imp AS (
		SELECT entity_id::bigint AS import_id, seq, after FROM audit_events WHERE entity = 'spend_import' AND action = 'spend.import'),
	dec AS (
		SELECT entity_id::bigint AS id, CASE action WHEN 'spend.approve' THEN 'approved' ELSE 'rejected' END AS status, actor_id, seq
		FROM audit_events WHERE entity = 'spend_entry' AND action IN ('spend.approve', 'spend.reject')),
	bulk AS (
		SELECT entity_id::bigint AS import_id, CASE action WHEN 'spend.approve_import' THEN 'approved' ELSE 'rejected' END AS status,
			actor_id, coalesce(after->>'decided_at', after->'decision'->>'decided_at')::timestamptz AS decided_at, seq
		FROM audit_events WHERE entity = 'spend_import' AND action IN ('spend.approve_import', 'spend.reject_import')),
	findings AS (
		SELECT e.id, 'no event in the audit trail recorded this entry' AS problem
		FROM spend_entries e
		WHERE NOT EXISTS (SELECT 1 FROM rec WHERE rec.id = e.id)
		  AND NOT EXISTS (SELECT 1 FROM imp WHERE imp.import_id = e.import_id)
		UNION ALL
		SELECT e.id, 'differs from its recording at sequence ' || r.seq || ': ' || CASE
			WHEN (r.after->>'Amount')::numeric <> e.amount THEN 'amount ' || e.amount || ', recorded ' || (r.after->>'Amount')
			WHEN (r.after->>'FundingLineID')::bigint <> e.funding_line_id THEN 'funding line'
			WHEN (r.after->>'PayeeID')::bigint <> e.payee_id THEN 'payee'
			WHEN (r.after->>'AwardID')::bigint IS DISTINCT FROM e.award_id THEN 'award'
			WHEN (r.after->>'TrancheID')::bigint IS DISTINCT FROM e.tranche_id THEN 'tranche'
			WHEN left(r.after->>'IncurredOn', 10)::date <> e.incurred_on THEN 'date incurred'
			WHEN (r.after->>'RecordedBy')::bigint <> e.recorded_by THEN 'recorded by'
			WHEN (r.after->>'ReversesID')::bigint IS DISTINCT FROM e.reverses_id THEN 'the entry it reverses'
			WHEN (r.after->>'ImportID')::bigint IS DISTINCT FROM e.import_id THEN 'import'
			ELSE 'category, reference, description, purpose or value-for-money reason' END
		FROM spend_entries e JOIN rec r ON r.id = e.id
		WHERE (r.after->>'Amount')::numeric <> e.amount OR (r.after->>'FundingLineID')::bigint <> e.funding_line_id
		   OR (r.after->>'PayeeID')::bigint <> e.payee_id OR (r.after->>'AwardID')::bigint IS DISTINCT FROM e.award_id
		   OR (r.after->>'TrancheID')::bigint IS DISTINCT FROM e.tranche_id OR left(r.after->>'IncurredOn', 10)::date <> e.incurred_on
		   OR (r.after->>'RecordedBy')::bigint <> e.recorded_by OR (r.after->>'ReversesID')::bigint IS DISTINCT FROM e.reverses_id
		   OR (r.after->>'ImportID')::bigint IS DISTINCT FROM e.import_id
		   OR r.after->>'Category' <> e.category OR r.after->>'Reference' <> e.reference OR r.after->>'Description' <> e.description
		   OR r.after->>'Purpose' <> e.purpose OR r.after->>'VFMReason' <> e.vfm_reason
		UNION ALL
		SELECT r.id, 'recorded at sequence ' || r.seq || ' but missing from the ledger'
		FROM rec r WHERE NOT EXISTS (SELECT 1 FROM spend_entries e WHERE e.id = r.id)
		UNION ALL
		SELECT coalesce(d.first_id, 0), 'the entries of import ' || i.import_id || ' (recorded at sequence ' || i.seq || ') are not what was imported: '
			|| coalesce(d.n, 0) || ' entries now, ' || (i.after->>'rows') || ' imported'
			|| CASE WHEN coalesce(d.n, 0) = (i.after->>'rows')::int THEN ', with different contents' ELSE '' END
		FROM imp i LEFT JOIN LATERAL (
			SELECT count(*) AS n, min(e.id) AS first_id FROM spend_entries e WHERE e.import_id = i.import_id) d ON true
		WHERE coalesce(d.n, 0) <> (i.after->>'rows')::int
		UNION ALL
		SELECT e.id, 'is ' || e.status || ' but no ' || CASE e.status WHEN 'approved' THEN 'approval' ELSE 'rejection' END
			|| ' of it by user ' || coalesce(e.decided_by::text, '(none)') || ' is in the audit trail'
		FROM spend_entries e
		WHERE e.status <> 'pending'
		  AND NOT EXISTS (SELECT 1 FROM dec WHERE dec.id = e.id AND dec.status = e.status AND dec.actor_id = e.decided_by)
		  AND NOT EXISTS (SELECT 1 FROM bulk b WHERE b.import_id = e.import_id AND b.status = e.status
			AND b.actor_id = e.decided_by AND b.decided_at = e.decided_at)
		UNION ALL
		SELECT e.id, 'is pending but the audit trail decided it at sequence ' || coalesce(d.seq, b.seq)
		FROM spend_entries e
		LEFT JOIN LATERAL (SELECT seq FROM dec WHERE dec.id = e.id ORDER BY seq LIMIT 1) d ON true
		LEFT JOIN LATERAL (SELECT seq FROM bulk WHERE bulk.import_id = e.import_id ORDER BY seq LIMIT 1) b ON true
		WHERE e.status = 'pending' AND coalesce(d.seq, b.seq) IS NOT NULL)
	SELECT id, problem, count(*) OVER () AS total FROM findings WHERE id > ? ORDER BY id, problem LIMIT ?`

// VerifyLedger checks every spend entry against the audit trail (see
// ledgerFindings), in one REPEATABLE READ snapshot.
func (s *Store) VerifyLedger(ctx context.Context) (LedgerStatus, error) {
	var st LedgerStatus
	err := s.db.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		return checkLedger(ctx, tx, -1, &st)
	})
	return st, translate(err)
}

// checkLedger checks the spend entries whose id is above afterID (-1 for
// all of them, since a finding about a vanished import has id 0) in tx's
// snapshot, and says what it found in st.
func checkLedger(ctx context.Context, tx bun.Tx, afterID int64, st *LedgerStatus) error {
	if err := tx.NewRaw("SELECT count(*) FROM spend_entries WHERE id > ?", afterID).Scan(ctx, &st.Entries); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, ledgerFindings, afterID, maxLedgerFindings)
	if err != nil {
		return err
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var f LedgerFinding
		if err := rows.Scan(&f.EntryID, &f.Problem, &total); err != nil {
			return err
		}
		st.Findings = append(st.Findings, f)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	changed, err := importFindings(ctx, tx, afterID)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		total += int64(len(changed))
		st.Findings = append(st.Findings, changed...)
		slices.SortStableFunc(st.Findings, func(a, b LedgerFinding) int {
			return cmp.Or(cmp.Compare(a.EntryID, b.EntryID), strings.Compare(a.Problem, b.Problem))
		})
		st.Findings = st.Findings[:min(len(st.Findings), maxLedgerFindings)]
	}
	st.More = max(total-int64(len(st.Findings)), 0)
	st.OK = len(st.Findings) == 0
	return nil
}

// importFindings recomputes, entry by entry, the digest of every import
// whose first entry is above afterID and that still has as many entries as
// it imported (ledgerFindings names the others), and names, by its first
// entry, each import whose digest is not the one its spend.import event keeps.
func importFindings(ctx context.Context, tx bun.Tx, afterID int64) ([]LedgerFinding, error) {
	var imports []struct {
		ImportID int64  `bun:"import_id"`
		Seq      int64  `bun:"seq"`
		SHA      string `bun:"sha"`
		Rows     int64  `bun:"rows"`
		FirstID  int64  `bun:"first_id"`
	}
	err := tx.NewRaw(`SELECT i.entity_id::bigint AS import_id, i.seq, i.after->>'entries_sha256' AS sha, d.n AS rows, d.first_id
		FROM audit_events i, LATERAL (
			SELECT count(*) AS n, min(e.id) AS first_id FROM spend_entries e WHERE e.import_id = i.entity_id::bigint) d
		WHERE i.entity = 'spend_import' AND i.action = 'spend.import' AND i.after->>'entries_sha256' IS NOT NULL
		  AND d.n = (i.after->>'rows')::bigint AND d.first_id > ?
		ORDER BY d.first_id`, afterID).Scan(ctx, &imports)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var out []LedgerFinding
	for _, imp := range imports {
		sum, err := importDigest(ctx, tx, imp.ImportID)
		if err != nil {
			return nil, err
		}
		if sum != imp.SHA {
			out = append(out, LedgerFinding{EntryID: imp.FirstID, Problem: fmt.Sprintf(
				"the entries of import %d (recorded at sequence %d) are not what was imported: %d entries now, %d imported, with different contents",
				imp.ImportID, imp.Seq, imp.Rows, imp.Rows)})
		}
	}
	return out, nil
}

// Summary says in a sentence what VerifyLedger found.
func (l LedgerStatus) Summary() string {
	if l.OK {
		return fmt.Sprintf("ledger OK: all %d spend entries match the audit trail", l.Entries)
	}
	return fmt.Sprintf("ledger DIFFERS from the audit trail: %d finding(s) over %d spend entries", int64(len(l.Findings))+l.More, l.Entries)
}

// yearlyRollupDrift compares spend_yearly with the ledger's own GROUP BY
// and names each funding line, financial year, status and kind of entry
// where they differ. The triggers keep the rollup exact; this finds a
// rollup changed by someone able to write it anyway (the schema's owner).
const yearlyRollupDrift = `
	SELECT k.funding_line_id, k.financial_year || '-' || lpad(((k.financial_year + 1) % 100)::text, 2, '0') AS financial_year,
		'the yearly rollup of funding line ' || coalesce(fl.code, '(none)') || ' for ' || k.financial_year || '-'
			|| lpad(((k.financial_year + 1) % 100)::text, 2, '0') || ', ' || k.status || CASE WHEN k.reversal THEN ' reversals' ELSE ' entries' END
			|| ', holds ' || coalesce(r.amount, 0) || ' in ' || coalesce(r.entries, 0) || ' entries; the ledger has '
			|| coalesce(l.amount, 0) || ' in ' || coalesce(l.entries, 0) AS problem
	FROM (SELECT * FROM spend_yearly WHERE entries <> 0 OR amount <> 0) r
	FULL JOIN (SELECT funding_line_id, financial_year_of(incurred_on) AS financial_year, status, reverses_id IS NOT NULL AS reversal,
			sum(amount) AS amount, count(*) AS entries
		FROM spend_entries GROUP BY 1, 2, 3, 4) l USING (funding_line_id, financial_year, status, reversal)
	CROSS JOIN LATERAL (SELECT coalesce(r.funding_line_id, l.funding_line_id) AS funding_line_id,
		coalesce(r.financial_year, l.financial_year) AS financial_year, coalesce(r.status, l.status) AS status,
		coalesce(r.reversal, l.reversal) AS reversal) k
	LEFT JOIN funding_lines fl ON fl.id = k.funding_line_id
	WHERE r.amount IS DISTINCT FROM l.amount OR r.entries IS DISTINCT FROM l.entries
	ORDER BY k.funding_line_id, k.financial_year, k.status, k.reversal`

// monthTotalsDrift compares spend_month_totals, each month's and status's
// rows added up, with the ledger's own GROUP BY and names each month and
// status where they differ.
const monthTotalsDrift = `
	SELECT k.financial_year || '-' || lpad(((k.financial_year + 1) % 100)::text, 2, '0') AS financial_year,
		'the monthly totals for ' || to_char(k.month, 'FMMonth YYYY') || ', ' || k.status || ' entries, hold '
			|| coalesce(r.amount, 0) || ' in ' || coalesce(r.entries, 0) || ' entries; the ledger has '
			|| coalesce(l.amount, 0) || ' in ' || coalesce(l.entries, 0) AS problem
	FROM (SELECT month, status, sum(amount) AS amount, sum(entries) AS entries FROM spend_month_totals GROUP BY 1, 2
		HAVING sum(amount) <> 0 OR sum(entries) <> 0) r
	FULL JOIN (SELECT date_trunc('month', incurred_on)::date AS month, status, sum(amount) AS amount, count(*) AS entries
		FROM spend_entries GROUP BY 1, 2) l USING (month, status)
	CROSS JOIN LATERAL (SELECT coalesce(r.month, l.month) AS month, coalesce(r.status, l.status) AS status,
		financial_year_of(coalesce(r.month, l.month)) AS financial_year) k
	WHERE r.amount IS DISTINCT FROM l.amount OR r.entries IS DISTINCT FROM l.entries
	ORDER BY k.month, k.status`

// checkRollups adds to st a finding for each line and year whose yearly
// rollup, and each month whose monthly totals, differ from the ledger, in
// tx's snapshot.
func checkRollups(ctx context.Context, tx bun.IDB, st *LedgerStatus) error {
	drift, err := yearlyRollupDriftIn(ctx, tx)
	if err != nil {
		return err
	}
	months, err := monthTotalsDriftIn(ctx, tx)
	if err != nil {
		return err
	}
	drift = append(drift, months...)
	for _, f := range drift {
		if len(st.Findings) < maxLedgerFindings {
			st.Findings = append(st.Findings, f)
		} else {
			st.More++
		}
	}
	st.OK = st.OK && len(drift) == 0
	return nil
}

func yearlyRollupDriftIn(ctx context.Context, db bun.IDB) ([]LedgerFinding, error) {
	var drift []LedgerFinding
	err := db.NewRaw(yearlyRollupDrift).Scan(ctx, &drift)
	return drift, err
}

func monthTotalsDriftIn(ctx context.Context, db bun.IDB) ([]LedgerFinding, error) {
	var drift []LedgerFinding
	err := db.NewRaw(monthTotalsDrift).Scan(ctx, &drift)
	return drift, err
}

// MonthTotalsDrift lists the months whose monthly totals differ from the
// ledger; empty when they agree.
func (s *Store) MonthTotalsDrift(ctx context.Context) ([]LedgerFinding, error) {
	drift, err := monthTotalsDriftIn(ctx, s.db)
	return drift, translate(err)
}

// CompactMonthTotals folds the monthly totals' rows, which every statement
// that changes spend appends to, into one a month and status, and says how
// many rows it removed. Every total stays as it was.
func (s *Store) CompactMonthTotals(ctx context.Context) (int64, error) {
	var removed int64
	err := s.db.NewRaw("SELECT compact_spend_month_totals()").Scan(ctx, &removed)
	return removed, translate(err)
}

// YearlyRollupDrift lists the funding lines and years whose yearly rollup
// differs from the ledger; empty when they agree.
func (s *Store) YearlyRollupDrift(ctx context.Context) ([]LedgerFinding, error) {
	drift, err := yearlyRollupDriftIn(ctx, s.db)
	return drift, translate(err)
}
