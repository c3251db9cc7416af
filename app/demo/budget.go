package demo

import (
	"github.com/shopspring/decimal"

	"granttrack/models"
)

// profile gives a draft line the budget profile its finance officer would:
// each year holds the award tranches due in it, and the budget no award
// holds is spread over the line's years by day. The drug-supply line was
// planned before the Met's winter operation: its £100,000.00 January 2024
// payment sat in 2024-25 until the approved re-profiling
// (reprofileDrugSupply).
func (l *loader) profile(fl *models.FundingLine, awards []awardSpec) {
	byYear := map[models.FinancialYear]decimal.Decimal{}
	awarded := decimal.Zero
	for _, sp := range awards {
		if sp.line != fl.Code {
			continue
		}
		sp.in.RecipientID = l.orgs[sp.recipient]
		a, err := sp.in.Validate(fl.ID)
		if err != nil {
			l.fail(sp.in.Reference, err)
			return
		}
		for _, t := range a.Tranches {
			byYear[models.FinancialYearOf(t.DueOn)] = byYear[models.FinancialYearOf(t.DueOn)].Add(t.Amount)
		}
		awarded = awarded.Add(a.Amount)
	}
	rest, err := models.ProfileBudget(fl.Budget.Sub(awarded), fl.StartsOn, fl.EndsOn)
	if err != nil {
		l.fail(fl.Code+" profile", err)
		return
	}
	for _, q := range rest {
		byYear[q.Year] = byYear[q.Year].Add(q.Amount)
	}
	if fl.Code == "DRUG-SUPPLY" {
		planned := decimal.RequireFromString(drugSupplyBroughtForward)
		byYear[2023], byYear[2024] = byYear[2023].Sub(planned), byYear[2024].Add(planned)
	}
	var years []models.YearAmount
	for _, fy := range models.YearsOf(fl.StartsOn, fl.EndsOn) {
		years = append(years, models.YearAmount{Year: fy, Amount: byYear[fy]})
	}
	_, err = l.st.SetDraftProfile(l.ctx, actor, fl.ID, years)
	l.fail(fl.Code+" profile", err)
}

// drugSupplyBroughtForward is the January 2024 payment to the Met, first
// planned for 2024-25.
const drugSupplyBroughtForward = "100000.00"

// reprofileDrugSupply is the re-profiling already approved: the
// drug-supply payment brought forward into 2023-24, proposed by one finance
// officer and approved by the second before the payment was made.
func (l *loader) reprofileDrugSupply() {
	maker, checker, _ := l.people()
	bc := l.proposeChange(maker, models.BudgetChangeInput{Kind: string(models.Reprofile), EffectiveOn: "2023-12-01",
		Reason: "The Met brought its winter operation against county lines forward; its fourth payment falls in January 2024, not April.",
		Moves: []models.MoveInput{{FundingLineID: l.lines["DRUG-SUPPLY"], FinancialYear: "2024-25", Delta: "-" + drugSupplyBroughtForward},
			{FundingLineID: l.lines["DRUG-SUPPLY"], FinancialYear: "2023-24", Delta: drugSupplyBroughtForward}}})
	if l.err == nil {
		_, _, err := l.st.ApproveBudgetChange(l.ctx, checker, bc.ID)
		l.fail("approve the drug-supply re-profiling", err)
	}
}

// pendingVirement is the virement awaiting approval: across programmes, so
// only the finance manager may approve it, citing the Deputy Mayor's decision.
func (l *loader) pendingVirement() {
	maker, _, manager := l.people()
	rec, err := models.DecisionRecordInput{Reference: "PCD 2026-118", Title: "Virement to the knife crime hotspot partnerships (fictional)",
		SignedOn: "2026-11-02", DecisionMaker: "Deputy Mayor for Policing and Crime"}.Validate()
	l.fail("decision record", err)
	if l.err == nil {
		l.fail("decision record", l.st.CreateDecisionRecord(l.ctx, manager, rec))
	}
	if l.err != nil {
		return
	}
	l.proposeChange(maker, models.BudgetChangeInput{Kind: string(models.Virement), EffectiveOn: "2026-12-01", DecisionRecordID: &rec.ID,
		Reason: "Ward-officer posts filled later than planned leave £150,000.00 unawarded this year; a third hotspot partnership (Hackney) can start in January.",
		Moves: []models.MoveInput{{FundingLineID: l.lines["NEIGHBOURHOOD-WARD-OFFICERS"], FinancialYear: "2026-27", Delta: "-150000.00"},
			{FundingLineID: l.lines["KNIFE-CRIME-HOTSPOTS"], FinancialYear: "2026-27", Delta: "150000.00"}}})
}

func (l *loader) proposeChange(by models.Actor, in models.BudgetChangeInput) *models.BudgetChange {
	if l.err != nil {
		return nil
	}
	bc, err := in.Validate()
	l.fail("budget change", err)
	if l.err == nil {
		_, err = l.st.ProposeBudgetChange(l.ctx, by, bc, "", nil)
		l.fail("budget change", err)
	}
	return bc
}

// pendingVariation is the award variation awaiting approval: Southwark's
// hotspot partnership adds two youth workers in Peckham from January, so
// its last tranche grows by £20,000.00, which the line has left to award.
func (l *loader) pendingVariation() {
	if l.err != nil {
		return
	}
	maker, _, _ := l.people()
	awards, err := l.st.Awards(l.ctx, l.lines["KNIFE-CRIME-HOTSPOTS"])
	l.fail("awards", err)
	for _, a := range awards {
		if a.Reference != "VRU-KCH-2026-002" || l.err != nil {
			continue
		}
		in := models.AwardVariationInput{Amount: "170000.00",
			Reason: "Two more detached youth workers in Peckham from January 2027, after the autumn's rise in knife injuries there."}
		for i, t := range a.Tranches {
			amount := models.FormatMoney(t.Amount)
			if i == len(a.Tranches)-1 {
				amount = models.FormatMoney(t.Amount.Add(decimal.RequireFromString("20000.00")))
			}
			in.Tranches = append(in.Tranches, models.TrancheInput{DueOn: t.DueOn.Format(models.DateLayout), Amount: amount})
		}
		_, err := l.st.ProposeAwardVariation(l.ctx, maker, a.ID, in)
		l.fail("award variation", err)
	}
}
