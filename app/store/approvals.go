package store

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/models"
)

// Approval is one decision awaiting someone: what it is, what it commits
// and who proposed it, with enough to decide without opening it.
type Approval struct {
	Kind            models.DecisionKind `bun:"kind" json:"decision_kind"`
	Entity          string              `bun:"entity" json:"entity"` // spend_entry, spend_import, line_decision, award, award_variation, budget_change, delegation_change, account_grant, contract_band_exception, payment_run, office_holder_expense
	ID              int64               `bun:"id" json:"id"`
	Title           string              `bun:"title" json:"title"`
	Reference       string              `bun:"reference" json:"reference"`
	Amount          decimal.Decimal     `bun:"amount,type:numeric(15,2)" json:"amount"`
	FundingLineID   *int64              `bun:"funding_line_id" json:"funding_line_id"`
	FundingLineCode string              `bun:"funding_line_code" json:"funding_line_code"`
	ProposedBy      int64               `bun:"proposed_by" json:"proposed_by"`
	ProposedByName  string              `bun:"proposed_by_name" json:"proposed_by_name"`
	ProposedAt      time.Time           `bun:"proposed_at" json:"proposed_at"`
	Evidence        int                 `bun:"evidence" json:"evidence_count"`
	Entries         int                 `bun:"entries" json:"entries"`
	DecisionRecord  *string             `bun:"decision_record" json:"decision_record"`
}

// approvalSources are the kinds of pending decision, one SELECT each with
// the columns of Approval (but proposed_by_name) and authority_amount, the
// amount checked against the decider's limit. A new kind of decision is
// one more SELECT here.
var approvalSources = []string{
	// Spend recorded one by one (an import's entries are decided with it).
	`SELECT 'spend' AS kind, 'spend_entry' AS entity, e.id, e.description AS title, e.reference, e.amount,
		e.funding_line_id, fl.code AS funding_line_code, e.recorded_by AS proposed_by, e.recorded_at AS proposed_at,
		(SELECT count(*) FROM spend_evidence v WHERE v.spend_entry_id = e.id)::int AS evidence, 1 AS entries,
		NULL::text AS decision_record, abs(e.amount) AS authority_amount
	FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
	WHERE e.status = 'pending' AND e.import_id IS NULL`,
	// Imports, decided whole: the largest entry needs the authority.
	`SELECT 'spend', 'spend_import', i.id, i.file_name, '', p.total, NULL::bigint, '', i.imported_by, i.imported_at,
		0, p.entries, NULL::text, p.largest
	FROM spend_imports i JOIN LATERAL (SELECT sum(amount) AS total, count(*)::int AS entries, max(abs(amount)) AS largest
		FROM spend_entries WHERE import_id = i.id AND status = 'pending') p ON p.entries > 0`,
	// Funding lines proposed for approval or activation: the line's budget.
	`SELECT d.decision_kind, 'line_decision', d.id, 'Make ' || fl.code || ' ' || d.to_status || ': ' || fl.title ||
			CASE WHEN d.reason <> '' THEN ' (' || d.reason || ')' ELSE '' END,
		fl.code, fl.budget, fl.id, fl.code, d.proposed_by, d.proposed_at, 0, 1, r.reference, fl.budget
	FROM line_decisions d JOIN funding_lines fl ON fl.id = d.funding_line_id
	LEFT JOIN decision_records r ON r.id = d.decision_record_id
	WHERE d.status = 'pending'`,
	// Awards, and reservations converted into awards.
	`SELECT CASE WHEN a.reservation_id IS NULL THEN 'award' ELSE 'reservation_conversion' END, 'award', a.id,
		'Award to ' || o.name || CASE WHEN a.purpose <> '' THEN ': ' || a.purpose ELSE '' END,
		a.reference, a.amount, fl.id, fl.code, a.proposed_by, a.created_at, 0, 1, r.reference, a.amount
	FROM awards a JOIN funding_lines fl ON fl.id = a.funding_line_id JOIN organisations o ON o.id = a.recipient_id
	LEFT JOIN decision_records r ON r.id = a.decision_record_id
	WHERE a.status = 'pending'`,
	// Variations and cancellations of approved awards: the increase, or the
	// award's amount for a cancellation (award_variation_decision).
	`SELECT k.kind, 'award_variation', v.id,
		CASE v.kind WHEN 'cancellation' THEN 'Cancel the award to ' || o.name
			ELSE 'Vary the award to ' || o.name || ': ' || v.amount_before || ' to ' || v.amount || ', ' || v.starts_on || ' to ' || v.ends_on END ||
			' (' || v.reason || ')',
		a.reference, coalesce(v.amount - v.amount_before, -a.amount), fl.id, fl.code, v.proposed_by, v.proposed_at, 0, 1, r.reference, k.amount
	FROM award_variations v JOIN awards a ON a.id = v.award_id JOIN funding_lines fl ON fl.id = a.funding_line_id
	JOIN organisations o ON o.id = a.recipient_id CROSS JOIN LATERAL award_variation_decision(v.id) k
	LEFT JOIN decision_records r ON r.id = v.decision_record_id
	WHERE v.status = 'pending'`,
	// Budget changes (re-profiling, virements and increases): the money moved, under
	// the kind budget_change_decision gives (across programmes or not).
	`SELECT k.kind, 'budget_change', c.id,
		CASE c.kind WHEN 'reprofile' THEN 'Re-profile ' WHEN 'increase' THEN 'Raise the budget of ' ELSE 'Virement between ' END ||
			(SELECT string_agg(DISTINCT fl.code, ', ') FROM budget_change_moves m JOIN funding_lines fl ON fl.id = m.funding_line_id
				WHERE m.budget_change_id = c.id) || ': ' || c.reason,
		'', k.amount, NULL::bigint, '', c.proposed_by, c.proposed_at, 0, 1, r.reference, k.amount
	FROM budget_changes c CROSS JOIN LATERAL budget_change_decision(c.id) k
	LEFT JOIN decision_records r ON r.id = c.decision_record_id
	WHERE c.status = 'pending'`,
	// Changes to the scheme of delegation itself.
	`SELECT 'delegation_change', 'delegation_change', c.id,
		CASE WHEN c.remove THEN 'Remove the authority of ' || c.role || ' for ' || c.decision_kind
			ELSE 'Let ' || c.role || ' approve ' || c.decision_kind || ' up to ' || coalesce(c.max_amount::text, 'any amount') END ||
			': ' || c.reason,
		'', 0, NULL::bigint, '', c.proposed_by, c.proposed_at, 0, 1, NULL::text, 0
	FROM delegation_changes c WHERE c.status = 'pending'`,
	// Accounts given authority over money, new or raised: another admin.
	`SELECT 'account_grant', 'account_grant', g.id,
		'Give ' || u.name || ' (' || u.email || ') the ' || g.role || ' role' ||
			CASE WHEN g.from_role IS NULL THEN ' (new account)' ELSE ' (now ' || g.from_role || ')' END ||
			CASE WHEN g.reason <> '' THEN ': ' || g.reason ELSE '' END,
		u.email, 0, NULL::bigint, '', g.proposed_by, g.proposed_at, 0, 1, NULL::text, 0
	FROM account_grants g JOIN users u ON u.id = g.user_id WHERE g.status = 'pending'`,
	// A contract's value outside its tender's band: the value.
	`SELECT 'contract_band_exception', 'contract_band_exception', x.id,
		'Let the contract on ' || fl.code || ' be ' || x.contract_value::text || ', outside its tender''s band ' ||
			fl.tender_min_value::text || ' to ' || fl.tender_max_value::text || ': ' || x.reason,
		coalesce(fl.tender_reference, ''), x.contract_value, fl.id, fl.code, x.proposed_by, x.proposed_at, 0, 1, r.reference, x.contract_value
	FROM contract_band_exceptions x JOIN funding_lines fl ON fl.id = x.funding_line_id
	LEFT JOIN decision_records r ON r.id = x.decision_record_id
	WHERE x.status = 'pending'`,
	// Payment runs, decided whole: the run's total needs the authority.
	`SELECT 'payment_run', 'payment_run', r.id, 'Payment run ' || r.reference || ' paying ' || i.n || ' tranche(s) on ' || r.pay_on ||
			CASE WHEN r.note <> '' THEN ': ' || r.note ELSE '' END,
		r.reference, i.total, NULL::bigint, '', r.proposed_by, r.proposed_at, 0, i.n, NULL::text, i.total
	FROM payment_runs r CROSS JOIN LATERAL (SELECT count(*)::int AS n, coalesce(sum(amount), 0) AS total
		FROM payment_run_items WHERE payment_run_id = r.id) i
	WHERE r.status = 'pending'`,
	// Office holders' expenses, one by one: the expense's amount.
	`SELECT 'office_holder_expense', 'office_holder_expense', x.id,
		x.office_holder || ', ' || x.office || ': ' || x.category || CASE WHEN x.description <> '' THEN ', ' || x.description ELSE '' END ||
			' (' || x.incurred_on || ')',
		'', x.amount, NULL::bigint, '', x.recorded_by, x.recorded_at, 0, 1, NULL::text, x.amount
	FROM office_holder_expenses x WHERE x.status = 'pending'`,
}

