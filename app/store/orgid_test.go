package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestAwardNeedsRecipientOrgID: an organisation receives no award until it
// has an org-id, and an awarded one keeps it; Go says so by field, and the
// database's awards_recipient_org_id refuses the same through raw SQL as
// the application role.
func TestAwardNeedsRecipientOrgID(t *testing.T) {
	ctx := context.Background()
	st := MustStore(t)
	fl := line(t, st, "1000.00")
	o := &models.Organisation{Name: unique("No id yet "), IsRecipient: true}
	if err := st.CreateOrganisation(ctx, actor, o); err != nil {
		t.Fatal(err)
	}
	award := func() *models.Award {
		a, err := models.AwardInput{RecipientID: o.ID, Reference: unique("ORGID-"), Amount: "100.00", AwardedOn: "2024-04-01",
			StartsOn: "2024-04-01", EndsOn: "2024-06-30", Purpose: "Mentoring"}.Validate(fl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	proposer := person(t, st, models.RoleFinanceOfficer)
	err := st.CreateAward(ctx, proposer, award())
	if models.ErrorCode(err) != models.EINVALID || !strings.Contains(fieldMessage(err, "recipient_id"), "has no org-id") {
		t.Fatalf("Go should refuse an award to an organisation without an org-id, naming recipient_id: %v", err)
	}
	insert := fmt.Sprintf(`INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, proposed_by)
		VALUES (%d, %d, '%s', 100.00, '2024-04-01', '2024-04-01', '2024-05-01', %d)`, fl.ID, o.ID, unique("R"), proposer.UserID)
	wantConstraint(t, raw(st, insert), "awards_recipient_org_id")

	o.OrgID = storetest.OrgID()
	if err := st.UpdateOrganisation(ctx, actor, o.ID, o); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Award(ctx, st, award()); err != nil {
		t.Fatalf("with its org-id it may be awarded: %v", err)
	}
	o.OrgID = nil
	if err := st.UpdateOrganisation(ctx, actor, o.ID, o); models.ErrorCode(err) != models.EINVALID || fieldMessage(err, "org_id") == "" {
		t.Fatalf("an awarded organisation keeps its org-id: %v", err)
	}
	wantConstraint(t, raw(st, "UPDATE organisations SET org_id = NULL WHERE id = ?", o.ID), "awards_recipient_org_id")
	// An organisation with no awards may still lose its org-id.
	other := &models.Organisation{Name: unique("Unawarded "), OrgID: storetest.OrgID(), IsRecipient: true}
	if err := st.CreateOrganisation(ctx, actor, other); err != nil {
		t.Fatal(err)
	}
	if err := raw(st, "UPDATE organisations SET org_id = NULL WHERE id = ?", other.ID); err != nil {
		t.Fatalf("no awards, no rule: %v", err)
	}
}

// fieldMessage is what err says about field, or "".
func fieldMessage(err error, field string) string {
	var e *models.Error
	if !errors.As(err, &e) {
		return ""
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

func wantConstraint(t *testing.T, err error, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != constraint {
		t.Fatalf("err = %v, want the database's %s", err, constraint)
	}
}
