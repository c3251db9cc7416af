package demo

import (
	"fmt"
	"time"

	"granttrack/models"
)

// asOf is the day the demo's story has reached: tranches due by then are
// paid and their payments approved, apart from the latest few, which wait in
// the approvals queue.
var asOf = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)

// people returns the demo's officers as actors: the one who records, the
// second who approves, and the finance manager who approves above the limit.
func (l *loader) people() (maker, checker, manager models.Actor) {
	get := func(email string) models.Actor {
		u, err := l.st.UserByEmail(l.ctx, email)
		l.fail(email, err)
		if err != nil {
			return models.Actor{}
		}
		return models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role, RequestID: "demo data"}
	}
	return get(Users[1].Email), get(Users[2].Email), get(Users[FinanceManager].Email)
}

// currentAwards are the awards on the current lines.
var currentAwards = []awardSpec{
	{"NEIGHBOURHOOD-WARD-OFFICERS", "Metropolitan Police Service", models.AwardInput{Reference: "MOPAC-NWO-2025-001", Amount: "2400000.00",
		AwardedOn: "2025-04-01", StartsOn: "2025-04-01", EndsOn: "2028-03-31", TrancheCount: 12,
		Purpose:              "Ward officer and PCSO posts across the 12 Basic Command Units.",
		Conditions:           "Posts ring-fenced to ward duties; quarterly returns of wards covered.",
		CrimeReductionReason: "Known local officers in every ward prevent crime and build the trust that brings reports and witnesses."}},
	{"KNIFE-CRIME-HOTSPOTS", "London Borough of Lambeth", models.AwardInput{Reference: "VRU-KCH-2026-001", Amount: "150000.00",
		AwardedOn: "2026-04-01", StartsOn: "2026-04-01", EndsOn: "2027-03-31", TrancheCount: 4,
		Purpose:              "Detached youth work in Brixton and Stockwell hotspots.",
		Conditions:           "Quarterly returns of young people reached; safeguarding policy in place.",
		CrimeReductionReason: "Youth workers in the streets with most knife injuries divert young people at the moments of highest risk."}},
	{"KNIFE-CRIME-HOTSPOTS", "London Borough of Southwark", models.AwardInput{Reference: "VRU-KCH-2026-002", Amount: "150000.00",
		AwardedOn: "2026-04-01", StartsOn: "2026-04-01", EndsOn: "2027-03-31", TrancheCount: 4,
		Purpose:              "Detached youth work in Peckham and Walworth hotspots.",
		Conditions:           "Quarterly returns of young people reached; safeguarding policy in place.",
		CrimeReductionReason: "Youth workers in the streets with most knife injuries divert young people at the moments of highest risk."}},
}

// currentLines are lines of the 2025-29 plan (fictional), so that the
// current financial year has a story too.
func (l *loader) currentLines() {
	specs := []lineSpec{
		{in: models.FundingLineInput{Code: "NEIGHBOURHOOD-WARD-OFFICERS", Kind: "allocation", Budget: "3000000.00", StartsOn: "2025-04-01", EndsOn: "2028-03-31",
			Title:       "Dedicated ward officers and PCSOs in all 629 wards",
			Description: "Allocation to the Met so that every one of London's 629 wards has a dedicated ward officer with PCSOs (figures after 2025 are fictional)."},
			programme: "TRUST", funder: mopac, status: live},
		{in: models.FundingLineInput{Code: "KNIFE-CRIME-HOTSPOTS", Kind: "grant", Budget: "480000.00", StartsOn: "2026-04-01", EndsOn: "2027-03-31",
			Title:       "Knife crime hotspot partnerships (fictional)",
			Description: "VRU grants to borough partnerships for youth work in the streets with most knife injuries."},
			programme: "VIOLENCE", funder: vru, status: live},
	}
	l.createLines(specs, currentAwards)
	l.createAwards(currentAwards)
	if l.err != nil {
		return
	}
	maker, _, _ := l.people()
	r, err := models.ReservationInput{Amount: "120000.00", Purpose: "Independent evaluation of the hotspot partnerships (tender in progress, reserved at the top of its band)",
		Reference: "VRU-T-2026-051", ExpectedOn: "2027-01-15"}.Validate(l.lines["KNIFE-CRIME-HOTSPOTS"])
	l.fail("reservation", err)
	if l.err == nil {
		l.fail("reservation", l.st.CreateReservation(l.ctx, maker, r))
	}
}

