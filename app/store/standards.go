package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// Queries for open-data publishing (360Giving, OCDS) and the statutory
// publishing pack. Each is one query; ReadSnapshot puts several of them and
// the audit head in one consistent snapshot.

// ReadSnapshot runs fn with a store whose every query reads one REPEATABLE
// READ, read-only snapshot, and returns the audit head read in that same
// snapshot, so that the head describes exactly the data fn read.
func (s *Store) ReadSnapshot(ctx context.Context, fn func(ctx context.Context, st *Store, head ChainHead) error) (ChainHead, error) {
	var head ChainHead
	err := s.bun.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(ctx, &head.Seq, &head.Hash); err != nil {
			return err
		}
		return fn(ctx, s.inside(tx), head)
	})
	return head, translate(err)
}

// AwardRecord is an award with its funding line, programme, funder and
// recipient, as publishing needs them.
type AwardRecord struct {
	ID                   int64
	Reference            string
	Purpose              string
	Conditions           *string
	CrimeReductionReason *string
	Amount               decimal.Decimal
	AwardedOn            time.Time
	StartsOn             time.Time
	EndsOn               time.Time
	CreatedAt            time.Time
	ApprovedSpend        decimal.Decimal // approved spend linked to the award, reversals included
	// ModifiedAt is the last change to anything published about the award:
	// the award and its decision, the decisions on spend linked to it and
	// those payments' payees, its funding line, programme, funder and
	// recipient (each row's updated_at).
	ModifiedAt time.Time
	// The decision record the award cites (models.DecisionRecord), if any.
	DecisionRecord    *string
	DecisionRecordURL *string `bun:"decision_record_url"`

	LineID          int64
	LineCode        string
	LineTitle       string
	LineDescription string
	LineKind        models.FundingLineKind
	LineStatus      models.FundingLineStatus
	LineStartsOn    time.Time
	LineEndsOn      time.Time
	TenderReference *string
	TenderMinValue  *decimal.Decimal
	TenderMaxValue  *decimal.Decimal
	// A contract line's procedure and contract title (models/contract.go).
	ProcurementMethod *models.ProcurementMethod
	FrameworkName     *string
	DirectAwardReason *string
	ContractTitle     *string

	ProgrammeCode        string
	ProgrammeName        string
	ProgrammeDescription string

	FunderID   int64
	FunderName string
	FunderOrg  *string `bun:"funder_org"`

	RecipientID      int64
	RecipientName    string
	RecipientOrg     *string `bun:"recipient_org"`
	RecipientCharity *string
	RecipientCompany *string
	RecipientBorough *string
	RecipientGSS     *string `bun:"recipient_gss"`
}

// AwardFilter narrows awards. Dates are inclusive and apply to the day the
// award was made; zero fields do not narrow.
type AwardFilter struct {
	Year          *models.FinancialYear
	From, To      *time.Time
	ProgrammeID   int64
	FundingLineID int64
	RecipientID   int64
	Kinds         []models.FundingLineKind // line kinds; none means every kind
	LineIDs       []int64                  // only awards on these lines, when not nil
	Over          *decimal.Decimal         // only awards of more than this
}

