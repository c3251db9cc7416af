package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// Change describes one change of state for the audit trail. Before and After
// are marshalled to JSON; nil means "did not exist".
type Change struct {
	Action   string // e.g. "funding_line.create"
	Entity   string // e.g. "funding_line"
	EntityID int64
	Before   any
	After    any
}

// audit appends an event for change to the hash chain inside tx. Locking the
// chain head orders every writer, so sequence numbers have no gaps; callers
// take their business locks first and audit last, which keeps lock order the
// same everywhere.
func (s *Store) audit(ctx context.Context, tx bun.IDB, actor models.Actor, ch Change) error {
	before, err := marshalState(ch.Before)
	if err != nil {
		return err
	}
	after, err := marshalState(ch.After)
	if err != nil {
		return err
	}
	ev := &models.AuditEvent{
		Actor:     actor.Label,
		Action:    ch.Action,
		Entity:    ch.Entity,
		EntityID:  strconv.FormatInt(ch.EntityID, 10),
		Before:    before, // canonical, from marshalState
		After:     after,
		RequestID: actor.RequestID,
	}
	ev.ActorID = actor.UserIDOrNil()
	// One statement locks the head, stamps the time, finishes the hash from
	// the part computed here, stores the event and moves the head: every
	// other writer waits on the head for one round trip and the commit.
	if _, err := tx.NewRaw(appendAuditEvent, ev.ActorID, ev.Actor, ev.Action, ev.Entity, ev.EntityID,
		jsonArg(ev.Before), jsonArg(ev.After), ev.RequestID, ev.HashBody()).Exec(ctx); err != nil {
		return fmt.Errorf("store: audit append: %w", err)
	}
	return nil
}

// AppendAuditEventSQL is the statement that appends one event to the chain,
// for the benchmark's raw transaction, which must send the same statement.
func AppendAuditEventSQL() string { return appendAuditEvent }

// appendAuditEvent appends one event to the chain; its hash is
// models.AuditEvent.ComputeHash's, from HashBody (the last argument). The
// time is taken once the head is locked, so times follow sequence numbers.
var appendAuditEvent = `
	WITH head AS (SELECT seq + 1 AS seq, hash AS prev FROM audit_head WHERE id = 1 FOR UPDATE),
	stamp AS (SELECT seq, prev, clock_timestamp() AS at FROM head),
	ev AS (INSERT INTO audit_events (seq, occurred_at, actor_id, actor, action, entity, entity_id, before, after, request_id, prev_hash, hash)
		SELECT seq, at, ?, ?, ?, ?, ?, ?, ?, ?, prev, sha256(
			` + sqlHashField("seq::text") + ` ||
			` + sqlHashField(sqlRFC3339("at")) + ` ||
			?::bytea ||
			convert_to(length(prev)::text || ':', 'UTF8') || prev)
		FROM stamp RETURNING seq, hash)
	UPDATE audit_head SET seq = ev.seq, hash = ev.hash FROM ev WHERE audit_head.id = 1`

// sqlHashField is models.HashField for a text expression.
func sqlHashField(text string) string {
	return "convert_to(octet_length(" + text + ")::text || ':' || " + text + ", 'UTF8')"
}

// sqlRFC3339 formats a timestamptz as Go's time.RFC3339Nano does in UTC at
// microsecond precision: no fraction when it is zero, trailing zeros dropped.
func sqlRFC3339(ts string) string {
	utc := "(" + ts + " AT TIME ZONE 'UTC')"
	return "(to_char(" + utc + `, 'YYYY-MM-DD"T"HH24:MI:SS') || coalesce('.' || nullif(rtrim(to_char(` + utc + ", 'US'), '0'), ''), '') || 'Z')"
}

// jsonArg passes a JSON document as text for a jsonb column; nil is NULL.
func jsonArg(doc []byte) any {
	if doc == nil {
		return nil
	}
	return string(doc)
}

func marshalState(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: audit state: %w", err)
	}
	return models.CanonicalJSON(b)
}

// RecordEvent appends a stand-alone audit event in its own transaction, for
// things that change no other row: sign-ins, refused requests, exports.
func (s *Store) RecordEvent(ctx context.Context, actor models.Actor, ch Change) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.audit(ctx, tx, actor, ch)
	})
}

// ChainStatus is the outcome of verifying the audit chain.
type ChainStatus struct {
	OK        bool   `json:"ok"`
	Count     int64  `json:"count"`
	HeadSeq   int64  `json:"head_seq"`
	HeadHash  string `json:"head_hash"`
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Anchors are the anchors checked, as HASH@SEQ; with OK, each matched.
	Anchors []string `json:"anchors,omitempty"`
}

