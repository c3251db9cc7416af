package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// AuditEvent records one change of state. Events form a single gapless
// sequence; each hash covers the event's content and the previous hash, so
// altering, removing or reordering any event breaks every hash after it.
type AuditEvent struct {
	bun.BaseModel `bun:"table:audit_events"`

	Seq        int64           `bun:",pk"`
	OccurredAt time.Time       `bun:",notnull"`
	ActorID    *int64          `bun:""`
	Actor      string          `bun:",notnull"`
	Action     string          `bun:",notnull"`
	Entity     string          `bun:",notnull"`
	EntityID   string          `bun:",notnull"`
	Before     json.RawMessage `bun:"type:jsonb,nullzero"`
	After      json.RawMessage `bun:"type:jsonb,nullzero"`
	RequestID  string          `bun:",notnull"`
	PrevHash   []byte          `bun:",notnull"`
	Hash       []byte          `bun:",notnull"`
}

// GenesisHash is the previous hash of the first event.
var GenesisHash = make([]byte, sha256.Size)

// CanonicalJSON re-encodes a JSON document with sorted object keys, no
// insignificant white space and numbers kept as written, so that the bytes
// hashed on write equal those hashed after PostgreSQL's jsonb has reformatted
// the document. Empty input stays empty.
func CanonicalJSON(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("canonical json: data after the document")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// ComputeHash returns the SHA-256 of the event's canonical encoding followed
// by its previous hash. Time is taken at microsecond precision in UTC, which
// is what PostgreSQL stores.
func (e *AuditEvent) ComputeHash() ([]byte, error) {
	before, err := CanonicalJSON(e.Before)
	if err != nil {
		return nil, err
	}
	after, err := CanonicalJSON(e.After)
	if err != nil {
		return nil, err
	}
	return e.hash(before, after), nil
}

// HashCanonical is ComputeHash for an event whose Before and After are
// already canonical (as CanonicalJSON returns them), so that a writer holding
// the chain head does not encode them again.
func (e *AuditEvent) HashCanonical() []byte { return e.hash(e.Before, e.After) }

func (e *AuditEvent) hash(before, after []byte) []byte {
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	h := sha256.New()
	// Each field is length-prefixed so that no two different events share an encoding.
	for _, field := range [][]byte{
		[]byte(strconv.FormatInt(e.Seq, 10)),
		[]byte(e.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)),
		[]byte(actorID),
		[]byte(e.Actor),
		[]byte(e.Action),
		[]byte(e.Entity),
		[]byte(e.EntityID),
		before,
		after,
		[]byte(e.RequestID),
		e.PrevHash,
	} {
		fmt.Fprintf(h, "%d:", len(field))
		h.Write(field)
	}
	return h.Sum(nil)
}

// Actor is who causes a change: a signed-in user, an API token's user, or
// the system itself (UserID 0), with the request that carried it.
type Actor struct {
	UserID    int64
	Label     string // e.g. "ana@example.org" or "system"
	Role      Role
	RequestID string
}

// SystemActor is the actor for changes made by granttrack itself (migrations,
// demo data, command-line administration).
func SystemActor(label string) Actor { return Actor{Label: "system: " + label} }