// PublishableAwards lists approved awards with what publishing needs about
// them, in id order: one pending, rejected, withdrawn or cancelled is left out.
func (s *Store) PublishableAwards(ctx context.Context, f AwardFilter) ([]AwardRecord, error) {
	if f.LineIDs != nil && len(f.LineIDs) == 0 {
		return nil, nil
	}
	kinds := make([]string, len(f.Kinds)) // never nil: '{}' means every kind
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	var over any
	if f.Over != nil {
		over = *f.Over
	}
	q := s.db.NewRaw(`
		SELECT a.id, a.reference, a.purpose, a.conditions, a.crime_reduction_reason, a.amount, a.awarded_on, a.starts_on, a.ends_on, a.created_at,
			coalesce((SELECT sum(e.amount) FROM spend_entries e WHERE e.award_id = a.id AND e.status = 'approved'), 0) AS approved_spend,
			greatest(a.created_at, a.decided_at, fl.updated_at, p.updated_at, fo.updated_at, ro.updated_at,
				(SELECT max(greatest(e.decided_at, po.updated_at)) FROM spend_entries e JOIN organisations po ON po.id = e.payee_id
				 WHERE e.award_id = a.id AND e.status = 'approved')) AS modified_at,
			dr.reference AS decision_record, nullif(dr.url, '') AS decision_record_url,
			fl.id AS line_id, fl.code AS line_code, fl.title AS line_title, fl.description AS line_description, fl.kind AS line_kind,
			fl.status AS line_status, fl.starts_on AS line_starts_on, fl.ends_on AS line_ends_on,
			fl.tender_reference, fl.tender_min_value, fl.tender_max_value,
			fl.procurement_method, fl.framework_name, fl.direct_award_reason, fl.contract_title,
			p.code AS programme_code, p.name AS programme_name, p.description AS programme_description,
			fo.id AS funder_id, fo.name AS funder_name, fo.org_id AS funder_org,
			ro.id AS recipient_id, ro.name AS recipient_name, ro.org_id AS recipient_org, ro.charity_number AS recipient_charity,
			ro.company_number AS recipient_company, ro.borough AS recipient_borough, ro.gss_code AS recipient_gss
		FROM awards a
		LEFT JOIN decision_records dr ON dr.id = a.decision_record_id
		JOIN funding_lines fl ON fl.id = a.funding_line_id
		JOIN programmes p ON p.id = fl.programme_id
		JOIN organisations fo ON fo.id = fl.funder_id
		JOIN organisations ro ON ro.id = a.recipient_id
		WHERE a.status = 'approved' -- a proposal, refused or cancelled award is no grant made
		  AND (?::date IS NULL OR a.awarded_on BETWEEN ?::date AND ?::date)
		  AND (?::date IS NULL OR a.awarded_on >= ?::date)
		  AND (?::date IS NULL OR a.awarded_on <= ?::date)
		  AND (? = 0 OR fl.programme_id = ?)
		  AND (? = 0 OR a.funding_line_id = ?)
		  AND (? = 0 OR a.recipient_id = ?)
		  AND (?::text[] = '{}' OR fl.kind = ANY(?::text[]))
		  AND (?::bigint[] IS NULL OR a.funding_line_id = ANY(?::bigint[]))
		  AND (?::numeric IS NULL OR a.amount > ?::numeric)
		ORDER BY a.id`, yearStart(f.Year), yearStart(f.Year), yearEnd(f.Year), f.From, f.From, f.To, f.To,
		f.ProgrammeID, f.ProgrammeID, f.FundingLineID, f.FundingLineID, f.RecipientID, f.RecipientID,
		pgdialect.Array(kinds), pgdialect.Array(kinds), pgdialect.Array(f.LineIDs), pgdialect.Array(f.LineIDs), over, over)
	var out []AwardRecord
	err := q.Scan(ctx, &out)
	return out, translate(err)
}