// VerifyAuditChain recomputes every event's hash in sequence order and
// reports the first event whose sequence, link or hash is wrong. It reads in
// one REPEATABLE READ snapshot so concurrent writers do not confuse it.
//
// Each anchor, taken earlier outside the database, must still be in the
// chain: the event at its sequence has its hash. An intact chain can still
// have been cut short (with its head moved back) or rewritten from some
// event on; only an anchor shows that.
func (s *Store) VerifyAuditChain(ctx context.Context, anchors ...models.AuditAnchor) (ChainStatus, error) {
	var st ChainStatus
	for _, a := range anchors {
		st.Anchors = append(st.Anchors, a.String())
	}
	anchorAt := map[int64][]byte{}
	for _, a := range anchors {
		if prev, ok := anchorAt[a.Seq]; ok && !bytes.Equal(prev, a.Hash) {
			st.broken(a.Seq, fmt.Sprintf("two anchors give different hashes for sequence %d", a.Seq))
			return st, nil
		}
		anchorAt[a.Seq] = a.Hash
	}
	if h, ok := anchorAt[0]; ok && !bytes.Equal(h, models.GenesisHash) {
		st.broken(0, "the anchor at sequence 0 (an empty chain) must be the genesis hash of 64 zeros")
		return st, nil
	}
	err := s.db.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		return s.checkChain(ctx, tx, chainPoint{hash: models.GenesisHash}, anchorAt, &st)
	})
	return st, translate(err)
}

// chainPoint is where a check of the chain starts: after the event at seq,
// whose hash is hash (sequence 0 and the genesis hash for the whole chain).
type chainPoint struct {
	seq  int64
	hash []byte
}

