package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// Verification scopes: a full run checks the whole chain and ledger; an
// incremental run checks only what came after the checkpoint, the last
// event and spend entry a passing run reached. An incremental run cannot
// see a change made behind it, before the checkpoint; the next full run
// does, which is why both run on a schedule.
const (
	VerifyFull        = "full"
	VerifyIncremental = "incremental"
)

// Verification triggers: why a run happened.
const (
	TriggerSchedule = "schedule"
	TriggerStartup  = "startup"
	TriggerDemand   = "demand"
)

// VerificationRun is one check of the audit chain and the ledger, kept so
// that every app node shows the same last result.
type VerificationRun struct {
	bun.BaseModel `bun:"table:verification_runs"`

	ID             int64           `bun:",pk,autoincrement" json:"id"`
	Scope          string          `bun:",notnull" json:"scope"`
	Trigger        string          `bun:",notnull" json:"trigger"`
	RequestedBy    *int64          `json:"requested_by"`
	StartedAt      time.Time       `bun:",notnull" json:"started_at"`
	FinishedAt     time.Time       `bun:",notnull" json:"finished_at"`
	FromSeq        int64           `bun:",notnull" json:"from_seq"`
	HeadSeq        int64           `bun:",notnull" json:"head_seq"`
	HeadHash       []byte          `json:"-"`
	Events         int64           `bun:",notnull" json:"events"`
	ChainOK        bool            `bun:",notnull" json:"chain_ok"`
	BrokenSeq      *int64          `json:"broken_seq"`
	ChainReason    string          `bun:",notnull" json:"chain_reason"`
	FromEntryID    int64           `bun:",notnull" json:"from_entry_id"`
	ToEntryID      int64           `bun:",notnull" json:"to_entry_id"`
	Entries        int64           `bun:",notnull" json:"entries"`
	LedgerOK       bool            `bun:",notnull" json:"ledger_ok"`
	LedgerFindings int64           `bun:",notnull" json:"ledger_findings"`
	Findings       []LedgerFinding `bun:",type:jsonb,notnull" json:"findings"`
}

// OK says whether the run found the chain and the ledger intact.
func (r *VerificationRun) OK() bool { return r.ChainOK && r.LedgerOK }

// HeadHashHex is the chain head the run reached, in hex.
func (r *VerificationRun) HeadHashHex() string { return hex.EncodeToString(r.HeadHash) }

// verificationLock keeps two nodes from verifying at once; the loser skips
// its turn, as the winner's result serves both.
const verificationLock = "SELECT pg_try_advisory_xact_lock(hashtext('verification_runs'))"

// ErrVerificationBusy says another node (or request) is verifying now.
var ErrVerificationBusy = models.Errorf(models.ECONFLICT, "A verification is already running; its result will show when it ends.")

// Verify checks the chain and the ledger, in full or from the checkpoint,
// in one snapshot, and keeps the result; a passing run moves the
// checkpoint to where it reached. by is the person who asked, if any.
func (s *Store) Verify(ctx context.Context, scope, trigger string, by *int64) (*VerificationRun, error) {
	run := &VerificationRun{Scope: scope, Trigger: trigger, RequestedBy: by, StartedAt: s.clock.Now(), Findings: []LedgerFinding{}}
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(ctx context.Context, tx bun.Tx) error {
		var locked bool
		if err := tx.NewRaw(verificationLock).Scan(ctx, &locked); err != nil {
			return err
		}
		if !locked {
			return ErrVerificationBusy
		}
		// The check reads one snapshot; the result is written after it in
		// this same transaction, which began REPEATABLE READ.
		from := chainPoint{hash: models.GenesisHash}
		if scope == VerifyIncremental {
			if err := tx.NewRaw("SELECT seq, hash, entry_id FROM verification_checkpoint WHERE id = 1").
				Scan(ctx, &from.seq, &from.hash, &run.FromEntryID); err != nil {
				return err
			}
			run.FromSeq = from.seq
		}
		var chain ChainStatus
		if err := s.checkChain(ctx, tx, from, nil, &chain); err != nil {
			return err
		}
		afterID := run.FromEntryID
		if scope == VerifyFull {
			afterID = -1
		}
		var ledger LedgerStatus
		if err := checkLedger(ctx, tx, afterID, &ledger); err != nil {
			return err
		}
		// The rollups are checked whole, so only by a full run: an
		// incremental run could not see a change to an earlier year's row.
		if scope == VerifyFull {
			if err := checkRollups(ctx, tx, &ledger); err != nil {
				return err
			}
		}
		if err := tx.NewRaw("SELECT coalesce(max(id), 0) FROM spend_entries").Scan(ctx, &run.ToEntryID); err != nil {
			return err
		}
		run.Events, run.ChainOK, run.ChainReason = chain.Count, chain.OK, chain.Reason
		run.HeadSeq = from.seq + chain.Count
		if chain.OK {
			run.HeadSeq = chain.HeadSeq
			run.HeadHash, _ = hex.DecodeString(chain.HeadHash)
		} else {
			run.BrokenSeq = &chain.BrokenSeq
			run.HeadSeq = max(chain.BrokenSeq-1, from.seq)
		}
		run.Entries, run.LedgerOK = ledger.Entries, ledger.OK
		run.LedgerFindings = int64(len(ledger.Findings)) + ledger.More
		run.Findings = append(run.Findings, ledger.Findings...)
		run.FinishedAt = s.clock.Now()
		if run.FinishedAt.Before(run.StartedAt) {
			run.FinishedAt = run.StartedAt
		}
		if _, err := tx.NewInsert().Model(run).Exec(ctx); err != nil {
			return err
		}
		if !run.OK() {
			return nil
		}
		// Only forward: a full run that passes may also be behind an
		// incremental run that finished in the meantime on another node.
		_, err := tx.NewRaw(`UPDATE verification_checkpoint SET seq = ?, hash = ?, entry_id = ?, verified_at = ?
			WHERE id = 1 AND seq <= ?`, run.HeadSeq, run.HeadHash, run.ToEntryID, run.FinishedAt, run.HeadSeq).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, translate(err)
	}
	return run, nil
}

// VerificationStatus is what the last runs found: the last full run, and
// the last incremental run if it came after it.
type VerificationStatus struct {
	Full        *VerificationRun `json:"full"`
	Incremental *VerificationRun `json:"incremental"`
}

// OK says whether every run since the last full one passed; with no full
// run yet nothing is known, and it is false.
func (v VerificationStatus) OK() bool {
	return v.Full != nil && v.Full.OK() && (v.Incremental == nil || v.Incremental.OK())
}

// Latest is the most recent run of either scope.
func (v VerificationStatus) Latest() *VerificationRun {
	if v.Incremental != nil {
		return v.Incremental
	}
	return v.Full
}

// LastVerification reads the last full run and any incremental run after it.
func (s *Store) LastVerification(ctx context.Context) (VerificationStatus, error) {
	var v VerificationStatus
	last := func(scope string, after int64) (*VerificationRun, error) {
		r := new(VerificationRun)
		err := s.db.NewSelect().Model(r).Where("scope = ? AND id > ?", scope, after).OrderExpr("id DESC").Limit(1).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return r, translate(err)
	}
	var err error
	if v.Full, err = last(VerifyFull, 0); err != nil || v.Full == nil {
		return v, err
	}
	v.Incremental, err = last(VerifyIncremental, v.Full.ID)
	return v, err
}
