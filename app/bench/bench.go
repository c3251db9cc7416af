// Package bench measures granttrack's recording throughput: spend recorded
// through the real HTTP API at several numbers of concurrent clients, against
// the same transaction shape run straight on PostgreSQL in the same run.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"granttrack/app/auth"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// Result is one measured run.
type Result struct {
	Name     string
	Clients  int
	Requests int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// PerSecond is the throughput.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-28s clients=%-3d n=%-6d %8.0f/s  p50=%-9s p99=%s", r.Name, r.Clients, r.Requests, r.PerSecond(),
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
}

// Setup is the data a run records against.
type Setup struct {
	Lines   []int64 // many lines, or one hot line
	PayeeID int64
	Token   string
	Actor   models.Actor
}

// Prepare makes a finance officer with a token and n active lines with
// budgets large enough never to refuse.
func Prepare(ctx context.Context, st *store.Store, n int) (Setup, error) {
	var s Setup
	sys := models.SystemActor("bench")
	tag := auth.NewSecret(4)
	u := &models.User{Email: "bench-" + strings.ToLower(tag) + "@bench.example", Name: "Bench", Role: models.RoleFinanceOfficer, PasswordHash: "-", Active: true}
	if err := st.CreateUser(ctx, sys, u); err != nil {
		return s, err
	}
	s.Actor = models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	a := &models.User{Email: "bench-manager-" + strings.ToLower(tag) + "@bench.example", Name: "Bench finance manager", Role: models.RoleFinanceManager, PasswordHash: "-", Active: true}
	if err := st.CreateUser(ctx, sys, a); err != nil {
		return s, err
	}
	approver := models.Actor{UserID: a.ID, Label: a.Email, Role: a.Role}
	// The lines' budgets are above the scheme's threshold: they cite a record.
	record := &models.DecisionRecord{Reference: "BENCH-" + upper(tag), Title: "Bench lines", SignedOn: time.Now().UTC(), DecisionMaker: "Bench"}
	if err := st.CreateDecisionRecord(ctx, approver, record); err != nil {
		return s, err
	}
	s.Token = auth.NewAPIToken()
	if _, err := st.CreateAPIToken(ctx, sys, u.ID, "bench", s.Token); err != nil {
		return s, err
	}
	p := &models.Programme{Code: "BENCH-" + upper(tag), Name: "Bench", Plan: "Bench"}
	o := &models.Organisation{Name: "Bench org " + tag, IsFunder: true, IsRecipient: true}
	if err := st.CreateProgramme(ctx, sys, p); err != nil {
		return s, err
	}
	if err := st.CreateOrganisation(ctx, sys, o); err != nil {
		return s, err
	}
	s.PayeeID = o.ID
	for i := range n {
		fl, err := models.FundingLineInput{Code: fmt.Sprintf("BENCH-%s-%d", upper(tag), i), Title: "Bench", Kind: "grant",
			ProgrammeID: p.ID, FunderID: o.ID, Budget: "9999999999.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31"}.Validate()
		if err != nil {
			return s, err
		}
		if err := st.CreateFundingLine(ctx, sys, fl); err != nil {
			return s, err
		}
		// The bench's officer proposes each step and an admin approves it.
		for _, to := range []models.FundingLineStatus{models.StatusApproved, models.StatusActive} {
			d, err := st.ProposeLineStatus(ctx, s.Actor, fl.ID, to, "bench", &record.ID)
			if err != nil {
				return s, err
			}
			if _, err := st.DecideLineStatus(ctx, approver, d.ID, models.DecisionApproved, ""); err != nil {
				return s, err
			}
		}
		s.Lines = append(s.Lines, fl.ID)
	}
	return s, nil
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		} else if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = 'X'
		}
	}
	return string(b)
}

// run calls op from clients goroutines until total calls are done.
func run(name string, clients, total int, op func(i int) error) (Result, error) {
	var next atomic.Int64
	lat := make([]time.Duration, total)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return Result{Name: name, Clients: clients, Requests: total, Elapsed: elapsed,
		P50: lat[total/2], P99: lat[total*99/100]}, firstErr
}

