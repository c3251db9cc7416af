ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
DELETE FROM delegation_rules r WHERE r.role = 'finance_manager'
    AND EXISTS (SELECT 1 FROM delegation_rules a WHERE a.decision_kind = r.decision_kind AND a.role = 'admin');
UPDATE delegation_rules SET role = 'admin', updated_at = now() WHERE role = 'finance_manager';
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
UPDATE users SET role = 'admin' WHERE role = 'finance_manager';
ALTER TABLE delegation_changes DISABLE TRIGGER delegation_changes_guard;
UPDATE delegation_changes SET role = 'admin' WHERE role = 'finance_manager';
ALTER TABLE delegation_changes ENABLE TRIGGER delegation_changes_guard;
ALTER TABLE delegation_changes DROP CONSTRAINT delegation_changes_role_check;
ALTER TABLE delegation_changes ADD CONSTRAINT delegation_changes_role_check
    CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor'));
ALTER TABLE delegation_rules DROP CONSTRAINT delegation_rules_role_check;
ALTER TABLE delegation_rules ADD CONSTRAINT delegation_rules_role_check
    CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor'));
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor'));
