package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

var seq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

var actor = models.SystemActor("test")

func MustStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// FreshStore opens a database of the test's own, for checks over the whole
// ledger that other tests' data would upset.
func FreshStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// line makes an active funding line with the budget and returns it.
func line(t *testing.T, st *store.Store, budget string) *models.FundingLine {
	t.Helper()
	return storetest.ActiveLine(t, st, storetest.LineSpec{Code: unique("L"), PayeeName: unique("Org "), Budget: budget,
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"}).FundingLine
}

// raw runs SQL as a stray session would, bypassing Go.
func raw(st *store.Store, query string, args ...any) error {
	_, err := st.DB().NewRaw(query, args...).Exec(context.Background())
	return err
}

// asOwner runs SQL as the schema's owner, who holds every privilege on
// every table, in a transaction it rolls back: what only a trigger can stop
// is stopped even for the owner, and nothing is left changed if it is not.
func asOwner(t *testing.T, query string, args ...any) error {
	t.Helper()
	owner, err := store.Open(context.Background(), pgtest.OwnerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	tx, err := owner.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // always rolled back
	_, err = tx.NewRaw(query, args...).Exec(context.Background())
	return err
}

// tamper runs SQL with the spend ledger's and the audit trail's triggers
// switched off, as someone holding the schema owner's credentials could
// (the application role cannot: see migrations' TestAppRoleIsRefused).
func tamper(t *testing.T, st *store.Store, query string, args ...any) {
	t.Helper()
	pgtest.Tamper(t, st, []string{"spend_entries", "audit_events"}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(query, args...).Exec(ctx)
		return err
	})
}

func TestDatabaseRefusesWhatGoRefuses(t *testing.T) {
	st := MustStore(t)
	fl := line(t, st, "100.00")
	var recipient int64 = fl.FunderID
	proposer := person(t, st, models.RoleFinanceOfficer).UserID
	tests := []struct {
		name, sql, want string
	}{
		{"ErrAwardOverBudget", fmt.Sprintf(`INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, proposed_by)
			VALUES (%d, %d, '%s', 100.01, '2024-04-01', '2024-04-01', '2024-05-01', %d)`, fl.ID, recipient, unique("R"), proposer), "awards_within_budget"},
		{"ErrTranchesDoNotAddUp", fmt.Sprintf(`WITH a AS (INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, proposed_by)
			VALUES (%d, %d, '%s', 50.00, '2024-04-01', '2024-04-01', '2024-05-01', %d) RETURNING id)
			INSERT INTO tranches (award_id, seq, due_on, amount) SELECT id, 1, '2024-04-01', 49.99 FROM a`, fl.ID, recipient, unique("R"), proposer), "tranches_sum_to_award"},
		{"ErrIllegalStatus", fmt.Sprintf(`UPDATE funding_lines SET status = 'draft' WHERE id = %d`, fl.ID), "funding_lines_status_transition"},
		{"ErrNaNBudget", fmt.Sprintf(`UPDATE funding_lines SET budget = 'NaN' WHERE id = %d`, fl.ID), "funding_lines_budget_check"},
		{"ErrInfiniteBudget", fmt.Sprintf(`UPDATE funding_lines SET budget = 'Infinity' WHERE id = %d`, fl.ID), ""},
		{"ErrNaNAward", fmt.Sprintf(`INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, proposed_by)
			VALUES (%d, %d, '%s', 'NaN', '2024-04-01', '2024-04-01', '2024-05-01', %d)`, fl.ID, recipient, unique("R"), proposer), "awards_amount_check"},
		{"ErrAuditUpdate", `UPDATE audit_events SET actor = 'someone else'`, "append-only"},
		{"ErrAuditDelete", `DELETE FROM audit_events`, "append-only"},
		{"ErrAuditTruncate", `TRUNCATE audit_events`, "append-only"},
	}
	for _, tc := range tests {
		if tc.sql == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			err := raw(st, tc.sql)
			if err == nil {
				t.Fatal("the database accepted it")
			}
			var pgErr *pgconn.PgError
			if tc.want != "" && (!errors.As(err, &pgErr) || !strings.Contains(pgErr.ConstraintName+" "+pgErr.Message, tc.want)) {
				// The application role may not touch the audit trail at
				// all; the trigger is for the owner, tried below.
				if !strings.HasPrefix(tc.name, "ErrAudit") || pgErr == nil || pgErr.Code != "42501" {
					t.Fatalf("err = %v, want constraint %q", err, tc.want)
				}
			}
			if !strings.HasPrefix(tc.name, "ErrAudit") {
				return
			}
			if err := asOwner(t, tc.sql); !errors.As(err, &pgErr) || !strings.Contains(pgErr.ConstraintName+" "+pgErr.Message, tc.want) {
				t.Fatalf("as the owner: err = %v, want constraint %q", err, tc.want)
			}
		})
	}
}

func TestAwardInGoNamesTheShortfall(t *testing.T) {
	st := MustStore(t)
	fl := line(t, st, "1000.00")
	a, err := models.AwardInput{RecipientID: fl.FunderID, Reference: unique("A"), Amount: "1200.50",
		AwardedOn: "2024-04-01", StartsOn: "2024-04-01", EndsOn: "2024-06-30"}.Validate(fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateAward(context.Background(), actor, a)
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "200.50 over") {
		t.Fatalf("err = %v", err)
	}
	// The budget cannot drop below what is awarded.
	a.Amount, a.Tranches = decimal.RequireFromString("600.00"), []*models.Tranche{{Seq: 1, DueOn: a.StartsOn, Amount: decimal.RequireFromString("600.00")}}
	if err := storetest.Award(context.Background(), st, a); err != nil {
		t.Fatal(err)
	}
	fl.Budget = decimal.RequireFromString("599.99")
	err = st.UpdateFundingLine(context.Background(), actor, fl.ID, fl)
	if models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("err = %v", err)
	}
	totals, err := st.LineTotals(context.Background(), fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := totals[fl.ID]; got.Budget.String() != "1000" || got.Committed.String() != "600" {
		t.Fatalf("totals = %+v", got)
	}
}

