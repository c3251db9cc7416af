package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// Payment is one tranche as a payment run shows, proposes and pays it: the
// tranche with its award, recipient and line, and (in a run) its payment.
type Payment struct {
	TrancheID      int64                `bun:"tranche_id" json:"tranche_id"`
	Seq            int                  `bun:"seq" json:"seq"`
	DueOn          time.Time            `bun:"due_on" json:"-"`
	TrancheAmount  decimal.Decimal      `bun:"tranche_amount,type:numeric(15,2)" json:"-"`
	Paid           decimal.Decimal      `bun:"paid,type:numeric(15,2)" json:"-"`
	Status         models.TrancheStatus `bun:"status" json:"status"`
	AwardID        int64                `bun:"award_id" json:"award_id"`
	AwardReference string               `bun:"award_reference" json:"award_reference"`
	AwardPurpose   string               `bun:"award_purpose" json:"-"`
	FundingLineID  int64                `bun:"funding_line_id" json:"funding_line_id"`
	FundingLine    string               `bun:"funding_line" json:"funding_line"`
	CostCentre     string               `bun:"cost_centre" json:"cost_centre"`
	GLAccount      string               `bun:"gl_account" json:"gl_account"`
	PayeeID        int64                `bun:"payee_id" json:"payee_id"`
	Payee          string               `bun:"payee" json:"payee"`
	PayeeOrgID     *string              `bun:"payee_org_id" json:"payee_org_id"`
	// In a run: the payment's id, reference, amount and spend entry.
	ItemID          int64            `bun:"item_id" json:"-"`
	Reference       string           `bun:"reference" json:"reference"`
	Amount          decimal.Decimal  `bun:"amount,type:numeric(15,2)" json:"-"`
	SpendEntryID    *int64           `bun:"spend_entry_id" json:"spend_entry_id"`
	ConfirmedOn     *time.Time       `bun:"confirmed_on" json:"-"`
	ConfirmedAmount *decimal.Decimal `bun:"confirmed_amount,type:numeric(15,2)" json:"-"`
}

// Outstanding is what the tranche still has to be paid.
func (p Payment) Outstanding() decimal.Decimal { return p.TrancheAmount.Sub(p.Paid) }

// Name is how a message names the payment's tranche.
func (p Payment) Name() string {
	return fmt.Sprintf("tranche %d of award %s", p.Seq, p.AwardReference)
}

// paymentSQL selects tranches with what a payment needs; the item columns
// come from the run's payments when joined (payment_run_items i).
const paymentSQL = `SELECT t.id AS tranche_id, t.seq, t.due_on, t.amount AS tranche_amount, tranche_paid(t.id) AS paid, t.status,
		a.id AS award_id, a.reference AS award_reference, a.purpose AS award_purpose, fl.id AS funding_line_id, fl.code AS funding_line,
		coalesce(fl.cost_centre, '') AS cost_centre, coalesce(fl.gl_account, '') AS gl_account,
		o.id AS payee_id, o.name AS payee, o.org_id AS payee_org_id, %s
	FROM tranches t JOIN awards a ON a.id = t.award_id JOIN funding_lines fl ON fl.id = a.funding_line_id
	JOIN organisations o ON o.id = a.recipient_id `

// PayableTranches lists the tranches a payment run may pay, due on or
// before dueBy (nil: any date), soonest first: due or claimed, with
// something outstanding, on an approved award of an active line, and in no
// pending or approved run.
func (s *Store) PayableTranches(ctx context.Context, dueBy *time.Time) ([]Payment, error) {
	var out []Payment
	err := s.db.NewRaw(fmt.Sprintf(paymentSQL, `0 AS item_id, '' AS reference, t.amount - tranche_paid(t.id) AS amount`)+`
		WHERE t.status IN ('due', 'claimed') AND a.status = 'approved' AND fl.status = 'active'
		  AND (?::date IS NULL OR t.due_on <= ?::date) AND tranche_paid(t.id) < t.amount
		  AND NOT EXISTS (SELECT 1 FROM payment_run_items i JOIN payment_runs r ON r.id = i.payment_run_id
			WHERE i.tranche_id = t.id AND r.status IN ('pending', 'approved'))
		ORDER BY t.due_on, a.reference, t.seq`, dueBy, dueBy).Scan(ctx, &out)
	return out, translate(err)
}

