package app

import (
	"context"
	"errors"
	"time"

	"granttrack/app/store"
)

// VerifyInBackground checks the audit chain and the ledger until ctx ends:
// every cfg.VerifyEvery from the checkpoint, and in full when the last full
// run (by any node) is older than cfg.FullVerifyEvery. Every node runs it;
// the runs live in PostgreSQL, so a full run is done once for all of them
// and a node that finds another verifying skips its turn.
func (a *App) VerifyInBackground(ctx context.Context) {
	if a.Config.VerifyEvery <= 0 {
		return
	}
	trigger := store.TriggerStartup
	for {
		a.verifyOnce(ctx, trigger)
		trigger = store.TriggerSchedule
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.Config.VerifyEvery):
		}
	}
}

func (a *App) verifyOnce(ctx context.Context, trigger string) {
	last, err := a.Store.LastVerification(ctx)
	if err != nil {
		a.Log.Warn("audit verification: cannot read the last run", "err", err)
		return
	}
	scope := verificationScope(last, a.Store.Clock().Now(), a.Config.FullVerifyEvery)
	run, err := a.Store.Verify(ctx, scope, trigger, nil)
	switch {
	case errors.Is(err, store.ErrVerificationBusy), ctx.Err() != nil:
	case err != nil:
		a.Log.Warn("audit verification did not run", "scope", scope, "err", err)
	case !run.OK():
		a.Log.Error("audit verification FAILED: the audit trail or the ledger was altered; see /audit", "scope", scope, "run", run.ID,
			"chain_ok", run.ChainOK, "broken_seq", run.BrokenSeq, "reason", run.ChainReason, "ledger_findings", run.LedgerFindings)
	default:
		a.Log.Debug("audit verification OK", "scope", scope, "run", run.ID, "events", run.Events, "entries", run.Entries, "head_seq", run.HeadSeq)
	}
	// Every statement that changes spend appends to the monthly totals;
	// folding them here keeps the dashboard's chart a few rows a month.
	if removed, err := a.Store.CompactMonthTotals(ctx); err != nil && ctx.Err() == nil {
		a.Log.Warn("monthly totals: cannot compact", "err", err)
	} else if removed > 0 {
		a.Log.Debug("monthly totals compacted", "rows_removed", removed)
	}
	// Every statement that moves a line's money names the line for the
	// processes that keep money between reports; those names are needed
	// only until every process has read past them. Pruned as seldom as
	// full runs, since each prune makes every process read all of its
	// kept money again once.
	if scope != store.VerifyFull {
		return
	}
	if removed, err := a.Store.PruneLineMoneyChanges(ctx); err != nil && ctx.Err() == nil {
		a.Log.Warn("lines' money changes: cannot prune", "err", err)
	} else if removed > 0 {
		a.Log.Debug("lines' money changes pruned", "rows_removed", removed)
	}
}

// verificationScope is full when there has been no full run, or the last
// one finished fullEvery or more ago; otherwise incremental.
func verificationScope(last store.VerificationStatus, now time.Time, fullEvery time.Duration) string {
	if last.Full == nil || now.Sub(last.Full.FinishedAt) >= fullEvery {
		return store.VerifyFull
	}
	return store.VerifyIncremental
}