// payments pays every tranche due by asOf as a spend entry against its award
// and has a second person approve it, leaving the latest few pending; then a
// duplicated invoice is approved and reversed, as happens.
func (l *loader) payments() {
	maker, checker, manager := l.people()
	var pending []*models.SpendEntry
	for _, code := range []string{"DRUG-SUPPLY", "ALLYSHIP-TRAINING", "HATE-CRIME-SUPPORT", "VICTIMS-SERVICES", "VAWG-STRATEGY",
		"TRUST-ACTION-PLAN", "VRU-KNIFE-CRIME-RESEARCH", "NEIGHBOURHOOD-WARD-OFFICERS", "KNIFE-CRIME-HOTSPOTS"} {
		if l.err != nil {
			return
		}
		awards, err := l.st.Awards(l.ctx, l.lines[code])
		l.fail(code, err)
		for _, a := range awards {
			for _, t := range a.Tranches {
				if t.DueOn.After(asOf) || l.err != nil {
					continue
				}
				category, ref := "grant_payment", fmt.Sprintf("PAY-%s-%02d", a.Reference, t.Seq)
				if code == "ALLYSHIP-TRAINING" || code == "VRU-KNIFE-CRIME-RESEARCH" {
					category, ref = "services", fmt.Sprintf("INV-%s-%02d", a.Reference, t.Seq)
				}
				e := l.record(maker, models.SpendInput{FundingLineID: a.FundingLineID, AwardID: &a.ID, TrancheID: &t.ID, PayeeID: a.RecipientID,
					Amount: models.FormatMoney(t.Amount), IncurredOn: t.DueOn.Format(models.DateLayout), Category: category, Reference: ref,
					Description: fmt.Sprintf("Tranche %d of %s", t.Seq, a.Reference), Purpose: a.Purpose,
					VFMReason: "Paid on the milestone evidence the grant agreement requires"})
				if e != nil {
					pending = append(pending, e)
				}
			}
		}
	}
	// The newest three payments wait for a second officer.
	for i, e := range pending {
		if i >= len(pending)-3 || l.err != nil {
			continue
		}
		l.approve(checker, manager, e)
	}
	dup := l.record(maker, models.SpendInput{FundingLineID: l.lines["HATE-CRIME-SUPPORT"], PayeeID: l.orgs["Galop"], Amount: "3250.00",
		IncurredOn: "2024-09-30", Category: "services", Reference: "GAL-INV-0412", Description: "Venue hire, hate crime reporting week",
		Purpose: "Community reporting event", VFMReason: "Lowest of three venue quotes"})
	l.approve(checker, manager, dup)
	again := l.record(maker, models.SpendInput{FundingLineID: l.lines["HATE-CRIME-SUPPORT"], PayeeID: l.orgs["Galop"], Amount: "3250.00",
		IncurredOn: "2024-09-30", Category: "services", Reference: "GAL-INV-0412/2", Description: "Venue hire, hate crime reporting week",
		Purpose: "Community reporting event", VFMReason: "Lowest of three venue quotes"})
	l.approve(checker, manager, again)
	if l.err == nil {
		rev, err := l.st.ReverseSpend(l.ctx, maker, again.ID, "Duplicate of invoice GAL-INV-0412, paid twice")
		l.fail("reversal", err)
		l.approve(checker, manager, rev)
	}
}

func (l *loader) record(by models.Actor, in models.SpendInput) *models.SpendEntry {
	if l.err != nil {
		return nil
	}
	e, err := in.Validate()
	l.fail(in.Reference, err)
	if l.err == nil {
		_, err = l.st.RecordSpend(l.ctx, by, e, "", nil)
		l.fail(in.Reference, err)
	}
	return e
}

// approve has the second officer approve, or the finance manager above the limit.
func (l *loader) approve(checker, manager models.Actor, e *models.SpendEntry) {
	if l.err != nil || e == nil {
		return
	}
	by := checker
	if e.Amount.GreaterThan(models.DefaultApprovalLimit) {
		by = manager
	}
	_, err := l.st.ApproveSpend(l.ctx, by, e.ID)
	l.fail(fmt.Sprintf("approve %s", e.Reference), err)
}

// reading is one measurement: the period's first and last day and the value.
type reading struct{ from, to, value string }

