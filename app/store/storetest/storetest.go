// Package storetest builds the fixtures tests of several packages share: an
// active funding line with its programme and funder, and finance officers
// to record and approve spend on it. It writes through the store, so every
// rule and audit event applies as in production.
package storetest

import (
	"context"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

var system = models.SystemActor("test")

// Line is an active funding line with the programme and organisation (its
// funder, also a recipient) made for it.
type Line struct {
	*models.FundingLine
	Programme *models.Programme
	Payee     *models.Organisation
}

// LineSpec says what to make; the payee is named PayeeName (formula
// injections welcome).
type LineSpec struct {
	Code, PayeeName, Budget, StartsOn, EndsOn string
	// Profile, if given, replaces the proposed budget profile before the
	// line is approved: {"2023-24": "1200000.00", ...}.
	Profile map[string]string
}

// ActiveLine makes an approved, active funding line as spec says.
func ActiveLine(t testing.TB, st *store.Store, spec LineSpec) Line {
	t.Helper()
	ctx := context.Background()
	p := &models.Programme{Code: spec.Code, Name: "Programme " + spec.Code, Plan: "Plan"}
	must(t, st.CreateProgramme(ctx, system, p))
	o := &models.Organisation{Name: spec.PayeeName, IsFunder: true, IsRecipient: true}
	must(t, st.CreateOrganisation(ctx, system, o))
	fl, err := models.FundingLineInput{Code: spec.Code + "-1", Title: "Line " + spec.Code, Kind: "grant", ProgrammeID: p.ID, FunderID: o.ID,
		Budget: spec.Budget, StartsOn: spec.StartsOn, EndsOn: spec.EndsOn}.Validate()
	must(t, err)
	must(t, st.CreateFundingLine(ctx, system, fl))
	if spec.Profile != nil {
		var in models.ProfileInput
		for fy, amount := range spec.Profile {
			in.Years = append(in.Years, models.YearInput{FinancialYear: fy, Amount: amount})
		}
		years, err := in.Validate()
		must(t, err)
		_, err = st.SetDraftProfile(ctx, system, fl.ID, years)
		must(t, err)
	}
	for _, s := range []models.FundingLineStatus{models.StatusApproved, models.StatusActive} {
		_, err := st.ChangeFundingLineStatus(ctx, system, fl.ID, s)
		must(t, err)
	}
	return Line{FundingLine: fl, Programme: p, Payee: o}
}

// Officers makes a finance officer for each email: the first records, the
// others approve.
func Officers(t testing.TB, st *store.Store, emails ...string) []models.Actor {
	t.Helper()
	var out []models.Actor
	for _, e := range emails {
		u := &models.User{Email: e, Name: e, Role: models.RoleFinanceOfficer, PasswordHash: "-", Active: true}
		must(t, st.CreateUser(context.Background(), system, u))
		out = append(out, models.Actor{UserID: u.ID, Label: e, Role: u.Role})
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