// PaymentRunPayments lists a run's payments in the order they were added.
func (s *Store) PaymentRunPayments(ctx context.Context, runID int64) ([]Payment, error) {
	return runPayments(ctx, s.db, runID)
}

func runPayments(ctx context.Context, db bun.IDB, runID int64) ([]Payment, error) {
	var out []Payment
	err := db.NewRaw(fmt.Sprintf(paymentSQL, `i.id AS item_id, i.reference, i.amount, i.spend_entry_id, i.confirmed_on, i.confirmed_amount`)+`
		JOIN payment_run_items i ON i.tranche_id = t.id WHERE i.payment_run_id = ? ORDER BY i.id`, runID).Scan(ctx, &out)
	return out, translate(err)
}

// lockLines locks funding lines in id order, as every path that changes
// spend does, so that runs and single approvals never deadlock.
func lockLines(ctx context.Context, tx bun.Tx, ids []int64) (map[int64]*models.FundingLine, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := map[int64]*models.FundingLine{}
	for _, id := range ids {
		fl, err := lockFundingLine(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		out[id] = fl
	}
	return out, nil
}

// ProposePaymentRun proposes paying the tranches on payOn, each for its
// whole outstanding amount; someone else approves the run
// (DecidePaymentRun). EINVALID on tranche_ids, naming every tranche that
// is missing or cannot be paid (withheld, paid, on an award not approved or
// a line not active, or already in a pending or approved run); the
// database's payment_run_tranche_payable holds the same rule.
func (s *Store) ProposePaymentRun(ctx context.Context, actor models.Actor, payOn time.Time, note string, trancheIDs []int64) (*models.PaymentRun, error) {
	run := &models.PaymentRun{PayOn: payOn, Note: note, Status: models.DecisionPending, ProposedBy: actor.UserID}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var lines []int64
		if err := tx.NewRaw(`SELECT DISTINCT a.funding_line_id FROM tranches t JOIN awards a ON a.id = t.award_id WHERE t.id = ANY(?)`,
			pgdialect.Array(trancheIDs)).Scan(ctx, &lines); err != nil {
			return err
		}
		if _, err := lockLines(ctx, tx, lines); err != nil {
			return err
		}
		payable, err := s.inside(tx).PayableTranches(ctx, nil)
		if err != nil {
			return err
		}
		byID := map[int64]Payment{}
		for _, p := range payable {
			byID[p.TrancheID] = p
		}
		var problems models.Problems
		for _, id := range trancheIDs {
			if _, ok := byID[id]; !ok {
				problems.Add("tranche_ids", "tranche %d cannot be paid: %s", id, s.whyNotPayable(ctx, tx, id))
			}
		}
		if err := problems.Err(); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(run).Returning("*").Exec(ctx); err != nil {
			return err
		}
		for _, id := range trancheIDs {
			it := &models.PaymentRunItem{PaymentRunID: run.ID, TrancheID: id, Amount: byID[id].Outstanding()}
			if _, err := tx.NewInsert().Model(it).Returning("*").Exec(ctx); err != nil {
				return err
			}
			run.Items = append(run.Items, it)
		}
		return s.audit(ctx, tx, actor, Change{Action: "payment_run.propose", Entity: "payment_run", EntityID: run.ID,
			After: map[string]any{"reference": run.Reference, "pay_on": run.PayOn.Format(models.DateLayout), "note": run.Note,
				"total": run.Total(), "payments": run.Items}})
	})
	return run, err
}

// whyNotPayable says why a tranche is not among the payable ones.
func (s *Store) whyNotPayable(ctx context.Context, tx bun.Tx, id int64) string {
	var t struct {
		Status      models.TrancheStatus
		AwardStatus models.DecisionStatus
		LineStatus  models.FundingLineStatus
		Run         *string
	}
	err := tx.NewRaw(`SELECT t.status, a.status AS award_status, fl.status AS line_status,
			(SELECT r.reference FROM payment_run_items i JOIN payment_runs r ON r.id = i.payment_run_id
			 WHERE i.tranche_id = t.id AND r.status IN ('pending', 'approved') LIMIT 1) AS run
		FROM tranches t JOIN awards a ON a.id = t.award_id JOIN funding_lines fl ON fl.id = a.funding_line_id WHERE t.id = ?`, id).Scan(ctx, &t)
	switch {
	case err != nil:
		return "no such tranche"
	case t.Status == models.TrancheWithheld || t.Status == models.TranchePaid:
		return "it is " + string(t.Status)
	case t.AwardStatus != models.DecisionApproved:
		return "its award is " + string(t.AwardStatus)
	case t.LineStatus != models.StatusActive:
		return "its funding line is " + string(t.LineStatus)
	case t.Run != nil:
		return "it is already in payment run " + *t.Run
	}
	return "nothing is outstanding on it"
}