// outcomes are the plan's indicators. The reductions against the
// pre-pandemic baseline (murders -13%, knife crime with injury -20%, young
// people stabbed -27%, gun crime -35%), the record-low trust of about half of
// Londoners and the 40% recruitment target are as reported; the counts
// behind them and the smaller lines' outputs are illustrative.
func (l *loader) outcomes() {
	maker, _, _ := l.people()
	type spec struct {
		in       models.IndicatorInput
		line     string
		prog     string
		source   string
		readings []reading
	}
	violence := func(name, base, y1, y2, y3 string) spec {
		return spec{in: models.IndicatorInput{Name: name, Unit: "count", Direction: "lower_is_better", BaselineValue: base, BaselineOn: "2019-12-31",
			TargetValue: y3, TargetOn: "2025-03-31", Frequency: "annual"}, prog: "VIOLENCE",
			source:   "MPS recorded crime (illustrative counts)",
			readings: []reading{{"2022-04-01", "2023-03-31", y1}, {"2023-04-01", "2024-03-31", y2}, {"2024-04-01", "2025-03-31", y3}}}
	}
	specs := []spec{
		violence("Murders (pre-pandemic baseline; -13% reported)", "150", "142", "136", "130"),
		violence("Knife crime with injury (-20% reported)", "4900", "4500", "4200", "3920"),
		violence("Young people stabbed (-27% reported)", "1900", "1650", "1500", "1387"),
		violence("Gun crime (-35% reported)", "2400", "1900", "1700", "1560"),
		{in: models.IndicatorInput{Name: "Londoners who think the Met does a good job", Unit: "percent", Direction: "higher_is_better",
			BaselineValue: "50", BaselineOn: "2022-03-31", TargetValue: "60", TargetOn: "2025-03-31", Frequency: "quarterly"}, prog: "TRUST",
			source: "MOPAC Public Attitude Survey (illustrative after baseline)",
			readings: []reading{{"2023-04-01", "2023-06-30", "48"}, {"2023-07-01", "2023-09-30", "47"}, {"2023-10-01", "2023-12-31", "49"},
				{"2024-01-01", "2024-03-31", "50"}, {"2024-04-01", "2024-06-30", "51"}, {"2024-07-01", "2024-09-30", "52.5"},
				{"2024-10-01", "2024-12-31", "53"}, {"2025-01-01", "2025-03-31", "54"}}},
		{in: models.IndicatorInput{Name: "New Met recruits from Black, Asian and minority ethnic backgrounds", Unit: "percent", Direction: "higher_is_better",
			BaselineValue: "28", BaselineOn: "2019-03-31", TargetValue: "40", TargetOn: "2022-03-31", Frequency: "annual"}, prog: "TRUST",
			source:   "MPS workforce data (illustrative)",
			readings: []reading{{"2021-04-01", "2022-03-31", "31"}, {"2022-04-01", "2023-03-31", "32.5"}, {"2023-04-01", "2024-03-31", "33"}}},
		{in: models.IndicatorInput{Name: "County lines closed", Unit: "count", Direction: "higher_is_better",
			BaselineValue: "0", BaselineOn: "2022-04-01", TargetValue: "600", TargetOn: "2025-03-31", Frequency: "quarterly"}, line: "DRUG-SUPPLY",
			source: "MPS county lines taskforce returns (illustrative)",
			readings: []reading{{"2022-04-01", "2023-03-31", "180"}, {"2023-04-01", "2024-03-31", "390"}, {"2024-04-01", "2024-09-30", "470"},
				{"2024-10-01", "2025-03-31", "575"}}},
		{in: models.IndicatorInput{Name: "Board members trained in anti-racism allyship", Unit: "count", Direction: "higher_is_better",
			BaselineValue: "0", BaselineOn: "2024-04-15", TargetValue: "12", TargetOn: "2024-09-30", Frequency: "quarterly"}, line: "ALLYSHIP-TRAINING",
			source:   "Supplier attendance register (illustrative)",
			readings: []reading{{"2024-07-01", "2024-07-31", "11"}}},
		{in: models.IndicatorInput{Name: "Hate crime victims given casework support", Unit: "count", Direction: "higher_is_better",
			BaselineValue: "0", BaselineOn: "2023-04-01", TargetValue: "1200", TargetOn: "2025-03-31", Frequency: "quarterly"}, line: "HATE-CRIME-SUPPORT",
			source: "Provider quarterly returns (illustrative)",
			readings: []reading{{"2023-04-01", "2023-09-30", "210"}, {"2023-10-01", "2024-03-31", "480"}, {"2024-04-01", "2024-09-30", "760"},
				{"2024-10-01", "2025-03-31", "1050"}}},
		{in: models.IndicatorInput{Name: "Wards with a dedicated ward officer and PCSO", Unit: "count", Direction: "higher_is_better",
			BaselineValue: "520", BaselineOn: "2025-03-31", TargetValue: "629", TargetOn: "2028-03-31", Frequency: "quarterly"}, line: "NEIGHBOURHOOD-WARD-OFFICERS",
			source: "MPS neighbourhood policing returns (illustrative)",
			readings: []reading{{"2025-04-01", "2025-06-30", "531"}, {"2025-07-01", "2025-09-30", "548"}, {"2025-10-01", "2025-12-31", "560"},
				{"2026-01-01", "2026-03-31", "571"}, {"2026-04-01", "2026-06-30", "583"}}},
	}
	for _, sp := range specs {
		if l.err != nil {
			return
		}
		// The baseline comes from the same series as the readings; the
		// target from the plan that set it.
		sp.in.BaselineSrc, sp.in.TargetSrc = sp.source, "Police and Crime Plan 2022-25 (illustrative where the plan gives no number)"
		if sp.line != "" {
			sp.in.FundingLineID = l.lines[sp.line]
		} else {
			sp.in.ProgrammeID = l.progs[sp.prog]
		}
		ind, err := sp.in.Validate()
		l.fail(sp.in.Name, err)
		if l.err == nil {
			l.fail(sp.in.Name, l.st.CreateIndicator(l.ctx, maker, ind))
		}
		for _, r := range sp.readings {
			if l.err != nil {
				return
			}
			m, err := models.MeasurementInput{PeriodStart: r.from, PeriodEnd: r.to, Value: r.value, Source: sp.source,
				ExtractedOn: r.to, MethodNote: "Demo figure"}.Validate(ind.ID)
			l.fail(sp.in.Name+" "+r.to, err)
			if l.err == nil {
				l.fail(sp.in.Name+" "+r.to, l.st.RecordMeasurement(l.ctx, maker, m))
			}
		}
	}
}