// approvalsFor is every pending decision the user ?0 may take, with the
// proposer's name: the approvals list and the alerts share it.
var approvalsFor = `SELECT p.kind, p.entity, p.id, p.title, p.reference, p.amount, p.funding_line_id, p.funding_line_code,
			p.proposed_by, u.name AS proposed_by_name, p.proposed_at, p.evidence, p.entries, p.decision_record
		FROM (` + strings.Join(approvalSources, "\n\tUNION ALL\n\t") + `) p
		JOIN users me ON me.id = ?0 AND me.active
		JOIN delegation_rules dr ON dr.decision_kind = p.kind AND dr.role = me.role
		JOIN users u ON u.id = p.proposed_by
		WHERE p.proposed_by <> me.id AND (dr.max_amount IS NULL OR p.authority_amount <= dr.max_amount)`

// Approvals lists every pending decision the user may take: proposed by
// someone else, of a kind the scheme of delegation gives their role, within
// their role's limit. Oldest first.
func (s *Store) Approvals(ctx context.Context, userID int64) ([]Approval, error) {
	out, _, err := s.ApprovalsPage(ctx, userID, Page{})
	return out, err
}

// ApprovalsPage lists one page of the decisions Approvals lists, with the
// count of all of them.
func (s *Store) ApprovalsPage(ctx context.Context, userID int64, pg Page) ([]Approval, int, error) {
	var total int
	if err := s.db.NewRaw(`SELECT count(*) FROM (`+approvalsFor+`) a`, userID).Scan(ctx, &total); err != nil {
		return nil, 0, translate(err)
	}
	out := []Approval{}
	err := s.db.NewRaw(approvalsFor+`
		ORDER BY p.proposed_at, p.entity, p.id`+pg.clause(), userID).Scan(ctx, &out)
	return out, total, translate(err)
}
