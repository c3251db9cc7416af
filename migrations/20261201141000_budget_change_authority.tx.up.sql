-- Approving a budget change is a decision under the scheme of delegation:
-- a re-profiling, a virement within a programme or a virement across
-- programmes (the higher authority), weighed by the money it moves. The
-- database asks assert_decision_authority and assert_decision_citation as
-- the change is approved, whoever sends the update.
ALTER TABLE budget_changes ADD CONSTRAINT budget_changes_decision_record_id_fkey
    FOREIGN KEY (decision_record_id) REFERENCES decision_records (id);

-- The kind of decision approving a change is, and the money it moves.
CREATE FUNCTION budget_change_decision(p_change bigint, OUT kind text, OUT amount numeric) LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN c.kind = 'reprofile' THEN 'budget_reprofile'
                WHEN (SELECT count(DISTINCT fl.programme_id) FROM budget_change_moves m JOIN funding_lines fl ON fl.id = m.funding_line_id
                      WHERE m.budget_change_id = c.id) > 1 THEN 'budget_virement_across_programmes'
                ELSE 'budget_virement_within_programme' END,
           (SELECT coalesce(sum(delta), 0) FROM budget_change_moves WHERE budget_change_id = c.id AND delta > 0)
    FROM budget_changes c WHERE c.id = p_change
$$;

CREATE FUNCTION budget_change_authority() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM budget_change_decision(NEW.id);
    PERFORM assert_decision_authority(d.kind, d.amount, NEW.decided_by, NEW.proposed_by);
    PERFORM assert_decision_citation(d.kind, d.amount, NEW.decision_record_id);
    RETURN NEW;
END $$;
CREATE TRIGGER budget_change_authority BEFORE UPDATE OF status ON budget_changes
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved') EXECUTE FUNCTION budget_change_authority();
