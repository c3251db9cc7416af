package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

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
// or a role with no rule for the kind), models.ErrAuthorityPending (the
// decider's account grant awaits a second admin) or models.ErrAmountAuthority
// (above the role's limit); EINVALID for a kind the scheme does not know.
func (s *Store) CheckDecisionAuthority(ctx context.Context, db bun.IDB, kind models.DecisionKind, amount decimal.Decimal, deciderID, proposerID int64) error {
	if db == nil {
		db = s.db
	}
	var row struct {
		KindKnown bool
		Email     sql.NullString
		Role      sql.NullString
		Active    sql.NullBool
		Pending   bool
		HasRule   bool
		MaxAmount *decimal.Decimal
	}
	err := db.NewRaw(`SELECT
			EXISTS (SELECT 1 FROM delegation_kinds WHERE decision_kind = ?0) AS kind_known,
			u.email, u.role, u.active,
			EXISTS (SELECT 1 FROM account_grants g WHERE g.user_id = u.id AND g.status = 'pending') AS pending,
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
	if row.Pending {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrAuthorityPending,
			Message: "Your account's authority over money awaits a second admin's approval, so you cannot approve a " + kindWords(kind) + " decision yet."}
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

// SeedSpendLimit sets the finance officers' spend limit in the scheme of
// delegation to limit while the database has no users yet (a new install,
// before anyone could propose a change); the database's delegation rules
// guard allows nothing else without an approved delegation change. It
// returns whether it did and the limit the scheme now has.
func (s *Store) SeedSpendLimit(ctx context.Context, limit decimal.Decimal) (seeded bool, current *decimal.Decimal, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE delegation_rules SET max_amount = ?, updated_at = now()
			WHERE decision_kind = 'spend' AND role = 'finance_officer' AND max_amount IS DISTINCT FROM ?
			AND NOT EXISTS (SELECT 1 FROM users)`, limit, limit).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if seeded = n > 0; seeded {
			if err := s.audit(ctx, tx, models.SystemActor("GRANTTRACK_APPROVAL_LIMIT"), Change{Action: "delegation.seed", Entity: "delegation_rule",
				After: map[string]any{"decision_kind": models.DecisionSpend, "role": models.RoleFinanceOfficer, "max_amount": limit}}); err != nil {
				return err
			}
		}
		return tx.NewRaw(`SELECT max_amount FROM delegation_rules WHERE decision_kind = 'spend' AND role = 'finance_officer'`).Scan(ctx, &current)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return seeded, current, err
}

// decisionLimit is the most the scheme lets userID approve in a decision of
// this kind: nil for no limit. A user whose role has no rule gets zero.
func decisionLimit(ctx context.Context, db bun.IDB, kind models.DecisionKind, userID int64) (*decimal.Decimal, error) {
	var limit struct {
		HasRule bool
		Max     *decimal.Decimal
	}
	err := db.NewRaw(`SELECT r.decision_kind IS NOT NULL AS has_rule, r.max_amount AS max FROM users u
		LEFT JOIN delegation_rules r ON r.decision_kind = ? AND r.role = u.role WHERE u.id = ?`, string(kind), userID).Scan(ctx, &limit)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, translate(err)
	}
	if !limit.HasRule {
		none := decimal.Zero
		return &none, nil
	}
	return limit.Max, nil
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

// ProposeDelegationChange proposes a change to the scheme of delegation, by
// an admin (EFORBIDDEN otherwise): another admin decides it
// (DecideDelegationChange). EINVALID for an unknown kind or role, or
// without a reason.
func (s *Store) ProposeDelegationChange(ctx context.Context, actor models.Actor, c *models.DelegationChange) error {
	var p models.Problems
	if !c.DecisionKind.Valid() {
		p.Add("decision_kind", "must be a kind of decision in the scheme")
	}
	if !c.Role.Valid() {
		p.Add("role", "must be %s", models.RolesInWords())
	}
	if c.Reason = strings.TrimSpace(c.Reason); c.Reason == "" {
		p.Add("reason", "is required")
	}
	if c.Remove && c.MaxAmount != nil {
		p.Add("max_amount", "must be empty when the role's authority is removed")
	}
	if err := p.Err(); err != nil {
		return err
	}
	if actor.Role != models.RoleAdmin {
		return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrRoleAuthority, Message: "Only an admin proposes a change to the scheme of delegation."}
	}
	c.ID, c.Status, c.ProposedBy = 0, models.DecisionPending, actor.UserID
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(c).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "delegation_change.propose", Entity: "delegation_change", EntityID: c.ID, After: c})
	})
}

// DecideDelegationChange approves, rejects with a reason or withdraws a
// proposed change to the scheme, under decide's rules (kind
// delegation_change: another admin); an approval applies it to the scheme in
// the same transaction.
func (s *Store) DecideDelegationChange(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.DelegationChange, error) {
	var out *models.DelegationChange
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c := new(models.DelegationChange)
		if err := tx.NewSelect().Model(c).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Delegation change", id)
		}
		p := proposal{table: "delegation_changes", what: "change to the scheme of delegation", id: c.ID, kind: models.DecisionDelegationChange,
			status: c.Status, proposedBy: &c.ProposedBy}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := c.Status
		c.Status, c.DecidedBy, c.DecidedAt = to, &actor.UserID, &at
		out = c
		if to == models.DecisionApproved {
			if c.Remove {
				_, err = tx.NewRaw("DELETE FROM delegation_rules WHERE decision_kind = ? AND role = ?", c.DecisionKind, c.Role).Exec(ctx)
			} else {
				_, err = tx.NewRaw(`INSERT INTO delegation_rules (decision_kind, role, max_amount) VALUES (?, ?, ?)
					ON CONFLICT (decision_kind, role) DO UPDATE SET max_amount = EXCLUDED.max_amount, updated_at = now()`,
					c.DecisionKind, c.Role, c.MaxAmount).Exec(ctx)
			}
			if err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, Change{Action: "delegation_change." + decisionVerb(to), Entity: "delegation_change", EntityID: c.ID,
			Before: map[string]any{"status": before}, After: c})
	})
	return out, s.recordRefusal(ctx, actor, "delegation_change", "delegation_change."+decisionVerb(to), id, err)
}
