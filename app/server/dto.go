package server

import (
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// The API's JSON shapes: snake_case, money as two-decimal strings, dates as
// YYYY-MM-DD. They are kept apart from the database models so that neither
// constrains the other.

func money(d decimal.Decimal) Money { return Money(models.FormatMoney(d)) }

func optMoney(d *decimal.Decimal) *Money {
	if d == nil {
		return nil
	}
	m := money(*d)
	return &m
}

type programmeJSON struct {
	ID          int64     `json:"id"`
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Plan        string    `json:"plan"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toProgrammeJSON(p *models.Programme) programmeJSON {
	return programmeJSON{ID: p.ID, Code: p.Code, Name: p.Name, Description: p.Description, Plan: p.Plan,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type organisationJSON struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	OrgID         *string   `json:"org_id"`
	CharityNumber *string   `json:"charity_number"`
	CompanyNumber *string   `json:"company_number"`
	Borough       *string   `json:"borough"`
	GSSCode       *string   `json:"gss_code"`
	IsFunder      bool      `json:"is_funder"`
	IsRecipient   bool      `json:"is_recipient"`
	IsSupplier    bool      `json:"is_supplier"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toOrganisationJSON(o *models.Organisation) organisationJSON {
	return organisationJSON{ID: o.ID, Name: o.Name, OrgID: o.OrgID, CharityNumber: o.CharityNumber,
		CompanyNumber: o.CompanyNumber, Borough: o.Borough, GSSCode: o.GSSCode, IsFunder: o.IsFunder, IsRecipient: o.IsRecipient,
		IsSupplier: o.IsSupplier, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

type tenderJSON struct {
	Reference         *string `json:"reference"`
	MinValue          *Money  `json:"min_value"`
	MaxValue          *Money  `json:"max_value"`
	ClosesOn          *Date   `json:"closes_on"`
	AwardedSupplierID *int64  `json:"awarded_supplier_id"`
	// The procurement and the contract it made (see models/contract.go).
	ProcurementMethod *models.ProcurementMethod `json:"procurement_method"`
	DirectAwardReason *string                   `json:"direct_award_reason"`
	FrameworkName     *string                   `json:"framework_name"`
	ContractTitle     *string                   `json:"contract_title"`
	PublishedOn       *Date                     `json:"published_on"`
	ContractValue     *Money                    `json:"contract_value"`
	ContractStartsOn  *Date                     `json:"contract_starts_on"`
	ContractEndsOn    *Date                     `json:"contract_ends_on"`
	MainCategory      *string                   `json:"main_procurement_category"`
}

type totalsJSON struct {
	Budget           Money `json:"budget"`
	Committed        Money `json:"committed"`
	Reserved         Money `json:"reserved"`
	Uncommitted      Money `json:"uncommitted" doc:"budget less committed and reserved"`
	Pending          Money `json:"pending" doc:"spend awaiting approval; reversals awaiting approval are apart, in pending_reversals"`
	PendingReversals Money `json:"pending_reversals" doc:"what reversals awaiting approval would take off the spend, as a positive amount"`
	Spent            Money `json:"spent"`
	Remaining        Money `json:"remaining"`
}

func toTotalsJSON(t models.LineTotals) totalsJSON {
	return totalsJSON{Budget: money(t.Budget), Committed: money(t.Committed), Reserved: money(t.Reserved), Uncommitted: money(t.Uncommitted()),
		Pending: money(t.Pending), PendingReversals: money(t.PendingReversals), Spent: money(t.Spent), Remaining: money(t.Remaining())}
}

type fundingLineJSON struct {
	ID          int64                    `json:"id"`
	Code        string                   `json:"code"`
	Title       string                   `json:"title"`
	Description string                   `json:"description"`
	Kind        models.FundingLineKind   `json:"kind"`
	ProgrammeID int64                    `json:"programme_id"`
	FunderID    int64                    `json:"funder_id"`
	Budget      Money                    `json:"budget"`
	Currency    string                   `json:"currency"`
	StartsOn    Date                     `json:"starts_on"`
	EndsOn      Date                     `json:"ends_on"`
	Status      models.FundingLineStatus `json:"status"`
	Tender      *tenderJSON              `json:"tender"`
	// The finance system's codes for the line's payments (null until entered).
	CostCentre *string     `json:"cost_centre"`
	GLAccount  *string     `json:"gl_account"`
	Totals     *totalsJSON `json:"totals,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

func toFundingLineJSON(fl *models.FundingLine, totals *models.LineTotals) fundingLineJSON {
	out := fundingLineJSON{ID: fl.ID, Code: fl.Code, Title: fl.Title, Description: fl.Description, Kind: fl.Kind,
		ProgrammeID: fl.ProgrammeID, FunderID: fl.FunderID, Budget: money(fl.Budget), Currency: fl.Currency,
		StartsOn: date(fl.StartsOn), EndsOn: date(fl.EndsOn), Status: fl.Status, CreatedAt: fl.CreatedAt, UpdatedAt: fl.UpdatedAt,
		CostCentre: fl.CostCentre, GLAccount: fl.GLAccount}
	if fl.Kind == models.KindContract {
		out.Tender = &tenderJSON{Reference: fl.TenderReference, MinValue: optMoney(fl.TenderMinValue),
			MaxValue: optMoney(fl.TenderMaxValue), ClosesOn: optDate(fl.TenderClosesOn), AwardedSupplierID: fl.AwardedSupplierID,
			ProcurementMethod: fl.ProcurementMethod, DirectAwardReason: fl.DirectAwardReason, FrameworkName: fl.FrameworkName,
			ContractTitle: fl.ContractTitle, PublishedOn: optDate(fl.TenderPublishedOn), ContractValue: optMoney(fl.ContractValue),
			ContractStartsOn: optDate(fl.ContractStartsOn), ContractEndsOn: optDate(fl.ContractEndsOn), MainCategory: fl.MainCategory}
	}
	if totals != nil {
		t := toTotalsJSON(*totals)
		out.Totals = &t
	}
	return out
}

type trancheJSON struct {
	ID     int64 `json:"id"`
	Seq    int   `json:"seq"`
	DueOn  Date  `json:"due_on"`
	Amount Money `json:"amount"`
	// Payment state: due, claimed, paid (approved spend naming it reached
	// its amount) or withheld; paid and outstanding; overdue when its date
	// has passed and it is neither paid nor withheld.
	Status         string  `json:"status"`
	ClaimedOn      *Date   `json:"claimed_on"`
	WithheldReason *string `json:"withheld_reason"`
	PaidOn         *Date   `json:"paid_on"`
	Paid           Money   `json:"paid"`
	Outstanding    Money   `json:"outstanding"`
	Overdue        bool    `json:"overdue"`
}

func toTrancheJSON(t *models.Tranche) trancheJSON {
	return trancheJSON{ID: t.ID, Seq: t.Seq, DueOn: date(t.DueOn), Amount: money(t.Amount), Status: string(t.Status),
		ClaimedOn: optDate(t.ClaimedOn), WithheldReason: t.WithheldReason, PaidOn: optDate(t.PaidOn), Paid: money(t.Paid),
		Outstanding: money(t.Outstanding()), Overdue: t.IsOverdue}
}

type awardJSON struct {
	ID                   int64         `json:"id"`
	FundingLineID        int64         `json:"funding_line_id"`
	RecipientID          int64         `json:"recipient_id"`
	Reference            string        `json:"reference"`
	Purpose              string        `json:"purpose"`
	Conditions           *string       `json:"conditions"`
	CrimeReductionReason *string       `json:"crime_reduction_reason"`
	Amount               Money         `json:"amount"`
	AwardedOn            Date          `json:"awarded_on"`
	StartsOn             Date          `json:"starts_on"`
	EndsOn               Date          `json:"ends_on"`
	ReservationID        *int64        `json:"reservation_id"`
	Tranches             []trancheJSON `json:"tranches"`
	// Paid is the approved spend naming the award; outstanding the rest;
	// overdue what is outstanding on tranches whose date has passed.
	Paid        Money     `json:"paid"`
	Outstanding Money     `json:"outstanding"`
	Overdue     Money     `json:"overdue"`
	CreatedAt   time.Time `json:"created_at"`
	// Status is pending until someone other than the proposer approves it.
	Status           string     `json:"status"`
	ProposedBy       *int64     `json:"proposed_by"`
	DecidedBy        *int64     `json:"decided_by"`
	DecidedAt        *time.Time `json:"decided_at"`
	DecisionReason   *string    `json:"decision_reason"`
	DecisionRecordID *int64     `json:"decision_record_id"`
}

func toAwardJSON(a *models.Award) awardJSON {
	out := awardJSON{ID: a.ID, FundingLineID: a.FundingLineID, RecipientID: a.RecipientID, Reference: a.Reference,
		Purpose: a.Purpose, Conditions: a.Conditions, CrimeReductionReason: a.CrimeReductionReason, Amount: money(a.Amount),
		AwardedOn: date(a.AwardedOn), StartsOn: date(a.StartsOn), EndsOn: date(a.EndsOn), ReservationID: a.ReservationID,
		Tranches: []trancheJSON{}, CreatedAt: a.CreatedAt, Status: string(a.Status), ProposedBy: a.ProposedBy, DecidedBy: a.DecidedBy,
		DecidedAt: a.DecidedAt, DecisionReason: a.DecisionReason, DecisionRecordID: a.DecisionRecordID}
	if a.Figures.Outstanding.IsZero() && a.Paid.IsZero() {
		a.Figures = a.Payments(time.Time{}) // not read through the store: nothing paid or overdue yet
	}
	out.Paid, out.Outstanding, out.Overdue = money(a.Figures.Paid), money(a.Figures.Outstanding), money(a.Figures.Overdue)
	for _, t := range a.Tranches {
		out.Tranches = append(out.Tranches, toTrancheJSON(t))
	}
	return out
}

type userJSON struct {
	ID        int64       `json:"id"`
	Email     string      `json:"email"`
	Name      string      `json:"name"`
	Role      models.Role `json:"role"`
	Active    bool        `json:"active"`
	CreatedAt time.Time   `json:"created_at"`
	// PendingGrantID is the grant of the role's money authority awaiting a
	// second admin: until it is approved the user approves nothing.
	PendingGrantID *int64 `json:"pending_grant_id"`
}

func toUserJSON(u *models.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active, CreatedAt: u.CreatedAt}
}

func toAccountJSON(a store.AccountView) userJSON {
	out := toUserJSON(a.User)
	if a.PendingGrant != nil {
		out.PendingGrantID = &a.PendingGrant.ID
	}
	return out
}

type userCreateInput struct {
	models.UserInput
	Password string `json:"password"`
	// Reason goes with the grant when the role approves money.
	Reason string `json:"reason"`
}

type statusInput struct {
	Status string `json:"status"`
	Reason string `json:"reason"` // why a line is closed or cancelled
}

type health struct {
	Status string `json:"status"`
}

type fundingLineQuery struct {
	ProgrammeID int64  `query:"programme_id"`
	Status      string `query:"status"`
	Kind        string `query:"kind"`
	FY          string `query:"fy" doc:"financial year, e.g. 2024-25"`
	Q           string `query:"q" doc:"search the code, title, tender reference and programme (at most 100 characters; % and _ match themselves)"`
	Page        int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage     int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

// pageQuery pages a list that has no filters of its own.
type pageQuery struct {
	Page    int `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage int `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

type organisationQuery struct {
	Role    string `query:"role" doc:"funder, recipient or supplier"`
	Q       string `query:"q" doc:"search the name, org-id, charity and company number (at most 100 characters; % and _ match themselves)"`
	Page    int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}
