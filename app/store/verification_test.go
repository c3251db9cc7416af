package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/store"
	"granttrack/models"
)

// TestVerificationFromCheckpoint shows what each scope of background
// verification sees: an incremental run checks only what came after the
// last passing run, so a change made behind it goes unseen until the next
// full run, which finds it; a change after the checkpoint is found at once.
func TestVerificationFromCheckpoint(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	first := record(t, st, maker, fl, "10.00")

	if v, err := st.LastVerification(ctx); err != nil || v.Full != nil || v.OK() {
		t.Fatalf("before any run: %+v %v; want nothing known and not OK", v, err)
	}
	full, err := st.Verify(ctx, store.VerifyFull, store.TriggerStartup, nil)
	if err != nil || !full.OK() || full.FromSeq != 0 || full.Entries != 1 || full.ToEntryID != first.ID {
		t.Fatalf("first full run: %+v %v", full, err)
	}
	var events int64
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events").Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	if full.Events != events || full.HeadSeq != events {
		t.Fatalf("full run read %d events up to %d; the chain has %d", full.Events, full.HeadSeq, events)
	}

	// New work after the checkpoint: the incremental run reads only it.
	second := record(t, st, maker, fl, "20.00")
	inc, err := st.Verify(ctx, store.VerifyIncremental, store.TriggerSchedule, nil)
	if err != nil || !inc.OK() || inc.FromSeq != full.HeadSeq || inc.Events == 0 || inc.Events >= events ||
		inc.FromEntryID != first.ID || inc.Entries != 1 || inc.ToEntryID != second.ID {
		t.Fatalf("incremental run after one new entry: %+v %v (full run: %+v)", inc, err, full)
	}

	// A change behind the checkpoint: an old event and an old entry.
	tamper(t, st, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 1")
	tamper(t, st, "UPDATE spend_entries SET amount = 11.00 WHERE id = ?", first.ID)
	third := record(t, st, maker, fl, "30.00")
	inc, err = st.Verify(ctx, store.VerifyIncremental, store.TriggerSchedule, nil)
	if err != nil || !inc.OK() || inc.Entries != 1 {
		t.Fatalf("an incremental run cannot see behind its checkpoint, and should pass: %+v %v", inc, err)
	}
	if v, err := st.LastVerification(ctx); err != nil || !v.OK() || v.Incremental == nil || v.Incremental.ID != inc.ID {
		t.Fatalf("status after the incremental run: %+v %v", v, err)
	}
	full, err = st.Verify(ctx, store.VerifyFull, store.TriggerDemand, &maker.UserID)
	if err != nil || full.OK() || full.ChainOK || full.BrokenSeq == nil || *full.BrokenSeq != 1 ||
		!strings.Contains(full.ChainReason, "altered") {
		t.Fatalf("the next full run must find the altered first event: %+v %v", full, err)
	}
	// The entry was altered behind the rollups' triggers too, so neither
	// the yearly rollup of its line and year nor its month's total matches
	// it any longer.
	if full.LedgerOK || full.LedgerFindings != 3 || full.Findings[0].EntryID != first.ID || full.Findings[1].FundingLineID != fl.ID ||
		!strings.Contains(full.Findings[2].Problem, "monthly totals for") {
		t.Fatalf("the next full run must find the altered first entry, its line's rollup and its month's total: %+v", full)
	}
	v, err := st.LastVerification(ctx)
	if err != nil || v.OK() || v.Full.ID != full.ID || v.Incremental != nil || *v.Full.RequestedBy != maker.UserID {
		t.Fatalf("status after the failing full run: %+v %v", v, err)
	}

	// An entry altered after the checkpoint is found by the next
	// incremental run, and a failing run leaves the checkpoint where it
	// was, so the broken stretch stays in every later run's sight.
	fourth := record(t, st, maker, fl, "40.00")
	tamper(t, st, "UPDATE spend_entries SET amount = 41.00 WHERE id = ?", fourth.ID)
	inc, err = st.Verify(ctx, store.VerifyIncremental, store.TriggerSchedule, nil)
	if err != nil || inc.OK() || inc.LedgerOK || inc.FromEntryID != third.ID || len(inc.Findings) != 1 || inc.Findings[0].EntryID != fourth.ID {
		t.Fatalf("an entry altered after the checkpoint is found by the next incremental run: %+v %v", inc, err)
	}
	again, err := st.Verify(ctx, store.VerifyIncremental, store.TriggerSchedule, nil)
	if err != nil || again.OK() || again.FromEntryID != inc.FromEntryID || again.FromSeq != inc.FromSeq {
		t.Fatalf("a failing incremental run must not move the checkpoint: %+v then %+v %v", inc, again, err)
	}
}

// TestVerificationRunsAreKeptAsTheyWere: the application role adds runs
// and moves the checkpoint forward, and can neither rewrite nor remove a
// run, nor invent an unchecked run that the table's rules forbid.
func TestVerificationRunsAreKeptAsTheyWere(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	if _, err := st.Verify(ctx, store.VerifyFull, store.TriggerDemand, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, sql, code string }{
		{"ErrRunRewritten", "UPDATE verification_runs SET chain_ok = true, broken_seq = NULL", "42501"},
		{"ErrRunDeleted", "DELETE FROM verification_runs", "42501"},
		{"ErrCheckpointRemoved", "DELETE FROM verification_checkpoint", "42501"},
		{"ErrOKWithFindings", `INSERT INTO verification_runs (scope, trigger, started_at, finished_at, from_seq, head_seq, events, chain_ok,
			from_entry_id, to_entry_id, entries, ledger_ok, ledger_findings) VALUES ('full', 'demand', now(), now(), 0, 0, 0, true, 0, 0, 0, true, 3)`, "23514"},
		{"ErrIncrementalCalledFull", `INSERT INTO verification_runs (scope, trigger, started_at, finished_at, from_seq, head_seq, events, chain_ok,
			from_entry_id, to_entry_id, entries, ledger_ok, ledger_findings) VALUES ('full', 'demand', now(), now(), 5, 9, 4, true, 0, 0, 0, true, 0)`, "23514"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := raw(st, c.sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != c.code {
				t.Fatalf("err = %v, want SQLSTATE %s", err, c.code)
			}
		})
	}
}
