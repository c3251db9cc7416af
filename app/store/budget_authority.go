package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// checkBudgetChangeAuthority refuses (EFORBIDDEN) a decider whose role may
// not decide the change: finance officers and admins decide re-profiling and
// virements within a programme; a virement across programmes needs an
// admin.
func (s *Store) checkBudgetChangeAuthority(_ context.Context, _ bun.IDB, actor models.Actor, bc *models.BudgetChange, e *BudgetEffect) error {
	if actor.Role != models.RoleAdmin && actor.Role != models.RoleFinanceOfficer {
		return models.Errorf(models.EFORBIDDEN, "Your role (%s) may not decide budget changes.", actor.Role)
	}
	if bc.Kind == models.Virement && e.AcrossProgrammes && actor.Role != models.RoleAdmin {
		return models.Errorf(models.EFORBIDDEN, "Budget change %d is a virement across programmes, which needs an admin's approval.", bc.ID)
	}
	return nil
}
