package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keys sorted", `{"b":1, "a":"x"}`, `{"a":"x","b":1}`},
		{"already canonical", `{"a":"x","b":1}`, `{"a":"x","b":1}`},
		{"white space removed", "{\n  \"a\" : \"x\" ,\t\"b\" : 1\n}\n", `{"a":"x","b":1}`},
		{"number kept as written", `{"amount":1.50}`, `{"amount":1.50}`},
		{"numbers of every form kept", `[1.50, 100, 0.10, 12345678901234567890.123]`, `[1.50,100,0.10,12345678901234567890.123]`},
		{"nested objects sorted", `{"z":{"y":1,"x":[{"b":2,"a":1}]},"a":null}`, `{"a":null,"z":{"x":[{"a":1,"b":2}],"y":1}}`},
		{"array order kept", `[3,1,2]`, `[3,1,2]`},
		{"HTML not escaped", `{"s":"<a&b>"}`, `{"s":"<a&b>"}`},
		{"unicode escapes decoded", `{"s":"caf\u00e9"}`, `{"s":"café"}`},
		{"unicode kept", `{"s":"café £5"}`, `{"s":"café £5"}`},
		{"escaped quote kept", `{"s":"a\"b"}`, `{"s":"a\"b"}`},
		{"booleans", `{"t":true,"f":false}`, `{"f":false,"t":true}`},
		{"empty object", `{}`, `{}`},
		{"empty array", ` [ ] `, `[]`},
		{"scalar string", `"x"`, `"x"`},
		{"money as string", `{"budget":"2000000.00"}`, `{"budget":"2000000.00"}`},
		{"duplicate key keeps last, like jsonb", `{"a":1,"a":2}`, `{"a":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("CanonicalJSON(%s): %v", tc.in, err)
			}
			if string(got) != tc.want {
				t.Errorf("CanonicalJSON(%s) = %s, want %s", tc.in, got, tc.want)
			}
			again, err := CanonicalJSON(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("CanonicalJSON is not idempotent: %s -> %s, %v", got, again, err)
			}
		})
	}
}

func TestCanonicalJSONEqualForEquivalentDocuments(t *testing.T) {
	a, err := CanonicalJSON([]byte(`{"b":1, "a":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := CanonicalJSON([]byte("{\"a\":\"x\",\n\t\"b\":   1}"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s != %s", a, b)
	}
	// Numbers are not normalised: 1.5 and 1.50 are different documents.
	c, _ := CanonicalJSON([]byte(`{"a":"x","b":1.0}`))
	if bytes.Equal(a, c) {
		t.Errorf("1 and 1.0 canonicalised alike: %s", c)
	}
}

func TestCanonicalJSONEmptyAndNull(t *testing.T) {
	for _, in := range []string{"", "   ", "\n", "null", " null\n"} {
		got, err := CanonicalJSON([]byte(in))
		if err != nil || got != nil {
			t.Errorf("CanonicalJSON(%q) = %q, %v; want nil, nil", in, got, err)
		}
	}
	if got, err := CanonicalJSON(nil); err != nil || got != nil {
		t.Errorf("CanonicalJSON(nil) = %q, %v", got, err)
	}
}

func TestCanonicalJSONRejectsMalformedInput(t *testing.T) {
	for _, in := range []string{`{"a":`, `{a:1}`, `{'a':1}`, `[1,]`, `{"a":1,}`, `nul`, `1.`, `NaN`, `-`, `"unterminated`} {
		if got, err := CanonicalJSON([]byte(in)); err == nil {
			t.Errorf("CanonicalJSON(%q) = %s, want an error", in, got)
		}
	}
}

// BUG (fails at the time of writing; low impact): CanonicalJSON decodes only
// the first JSON value and ignores whatever follows, so malformed documents
// such as `{"a":1} {"a":2}` or `01` are accepted and canonicalised to `{"a":1}`
// and `0`. Two different byte strings then share a canonical form and a hash.
// PostgreSQL's jsonb would refuse them, so they should be refused here too.
func TestCanonicalJSONRejectsTrailingData(t *testing.T) {
	for _, in := range []string{`{"a":1} {"a":2}`, `{"a":1}x`, `01`, `[1] [2]`, `"a" "b"`} {
		if got, err := CanonicalJSON([]byte(in)); err == nil {
			t.Errorf("CanonicalJSON(%q) = %s, want an error for the trailing data", in, got)
		}
	}
}

func auditID(n int64) *int64 { return &n }

func baseAuditEvent() AuditEvent {
	return AuditEvent{
		Seq:        5,
		OccurredAt: time.Date(2024, time.April, 1, 10, 0, 0, 123456000, time.UTC),
		ActorID:    auditID(3),
		Actor:      "ana@example.org",
		Action:     "funding_line.create",
		Entity:     "funding_line",
		EntityID:   "12",
		Before:     nil,
		After:      json.RawMessage(`{"code":"DRUG-SUPPLY","budget":"2000000.00","rate":1.50}`),
		RequestID:  "req-1",
		PrevHash:   bytes.Repeat([]byte{0xab}, sha256.Size),
	}
}

func mustHash(t *testing.T, e AuditEvent) []byte {
	t.Helper()
	h, err := e.ComputeHash()
	if err != nil {
		t.Fatalf("ComputeHash: %v", err)
	}
	if len(h) != sha256.Size {
		t.Fatalf("hash has %d bytes, want %d", len(h), sha256.Size)
	}
	return h
}

func TestComputeHashMatchesDocumentedEncoding(t *testing.T) {
	// Pinned independently: every field length-prefixed as "len:", in order,
	// JSON canonical, time in UTC at microsecond precision. Stored hashes
	// depend on this encoding, so any change to it must be deliberate.
	e := baseAuditEvent()
	var b bytes.Buffer
	for _, f := range []string{
		"5",
		"2024-04-01T10:00:00.123456Z",
		"3",
		"ana@example.org",
		"funding_line.create",
		"funding_line",
		"12",
		"",
		`{"budget":"2000000.00","code":"DRUG-SUPPLY","rate":1.50}`,
		"req-1",
		string(e.PrevHash),
	} {
		fmt.Fprintf(&b, "%d:%s", len(f), f)
	}
	want := sha256.Sum256(b.Bytes())
	if got := mustHash(t, e); !bytes.Equal(got, want[:]) {
		t.Errorf("ComputeHash = %x, want %x", got, want)
	}
}

func TestComputeHashIsStableForEqualEvents(t *testing.T) {
	a, b := baseAuditEvent(), baseAuditEvent()
	ha, hb := mustHash(t, a), mustHash(t, b)
	if !bytes.Equal(ha, hb) {
		t.Errorf("equal events hash differently: %x vs %x", ha, hb)
	}
	if !bytes.Equal(ha, mustHash(t, a)) {
		t.Error("hashing the same event twice differs")
	}
	// The stored hash itself is not an input.
	b.Hash = []byte("anything")
	if !bytes.Equal(ha, mustHash(t, b)) {
		t.Error("the Hash field changed the hash")
	}
}

func TestComputeHashChangesWhenAnyFieldChanges(t *testing.T) {
	base := mustHash(t, baseAuditEvent())
	tests := []struct {
		name   string
		modify func(*AuditEvent)
	}{
		{"seq", func(e *AuditEvent) { e.Seq = 6 }},
		{"occurred_at by a microsecond", func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.Add(time.Microsecond) }},
		{"occurred_at by a day", func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.AddDate(0, 0, 1) }},
		{"actor id", func(e *AuditEvent) { e.ActorID = auditID(4) }},
		{"actor id removed", func(e *AuditEvent) { e.ActorID = nil }},
		{"actor id zero", func(e *AuditEvent) { e.ActorID = auditID(0) }},
		{"actor", func(e *AuditEvent) { e.Actor = "bob@example.org" }},
		{"action", func(e *AuditEvent) { e.Action = "funding_line.update" }},
		{"entity", func(e *AuditEvent) { e.Entity = "award" }},
		{"entity id", func(e *AuditEvent) { e.EntityID = "13" }},
		{"before set", func(e *AuditEvent) { e.Before = json.RawMessage(`{}`) }},
		{"after value", func(e *AuditEvent) {
			e.After = json.RawMessage(`{"code":"DRUG-SUPPLY","budget":"2000000.01","rate":1.50}`)
		}},
		{"after number written differently", func(e *AuditEvent) {
			e.After = json.RawMessage(`{"code":"DRUG-SUPPLY","budget":"2000000.00","rate":1.5}`)
		}},
		{"after removed", func(e *AuditEvent) { e.After = nil }},
		{"before and after swapped", func(e *AuditEvent) { e.Before, e.After = e.After, e.Before }},
		{"request id", func(e *AuditEvent) { e.RequestID = "req-2" }},
		{"prev hash one bit", func(e *AuditEvent) { e.PrevHash = bytes.Clone(e.PrevHash); e.PrevHash[31] ^= 1 }},
		{"prev hash genesis", func(e *AuditEvent) { e.PrevHash = GenesisHash }},
		{"prev hash nil", func(e *AuditEvent) { e.PrevHash = nil }},
		{"text moved between actor and action", func(e *AuditEvent) {
			e.Actor, e.Action = "ana@example.orgf", "unding_line.create"
		}},
		{"text moved between entity and entity id", func(e *AuditEvent) {
			e.Entity, e.EntityID = "funding_line1", "2"
		}},
	}
	seen := map[string]string{string(base): "base"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := baseAuditEvent()
			tc.modify(&e)
			h := mustHash(t, e)
			if bytes.Equal(h, base) {
				t.Fatalf("changing %s did not change the hash", tc.name)
			}
			if other, dup := seen[string(h)]; dup {
				t.Errorf("%s hashes like %s", tc.name, other)
			}
			seen[string(h)] = tc.name
		})
	}
}

