package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// rawTx runs statements as the application role in one transaction, rolled
// back, and returns the first refusal.
func rawTx(t *testing.T, st *store.Store, stmts ...string) error {
	t.Helper()
	tx, err := st.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // always rolled back
	for _, q := range stmts {
		if _, err := tx.ExecContext(context.Background(), q); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(context.Background(), "SET CONSTRAINTS ALL IMMEDIATE")
	return err
}

// approvedAward makes an approved award of amount on the line, in two
// tranches of half each, with spend of spent approved against it (incurred
// on 2024-07-01).
func approvedAward(t *testing.T, st *store.Store, fl *models.FundingLine, amount, spent string) *models.Award {
	t.Helper()
	ctx := context.Background()
	a := award(t, fl.ID, fl.FunderID, amount)
	a.Tranches = nil
	half, _ := models.ParseMoney(amount)
	parts, err := models.SplitEven(half, 2)
	must(t, err)
	for i, p := range parts {
		a.Tranches = append(a.Tranches, &models.Tranche{Seq: i + 1, DueOn: a.StartsOn.AddDate(0, 3*i, 0), Amount: p})
	}
	must(t, storetest.Award(ctx, st, a))
	if spent != "" {
		officers := storetest.Officers(t, st, unique("rec")+"@t.example", unique("chk")+"@t.example")
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: fl.FunderID, AwardID: &a.ID, Amount: spent, IncurredOn: "2024-07-01",
			Category: "services", Purpose: "Purpose", VFMReason: "Tendered"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, officers[0], e, "", nil)
		must(t, err)
		_, err = st.ApproveSpend(ctx, officers[1], e.ID)
		must(t, err)
	}
	return a
}

func variationInput(amount, starts, ends string, tranches ...string) models.AwardVariationInput {
	in := models.AwardVariationInput{Amount: amount, StartsOn: starts, EndsOn: ends, Reason: "Extended delivery"}
	for i := 0; i < len(tranches); i += 2 {
		in.Tranches = append(in.Tranches, models.TrancheInput{DueOn: tranches[i], Amount: tranches[i+1]})
	}
	return in
}