// lockPaymentRun locks the lines a run pays from (in id order), then the run.
func lockPaymentRun(ctx context.Context, tx bun.Tx, id int64) (*models.PaymentRun, map[int64]*models.FundingLine, error) {
	var lines []int64
	if err := tx.NewRaw(`SELECT DISTINCT a.funding_line_id FROM payment_run_items i JOIN tranches t ON t.id = i.tranche_id
		JOIN awards a ON a.id = t.award_id WHERE i.payment_run_id = ?`, id).Scan(ctx, &lines); err != nil {
		return nil, nil, err
	}
	fls, err := lockLines(ctx, tx, lines)
	if err != nil {
		return nil, nil, err
	}
	run := new(models.PaymentRun)
	if err := tx.NewSelect().Model(run).ColumnExpr("payment_run.*").Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, nil, notFound(err, "Payment run", id)
	}
	if err := tx.NewSelect().Model(&run.Items).ColumnExpr("payment_run_item.*").
		Where("payment_run_id = ?", id).Order("id").Scan(ctx); err != nil {
		return nil, nil, err
	}
	return run, fls, nil
}

// DecidePaymentRun approves, rejects with a reason or withdraws a proposed
// payment run under decide's rules (kind payment_run, weighed by the run's
// total). Approving records, for each payment, an approved spend entry
// naming its award and tranche, paid to the award's recipient on the run's
// day, recorded by the proposer and approved by the actor, under every rule
// of the ledger (line active, dates, the approver's spend authority, the
// line's and the year's budget, the award, the tranche): all of them or, on
// the first refusal, none (ECONFLICT or EFORBIDDEN naming the payment).
func (s *Store) DecidePaymentRun(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.PaymentRun, error) {
	var out *models.PaymentRun
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		run, fls, err := lockPaymentRun(ctx, tx, id)
		if err != nil {
			return err
		}
		p := proposal{table: "payment_runs", what: "payment run " + run.Reference, id: run.ID, kind: models.DecisionPaymentRun,
			amount: run.Total(), status: run.Status, proposedBy: &run.ProposedBy}
		if to == models.DecisionApproved && run.Status == models.DecisionPending {
			if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionPaymentRun, run.Total(), actor.UserID, run.ProposedBy); err != nil {
				return err
			}
			if err := s.payRun(ctx, tx, actor, run, fls); err != nil {
				return err
			}
		}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := run.Status
		run.Status, run.DecidedBy, run.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			run.DecisionReason = &r
		}
		out = run
		return s.audit(ctx, tx, actor, Change{Action: "payment_run." + decisionVerb(to), Entity: "payment_run", EntityID: run.ID,
			Before: map[string]any{"status": before},
			After:  map[string]any{"status": to, "total": run.Total(), "reason": run.DecisionReason, "payments": run.Items}})
	})
	return out, s.recordRefusal(ctx, actor, "payment_run", "payment_run."+decisionVerb(to), id, err)
}