// Spend measures recording through HTTP and raw, for each client count, on
// many lines and on one hot line, and calls report with each pair.
func Spend(ctx context.Context, st *store.Store, srv *server.Server, clients []int, perRun int, report func(api, raw Result)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer srv.Shutdown(context.WithoutCancel(ctx))
	url := "http://" + ln.Addr().String() + "/api/v1/spend"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	many, err := Prepare(ctx, st, 64)
	if err != nil {
		return err
	}
	hot := many
	hot.Lines = many.Lines[:1]
	if err := warm(ctx, st, client, url, many, slices.Max(clients)); err != nil {
		return err
	}
	for _, shape := range []struct {
		name string
		s    Setup
	}{{"many lines", many}, {"one hot line", hot}} {
		for _, c := range clients {
			s := shape.s
			api, err := run("API "+shape.name, c, perRun, func(i int) error {
				body := fmt.Sprintf(`{"funding_line_id":%d,"payee_id":%d,"amount":"12.34","incurred_on":"2024-06-01","category":"other"}`,
					s.Lines[i%len(s.Lines)], s.PayeeID)
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+s.Token)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					return fmt.Errorf("bench: status %d: %s", resp.StatusCode, b)
				}
				return nil
			})
			if err != nil {
				return err
			}
			raw, err := run("raw SQL "+shape.name, c, perRun, func(i int) error {
				return RawRecord(ctx, st, s.Actor, s.Lines[i%len(s.Lines)], s.PayeeID)
			})
			if err != nil {
				return err
			}
			report(api, raw)
		}
	}
	return nil
}

// warm opens the connections both paths will use (HTTP keep-alive
// connections, pool connections and their server processes) before anything
// is timed, so that neither path pays for them inside its run. It only reads.
func warm(ctx context.Context, st *store.Store, client *http.Client, url string, s Setup, clients int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for range clients {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 5 {
				req, _ := http.NewRequestWithContext(ctx, "GET", url+"?per_page=1", nil)
				req.Header.Set("Authorization", "Bearer "+s.Token)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body) //nolint:errcheck // only warming up
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("bench: warming up: status %d", resp.StatusCode)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 5 {
				var n int
				if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM spend_entries WHERE funding_line_id = ?", s.Lines[0]).Scan(&n); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// RawRecord is the recording transaction written straight in SQL, with the
// same statements, round trips and audit-chain lock as the store's (an insert
// that checks the line is active, then one statement that locks the chain
// head, stores the event and moves the head), but no Go layers.
func RawRecord(ctx context.Context, st *store.Store, a models.Actor, lineID, payeeID int64) error {
	return st.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, recorded_by)
			SELECT id, ?, 12.34, '2024-06-01', 'other', ? FROM funding_lines WHERE id = ? AND status = 'active'
			ON CONFLICT (recorded_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
			payeeID, a.UserID, lineID).Scan(&id); err != nil {
			return err
		}
		ev := &models.AuditEvent{ActorID: &a.UserID, Actor: a.Label, Action: "spend.record", Entity: "spend_entry",
			EntityID: fmt.Sprint(id), After: []byte(`{"raw":true}`)}
		_, err := tx.ExecContext(ctx, store.AppendAuditEventSQL(), a.UserID, a.Label, ev.Action, ev.Entity, ev.EntityID,
			nil, string(ev.After), "", ev.HashBody())
		return err
	})
}

// newApprover makes a second finance officer, to approve what the bench's
// officer recorded.
func newApprover(ctx context.Context, st *store.Store) (*models.User, error) {
	u := &models.User{Email: "bench-approver-" + strings.ToLower(auth.NewSecret(4)) + "@bench.example", Name: "Bench approver",
		Role: models.RoleFinanceOfficer, PasswordHash: "-", Active: true}
	if err := st.CreateUser(ctx, models.SystemActor("bench"), u); err != nil {
		return nil, err
	}
	return u, nil
}
