package demo

import (
	"time"

	"granttrack/models"
)

// paymentRuns are the demo's two runs of tranches not yet due: the ward
// officers' January tranche (£200,000.00), paid early for the Met's payroll
// in a run one officer proposed and the finance manager approved, whose
// remittance can be downloaded; and Lambeth's January hotspot tranche
// (£37,500.00), proposed and waiting for a second person.
func (l *loader) paymentRuns() {
	maker, _, manager := l.people()
	wards := l.nextTranche("NEIGHBOURHOOD-WARD-OFFICERS", "MOPAC-NWO-2025-001")
	lambeth := l.nextTranche("KNIFE-CRIME-HOTSPOTS", "VRU-KCH-2026-001")
	if l.err != nil {
		return
	}
	run, err := l.st.ProposePaymentRun(l.ctx, maker, time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC),
		"Ward officer posts, January quarter, paid early for the Met's payroll", []int64{wards})
	l.fail("payment run", err)
	if l.err == nil {
		_, err = l.st.DecidePaymentRun(l.ctx, manager, run.ID, models.DecisionApproved, "")
		l.fail("payment run approval", err)
	}
	if l.err == nil {
		_, err = l.st.ProposePaymentRun(l.ctx, maker, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			"Lambeth hotspot partnership, January tranche", []int64{lambeth})
		l.fail("pending payment run", err)
	}
}

// nextTranche is the first tranche of the award that falls due after asOf.
func (l *loader) nextTranche(line, reference string) int64 {
	if l.err != nil {
		return 0
	}
	awards, err := l.st.Awards(l.ctx, l.lines[line])
	l.fail(line, err)
	for _, a := range awards {
		if a.Reference != reference {
			continue
		}
		for _, t := range a.Tranches {
			if t.DueOn.After(asOf) {
				return t.ID
			}
		}
	}
	l.fail(reference, models.Errorf(models.ENOTFOUND, "award %s has no tranche due after %s", reference, asOf.Format(models.DateLayout)))
	return 0
}
