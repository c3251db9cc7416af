package server

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

type auditEventJSON struct {
	Seq        int64           `json:"seq"`
	OccurredAt time.Time       `json:"occurred_at"`
	ActorID    *int64          `json:"actor_id"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	Entity     string          `json:"entity"`
	EntityID   string          `json:"entity_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	RequestID  string          `json:"request_id"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

type auditQuery struct {
	ActorID  int64  `query:"actor_id"`
	Actor    string `query:"actor" doc:"the actor as recorded (an email), exact"`
	Action   string `query:"action" doc:"exact, or a prefix ending in a dot such as spend."`
	Entity   string `query:"entity"`
	EntityID string `query:"entity_id"`
	From     string `query:"from" doc:"RFC 3339 time or YYYY-MM-DD"`
	To       string `query:"to" doc:"RFC 3339 time or YYYY-MM-DD (the whole day)"`
	After    int64  `query:"after" doc:"cursor: the events after this sequence number in the list's order; the next link carries it"`
	Before   int64  `query:"before" doc:"cursor: the events before this sequence number; give after or before, not both"`
	Page     int    `query:"page" doc:"page number from 1, used alone (offset) or with a cursor (numbering only); follow next rather than counting"`
	PerPage  int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// auditFilter reads the audit trail's filters from the query, for the API
// and the audit page alike.
func auditFilter(c *fiber.Ctx) (store.AuditFilter, error) {
	var p models.Problems
	f := store.AuditFilter{ActorID: queryID(c, "actor_id", &p), Actor: queryText(c, "actor", &p), Action: queryText(c, "action", &p),
		Entity: queryText(c, "entity", &p), EntityID: queryText(c, "entity_id", &p), Page: pageOf(c, &p)}
	f.From = queryTime(c, "from", false, &p)
	f.To = queryTime(c, "to", true, &p)
	for _, k := range []struct {
		name string
		dst  *int64
	}{{"after", &f.After}, {"before", &f.Before}} {
		if v := c.Query(k.name); v != "" {
			seq, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seq < 1 {
				p.Add(k.name, "is not a position in the audit trail; follow the list's own links")
			}
			*k.dst = seq
		}
	}
	if f.After != 0 && f.Before != 0 {
		p.Add("before", "give after or before, not both")
	}
	return f, p.Err()
}

func (s *Server) listAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	l, err := s.store.AuditPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := list[auditEventJSON]{Items: []auditEventJSON{}, Page: f.Page.Number, PerPage: f.Page.PerPage, Total: l.Count,
		Next: auditPager(c, f.Page, l).Next}
	for _, ev := range l.Events {
		out.Items = append(out.Items, auditEventJSON{Seq: ev.Seq, OccurredAt: ev.OccurredAt, ActorID: ev.ActorID, Actor: ev.Actor,
			Action: ev.Action, Entity: ev.Entity, EntityID: ev.EntityID, Before: rawOrNull(ev.Before), After: rawOrNull(ev.After),
			RequestID: ev.RequestID, PrevHash: hex.EncodeToString(ev.PrevHash), Hash: hex.EncodeToString(ev.Hash)})
	}
	return c.JSON(out)
}

// queryTime reads a time or a date; a date is a day in London, and as the
// end of a range means the whole of that day.
func queryTime(c *fiber.Ctx, name string, endOfDay bool, p *models.Problems) *time.Time {
	v := c.Query(name)
	if v == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		if err := models.CheckDate(t); err != nil {
			p.Add(name, "%s", models.ErrorMessage(err))
			return nil
		}
		return &t
	}
	d, err := models.ParseDate(v)
	if _, perr := time.Parse(models.DateLayout, v); err != nil && perr == nil {
		p.Add(name, "%s", models.ErrorMessage(err)) // a date, out of range
		return nil
	} else if err != nil {
		p.Add(name, "must be a time such as 2024-06-03T09:00:00Z or a date such as 2024-06-03")
		return nil
	}
	at := models.BusinessDayStart(d)
	if endOfDay {
		at = models.BusinessDayStart(d.AddDate(0, 0, 1)).Add(-time.Microsecond)
	}
	return &at
}

