-- The tranches overdue on p_as_of, by the tranche's own payment state: due
-- before that day, on an approved award, and neither paid nor withheld
-- (due or claimed). A withheld tranche is held back on purpose, so it is
-- not overdue however little was paid; paid is the ledger's word
-- (tranche_paid_by_spend). The twin of models.Tranche.Overdue. paid is
-- still reported, so an alert can say what is outstanding.
CREATE OR REPLACE FUNCTION overdue_tranches(p_as_of date)
RETURNS TABLE (tranche_id bigint, award_id bigint, seq int, due_on date, amount numeric, paid numeric)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.award_id, t.seq, t.due_on, t.amount, coalesce(p.paid, 0)
    FROM tranches t
    JOIN awards a ON a.id = t.award_id AND a.status = 'approved'
    LEFT JOIN LATERAL (
        SELECT sum(e.amount) AS paid FROM spend_entries e
        WHERE e.award_id = t.award_id AND e.tranche_id = t.id AND e.status = 'approved') p ON true
    WHERE t.due_on < p_as_of AND t.status IN ('due', 'claimed')
$$;
