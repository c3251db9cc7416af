package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// checkBudgetChangeAuthority refuses (EFORBIDDEN) a decider the scheme of
// delegation does not let approve the change: its kind (a re-profiling, a
// virement within a programme, or across programmes, which needs the
// higher authority) weighed by the money it moves. It also refuses
// (EINVALID on decision_record_id) a change above its kind's threshold that
// cites no decision record. The database asks the same of
// assert_decision_authority and assert_decision_citation on approval.
func (s *Store) checkBudgetChangeAuthority(ctx context.Context, db bun.IDB, actor models.Actor, bc *models.BudgetChange, e *BudgetEffect) error {
	kind := e.DecisionKind(bc.Kind)
	if err := s.CheckDecisionAuthority(ctx, db, kind, bc.Amount(), actor.UserID, bc.ProposedBy); err != nil {
		return err
	}
	return s.CheckDecisionCitation(ctx, db, kind, bc.Amount(), bc.DecisionRecordID)
}