// TestAuditChain checks that every change was audited, that the chain
// verifies, and that verify catches an altered, a deleted, a reordered and a
// truncated event; each tamper is undone before the next.
func TestAuditChain(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	line(t, st, "10.00")
	st0, err := st.VerifyAuditChain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st0.OK || st0.Count < 5 || st0.HeadSeq != st0.Count || len(st0.HeadHash) != 64 {
		t.Fatalf("status = %+v", st0)
	}
	var actions []string
	if err := st.DB().NewRaw("SELECT action FROM audit_events ORDER BY seq").Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"programme.create", "organisation.create", "funding_line.create", "funding_line.status"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("no %s event in %v", want, actions)
		}
	}
	type event struct {
		Seq                                        int64
		ActorID                                    *int64
		OccurredAt                                 string
		Actor, Action, Entity, EntityID, RequestID string
		Before, After                              *string
		PrevHash, Hash                             []byte
	}
	load := func(seq int64) event {
		var e event
		err := st.DB().NewRaw(`SELECT seq, actor_id, occurred_at::text, actor, action, entity, entity_id, request_id, before::text, after::text, prev_hash, hash
			FROM audit_events WHERE seq = ?`, seq).Scan(ctx, &e.Seq, &e.ActorID, &e.OccurredAt, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &e.RequestID, &e.Before, &e.After, &e.PrevHash, &e.Hash)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	restore := func(e event) {
		tamper(t, st, "DELETE FROM audit_events WHERE seq = ?", e.Seq)
		tamper(t, st, `INSERT INTO audit_events (seq, actor_id, occurred_at, actor, action, entity, entity_id, request_id, before, after, prev_hash, hash)
			VALUES (?, ?, ?::timestamptz, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
			e.Seq, e.ActorID, e.OccurredAt, e.Actor, e.Action, e.Entity, e.EntityID, e.RequestID, e.Before, e.After, e.PrevHash, e.Hash)
	}
	mustBreakAt := func(seq int64, reason string) {
		t.Helper()
		got, err := st.VerifyAuditChain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.OK || got.BrokenSeq != seq || !strings.Contains(got.Reason, reason) {
			t.Fatalf("verify = %+v, want broken at %d (%s)", got, seq, reason)
		}
	}
	mustVerify := func() {
		t.Helper()
		if got, err := st.VerifyAuditChain(ctx); err != nil || !got.OK {
			t.Fatalf("after restoring: %+v %v", got, err)
		}
	}
	second, third := load(2), load(3)

	t.Run("ErrAlteredEvent", func(t *testing.T) {
		tamper(t, st, `UPDATE audit_events SET after = jsonb_set(after, '{budget}', '"99.00"') WHERE seq = 2`)
		mustBreakAt(2, "altered")
		restore(second)
		mustVerify()
	})
	t.Run("ErrAlteredActor", func(t *testing.T) {
		tamper(t, st, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`)
		mustBreakAt(3, "altered")
		restore(third)
		mustVerify()
	})
	t.Run("ErrDeletedEvent", func(t *testing.T) {
		tamper(t, st, `DELETE FROM audit_events WHERE seq = 2`)
		mustBreakAt(3, "missing")
		restore(second)
		mustVerify()
	})
	t.Run("ErrReorderedEvents", func(t *testing.T) {
		// Swap the contents of events 2 and 3, keeping sequence numbers.
		tamper(t, st, `UPDATE audit_events SET seq = seq + 1000000 WHERE seq IN (2, 3)`)
		tamper(t, st, `UPDATE audit_events SET seq = CASE seq WHEN 1000002 THEN 3 ELSE 2 END WHERE seq IN (1000002, 1000003)`)
		mustBreakAt(2, "")
		tamper(t, st, `DELETE FROM audit_events WHERE seq IN (2, 3)`)
		restore(second)
		restore(third)
		mustVerify()
	})
	t.Run("ErrTruncatedChain", func(t *testing.T) {
		last := load(st0.HeadSeq)
		tamper(t, st, `DELETE FROM audit_events WHERE seq = ?`, last.Seq)
		mustBreakAt(last.Seq, "missing from the end")
		restore(last)
		mustVerify()
	})
}

// TestSQLTimeFormatIsGos checks that the database writes an event's time
// into its hash exactly as models.AuditEvent.ComputeHash does, including a
// whole second and a fraction with trailing zeros.
func TestSQLTimeFormatIsGos(t *testing.T) {
	st := MustStore(t)
	for _, at := range []time.Time{
		time.Date(2024, 4, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2024, 4, 1, 10, 0, 0, 100000000, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 123450000, time.UTC),
		time.Date(2025, 3, 30, 1, 30, 5, 999999000, time.FixedZone("BST", 3600)),
	} {
		var got string
		if err := st.DB().NewRaw("SELECT "+store.SQLRFC3339("t")+" FROM (SELECT CAST(? AS timestamptz) AS t) x", at).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if want := at.UTC().Format(time.RFC3339Nano); got != want {
			t.Errorf("database wrote %q, Go writes %q", got, want)
		}
	}
}
