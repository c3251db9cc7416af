-- The scheme of delegation: for each kind of money decision, which roles may
-- approve it and up to what amount, and above what amount the decision must
-- cite a published decision record. It is data, so the database can check
-- every decision against it (assert_decision_authority), whoever sends it.

-- A published decision, e.g. MOPAC's "PCD 1519": lines, awards, budget
-- changes and virements cite the record that authorised them.
CREATE TABLE decision_records (
    id             bigserial PRIMARY KEY,
    reference      text NOT NULL CHECK (btrim(reference) <> ''),
    title          text NOT NULL CHECK (btrim(title) <> ''),
    signed_on      date NOT NULL,
    decision_maker text NOT NULL CHECK (btrim(decision_maker) <> ''),
    url            text NOT NULL DEFAULT '' CHECK (url = '' OR url ~ '^https?://\S+$'),
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT decision_records_reference_key UNIQUE (reference)
);

-- Every kind of decision the scheme knows. A decision citing no record above
-- citation_required_above (NULL: never required) is refused.
CREATE TABLE delegation_kinds (
    decision_kind           text PRIMARY KEY CHECK (decision_kind ~ '^[a-z][a-z_]*$'),
    citation_required_above numeric(15,2) CHECK (citation_required_above >= 0 AND citation_required_above <> 'NaN'),
    description             text NOT NULL CHECK (btrim(description) <> '')
);

-- Who may approve a kind of decision, and up to what amount (NULL: no
-- limit). A role with no row for a kind may not approve it at all.
CREATE TABLE delegation_rules (
    decision_kind text NOT NULL REFERENCES delegation_kinds (decision_kind),
    role          text NOT NULL CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor')),
    max_amount    numeric(15,2) CHECK (max_amount >= 0 AND max_amount <> 'NaN'),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision_kind, role)
);

-- The defaults: finance officers approve up to £100,000 (the spend approval
-- limit the ledger always had); above that, and for virements across
-- programmes and changes to this scheme, an admin.
INSERT INTO delegation_kinds (decision_kind, citation_required_above, description) VALUES
    ('spend',                             NULL,       'Approve a spend entry or a reversal'),
    ('line_approval',                     1000000.00, 'Approve a funding line (draft to approved)'),
    ('line_activation',                   NULL,       'Activate an approved funding line'),
    ('award',                             1000000.00, 'Approve an award from a funding line'),
    ('award_variation',                   1000000.00, 'Approve a change to an award'),
    ('award_cancellation',                NULL,       'Approve the cancellation of an award'),
    ('reservation_conversion',            1000000.00, 'Approve converting a reservation into an award'),
    ('budget_reprofile',                  NULL,       'Approve moving a line''s budget between financial years'),
    ('budget_virement_within_programme',  1000000.00, 'Approve moving budget between lines of one programme'),
    ('budget_virement_across_programmes', 0.00,       'Approve moving budget between lines of different programmes'),
    ('budget_increase',                   1000000.00, 'Approve raising a funding line''s budget'),
    ('delegation_change',                 NULL,       'Approve a change to this scheme of delegation');

INSERT INTO delegation_rules (decision_kind, role, max_amount)
SELECT k.decision_kind, r.role, CASE WHEN r.role = 'admin' THEN NULL ELSE 100000.00 END
FROM delegation_kinds k
CROSS JOIN (VALUES ('admin'), ('finance_officer')) AS r (role)
WHERE r.role = 'admin' OR k.decision_kind NOT IN ('budget_virement_across_programmes', 'delegation_change');

-- assert_decision_authority refuses a decision unless the decider may take
-- it. Each refusal is insufficient_privilege (SQLSTATE 42501) and names its
-- rule both as the constraint and as the message's first word, so the
-- application turns either layer's refusal into the same words:
--   decision_four_eyes        the decider proposed it (or nobody decided)
--   decision_role_authority   the decider is unknown, inactive, or their role
--                             has no rule for this kind of decision
--   decision_amount_authority the amount is above the role's limit
--   decision_kind_unknown     the scheme has no such kind (check_violation)
-- p_amount is compared by absolute value (a reversal weighs as much as the
-- spend it undoes); NULL means the decision has no amount.
CREATE FUNCTION assert_decision_authority(p_kind text, p_amount numeric, p_decider bigint, p_proposer bigint)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
    d_role   text;
    d_active boolean;
    d_email  text;
    rule     delegation_rules;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delegation_kinds WHERE decision_kind = p_kind) THEN
        RAISE EXCEPTION 'decision_kind_unknown: the scheme of delegation has no kind of decision "%"', p_kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'decision_kind_unknown';
    END IF;
    IF p_decider IS NULL OR p_decider IS NOT DISTINCT FROM p_proposer THEN
        RAISE EXCEPTION 'decision_four_eyes: a % decision must be approved by someone other than the user who proposed it (user %)',
            p_kind, p_proposer
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_four_eyes';
    END IF;
    SELECT role, active, email INTO d_role, d_active, d_email FROM users WHERE id = p_decider;
    IF NOT FOUND OR NOT d_active THEN
        RAISE EXCEPTION 'decision_role_authority: user % is not an active user and cannot approve a % decision', p_decider, p_kind
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    SELECT * INTO rule FROM delegation_rules WHERE decision_kind = p_kind AND role = d_role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'decision_role_authority: % (%) cannot approve a % decision: the scheme of delegation gives the % role no authority for it',
            d_email, d_role, p_kind, d_role
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    IF p_amount IS NOT NULL AND rule.max_amount IS NOT NULL AND abs(p_amount) > rule.max_amount THEN
        RAISE EXCEPTION 'decision_amount_authority: % (%) may approve a % decision up to %, not %',
            d_email, d_role, p_kind, rule.max_amount, abs(p_amount)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_amount_authority';
    END IF;
END $$;

-- assert_decision_citation refuses a decision above its kind's
-- citation_required_above that cites no decision record:
--   decision_citation_required (check_violation, SQLSTATE 23514).
CREATE FUNCTION assert_decision_citation(p_kind text, p_amount numeric, p_decision_record_id bigint)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
    threshold numeric;
BEGIN
    SELECT citation_required_above INTO threshold FROM delegation_kinds WHERE decision_kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'decision_kind_unknown: the scheme of delegation has no kind of decision "%"', p_kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'decision_kind_unknown';
    END IF;
    IF p_decision_record_id IS NULL AND threshold IS NOT NULL AND abs(coalesce(p_amount, 0)) > threshold THEN
        RAISE EXCEPTION 'decision_citation_required: a % decision above % must cite the decision record that authorised it; this one is %',
            p_kind, threshold, abs(p_amount)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'decision_citation_required';
    END IF;
END $$;