func TestComputeHashIgnoresWhatPostgreSQLDoesNotKeep(t *testing.T) {
	base := mustHash(t, baseAuditEvent())
	london := time.FixedZone("BST", 3600)
	tests := []struct {
		name   string
		modify func(*AuditEvent)
	}{
		{"nanoseconds truncated", func(e *AuditEvent) {
			e.OccurredAt = time.Date(2024, time.April, 1, 10, 0, 0, 123456789, time.UTC)
		}},
		{"nanoseconds just below the next microsecond", func(e *AuditEvent) {
			e.OccurredAt = e.OccurredAt.Add(999 * time.Nanosecond)
		}},
		{"same instant in another zone", func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.In(london) }},
		{"monotonic reading stripped", func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.Round(0) }},
		{"after keys reordered with white space", func(e *AuditEvent) {
			e.After = json.RawMessage("{ \"rate\": 1.50,\n \"budget\" : \"2000000.00\", \"code\":\"DRUG-SUPPLY\" }")
		}},
		{"before null", func(e *AuditEvent) { e.Before = json.RawMessage("null") }},
		{"before blank", func(e *AuditEvent) { e.Before = json.RawMessage("  ") }},
		{"hash field", func(e *AuditEvent) { e.Hash = bytes.Repeat([]byte{1}, 32) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := baseAuditEvent()
			tc.modify(&e)
			if h := mustHash(t, e); !bytes.Equal(h, base) {
				t.Errorf("hash changed: %x vs %x", h, base)
			}
		})
	}

	// Nanoseconds on a live time.Now() hash like the microsecond value
	// PostgreSQL stores.
	now := time.Now()
	e1, e2 := baseAuditEvent(), baseAuditEvent()
	e1.OccurredAt = now
	e2.OccurredAt = now.UTC().Truncate(time.Microsecond)
	if !bytes.Equal(mustHash(t, e1), mustHash(t, e2)) {
		t.Errorf("time.Now() %s and its microsecond truncation hash differently", now)
	}
}