// ContractProcess is a contract-kind funding line: its tender, buyer and
// awarded supplier.
type ContractProcess struct {
	ID              int64
	Code            string
	Title           string
	Description     string
	Status          models.FundingLineStatus
	Budget          decimal.Decimal
	StartsOn        time.Time
	EndsOn          time.Time
	TenderReference *string
	TenderMinValue  *decimal.Decimal
	TenderMaxValue  *decimal.Decimal
	TenderClosesOn  *time.Time
	// The procurement and the contract it made (models/contract.go).
	ProcurementMethod *models.ProcurementMethod
	DirectAwardReason *string
	FrameworkName     *string
	ContractTitle     *string
	TenderPublishedOn *time.Time
	ContractValue     *decimal.Decimal
	ContractStartsOn  *time.Time
	ContractEndsOn    *time.Time
	MainCategory      *string `bun:"main_procurement_category"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ProgrammeCode     string
	ProgrammeName     string
	FunderID          int64
	FunderName        string
	FunderOrg         *string `bun:"funder_org"`
	SupplierID        *int64
	SupplierName      *string
	SupplierOrg       *string `bun:"supplier_org"`
}

// ContractProcesses lists contract-kind funding lines in id order. A line is
// dated by its first award, or else its tender's closing day, or else its
// start, and the filter's dates apply to that day; a recipient matches the
// awarded supplier or any award's recipient.
func (s *Store) ContractProcesses(ctx context.Context, f AwardFilter) ([]ContractProcess, error) {
	var out []ContractProcess
	err := s.db.NewRaw(`
		SELECT fl.id, fl.code, fl.title, fl.description, fl.status, fl.budget, fl.starts_on, fl.ends_on,
			fl.tender_reference, fl.tender_min_value, fl.tender_max_value, fl.tender_closes_on, fl.created_at, fl.updated_at,
			fl.procurement_method, fl.direct_award_reason, fl.framework_name, fl.contract_title, fl.tender_published_on,
			fl.contract_value, fl.contract_starts_on, fl.contract_ends_on, fl.main_procurement_category,
			p.code AS programme_code, p.name AS programme_name,
			fo.id AS funder_id, fo.name AS funder_name, fo.org_id AS funder_org,
			so.id AS supplier_id, so.name AS supplier_name, so.org_id AS supplier_org
		FROM funding_lines fl
		JOIN programmes p ON p.id = fl.programme_id
		JOIN organisations fo ON fo.id = fl.funder_id
		LEFT JOIN organisations so ON so.id = fl.awarded_supplier_id
		CROSS JOIN LATERAL (SELECT coalesce((SELECT min(a.awarded_on) FROM awards a WHERE a.funding_line_id = fl.id AND a.status = 'approved'),
			fl.tender_closes_on, fl.starts_on) AS day) d
		WHERE fl.kind = 'contract'
		  AND (?::date IS NULL OR d.day BETWEEN ?::date AND ?::date)
		  AND (?::date IS NULL OR d.day >= ?::date)
		  AND (?::date IS NULL OR d.day <= ?::date)
		  AND (? = 0 OR fl.programme_id = ?)
		  AND (? = 0 OR fl.id = ?)
		  AND (? = 0 OR fl.awarded_supplier_id = ? OR EXISTS (SELECT 1 FROM awards a WHERE a.funding_line_id = fl.id AND a.status = 'approved' AND a.recipient_id = ?))
		ORDER BY fl.id`, yearStart(f.Year), yearStart(f.Year), yearEnd(f.Year), f.From, f.From, f.To, f.To,
		f.ProgrammeID, f.ProgrammeID, f.FundingLineID, f.FundingLineID, f.RecipientID, f.RecipientID, f.RecipientID).Scan(ctx, &out)
	return out, translate(err)
}

// AwardPayment is one approved spend entry linked to an award: a payment,
// or (negative) the reversal of one.
type AwardPayment struct {
	ID             int64
	AwardID        int64 // 0 for spend linked to no award
	LineID         int64
	Amount         decimal.Decimal
	IncurredOn     time.Time
	Reference      string
	Description    string
	ReversesID     *int64
	ReversalReason *string
	PayeeID        int64
	PayeeName      string
	PayeeOrg       *string `bun:"payee_org"`
}

// StreamAwardPayments calls fn for each approved spend entry linked to one
// of the awards, ordered by award id and then entry id, fetching rows as
// they are used rather than all at once.
func (s *Store) StreamAwardPayments(ctx context.Context, awardIDs []int64, fn func(AwardPayment) error) error {
	if len(awardIDs) == 0 {
		return nil
	}
	return s.streamPayments(ctx, "e.award_id = ANY(?::bigint[])", "e.award_id, e.id", pgdialect.Array(awardIDs), fn)
}

// StreamLineSpendWithoutAward calls fn for each approved spend entry on one
// of the funding lines that is linked to no award (AwardID 0), by line and
// then entry id: spend under a contract that was not booked to its award.
func (s *Store) StreamLineSpendWithoutAward(ctx context.Context, lineIDs []int64, fn func(AwardPayment) error) error {
	if len(lineIDs) == 0 {
		return nil
	}
	return s.streamPayments(ctx, "e.award_id IS NULL AND e.funding_line_id = ANY(?::bigint[])", "e.funding_line_id, e.id", pgdialect.Array(lineIDs), fn)
}

// streamPayments streams approved spend entries matching where (with one
// argument), in order.
func (s *Store) streamPayments(ctx context.Context, where, order string, arg any, fn func(AwardPayment) error) error {
	rows, err := s.db.QueryContext(ctx, `
		SELECT e.id, coalesce(e.award_id, 0) AS award_id, e.funding_line_id AS line_id, e.amount, e.incurred_on, e.reference, e.description,
			e.reverses_id, e.reversal_reason, o.id AS payee_id, o.name AS payee_name, o.org_id AS payee_org
		FROM spend_entries e
		JOIN organisations o ON o.id = e.payee_id
		WHERE e.status = 'approved' AND `+where+`
		ORDER BY `+order, arg)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p AwardPayment
		if err := s.bun.ScanRow(ctx, rows, &p); err != nil {
			return translate(err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// PublishedSpend is an approved spend entry as the publishing pack lists it.
type PublishedSpend struct {
	ID          int64
	IncurredOn  time.Time
	Amount      decimal.Decimal
	Category    string
	Reference   string
	Description string
	Purpose     string
	VFMReason   string `bun:"vfm_reason"`
	ReversesID  *int64
	FundingLine string
	// LineKind is the funding line's kind (grant, allocation, contract):
	// what the payment is, with Award.
	LineKind models.FundingLineKind
	Award    *string
	Payee    string
	PayeeOrg *string `bun:"payee_org"`
}

// SpendOver lists approved spend incurred between from and to (inclusive)
// whose size is more than threshold, reversals included, by day and id.
func (s *Store) SpendOver(ctx context.Context, from, to time.Time, threshold decimal.Decimal) ([]PublishedSpend, error) {
	var out []PublishedSpend
	err := s.db.NewRaw(`
		SELECT e.id, e.incurred_on, e.amount, e.category, e.reference, e.description, e.purpose, e.vfm_reason, e.reverses_id,
			fl.code AS funding_line, fl.kind AS line_kind, a.reference AS award, o.name AS payee, o.org_id AS payee_org
		FROM spend_entries e
		JOIN funding_lines fl ON fl.id = e.funding_line_id
		JOIN organisations o ON o.id = e.payee_id
		LEFT JOIN awards a ON a.id = e.award_id
		WHERE e.status = 'approved' AND abs(e.amount) > ? AND e.incurred_on BETWEEN ?::date AND ?::date
		ORDER BY e.incurred_on, e.id`, threshold, from, to).Scan(ctx, &out)
	return out, translate(err)
}
