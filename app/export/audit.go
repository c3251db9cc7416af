package export

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"time"

	"granttrack/app/store"
	"granttrack/models"
)

// FormatAuditJSONL is the audit trail as JSON Lines: one event a line, in
// sequence order, with everything its hash covers, so that the chain can
// be checked with nothing but the file (app/export/verifier/verify_audit.py;
// the README's "Offline verification" says how each hash is computed).
const FormatAuditJSONL = "audit-jsonl"

// AuditManifest describes an export of the audit trail.
type AuditManifest struct {
	Format      string    `json:"format"`
	Events      int       `json:"events"`
	AuditSeq    int64     `json:"audit_head_seq"`
	AuditHash   string    `json:"audit_head_hash"`
	GeneratedAt time.Time `json:"generated_at"`
	SHA256      string    `json:"sha256"`
}

// auditLine is one event as a line of the export. Its names are the
// format: renaming a Go field must not change them.
type auditLine struct {
	Seq        int64           `json:"seq"`
	OccurredAt string          `json:"occurred_at"`
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

// AuditTrail writes every audit event to w as JSON Lines, read in one
// snapshot with the chain's head, and returns the manifest. The states
// before and after are written in their canonical form (the bytes hashed),
// the time as the hash covers it.
func AuditTrail(ctx context.Context, st *store.Store, w io.Writer) (*AuditManifest, error) {
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, h))
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	m := &AuditManifest{Format: FormatAuditJSONL, GeneratedAt: time.Now().UTC()}
	head, err := st.StreamAuditEvents(ctx, func(ev *models.AuditEvent) error {
		before, err := models.CanonicalJSON(ev.Before)
		if err != nil {
			return err
		}
		after, err := models.CanonicalJSON(ev.After)
		if err != nil {
			return err
		}
		m.Events++
		return enc.Encode(auditLine{Seq: ev.Seq, OccurredAt: ev.HashTime(), ActorID: ev.ActorID, Actor: ev.Actor, Action: ev.Action,
			Entity: ev.Entity, EntityID: ev.EntityID, Before: before, After: after, RequestID: ev.RequestID,
			PrevHash: hex.EncodeToString(ev.PrevHash), Hash: hex.EncodeToString(ev.Hash)})
	})
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	m.AuditSeq, m.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}
