package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// CheckDecisionAuthority returns nil when the user deciderID may approve a
// decision of this kind and amount proposed by proposerID, reading the
// scheme of delegation from db (the pool or the caller's transaction). It is
// the Go side of the database's assert_decision_authority and refuses for the
// same reasons, as an EFORBIDDEN error wrapping models.ErrFourEyes (the
// decider proposed it), models.ErrRoleAuthority (unknown or inactive decider,
// or a role with no rule for the kind) or models.ErrAmountAuthority (above
// the role's limit); EINVALID for a kind the scheme does not know.
func (s *Store) CheckDecisionAuthority(ctx context.Context, db bun.IDB, kind models.DecisionKind, amount decimal.Decimal, deciderID, proposerID int64) error {
	if db == nil {
		db = s.db
	}
	var row struct {
		KindKnown bool
		Email     sql.NullString
		Role      sql.NullString
		Active    sql.NullBool
		HasRule   bool
		MaxAmount *decimal.Decimal
	}
	err := db.NewRaw(`SELECT
			EXISTS (SELECT 1 FROM delegation_kinds WHERE decision_kind = ?0) AS kind_known,
			u.email, u.role, u.active,
			r.decision_kind IS NOT NULL AS has_rule, r.max_amount
		FROM (SELECT 1) AS one
		LEFT JOIN users u ON u.id = ?1
		LEFT JOIN delegation_rules r ON r.decision_kind = ?0 AND r.role = u.role`, string(kind), deciderID).Scan(ctx, &row)
	if err != nil {
		return translate(err)
	}
	if !row.KindKnown {
		return models.Errorf(models.EINVALID, "The scheme of delegation has no kind of decision %q.", kind)
	}
	if deciderID == proposerID {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrFourEyes,
			Message: "You proposed this " + kindWords(kind) + " decision, so someone else must approve it."}
	}
	if !row.Email.Valid || !row.Active.Bool {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrRoleAuthority,
			Message: "Only an active user can approve a " + kindWords(kind) + " decision."}
	}
	if !row.HasRule {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrRoleAuthority,
			Message: "The scheme of delegation does not let the " + row.Role.String + " role approve a " + kindWords(kind) + " decision."}
	}
	rule := models.DelegationRule{DecisionKind: kind, Role: models.Role(row.Role.String), MaxAmount: row.MaxAmount}
	if !rule.Allows(amount) {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrAmountAuthority,
			Message: "The scheme of delegation lets the " + row.Role.String + " role approve a " + kindWords(kind) +
				" decision up to " + models.Pounds(*rule.MaxAmount) + "; this one is " + models.Pounds(amount.Abs()) + "."}
	}
	return nil
}

// CheckDecisionCitation returns nil unless a decision of this kind and amount
// is above the scheme's citation threshold for the kind and recordID is nil;
// then it is an EINVALID error on decision_record_id wrapping
// models.ErrCitationRequired. It is the Go side of assert_decision_citation.
func (s *Store) CheckDecisionCitation(ctx context.Context, db bun.IDB, kind models.DecisionKind, amount decimal.Decimal, recordID *int64) error {
	if db == nil {
		db = s.db
	}
	k := new(models.DelegationKind)
	if err := db.NewSelect().Model(k).Where("decision_kind = ?", kind).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return models.Errorf(models.EINVALID, "The scheme of delegation has no kind of decision %q.", kind)
		}
		return translate(err)
	}
	if recordID != nil || k.CitationRequiredAbove == nil || amount.Abs().LessThanOrEqual(*k.CitationRequiredAbove) {
		return nil
	}
	msg := "a " + kindWords(kind) + " decision above " + models.Pounds(*k.CitationRequiredAbove) +
		" must cite the decision record that authorised it"
	return &models.Error{Code: models.EINVALID, Err: models.ErrCitationRequired, Message: upperFirst(msg) + ".",
		Fields: []models.FieldError{{Field: "decision_record_id", Message: msg}}}
}

// kindWords is a decision kind as words in a sentence ("line approval").
func kindWords(k models.DecisionKind) string {
	b := []byte(k)
	for i, c := range b {
		if c == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}

// DelegationScheme returns the scheme of delegation: every kind of decision
// with its citation threshold, and every rule, by kind then role.
func (s *Store) DelegationScheme(ctx context.Context) ([]*models.DelegationKind, []*models.DelegationRule, error) {
	var kinds []*models.DelegationKind
	if err := s.db.NewSelect().Model(&kinds).Order("decision_kind").Scan(ctx); err != nil {
		return nil, nil, translate(err)
	}
	var rules []*models.DelegationRule
	if err := s.db.NewSelect().Model(&rules).Order("decision_kind", "role").Scan(ctx); err != nil {
		return nil, nil, translate(err)
	}
	return kinds, rules, nil
}
