package models

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// legalTransitions is the life cycle written out independently of
// nextStatuses, as the migration's trigger states it.
var legalTransitions = map[[2]FundingLineStatus]bool{
	{StatusDraft, StatusApproved}:     true,
	{StatusApproved, StatusActive}:    true,
	{StatusActive, StatusClosed}:      true,
	{StatusDraft, StatusCancelled}:    true,
	{StatusApproved, StatusCancelled}: true,
	{StatusActive, StatusCancelled}:   true,
}

func TestEveryStatusPairIsLegalOnlyIfInTheLifeCycle(t *testing.T) {
	all := AllFundingLineStatuses()
	pairs := 0
	for _, from := range all {
		for _, to := range all {
			pairs++
			want := legalTransitions[[2]FundingLineStatus{from, to}]
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				if got := from.CanTransitionTo(to); got != want {
					t.Errorf("%s.CanTransitionTo(%s) = %v, want %v", from, to, got, want)
				}
				err := CheckTransition(from, to)
				if want {
					if err != nil {
						t.Errorf("CheckTransition(%s, %s) = %v, want nil", from, to, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("CheckTransition(%s, %s) = nil, want an error", from, to)
				}
				// The message names both statuses and every legal next one.
				var e *Error
				if !errors.As(err, &e) || e.Code != EINVALID {
					t.Fatalf("CheckTransition(%s, %s) = %v, want an EINVALID *Error", from, to, err)
				}
				for _, name := range append([]FundingLineStatus{from, to}, from.Next()...) {
					if !strings.Contains(e.Message, string(name)) {
						t.Errorf("message %q does not name %s", e.Message, name)
					}
				}
				if len(e.Fields) != 1 || e.Fields[0].Field != "status" || e.Fields[0].Message == "" {
					t.Errorf("fields = %+v, want one problem on status", e.Fields)
				}
			})
		}
	}
	if pairs != 25 {
		t.Fatalf("checked %d pairs, want all 25", pairs)
	}
}

func TestCheckTransitionMessagesExplainTheWayForward(t *testing.T) {
	tests := []struct {
		from, to FundingLineStatus
		want     string // the field message, exactly
	}{
		{StatusDraft, StatusActive, "cannot change from draft to active; from draft it can only become approved or cancelled"},
		{StatusDraft, StatusDraft, "cannot change from draft to draft; from draft it can only become approved or cancelled"},
		{StatusApproved, StatusClosed, "cannot change from approved to closed; from approved it can only become active or cancelled"},
		{StatusActive, StatusDraft, "cannot change from active to draft; from active it can only become closed or cancelled"},
		{StatusClosed, StatusActive, "cannot change from closed to active: closed is final"},
		{StatusCancelled, StatusDraft, "cannot change from cancelled to draft: cancelled is final"},
		{StatusDraft, "archived", `cannot change from draft to "archived", which is not a status; it must be one of draft, approved, active, closed or cancelled`},
		{StatusDraft, "", `cannot change from draft to "", which is not a status; it must be one of draft, approved, active, closed or cancelled`},
		{"Draft", StatusApproved, `cannot change from "Draft", which is not a funding line status`},
	}
	for _, tc := range tests {
		err := CheckTransition(tc.from, tc.to)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("CheckTransition(%q, %q) = %v, want *Error", tc.from, tc.to, err)
		}
		if len(e.Fields) != 1 || e.Fields[0].Message != tc.want {
			t.Errorf("CheckTransition(%q, %q) fields = %+v, want status: %q", tc.from, tc.to, e.Fields, tc.want)
		}
		if e.Message != "A funding line "+tc.want+"." {
			t.Errorf("CheckTransition(%q, %q) message = %q", tc.from, tc.to, e.Message)
		}
	}
}