// verificationJSON is the background verification's state: the last full
// run and any incremental run since.
type verificationJSON struct {
	OK          bool                 `json:"ok" doc:"true when the last full run, and the incremental run since it if any, found the audit chain and the ledger intact; false when nothing has been verified yet"`
	Full        *verificationRunJSON `json:"full" doc:"the last run that checked everything from the first event; null before the first"`
	Incremental *verificationRunJSON `json:"incremental" doc:"the last run after the full one that checked only what came after the checkpoint; null if none"`
}

// verificationRunJSON is one run; its names are also those of the
// audit.verify event's payload.
type verificationRunJSON struct {
	ID             int64                 `json:"id"`
	Scope          string                `json:"scope" doc:"full or incremental"`
	Trigger        string                `json:"trigger" doc:"schedule, startup or demand"`
	RequestedBy    *int64                `json:"requested_by" doc:"the user who asked for it; null for a scheduled run"`
	StartedAt      time.Time             `json:"started_at"`
	FinishedAt     time.Time             `json:"finished_at"`
	OK             bool                  `json:"ok"`
	FromSeq        int64                 `json:"from_seq" doc:"the chain was checked from the event after this sequence (0: from the first)"`
	HeadSeq        int64                 `json:"head_seq" doc:"the last event the run reached intact"`
	HeadHash       string                `json:"head_hash" doc:"that event's hash, hex; empty if the chain was broken"`
	Events         int64                 `json:"events"`
	ChainOK        bool                  `json:"chain_ok"`
	BrokenSeq      *int64                `json:"broken_seq"`
	ChainReason    string                `json:"chain_reason"`
	FromEntryID    int64                 `json:"from_entry_id" doc:"the ledger was checked for spend entries after this id (0: all)"`
	ToEntryID      int64                 `json:"to_entry_id"`
	Entries        int64                 `json:"entries"`
	LedgerOK       bool                  `json:"ledger_ok"`
	LedgerFindings int64                 `json:"ledger_findings"`
	Findings       []store.LedgerFinding `json:"findings" doc:"the first 50 findings"`
}

func verificationRunOf(r *store.VerificationRun) *verificationRunJSON {
	if r == nil {
		return nil
	}
	return &verificationRunJSON{ID: r.ID, Scope: r.Scope, Trigger: r.Trigger, RequestedBy: r.RequestedBy, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		OK: r.OK(), FromSeq: r.FromSeq, HeadSeq: r.HeadSeq, HeadHash: r.HeadHashHex(), Events: r.Events, ChainOK: r.ChainOK, BrokenSeq: r.BrokenSeq,
		ChainReason: r.ChainReason, FromEntryID: r.FromEntryID, ToEntryID: r.ToEntryID, Entries: r.Entries, LedgerOK: r.LedgerOK,
		LedgerFindings: r.LedgerFindings, Findings: r.Findings}
}

// verification shows the background verification's last runs.
func (s *Server) verification(c *fiber.Ctx) error {
	v, err := s.store.LastVerification(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(verificationJSON{OK: v.OK(), Full: verificationRunOf(v.Full), Incremental: verificationRunOf(v.Incremental)})
}

// verifyNow runs a full verification at once, keeps it with the
// background's runs and audits who asked.
func (s *Server) verifyNow(c *fiber.Ctx) (*store.VerificationRun, error) {
	who := actorOf(c)
	run, err := s.store.Verify(c.UserContext(), store.VerifyFull, store.TriggerDemand, &who.UserID)
	if err != nil {
		return nil, err
	}
	return run, s.store.RecordEvent(c.UserContext(), who, store.Change{Action: "audit.verify", Entity: "verification_run", EntityID: run.ID,
		After: verificationRunOf(run)})
}

// runVerification is the API's "check everything now".
func (s *Server) runVerification(c *fiber.Ctx) error {
	run, err := s.verifyNow(c)
	if err != nil {
		return err
	}
	return c.JSON(verificationRunOf(run))
}
