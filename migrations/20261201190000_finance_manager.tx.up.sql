-- Separation of duties: managing accounts and approving money are different
-- duties. A new role, finance_manager, takes over every money authority the
-- admin role held; admins keep account management and the scheme of
-- delegation (delegation_change, and the account grants a later migration
-- adds). Every kind of decision other than those moves, so kinds added by
-- earlier migrations move too.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'finance_officer', 'finance_manager', 'board_member', 'auditor'));
ALTER TABLE delegation_rules DROP CONSTRAINT delegation_rules_role_check;
ALTER TABLE delegation_rules ADD CONSTRAINT delegation_rules_role_check
    CHECK (role IN ('admin', 'finance_officer', 'finance_manager', 'board_member', 'auditor'));
ALTER TABLE delegation_changes DROP CONSTRAINT delegation_changes_role_check;
ALTER TABLE delegation_changes ADD CONSTRAINT delegation_changes_role_check
    CHECK (role IN ('admin', 'finance_officer', 'finance_manager', 'board_member', 'auditor'));
-- The rules change only through an approved delegation change
-- (delegation_rules_guard); this one is the schema's own change, made by its
-- owner inside this migration's transaction.
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
UPDATE delegation_rules SET role = 'finance_manager', updated_at = now()
WHERE role = 'admin' AND decision_kind NOT IN ('delegation_change', 'account_grant');
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
