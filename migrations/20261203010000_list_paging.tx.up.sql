-- Indexes for the paged lists: each list's order under its filters, so a
-- page (or, for the audit trail, a keyset cursor) reads only its rows.

-- The audit trail pages by sequence under each filter; these replace the
-- indexes on (entity, entity_id) and (actor_id) they extend.
CREATE INDEX audit_events_entity_seq_idx ON audit_events (entity, entity_id, seq);
DROP INDEX audit_events_entity_idx;
CREATE INDEX audit_events_actor_seq_idx ON audit_events (actor_id, seq);
DROP INDEX audit_events_actor_idx;
CREATE INDEX audit_events_entity_only_seq_idx ON audit_events (entity, seq);
CREATE INDEX audit_events_action_seq_idx ON audit_events (action, seq);
CREATE INDEX audit_events_actor_label_seq_idx ON audit_events (actor, seq);

-- Awards, oldest first, of every line and of one line; searched by their
-- reference and purpose as the other lists are.
CREATE INDEX awards_order_idx ON awards (awarded_on, id);
CREATE INDEX awards_line_order_idx ON awards (funding_line_id, awarded_on, id);
CREATE INDEX awards_reference_trgm ON awards USING gin (reference search.gin_trgm_ops);
CREATE INDEX awards_purpose_trgm ON awards USING gin (purpose search.gin_trgm_ops);

-- Decision records, newest signed first.
CREATE INDEX decision_records_signed_idx ON decision_records (signed_on DESC, reference, id);
