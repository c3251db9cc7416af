package models

import "strings"

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
// funding_line_status_guard holds the same table.
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

// Next returns the statuses s may move to.
func (s FundingLineStatus) Next() []FundingLineStatus { return nextStatuses[s] }

// CanTransitionTo reports whether s may move to t.
func (s FundingLineStatus) CanTransitionTo(t FundingLineStatus) bool {
	for _, n := range nextStatuses[s] {
		if n == t {
			return true
		}
	}
	return false
}

// CheckTransition returns nil when from may move to to, or an EINVALID error
// naming both and the legal next statuses.
func CheckTransition(from, to FundingLineStatus) error {
	if from.CanTransitionTo(to) {
		return nil
	}
	next := from.Next()
	if len(next) == 0 {
		return &Error{Code: EINVALID, Message: "A " + string(from) + " funding line cannot change status.",
			Fields: []FieldError{{Field: "status", Message: "a " + string(from) + " funding line cannot change status"}}}
	}
	names := make([]string, len(next))
	for i, n := range next {
		names[i] = string(n)
	}
	msg := "cannot change from " + string(from) + " to " + string(to) + "; it can become " + strings.Join(names, " or ")
	return &Error{Code: EINVALID, Message: "A funding line " + msg + ".", Fields: []FieldError{{Field: "status", Message: msg}}}
}

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
	RoleAdmin          Role = "admin"
	RoleFinanceOfficer Role = "finance_officer"
	RoleBoardMember    Role = "board_member"
	RoleAuditor        Role = "auditor"
)

// AllRoles returns every role.
func AllRoles() []Role {
	return []Role{RoleAdmin, RoleFinanceOfficer, RoleBoardMember, RoleAuditor}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleFinanceOfficer, RoleBoardMember, RoleAuditor:
		return true
	}
	return false
}