// payRun records and approves each payment's spend entry, with the run's
// lines locked, and names it on the payment.
func (s *Store) payRun(ctx context.Context, tx bun.Tx, actor models.Actor, run *models.PaymentRun, fls map[int64]*models.FundingLine) error {
	payments, err := runPayments(ctx, tx, run.ID)
	if err != nil {
		return err
	}
	items := map[int64]*models.PaymentRunItem{}
	for _, it := range run.Items {
		items[it.ID] = it
	}
	for _, p := range payments {
		refuse := func(err error) error {
			return models.Errorf(models.ErrorCode(err), "Payment %s (%s) cannot be made, so nothing in run %s is paid: %s",
				p.Reference, p.Name(), run.Reference, models.ErrorMessage(err))
		}
		fl := fls[p.FundingLineID]
		e := &models.SpendEntry{FundingLineID: p.FundingLineID, AwardID: &p.AwardID, TrancheID: &p.TrancheID, PayeeID: p.PayeeID,
			Amount: p.Amount, IncurredOn: run.PayOn, Category: "grant_payment", Reference: p.Reference,
			Description: "Payment run " + run.Reference + ": " + p.Name(),
			Purpose:     firstNonBlank(p.AwardPurpose, "Tranche "+itoa(int64(p.Seq))+" of award "+p.AwardReference),
			VFMReason:   "Scheduled tranche of award " + p.AwardReference + ", paid in payment run " + run.Reference,
			Status:      models.SpendPending, RecordedBy: run.ProposedBy}
		if fl.Status != models.StatusActive {
			return refuse(models.Errorf(models.ECONFLICT, "funding line %s is %s, not active.", fl.Code, fl.Status))
		}
		if err := checkSpendDates(ctx, tx, e, fl); err != nil {
			return refuse(err)
		}
		if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionSpend, e.Amount, actor.UserID, e.RecordedBy); err != nil {
			return refuse(err)
		}
		if err := checkBudget(ctx, tx, e, fl); err != nil {
			return refuse(err)
		}
		if _, err := tx.NewInsert().Model(e).Returning("*").Exec(ctx); err != nil {
			return refuse(translate(err))
		}
		if err := s.audit(ctx, tx, actor, Change{Action: "spend.record", Entity: "spend_entry", EntityID: e.ID, After: e}); err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		e.Status, e.DecidedBy, e.DecidedAt = models.SpendApproved, &actor.UserID, &now
		if _, err := tx.NewUpdate().Model(e).Column("status", "decided_by", "decided_at").WherePK().Exec(ctx); err != nil {
			return refuse(translate(err))
		}
		if err := s.audit(ctx, tx, actor, Change{Action: "spend.approve", Entity: "spend_entry", EntityID: e.ID,
			Before: map[string]any{"status": models.SpendPending},
			After:  map[string]any{"status": e.Status, "amount": e.Amount, "payment_run": run.Reference}}); err != nil {
			return err
		}
		if _, err := tx.NewRaw("UPDATE payment_run_items SET spend_entry_id = ? WHERE id = ?", e.ID, p.ItemID).Exec(ctx); err != nil {
			return err
		}
		items[p.ItemID].SpendEntryID = &e.ID
	}
	return nil
}

func firstNonBlank(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// PaymentRun returns one run with its payments; ENOTFOUND if none.
func (s *Store) PaymentRun(ctx context.Context, id int64) (*models.PaymentRun, error) {
	run := new(models.PaymentRun)
	if err := s.db.NewSelect().Model(run).ColumnExpr("payment_run.*").Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Payment run", id)
	}
	err := s.db.NewSelect().Model(&run.Items).ColumnExpr("payment_run_item.*").
		Where("payment_run_id = ?", id).Order("id").Scan(ctx)
	return run, translate(err)
}

// PaymentRuns lists one page of runs, newest first, with their payments,
// and the count of all runs.
func (s *Store) PaymentRuns(ctx context.Context, pg Page) ([]*models.PaymentRun, int, error) {
	var runs []*models.PaymentRun
	total, err := pg.apply(s.db.NewSelect().Model(&runs).ColumnExpr("payment_run.*").Order("id DESC")).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, translate(err)
	}
	return runs, int(total), s.fillRunItems(ctx, runs)
}

// fillRunItems reads the payments of the runs.
func (s *Store) fillRunItems(ctx context.Context, runs []*models.PaymentRun) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]int64, len(runs))
	byID := map[int64]*models.PaymentRun{}
	for i, r := range runs {
		ids[i], byID[r.ID] = r.ID, r
	}
	var items []*models.PaymentRunItem
	if err := s.db.NewSelect().Model(&items).ColumnExpr("payment_run_item.*").
		Where("payment_run_id = ANY(?)", pgdialect.Array(ids)).Order("id").Scan(ctx); err != nil {
		return translate(err)
	}
	for _, it := range items {
		byID[it.PaymentRunID].Items = append(byID[it.PaymentRunID].Items, it)
	}
	return nil
}
