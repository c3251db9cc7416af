package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// TestIndicatorCorrectionsKeepEveryRevision: an indicator's definition is
// corrected by a new revision that names the current one; the indicator
// reads as the newest revision, every earlier one is kept and audited, a
// correction of a replaced revision is refused in Go, and PostgreSQL, as
// the application role, refuses to change or remove a revision, to update
// an indicator directly, and to break the chain.
func TestIndicatorCorrectionsKeepEveryRevision(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	officer := person(t, st, models.RoleFinanceOfficer)
	fl := line(t, st, "10000.00")
	ind, err := models.IndicatorInput{FundingLineID: fl.ID, Name: "Referrals", Unit: "count", Direction: "higher_is_better",
		BaselineValue: "10", BaselineOn: "2024-04-01", BaselineSrc: "Referral log", TargetValue: "50", TargetOn: "2025-03-31",
		TargetSrc: "Grant agreement", Frequency: "quarterly"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIndicator(ctx, officer, ind); err != nil {
		t.Fatal(err)
	}
	revs, err := st.IndicatorRevisions(ctx, ind.ID)
	if err != nil || len(revs) != 1 || revs[0].Revision != 1 || revs[0].SupersedesID != nil || revs[0].BaselineSource != "Referral log" {
		t.Fatalf("first revision: %v %+v", err, revs)
	}
	first := revs[0]
	correction := func(supersedes int64) models.IndicatorCorrectionInput {
		return models.IndicatorCorrectionInput{Name: "Referrals accepted", Unit: "count", Direction: "higher_is_better",
			BaselineValue: "12", BaselineOn: "2024-04-01", BaselineSrc: "Referral log, re-extracted", TargetValue: "60", TargetOn: "2025-03-31",
			TargetSrc: "Variation 1", Supersedes: supersedes, Reason: "The log double-counted transfers"}
	}

	t.Run("ErrInvalidInGo", func(t *testing.T) {
		_, err := models.IndicatorCorrectionInput{Name: "", Unit: "count", Direction: "higher_is_better", BaselineValue: "3",
			BaselineOn: "2024-04-01", Supersedes: first.ID}.Validate(ind.ID)
		got := fieldNames(err)
		for _, f := range []string{"name", "baseline_source", "reason"} {
			if !strings.Contains(got, f+":") {
				t.Errorf("no message for %s in %q", f, got)
			}
		}
	})

	r, err := correction(first.ID).Validate(ind.ID)
	if err != nil {
		t.Fatal(err)
	}
	after, err := st.CorrectIndicator(ctx, officer, r)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != "Referrals accepted" || after.BaselineValue.String() != "12" || after.TargetSource != "Variation 1" ||
		after.Frequency != models.Quarterly || r.Revision != 2 || *r.SupersedesID != first.ID {
		t.Fatalf("after the correction: indicator %+v, revision %+v", after, r)
	}
	if got, _ := st.Indicator(ctx, ind.ID); got.Name != "Referrals accepted" {
		t.Fatalf("the indicator reads %q, not its current revision", got.Name)
	}
	revs, err = st.IndicatorRevisions(ctx, ind.ID)
	if err != nil || len(revs) != 2 || revs[0].Name != "Referrals" || revs[0].BaselineValue.String() != "10" ||
		revs[1].Reason != "The log double-counted transfers" || revs[1].RecordedBy == nil || *revs[1].RecordedBy != officer.UserID {
		t.Fatalf("history: %v %+v", err, revs)
	}
	events, _, err := st.AuditEvents(ctx, store.AuditFilter{Action: "indicator.correct", Entity: "indicator", EntityID: strconv.FormatInt(ind.ID, 10)})
	if err != nil || len(events) != 1 || !strings.Contains(string(events[0].Before), `"Referrals"`) ||
		!strings.Contains(string(events[0].After), `"Referrals accepted"`) {
		t.Fatalf("audit: %v %+v", err, events)
	}

	t.Run("ErrStaleRevisionInGo", func(t *testing.T) {
		stale, err := correction(first.ID).Validate(ind.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.CorrectIndicator(ctx, officer, stale)
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(fieldNames(err), "supersedes:") {
			t.Fatalf("a correction of a replaced revision: %v", err)
		}
	})
	t.Run("ErrAppendOnlyInSQL", func(t *testing.T) {
		// The application role may not, and even the owner is stopped by the trigger.
		for _, q := range []string{`UPDATE indicator_revisions SET baseline_value = 99 WHERE id = ?`, `DELETE FROM indicator_revisions WHERE id = ?`,
			`UPDATE indicators SET baseline_value = 99 WHERE id = ?`} {
			if err := raw(st, q, first.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("%s as the application: %v", q, err)
			}
		}
		refusedBy(t, asOwner(t, `UPDATE indicator_revisions SET baseline_value = 99 WHERE id = ?`, first.ID), "indicator_revisions_append_only")
		refusedBy(t, asOwner(t, `DELETE FROM indicator_revisions WHERE id = ?`, first.ID), "indicator_revisions_append_only")
		refusedBy(t, asOwner(t, `TRUNCATE indicator_revisions`), "indicator_revisions_append_only")
	})
	t.Run("ErrChainInSQL", func(t *testing.T) {
		// A second correction of revision 1, and a revision that skips a number.
		refusedBy(t, raw(st, `INSERT INTO indicator_revisions (indicator_id, revision, supersedes_id, name, unit, direction, reason)
			VALUES (?, 2, ?, 'Again', 'count', 'higher_is_better', 'again')`, ind.ID, first.ID), "indicator_revisions_one_per_number")
		refusedBy(t, raw(st, `INSERT INTO indicator_revisions (indicator_id, revision, supersedes_id, name, unit, direction, reason)
			VALUES (?, 4, ?, 'Skip', 'count', 'higher_is_better', 'skip')`, ind.ID, r.ID), "indicator_revisions_chain")
		refusedBy(t, raw(st, `INSERT INTO indicator_revisions (indicator_id, revision, supersedes_id, name, unit, direction, baseline_value, baseline_on, reason)
			VALUES (?, 3, ?, 'Unsourced', 'count', 'higher_is_better', 5, '2024-04-01', 'why')`, ind.ID, r.ID), "indicator_revisions_baseline_sourced")
		refusedBy(t, raw(st, `INSERT INTO indicator_revisions (indicator_id, revision, supersedes_id, name, unit, direction)
			VALUES (?, 3, ?, 'No reason', 'count', 'higher_is_better')`, ind.ID, r.ID), "indicator_revisions_reason")
		if got, _ := st.Indicator(ctx, ind.ID); got.Name != "Referrals accepted" {
			t.Fatalf("a refused revision changed the indicator to %q", got.Name)
		}
	})
}

// fieldNames lists an error's fields with their messages, "field: message; …".
func fieldNames(err error) string {
	var out string
	if e, ok := err.(*models.Error); ok {
		for _, f := range e.Fields {
			out += f.Field + ": " + f.Message + "; "
		}
	}
	return out
}
