package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// HashBody is the part of the event's hashed encoding that a writer knows
// before it holds the chain head: every field but the sequence number, the
// time and the previous hash. Before and After must already be canonical (as
// CanonicalJSON returns them). The hash is the SHA-256 of HashField of the
// sequence number and of the time (RFC 3339, UTC, to the microsecond,
// trailing zeros dropped), the body, and HashField of the previous hash; so
// the database can finish it while the head is locked, with no round trip
// back to Go.
func (e *AuditEvent) HashBody() []byte {
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatInt(*e.ActorID, 10)
	}
	var b []byte
	for _, field := range [][]byte{
		[]byte(actorID),
		[]byte(e.Actor),
		[]byte(e.Action),
		[]byte(e.Entity),
		[]byte(e.EntityID),
		e.Before,
		e.After,
		[]byte(e.RequestID),
	} {
		b = append(b, HashField(field)...)
	}
	return b
}

// HashField is one field of the hashed encoding: each is length-prefixed so
// that no two different events share an encoding.
func HashField(v []byte) []byte {
	return append(strconv.AppendInt(nil, int64(len(v)), 10), append([]byte(":"), v...)...)
}

func (e *AuditEvent) hash(before, after []byte) []byte {
	c := *e
	c.Before, c.After = before, after
	h := sha256.New()
	h.Write(HashField([]byte(strconv.FormatInt(e.Seq, 10))))
	h.Write(HashField([]byte(e.HashTime())))
	h.Write(c.HashBody())
	h.Write(HashField(e.PrevHash))
	return h.Sum(nil)
}

// HashTime is the event's time as its hash covers it: RFC 3339 in UTC, to
// the microsecond, trailing zeros of the fraction dropped.
func (e *AuditEvent) HashTime() string {
	return e.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
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

// UserIDOrNil is the acting user's id for a column naming who did
// something, or nil for granttrack itself (a system actor has no user).
func (a Actor) UserIDOrNil() *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}

// AuditAnchor is an audit event's sequence number and hash kept outside the
// database (an export's manifest holds one), written HASH@SEQ. A chain that
// still verifies but no longer has this event at SEQ was truncated or
// rewritten after the anchor was taken.
type AuditAnchor struct {
	Seq  int64
	Hash []byte
}

func (a AuditAnchor) String() string { return fmt.Sprintf("%x@%d", a.Hash, a.Seq) }

// anchorUsage says what an anchor looks like, for error messages.
const anchorUsage = "must be HASH@SEQ: an export manifest's audit_head_hash (64 hex digits), an @ and its audit_head_seq, e.g. 9f86d0…@42"

// ParseAuditAnchor reads HASH@SEQ; a malformed anchor is EINVALID on field "anchor".
func ParseAuditAnchor(s string) (AuditAnchor, error) {
	hash, seq, ok := strings.Cut(strings.TrimSpace(s), "@")
	n, err := strconv.ParseInt(seq, 10, 64)
	h, herr := hex.DecodeString(hash)
	if !ok || err != nil || n < 0 || herr != nil || len(h) != sha256.Size {
		return AuditAnchor{}, &Error{Code: EINVALID, Message: "The anchor " + anchorUsage + ".",
			Fields: []FieldError{{Field: "anchor", Message: anchorUsage}}}
	}
	return AuditAnchor{Seq: n, Hash: h}, nil
}
