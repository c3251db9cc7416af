// Package storetest builds the fixtures tests of several packages share: an
// active funding line with its programme and funder, and finance officers
// to record and approve spend on it. It writes through the store, so every
// rule and audit event applies as in production.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	o := &models.Organisation{Name: spec.PayeeName, OrgID: OrgID(), IsFunder: true, IsRecipient: true}
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
	must(t, Activate(ctx, st, fl.ID))
	fl, err = st.FundingLine(ctx, fl.ID)
	must(t, err)
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

// Deciders makes a finance officer who proposes and a finance manager who
// approves (a finance manager may approve any amount in the default scheme
// of delegation; an admin approves no money decision),
// with emails made from tag, which must be new to the database.
func Deciders(ctx context.Context, st *store.Store, tag string) (proposer, approver models.Actor, err error) {
	for _, p := range []struct {
		who  *models.Actor
		role models.Role
	}{{&proposer, models.RoleFinanceOfficer}, {&approver, models.RoleFinanceManager}} {
		u := &models.User{Email: strings.ToLower(string(p.role)+"-"+tag) + "@storetest.example", Name: string(p.role), Role: p.role, PasswordHash: "-", Active: true}
		if err := st.CreateUser(ctx, system, u); err != nil {
			return proposer, approver, err
		}
		*p.who = models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	}
	return proposer, approver, nil
}

// Activate approves and activates a draft funding line as two people would:
// each step proposed by a finance officer and approved by a finance manager.
func Activate(ctx context.Context, st *store.Store, lineID int64) error {
	return decide(ctx, st, lineID, models.StatusApproved, models.StatusActive)
}

// Approve approves a draft funding line as two people would, leaving it
// approved but not yet active.
func Approve(ctx context.Context, st *store.Store, lineID int64) error {
	return decide(ctx, st, lineID, models.StatusApproved)
}

// decide moves a line through statuses, each proposed by a finance officer
// and approved by a finance manager.
func decide(ctx context.Context, st *store.Store, lineID int64, statuses ...models.FundingLineStatus) error {
	proposer, approver, err := Deciders(ctx, st, fmt.Sprintf("line%d-%d", lineID, seq.Add(1)))
	if err != nil {
		return err
	}
	// Lines above the scheme's threshold cite a decision record.
	r := &models.DecisionRecord{Reference: fmt.Sprintf("TEST-PCD %d-%d", lineID, seq.Add(1)), Title: "Test decision", SignedOn: time.Now().UTC(),
		DecisionMaker: "Test"}
	if err := st.CreateDecisionRecord(ctx, approver, r); err != nil {
		return err
	}
	for _, to := range statuses {
		d, err := st.ProposeLineStatus(ctx, proposer, lineID, to, "test", &r.ID)
		if err != nil {
			return err
		}
		if _, err := st.DecideLineStatus(ctx, approver, d.ID, models.DecisionApproved, ""); err != nil {
			return err
		}
	}
	return nil
}

// Award proposes the award as a finance officer and approves it as a
// finance manager.
func Award(ctx context.Context, st *store.Store, a *models.Award) error {
	proposer, approver, err := Deciders(ctx, st, fmt.Sprintf("award%d", seq.Add(1)))
	if err != nil {
		return err
	}
	if a.DecisionRecordID == nil {
		r := &models.DecisionRecord{Reference: fmt.Sprintf("TEST-AWARD %s-%d", a.Reference, seq.Add(1)), Title: "Test decision",
			SignedOn: time.Now().UTC(), DecisionMaker: "Test"}
		if err := st.CreateDecisionRecord(ctx, approver, r); err != nil {
			return err
		}
		a.DecisionRecordID = &r.ID
	}
	if err := st.CreateAward(ctx, proposer, a); err != nil {
		return err
	}
	_, err = st.DecideAward(ctx, approver, a.ID, models.DecisionApproved, "")
	return err
}

// seq keeps the fixtures' emails apart within a test binary; the time
// keeps them apart from other binaries sharing the database.
var seq atomic.Int64

func init() { seq.Store(time.Now().UnixNano() % 1_000_000_000) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var orgSeq atomic.Int64

// OrgID returns a company org-id no other call in this process returns
// (GB-COH-9 and seven digits, clear of the demo's), for organisations that
// receive awards: a recipient needs one before its first award.
func OrgID() *string {
	id := fmt.Sprintf("GB-COH-9%07d", orgSeq.Add(1))
	return &id
}