// checkChain checks the events after from, in tx's snapshot, against each
// other, the anchors and the head, and says what it found in st.
func (s *Store) checkChain(ctx context.Context, tx bun.Tx, from chainPoint, anchorAt map[int64][]byte, st *ChainStatus) error {
	rows, err := tx.NewSelect().Model((*models.AuditEvent)(nil)).Where("seq > ?", from.seq).Order("seq").Rows(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	prev, expect := from.hash, from.seq+1
	for rows.Next() {
		var ev models.AuditEvent
		if err := s.bun.ScanRow(ctx, rows, &ev); err != nil {
			return err
		}
		st.Count++
		if reason := checkEvent(&ev, expect, prev); reason != "" {
			st.broken(ev.Seq, reason)
			return nil
		}
		if h, ok := anchorAt[ev.Seq]; ok && !bytes.Equal(h, ev.Hash) {
			st.broken(ev.Seq, fmt.Sprintf("the event at sequence %d has hash %x, not the anchor's %x: the chain was rewritten from there on",
				ev.Seq, ev.Hash, h))
			return nil
		}
		prev, expect = ev.Hash, ev.Seq+1
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var head struct {
		Seq  int64
		Hash []byte
	}
	if err := tx.NewRaw("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(ctx, &head.Seq, &head.Hash); err != nil {
		return err
	}
	if head.Seq != expect-1 || !bytes.Equal(head.Hash, prev) {
		st.broken(expect, fmt.Sprintf("the chain head says sequence %d but the last intact event is %d: events are missing from the end", head.Seq, expect-1))
		return nil
	}
	if last := slices.Max(append(slices.Collect(maps.Keys(anchorAt)), 0)); last > head.Seq {
		st.broken(head.Seq+1, fmt.Sprintf("the chain ends at sequence %d but an anchor was taken at sequence %d: events after %d were removed",
			head.Seq, last, head.Seq))
		return nil
	}
	st.OK = true
	st.HeadSeq, st.HeadHash = head.Seq, hex.EncodeToString(head.Hash)
	return nil
}

func (st *ChainStatus) broken(seq int64, reason string) { st.BrokenSeq, st.Reason = seq, reason }

func checkEvent(ev *models.AuditEvent, expect int64, prev []byte) string {
	if ev.Seq != expect {
		return fmt.Sprintf("expected sequence %d but found %d: an event is missing", expect, ev.Seq)
	}
	if !bytes.Equal(ev.PrevHash, prev) {
		return "its previous hash does not match the event before it: events were removed or reordered"
	}
	sum, err := ev.ComputeHash()
	if err != nil {
		return "its content cannot be read: " + err.Error()
	}
	if !bytes.Equal(sum, ev.Hash) {
		return "its content does not match its hash: the event was altered"
	}
	return ""
}

// AuditFilter narrows the audit trail; times are inclusive.
type AuditFilter struct {
	ActorID  int64
	Actor    string // the actor's label (an email, or "system: …"), exact
	Action   string // exact, or a prefix ending in "." such as "spend."
	Entity   string
	EntityID string
	From, To *time.Time
	Newest   bool // newest first, rather than in sequence order
	// After and Before are keyset cursors (sequence numbers): the page
	// after (before) that event in the list's order; see AuditPage.
	After, Before int64
	Page          Page
}

// filtered says whether f narrows the trail at all.
func (f AuditFilter) filtered() bool {
	return f.ActorID != 0 || f.Actor != "" || f.Action != "" || f.Entity != "" || f.EntityID != "" || f.From != nil || f.To != nil
}

// AuditEvents lists events in sequence order (or newest first), with the
// total before paging.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]*models.AuditEvent, int, error) {
	var evs []*models.AuditEvent
	order := "seq"
	if f.Newest {
		order = "seq DESC"
	}
	q := s.db.NewSelect().Model(&evs).Order(order)
	auditWhere(q, f)
	total, err := f.Page.apply(q).ScanAndCount(ctx)
	return evs, int(total), translate(err)
}

// auditWhere adds f's conditions (not its paging) to a query on
// audit_events.
func auditWhere(q *bun.SelectQuery, f AuditFilter) {
	if f.ActorID != 0 {
		q.Where("actor_id = ?", f.ActorID)
	}
	if f.Actor != "" {
		q.Where("actor = ?", f.Actor)
	}
	if strings.HasSuffix(f.Action, ".") {
		q.Where("starts_with(action, ?)", f.Action)
	} else if f.Action != "" {
		q.Where("action = ?", f.Action)
	}
	if f.Entity != "" {
		q.Where("entity = ?", f.Entity)
	}
	if f.EntityID != "" {
		q.Where("entity_id = ?", f.EntityID)
	}
	if f.From != nil {
		q.Where("occurred_at >= ?", *f.From)
	}
	if f.To != nil {
		q.Where("occurred_at <= ?", *f.To)
	}
}

// AuditList is one page of the audit trail with the count of the whole
// filtered trail.
type AuditList struct {
	Events []*models.AuditEvent
	Count  int
	// Prev and Next are the sequence numbers to page from (as Before and
	// After) to reach the pages either side, 0 at either end.
	Prev, Next int64
}

// AuditPage lists one page of events in f's order. With f.After (or
// f.Before) it reads the page after (before) that event from the sequence's
// index, so a deep page costs what the first does; without either, page
// f.Page.Number by offset. The unfiltered count is the audit head's
// sequence: the sequence is gapless from 1.
func (s *Store) AuditPage(ctx context.Context, f AuditFilter) (*AuditList, error) {
	out := &AuditList{}
	var err error
	if f.filtered() {
		q := s.db.NewSelect().TableExpr("audit_events").ColumnExpr("count(*)")
		auditWhere(q, f)
		err = q.Scan(ctx, &out.Count)
	} else {
		err = s.db.NewSelect().TableExpr("audit_head").Column("seq").Scan(ctx, &out.Count)
	}
	if err != nil {
		return nil, translate(err)
	}
	per := f.Page.PerPage
	if per <= 0 {
		per = MaxPerPage
	}
	// Forward is the list's own order; a Before page is read backwards
	// from its cursor and turned round.
	forward, back, after, before := "seq", "seq DESC", ">", "<"
	if f.Newest {
		forward, back, after, before = back, forward, before, after
	}
	q := s.db.NewSelect().Model(&out.Events).Limit(int64(per + 1))
	auditWhere(q, f)
	switch {
	case f.After != 0:
		q = q.Where("seq "+after+" ?", f.After).Order(forward)
	case f.Before != 0:
		q = q.Where("seq "+before+" ?", f.Before).Order(back)
	default:
		q = q.Order(forward).Offset(int64((max(f.Page.Number, 1) - 1) * per))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	out.Events, out.Prev, out.Next = keysetPage(out.Events, per, f.After != 0, f.Before != 0, f.Page.Number,
		func(ev *models.AuditEvent) int64 { return ev.Seq })
	return out, nil
}

// AuditEventsAfter lists the events after sequence seq with one of actions,
// in sequence order: what happened since an export's audit head.
func (s *Store) AuditEventsAfter(ctx context.Context, seq int64, actions ...string) ([]*models.AuditEvent, error) {
	var evs []*models.AuditEvent
	err := s.db.NewSelect().Model(&evs).Where("seq > ?", seq).Where("action IN (?)", bun.In(actions)).Order("seq").Scan(ctx)
	return evs, translate(err)
}

// ExportEvents lists the events that recorded an export whose file has
// this SHA-256 (hex), oldest first.
func (s *Store) ExportEvents(ctx context.Context, sha256 string) ([]*models.AuditEvent, error) {
	var evs []*models.AuditEvent
	err := s.db.NewSelect().Model(&evs).Where("entity = 'export' AND entity_id = '0' AND action = 'export.ledger'").
		Where("after->>'sha256' = ?", strings.ToLower(sha256)).Order("seq").Scan(ctx)
	return evs, translate(err)
}