func TestComputeHashRejectsMalformedJSON(t *testing.T) {
	for _, field := range []string{"before", "after"} {
		e := baseAuditEvent()
		if field == "before" {
			e.Before = json.RawMessage(`{"a":`)
		} else {
			e.After = json.RawMessage(`{bad}`)
		}
		if h, err := e.ComputeHash(); err == nil {
			t.Errorf("malformed %s hashed to %x, want an error", field, h)
		}
	}
}

func TestComputeHashChainsThroughPrevHash(t *testing.T) {
	// Build a short chain and check that altering an early event changes
	// every later hash.
	build := func(actions []string) [][]byte {
		prev := GenesisHash
		var out [][]byte
		for i, a := range actions {
			e := baseAuditEvent()
			e.Seq = int64(i + 1)
			e.Action = a
			e.PrevHash = prev
			h := mustHash(t, e)
			out = append(out, h)
			prev = h
		}
		return out
	}
	orig := build([]string{"a", "b", "c", "d"})
	tampered := build([]string{"a", "B", "c", "d"})
	if !bytes.Equal(orig[0], tampered[0]) {
		t.Error("the untouched first event hashes differently")
	}
	for i := 1; i < len(orig); i++ {
		if bytes.Equal(orig[i], tampered[i]) {
			t.Errorf("event %d hash unchanged after event 2 was altered", i+1)
		}
	}
	if len(GenesisHash) != sha256.Size || !bytes.Equal(GenesisHash, make([]byte, sha256.Size)) {
		t.Errorf("GenesisHash = %x, want 32 zero bytes", GenesisHash)
	}
}

func TestHashBodyWithSeqTimeAndPrevHashIsComputeHash(t *testing.T) {
	e := baseAuditEvent()
	want := mustHash(t, e)
	after, err := CanonicalJSON(e.After)
	if err != nil {
		t.Fatal(err)
	}
	e.After = after
	h := sha256.New()
	h.Write([]byte("1:5"))
	h.Write([]byte("27:2024-04-01T10:00:00.123456Z"))
	h.Write(e.HashBody())
	h.Write(append([]byte("32:"), e.PrevHash...))
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		t.Errorf("seq + time + body + previous hash = %x, want ComputeHash's %x", got, want)
	}
	if got := HashField([]byte("abc")); string(got) != "3:abc" {
		t.Errorf("HashField = %q", got)
	}
}
