package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
	"granttrack/models/registers"
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

// TestOrgIDRegisteredInDatabase: the database's org_id_registered refuses,
// through raw SQL as the application role, what models.NormaliseOrgID
// refuses in Go: a GB-LAE code in no register, a malformed GB-COH number.
// Each case goes through both, so the two cannot drift apart.
func TestOrgIDRegisteredInDatabase(t *testing.T) {
	ctx := context.Background()
	st := MustStore(t)
	o := &models.Organisation{Name: unique("Register check "), IsRecipient: true}
	if err := st.CreateOrganisation(ctx, actor, o); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		orgID string
		ok    bool
	}{
		{"GB-LAE-HACK", false}, {"GB-LAE-XXX", false}, {"GB-LAE-hck", false},
		{"GB-COH-1234567", false}, {"GB-COH-XX123456", false}, {"GB-COH-SC12345", false}, {"GB-COH-0123456789", false},
		{"GB-COH-sc123456", false},
		{"GB-COH-SC123456", true}, {"GB-COH-R0123456", true}, {"GB-COH-0" + fmt.Sprint(7654321), true},
		{"GB-CHC-1077810", true},
	} {
		// Go stores the canonical form (upper case, short company numbers
		// padded), so what it would store unchanged is what it accepts.
		canonical, goErr := models.NormaliseOrgID(c.orgID)
		if goOK := goErr == nil && canonical == c.orgID; goOK != c.ok {
			t.Errorf("Go on %s: %v, want ok=%v", c.orgID, goErr, c.ok)
		}
		err := raw(st, "UPDATE organisations SET org_id = ? WHERE id = ?", c.orgID, o.ID)
		if c.ok {
			if err != nil {
				t.Errorf("the database refused %s: %v", c.orgID, err)
			}
			// Free the org-id again for the next case and the next run.
			if err := raw(st, "UPDATE organisations SET org_id = NULL WHERE id = ?", o.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		wantConstraint(t, err, "org_id_registered")
		wantConstraint(t, raw(st, "INSERT INTO organisations (name, org_id) VALUES (?, ?)", unique("Stray "), c.orgID), "org_id_registered")
	}
	// Through the store, the database's refusal reads as Go's: by field.
	if err := store.Translate(raw(st, "UPDATE organisations SET org_id = 'GB-LAE-HACK' WHERE id = ?", o.ID)); models.ErrorCode(err) != models.EINVALID ||
		fieldMessage(err, "org_id") == "" {
		t.Errorf("the refusal should name org_id: %v", err)
	}
}

// TestLocalAuthorityRegisterMatchesDatabase: the database's copy of the
// local-authority-eng register holds exactly the codes shipped in Go.
func TestLocalAuthorityRegisterMatchesDatabase(t *testing.T) {
	st := MustStore(t)
	var db []string
	if err := st.DB().NewRaw("SELECT code FROM local_authority_eng ORDER BY code COLLATE \"C\"").Scan(context.Background(), &db); err != nil {
		t.Fatal(err)
	}
	goCodes := registers.LocalAuthorityEngCodes()
	if !slices.Equal(db, goCodes) {
		t.Fatalf("the database holds %d codes, Go %d; they differ: db-only %v, go-only %v", len(db), len(goCodes),
			without(db, goCodes), without(goCodes, db))
	}
	if len(db) < 350 {
		t.Fatalf("only %d codes", len(db))
	}
}

// without is what a holds that b does not.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
