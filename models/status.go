package models

import (
	"slices"
	"strings"
)

// FundingLineStatus is where a funding line is in its life.
type FundingLineStatus string

// Funding line statuses: draft → approved → active → closed, or cancelled
// from any status before closed.
const (
	StatusDraft     FundingLineStatus = "draft"
	StatusApproved  FundingLineStatus = "approved"
	StatusActive    FundingLineStatus = "active"
	StatusClosed    FundingLineStatus = "closed"
	StatusCancelled FundingLineStatus = "cancelled"
)

// nextStatuses lists the legal transitions; the database trigger
// funding_line_status_guard holds the same table, so change both together.
var nextStatuses = map[FundingLineStatus][]FundingLineStatus{
	StatusDraft:    {StatusApproved, StatusCancelled},
	StatusApproved: {StatusActive, StatusCancelled},
	StatusActive:   {StatusClosed, StatusCancelled},
}

// AllFundingLineStatuses returns every status in life-cycle order.
func AllFundingLineStatuses() []FundingLineStatus {
	return []FundingLineStatus{StatusDraft, StatusApproved, StatusActive, StatusClosed, StatusCancelled}
}

// Valid reports whether s is a known status.
func (s FundingLineStatus) Valid() bool {
	switch s {
	case StatusDraft, StatusApproved, StatusActive, StatusClosed, StatusCancelled:
		return true
	}
	return false
}

// Next returns the statuses s may move to, in life-cycle order; none for a
// final or unknown status. The slice is the caller's own.
func (s FundingLineStatus) Next() []FundingLineStatus { return slices.Clone(nextStatuses[s]) }

// CanTransitionTo reports whether s may move to t. Staying put is not a
// transition.
func (s FundingLineStatus) CanTransitionTo(t FundingLineStatus) bool {
	return slices.Contains(nextStatuses[s], t)
}

func joinStatuses(ss []FundingLineStatus, last string) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + last + " " + names[len(names)-1]
}

// CheckTransition returns nil when from may move to to, or an EINVALID error
// on the status field naming both statuses and what from may become instead.
func CheckTransition(from, to FundingLineStatus) error {
	if from.CanTransitionTo(to) {
		return nil
	}
	var msg string
	switch {
	case !from.Valid():
		msg = "cannot change from " + quoteStatus(from) + ", which is not a funding line status"
	case !to.Valid():
		msg = "cannot change from " + string(from) + " to " + quoteStatus(to) + ", which is not a status; it must be one of " +
			joinStatuses(AllFundingLineStatuses(), "or")
	case len(from.Next()) == 0:
		msg = "cannot change from " + string(from) + " to " + string(to) + ": " + string(from) + " is final"
	default:
		msg = "cannot change from " + string(from) + " to " + string(to) + "; from " + string(from) +
			" it can only become " + joinStatuses(from.Next(), "or")
	}
	return &Error{Code: EINVALID, Message: "A funding line " + msg + ".", Fields: []FieldError{{Field: "status", Message: msg}}}
}

// quoteStatus shows an unknown status in quotes, so an empty one is visible.
func quoteStatus(s FundingLineStatus) string { return `"` + string(s) + `"` }

// FundingLineKind says what sort of funding a line is.
type FundingLineKind string

// Funding line kinds.
const (
	KindGrant      FundingLineKind = "grant"
	KindContract   FundingLineKind = "contract"
	KindAllocation FundingLineKind = "allocation"
)

// Valid reports whether k is a known kind.
func (k FundingLineKind) Valid() bool {
	return k == KindGrant || k == KindContract || k == KindAllocation
}

// Role decides what a user may do.
type Role string

// Roles.
const (
	// RoleAdmin manages accounts and the scheme of delegation, and takes no
	// money decision: managing accounts and approving money are separate
	// duties, so no one person can make an approver and approve.
	RoleAdmin          Role = "admin"
	RoleFinanceOfficer Role = "finance_officer"
	// RoleFinanceManager approves money decisions above the finance
	// officers' limits (the authority admins held before).
	RoleFinanceManager Role = "finance_manager"
	RoleBoardMember    Role = "board_member"
	RoleAuditor        Role = "auditor"
)

// AllRoles returns every role.
func AllRoles() []Role {
	return []Role{RoleAdmin, RoleFinanceOfficer, RoleFinanceManager, RoleBoardMember, RoleAuditor}
}

// RolesInWords lists every role for a message: "admin, …, board_member or
// auditor".
func RolesInWords() string {
	rs := AllRoles()
	words := make([]string, len(rs))
	for i, r := range rs {
		words[i] = string(r)
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return slices.Contains(AllRoles(), r)
}

// HoldsMoneyAuthority reports whether the role approves money decisions in
// the default scheme of delegation, so that granting it to an account is
// itself a two-person decision.
func (r Role) HoldsMoneyAuthority() bool {
	return r == RoleFinanceOfficer || r == RoleFinanceManager
}