func TestUnknownStatusesCannotTransition(t *testing.T) {
	for _, s := range []FundingLineStatus{"", "Draft", "DRAFT", "archived", "open"} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
		if len(s.Next()) != 0 {
			t.Errorf("%q.Next() = %v, want none", s, s.Next())
		}
		for _, to := range AllFundingLineStatuses() {
			if s.CanTransitionTo(to) || to.CanTransitionTo(s) {
				t.Errorf("transition between %q and %s allowed", s, to)
			}
		}
	}
}

func TestAllFundingLineStatusesAreValidDistinctAndInLifeCycleOrder(t *testing.T) {
	want := []FundingLineStatus{"draft", "approved", "active", "closed", "cancelled"}
	got := AllFundingLineStatuses()
	if !slices.Equal(got, want) {
		t.Fatalf("AllFundingLineStatuses() = %v, want %v", got, want)
	}
	for _, s := range got {
		if !s.Valid() {
			t.Errorf("%s.Valid() = false", s)
		}
	}
	got[0] = "mutated"
	if AllFundingLineStatuses()[0] != StatusDraft {
		t.Error("AllFundingLineStatuses shares its slice with callers")
	}
}

func TestNextIsACopy(t *testing.T) {
	n := StatusDraft.Next()
	if !slices.Equal(n, []FundingLineStatus{StatusApproved, StatusCancelled}) {
		t.Fatalf("draft.Next() = %v", n)
	}
	n[0] = StatusClosed
	if StatusDraft.CanTransitionTo(StatusClosed) || !StatusDraft.CanTransitionTo(StatusApproved) {
		t.Error("changing Next's result changed the life cycle")
	}
	for _, final := range []FundingLineStatus{StatusClosed, StatusCancelled} {
		if len(final.Next()) != 0 {
			t.Errorf("%s.Next() = %v, want none: it is final", final, final.Next())
		}
	}
}

func TestFundingLineKindValidOnlyForKnownKinds(t *testing.T) {
	tests := []struct {
		k    FundingLineKind
		want bool
	}{
		{KindGrant, true}, {KindContract, true}, {KindAllocation, true},
		{"grant", true}, {"Grant", false}, {"", false}, {"loan", false}, {"grant ", false},
	}
	for _, tc := range tests {
		if got := tc.k.Valid(); got != tc.want {
			t.Errorf("FundingLineKind(%q).Valid() = %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestRolesMatchTheUsersTableCheck(t *testing.T) {
	// The users.role CHECK constraint (migration finance_manager).
	want := []Role{"admin", "finance_officer", "finance_manager", "board_member", "auditor"}
	if got := AllRoles(); !slices.Equal(got, want) {
		t.Fatalf("AllRoles() = %v, want %v", got, want)
	}
	for _, r := range want {
		if !r.Valid() {
			t.Errorf("Role(%q).Valid() = false", r)
		}
	}
	for _, r := range []Role{"", "Admin", "finance officer", "financeofficer", "root", "auditor "} {
		if r.Valid() {
			t.Errorf("Role(%q).Valid() = true", r)
		}
	}
}

func TestExactlySixTransitionsAreAllowed(t *testing.T) {
	allowed := map[string]bool{
		"draft->approved": true, "draft->cancelled": true,
		"approved->active": true, "approved->cancelled": true,
		"active->closed": true, "active->cancelled": true,
	}
	got := 0
	for _, from := range AllFundingLineStatuses() {
		for _, to := range AllFundingLineStatuses() {
			key := string(from) + "->" + string(to)
			err := CheckTransition(from, to)
			if allowed[key] {
				got++
				if err != nil {
					t.Errorf("%s refused: %v", key, err)
				}
				continue
			}
			if code := ErrorCode(err); code != EINVALID {
				t.Errorf("%s: ErrorCode = %q, want %q", key, code, EINVALID)
				continue
			}
			msg := ErrorMessage(err)
			if !strings.Contains(msg, "from "+string(from)+" to "+string(to)) {
				t.Errorf("%s: message %q does not name both statuses", key, msg)
			}
		}
	}
	if got != len(allowed) {
		t.Errorf("%d transitions allowed, want %d", got, len(allowed))
	}
}