// TestAwardVariationsAreTwoPersonDecisions: a variation or cancellation of
// an approved award is proposed by one person and decided by another with
// authority for it; it never takes the award below the spend approved
// against it, its dates away from that spend, or its line over budget. Go
// names the floor and the shortfall; PostgreSQL refuses the same through
// raw SQL as the application role.
func TestAwardVariationsAreTwoPersonDecisions(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	a := approvedAward(t, st, fl, "600.00", "200.00")
	proposer, approver, err := storetest.Deciders(ctx, st, unique("var"))
	must(t, err)

	for _, tc := range []struct {
		name string
		in   models.AwardVariationInput
		code string
		want string
	}{
		{"ErrBelowSpend", variationInput("150.00", "", "", "2024-06-01", "75.00", "2024-09-01", "75.00"), models.ECONFLICT,
			"cannot go below £200.00, the spend already approved against it; £150.00 is £50.00 short"},
		{"ErrOverLineBudget", variationInput("1100.00", "", "", "2024-06-01", "600.00", "2024-09-01", "500.00"), models.ECONFLICT,
			"raising award " + a.Reference + " by £500.00 is £100.00 over"},
		{"ErrDatesLeaveSpend", variationInput("", "2024-08-01", "", "2024-08-01", "300.00", "2024-09-01", "300.00"), models.ECONFLICT,
			"incurred on 2024-07-01"},
		{"ErrOutsideLine", variationInput("", "", "2025-06-30"), models.EINVALID, "when funding line"},
		{"ErrTranchesDoNotAddUp", variationInput("700.00", "", ""), models.EINVALID, "the tranches add up to £600.00 but the award is £700.00"},
		{"ErrNothingChanges", variationInput("", "", ""), models.EINVALID, "changes nothing"},
		{"ErrCancelWithSpend", models.AwardVariationInput{Kind: "cancellation", Reason: "Charity closed"}, models.ECONFLICT,
			"£200.00 is already approved as spend against it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.ProposeAwardVariation(ctx, proposer, a.ID, tc.in)
			if models.ErrorCode(err) != tc.code || !strings.Contains(models.ErrorMessage(err)+" "+fieldsOf(err), tc.want) {
				t.Fatalf("err = %v (%s), want %s with %q", err, fieldsOf(err), tc.code, tc.want)
			}
		})
	}

	v, err := st.ProposeAwardVariation(ctx, proposer, a.ID, variationInput("800.00", "", "2025-03-31", "2024-06-01", "300.00", "2024-09-01", "300.00", "2024-12-01", "200.00"))
	must(t, err)
	if v.AmountBefore.StringFixed(2) != "600.00" || v.Status != models.DecisionPending || len(v.Tranches) != 3 {
		t.Fatalf("variation %+v", v)
	}
	if _, err := st.ProposeAwardVariation(ctx, proposer, a.ID, variationInput("700.00", "", "", "2024-06-01", "700.00")); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("second open proposal: %v", err)
	}
	// It waits for the approver, not for its proposer.
	for who, want := range map[models.Actor]bool{proposer: false, approver: true} {
		as, err := st.Approvals(ctx, who.UserID)
		must(t, err)
		found := false
		for _, x := range as {
			found = found || (x.Entity == "award_variation" && x.ID == v.ID && x.Kind == models.DecisionAwardVariation)
		}
		if found != want {
			t.Errorf("%s sees the variation on approvals: %v, want %v", who.Label, found, want)
		}
	}
	if _, err := st.DecideAwardVariation(ctx, proposer, v.ID, models.DecisionApproved, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("proposer approving: %v", err)
	}
	if _, err := st.DecideAwardVariation(ctx, approver, v.ID, models.DecisionWithdrawn, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("someone else withdrawing: %v", err)
	}
	// A board member has no authority in the scheme, even to reject.
	board := person(t, st, models.RoleBoardMember)
	if _, err := st.DecideAwardVariation(ctx, board, v.ID, models.DecisionRejected, "No"); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("board member rejecting: %v", err)
	}
	if _, err := st.DecideAwardVariation(ctx, approver, v.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	got, err := st.Award(ctx, a.ID)
	must(t, err)
	var sched []string
	for _, tr := range got.Tranches {
		sched = append(sched, tr.DueOn.Format(models.DateLayout)+" "+tr.Amount.StringFixed(2))
	}
	if got.Amount.StringFixed(2) != "800.00" || strings.Join(sched, ", ") != "2024-06-01 300.00, 2024-09-01 300.00, 2024-12-01 200.00" {
		t.Fatalf("award after variation: %s, %v", got.Amount, sched)
	}
	if n := auditCount(t, st, "award.vary", a.ID); n != 1 {
		t.Fatalf("award.vary events = %d", n)
	}
	if _, err := st.DecideAwardVariation(ctx, approver, v.ID, models.DecisionRejected, "late"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("deciding twice: %v", err)
	}

	// Cancelling an award with no spend gives its budget back to the line.
	b := approvedAward(t, st, fl, "100.00", "")
	c, err := st.ProposeAwardVariation(ctx, proposer, b.ID, models.AwardVariationInput{Kind: "cancellation", Reason: "Charity closed"})
	must(t, err)
	if _, err := st.DecideAwardVariation(ctx, approver, c.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Award(ctx, b.ID); got.Status != models.DecisionCancelled {
		t.Fatalf("cancelled award is %s", got.Status)
	}
	totals, err := st.LineTotals(ctx, fl.ID)
	must(t, err)
	if totals[fl.ID].Committed.StringFixed(2) != "800.00" {
		t.Fatalf("committed after cancelling = %s", totals[fl.ID].Committed)
	}

	// PostgreSQL holds each rule, as the application role.
	propose := func(amount, starts, ends string, tranches ...string) []string {
		q := []string{fmt.Sprintf(`INSERT INTO award_variations (award_id, kind, amount_before, starts_on_before, ends_on_before, amount, starts_on, ends_on, reason, proposed_by)
			VALUES (%d, 'variation', 0, '2024-01-01', '2024-01-01', %s, '%s', '%s', 'raw', %d)`, a.ID, amount, starts, ends, proposer.UserID)}
		for i := 0; i < len(tranches); i += 2 {
			q = append(q, fmt.Sprintf(`INSERT INTO award_variation_tranches (award_variation_id, seq, due_on, amount)
				VALUES (currval('award_variations_id_seq'), %d, '%s', %s)`, i/2+1, tranches[i], tranches[i+1]))
		}
		return q
	}
	approve := func(by models.Actor) string {
		return fmt.Sprintf(`UPDATE award_variations SET status = 'approved', decided_by = %d, decided_at = now() WHERE id = currval('award_variations_id_seq')`, by.UserID)
	}
	for _, tc := range []struct {
		name, rule string
		stmts      []string
	}{
		{"BelowSpend", "award_covers_spend", append(propose("150.00", "2024-06-01", "2025-03-31", "2024-06-01", "150.00"), approve(approver))},
		{"OverLineBudget", "awards_within_budget", append(propose("1100.00", "2024-06-01", "2025-03-31", "2024-06-01", "1100.00"), approve(approver))},
		{"DatesLeaveSpend", "award_dates_cover_spend", append(propose("800.00", "2024-08-01", "2025-03-31", "2024-08-01", "800.00"), approve(approver))},
		{"OutsideLine", "awards_within_line_dates", append(propose("800.00", "2024-06-01", "2025-06-30", "2024-06-01", "800.00"), approve(approver))},
		{"TranchesDoNotAddUp", "tranches_sum_to_award", append(propose("900.00", "2024-06-01", "2025-03-31", "2024-06-01", "800.00"), approve(approver))},
		{"OwnProposal", "decision_four_eyes", append(propose("900.00", "2024-06-01", "2025-03-31", "2024-06-01", "900.00"), approve(proposer))},
		{"BoardMember", "decision_role_authority", append(propose("900.00", "2024-06-01", "2025-03-31", "2024-06-01", "900.00"),
			fmt.Sprintf(`UPDATE award_variations SET status = 'rejected', decision_reason = 'no', decided_by = %d, decided_at = now() WHERE id = currval('award_variations_id_seq')`, board.UserID))},
		{"CancelWithSpend", "award_covers_spend", []string{fmt.Sprintf(`INSERT INTO award_variations (award_id, kind, amount_before, starts_on_before, ends_on_before, reason, proposed_by)
			VALUES (%d, 'cancellation', 0, '2024-01-01', '2024-01-01', 'raw', %d)`, a.ID, proposer.UserID), approve(approver)}},
		{"CancelWithoutDecision", "awards_varied_by_decision", []string{fmt.Sprintf(`UPDATE awards SET status = 'cancelled' WHERE id = %d`, a.ID)}},
		{"VaryPendingAward", "award_variations_award_approved", []string{fmt.Sprintf(`INSERT INTO award_variations (award_id, kind, amount_before, starts_on_before, ends_on_before, reason, proposed_by)
			VALUES (%d, 'cancellation', 0, '2024-01-01', '2024-01-01', 'raw', %d)`, b.ID, proposer.UserID)}},
		{"EditDecided", "award_variations_decided_once", []string{fmt.Sprintf(`UPDATE award_variations SET status = 'rejected', decision_reason = 'x' WHERE id = %d`, v.ID)}},
	} {
		t.Run("SQL"+tc.name, func(t *testing.T) {
			wantRefusal(t, rawTx(t, st, tc.stmts...), tc.rule)
		})
	}
	// The application may not write an award's amount at all; even the
	// owner is held by the guard.
	if err := raw(st, "UPDATE awards SET amount = 900.00 WHERE id = ?", a.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("app role writing an award's amount: %v", err)
	}
	wantRefusal(t, asOwner(t, "UPDATE awards SET amount = 900.00 WHERE id = ?", a.ID), "awards_varied_by_decision")
}

// TestRejectedConversionRestoresTheReservation: an award converted from a
// reservation that is rejected or withdrawn gives the reservation back,
// held, so it can be converted again; if its budget has gone to other
// awards meanwhile, the reservation is released with a reason saying so.
func TestRejectedConversionRestoresTheReservation(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	proposer, approver, err := storetest.Deciders(ctx, st, unique("conv"))
	must(t, err)

	r, err := reserve(t, st, proposer, fl.ID, "500.00")
	must(t, err)
	a := award(t, fl.ID, fl.FunderID, "400.00")
	must(t, st.ConvertReservation(ctx, proposer, r.ID, a))
	// Nobody may put the reservation back by hand while its award stands.
	wantRefusal(t, raw(st, "UPDATE reservations SET status = 'held', closed_by = NULL, closed_at = NULL WHERE id = ?", r.ID), "reservations_close_once")
	if _, err := st.DecideAward(ctx, approver, a.ID, models.DecisionRejected, "Tender not compliant"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Reservation(ctx, r.ID); got.Status != models.ReservationHeld || got.ClosedAt != nil {
		t.Fatalf("after rejecting the converted award: %+v", got)
	}
	// Converted again, and withdrawn by its proposer: held again.
	b := award(t, fl.ID, fl.FunderID, "450.00")
	must(t, st.ConvertReservation(ctx, proposer, r.ID, b))
	if _, err := st.DecideAward(ctx, proposer, b.ID, models.DecisionWithdrawn, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Reservation(ctx, r.ID); got.Status != models.ReservationHeld {
		t.Fatalf("after withdrawing the converted award: %+v", got)
	}
	if n := auditCount(t, st, "reservation.restore", r.ID); n != 2 {
		t.Fatalf("reservation.restore events = %d", n)
	}

	// Converted for less, and the rest awarded elsewhere: the line cannot
	// hold the reservation again, so it is released, saying why.
	c := award(t, fl.ID, fl.FunderID, "300.00")
	must(t, st.ConvertReservation(ctx, proposer, r.ID, c))
	must(t, st.CreateAward(ctx, proposer, award(t, fl.ID, fl.FunderID, "600.00")))
	if _, err := st.DecideAward(ctx, approver, c.ID, models.DecisionRejected, "Tender not compliant"); err != nil {
		t.Fatal(err)
	}
	got, err := st.Reservation(ctx, r.ID)
	must(t, err)
	if got.Status != models.ReservationReleased || got.ReleaseReason == nil || !strings.Contains(*got.ReleaseReason, "only £400.00 of the line's budget is left") {
		t.Fatalf("reservation the line cannot hold: %+v", got)
	}
}

// auditCount counts an entity's audit events of one action.
func auditCount(t *testing.T, st *store.Store, action string, entityID int64) int {
	t.Helper()
	var n int
	must(t, st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = ? AND entity_id = ?", action, fmt.Sprint(entityID)).Scan(context.Background(), &n))
	return n
}
