-- What the application role may do, in one place. The schema's owner runs
-- this after every `migrate up` (it is idempotent), with :"app" replaced by
-- the application role's name; a DBA can run it too, with
-- `psql -v app=granttrack_app -f migrations/privileges.sql`.
--
-- The application role owns nothing and is no superuser, so it can neither
-- switch a trigger off (ALTER TABLE … DISABLE TRIGGER, session_replication_role)
-- nor alter, truncate or drop a table. It may insert into and read the
-- append-only tables, update only the columns that legitimately change, and
-- delete only sessions and sign-in throttles. A table, view or function added by a migration must
-- be named here (a GRANT, or a REVOKE saying it gets nothing): a test fails
-- otherwise.
--
-- Taking a row lock (SELECT … FOR UPDATE) needs UPDATE on some column of the
-- table, so a table the application locks but never updates cannot be
-- locked that way.

-- Start from nothing, so a privilege removed from this file is removed from
-- the database; revoking a table's privileges revokes its columns' too.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, :"app";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, :"app";
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, :"app";
-- Nobody but the owner creates objects in the schema (PostgreSQL 15's
-- default, repeated for servers upgraded from older versions).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
-- Every table's id sequence: nextval for inserts, nothing else (setval
-- would need UPDATE).
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- Functions: the ones in this schema are trigger functions, which run when
-- their trigger fires whatever EXECUTE says; the application calls none.

-- People and access.
GRANT SELECT, INSERT ON users TO :"app";
GRANT UPDATE (password_hash, role, active) ON users TO :"app";
GRANT SELECT, INSERT ON api_tokens TO :"app";
GRANT UPDATE (last_used_at, revoked_at) ON api_tokens TO :"app";
-- Web sessions come and go (with sign-in throttles, all the application deletes).
GRANT SELECT, INSERT, DELETE ON sessions TO :"app";
GRANT UPDATE (data, expires_at, user_id, signed_in_at, address) ON sessions TO :"app";
-- Account administration (migration accounts): a password reset is used
-- once; an account's authority over money is granted by a second admin
-- (account_grants_guard), and a role that approves money is written only
-- beside its grant (users_role_guard).
GRANT SELECT, INSERT ON password_resets TO :"app";
GRANT UPDATE (used_at) ON password_resets TO :"app";
GRANT SELECT, INSERT ON account_grants TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON account_grants TO :"app";
-- Keys the app nodes share (the CSRF signing key): created once, read after.
GRANT SELECT, INSERT ON server_keys TO :"app";
-- Failed sign-ins by address and account: counted, forgiven and forgotten.
GRANT SELECT, INSERT, DELETE ON sign_in_throttles TO :"app";
GRANT UPDATE (failures, last_attempt_at, locked_until) ON sign_in_throttles TO :"app";
-- Single sign-on: a user's link to a provider account is set and cleared
-- (`granttrack user sso`); a sign-in under way at the provider is written
-- at its start and deleted, once, when the browser comes back.
GRANT UPDATE (oidc_issuer, oidc_subject) ON users TO :"app";
GRANT SELECT, INSERT, DELETE ON oidc_sign_ins TO :"app";

-- Reference data, edited through the forms.
GRANT SELECT, INSERT ON organisations TO :"app";
GRANT UPDATE (name, org_id, charity_number, company_number, borough, gss_code, is_funder, is_recipient, is_supplier, updated_at)
    ON organisations TO :"app";
GRANT SELECT, INSERT ON programmes TO :"app";
GRANT UPDATE (code, name, description, plan, updated_at) ON programmes TO :"app";
GRANT SELECT, INSERT ON funding_lines TO :"app";
GRANT UPDATE (code, title, description, kind, programme_id, funder_id, budget, starts_on, ends_on, status,
    tender_reference, tender_min_value, tender_max_value, tender_closes_on, awarded_supplier_id, updated_at)
    ON funding_lines TO :"app";
-- The finance system's codes (cost centre, GL account), edited like the rest.
GRANT UPDATE (cost_centre, gl_account) ON funding_lines TO :"app";

-- Awards are proposed, then decided once by a second person (the guard
-- trigger holds that); their tranches are never changed.
GRANT SELECT, INSERT ON awards TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON awards TO :"app";
GRANT SELECT, INSERT ON tranches TO :"app";
-- A reservation is closed once: released or converted.
GRANT SELECT, INSERT ON reservations TO :"app";
GRANT UPDATE (status, release_reason, closed_by, closed_at) ON reservations TO :"app";

-- Two-person decisions and the scheme of delegation. A proposal is decided
-- once (the guard triggers hold that); the scheme's rules change only
-- through an approved delegation change (delegation_rules_guard), and the
-- kinds of decision are the migrations' alone.
GRANT SELECT, INSERT ON decision_records TO :"app";
GRANT SELECT ON delegation_kinds TO :"app";
GRANT SELECT, INSERT, DELETE ON delegation_rules TO :"app";
GRANT UPDATE (max_amount, updated_at) ON delegation_rules TO :"app";
GRANT SELECT, INSERT ON line_decisions TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON line_decisions TO :"app";
GRANT SELECT, INSERT ON delegation_changes TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON delegation_changes TO :"app";
-- The rules the triggers call with the caller's rights.
GRANT EXECUTE ON FUNCTION assert_decision_authority(text, numeric, bigint, bigint) TO :"app";
GRANT EXECUTE ON FUNCTION assert_decision_citation(text, numeric, bigint) TO :"app";

-- Budgets by financial year. A draft line's profile is replaced as a whole
-- (delete and insert); an approved line's changes only by an approved
-- budget change, applied by its trigger (budget_changed_by_budget_change).
GRANT SELECT, INSERT, DELETE ON budget_profiles TO :"app";
GRANT UPDATE (amount) ON budget_profiles TO :"app";
GRANT SELECT, INSERT ON budget_changes TO :"app";
GRANT UPDATE (status, decided_by, decided_at, rejection_reason) ON budget_changes TO :"app";
GRANT SELECT, INSERT ON budget_change_moves TO :"app";
-- What the budget triggers compute with, at the caller's rights.
GRANT EXECUTE ON FUNCTION financial_year_of(date) TO :"app";
GRANT EXECUTE ON FUNCTION straight_line_profile(numeric, date, date) TO :"app";
GRANT EXECUTE ON FUNCTION year_spent(bigint, integer) TO :"app";
GRANT EXECUTE ON FUNCTION budget_year_floors(bigint) TO :"app";
GRANT EXECUTE ON FUNCTION budget_line_floor(bigint) TO :"app";
GRANT EXECUTE ON FUNCTION budget_change_decision(bigint) TO :"app";

-- Award variations and cancellations: proposed, then decided once (the
-- guard trigger holds that); approving one applies it through
-- award_variation_apply, which runs as the owner, so the application never
-- writes an award's amount, dates or tranches itself.
GRANT SELECT, INSERT ON award_variations TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON award_variations TO :"app";
GRANT SELECT, INSERT ON award_variation_tranches TO :"app";
GRANT EXECUTE ON FUNCTION award_variation_decision(bigint) TO :"app";

-- A creating request's Idempotency-Key and the answer it got, kept in the
-- request's own transaction.
GRANT SELECT, INSERT ON idempotency_keys TO :"app";
GRANT UPDATE (status, location, response) ON idempotency_keys TO :"app";

-- The ledger: an entry is recorded, then decided once; never deleted.
GRANT SELECT, INSERT ON spend_entries TO :"app";
GRANT UPDATE (status, decided_by, decided_at, rejection_reason) ON spend_entries TO :"app";
GRANT SELECT, INSERT ON spend_imports TO :"app";
GRANT SELECT, INSERT ON spend_evidence TO :"app";
-- The rollup is written only by its triggers, which run as the owner
-- (SECURITY DEFINER): the application reads it.
GRANT SELECT ON spend_monthly TO :"app";

-- Office holders' expenses for the publishing pack: recorded once, read.
GRANT SELECT, INSERT ON office_holder_expenses TO :"app";
-- Each is then decided once by a second person (or withdrawn by its
-- recorder): office_holder_expenses_append_only checks the decision.
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON office_holder_expenses TO :"app";

-- Outcomes: indicators and their readings, corrected by new revisions.
GRANT SELECT, INSERT ON indicators TO :"app";
GRANT SELECT, INSERT ON measurements TO :"app";

-- The audit trail: appended to, never changed; the head moves with each
-- event (and a head moved by anyone else breaks the chain, which audit
-- verify reports).
GRANT SELECT, INSERT ON audit_events TO :"app";
GRANT SELECT, UPDATE (seq, hash) ON audit_head TO :"app";

-- Verification runs are kept as they were; the checkpoint moves forward
-- with each passing run (a full run re-checks everything before it anyway).
GRANT SELECT, INSERT ON verification_runs TO :"app";
GRANT SELECT, UPDATE (seq, hash, entry_id, verified_at) ON verification_checkpoint TO :"app";

-- Migrations: the application reads which are applied, to refuse to serve
-- an old schema; only the owner migrates.
GRANT SELECT ON bun_migrations TO :"app";
REVOKE ALL ON bun_migration_locks FROM :"app";

-- Contracts: a contract line's procurement, edited with the line.
GRANT UPDATE (procurement_method, direct_award_reason, framework_name, contract_title, tender_published_on,
    contract_value, contract_starts_on, contract_ends_on, main_procurement_category)
    ON funding_lines TO :"app";
-- A contract's band exception: proposed, then decided once by a second
-- person (contract_band_exceptions_guard holds that).
GRANT SELECT, INSERT ON contract_band_exceptions TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON contract_band_exceptions TO :"app";
-- Alerts: the thresholds are one row, changed by admins (never added or
-- removed); the rules the alerts query calls.
GRANT SELECT ON alert_settings TO :"app";
GRANT UPDATE (budget_used_percent, ending_within_days, tranche_grace_days, updated_by, updated_at) ON alert_settings TO :"app";
GRANT EXECUTE ON FUNCTION overdue_tranches(date) TO :"app";
GRANT EXECUTE ON FUNCTION measurement_due(text, date) TO :"app";
-- Payments: a tranche is claimed, withheld and released by people; it
-- becomes paid (and due again after a reversal) only by the ledger, in
-- tranches_paid_by_spend, which runs as the owner. Payment runs are
-- proposed, then decided once; each payment names its spend entry once and
-- the finance system's confirmation once (payment_run_items_guard).
GRANT UPDATE (status, claimed_on, withheld_reason, status_changed_at) ON tranches TO :"app";
GRANT SELECT, INSERT ON payment_runs TO :"app";
GRANT UPDATE (status, decided_by, decided_at, decision_reason) ON payment_runs TO :"app";
GRANT SELECT, INSERT ON payment_run_items TO :"app";
GRANT UPDATE (spend_entry_id, confirmed_on, confirmed_amount) ON payment_run_items TO :"app";
GRANT EXECUTE ON FUNCTION tranche_paid(bigint) TO :"app";
GRANT EXECUTE ON FUNCTION payment_run_total(bigint) TO :"app";
-- Outcome indicators' definitions are corrected by new revisions, never
-- edited (indicator_revisions_append_only); the indicators row follows the
-- newest revision through indicators_follow_revision, which runs as the owner.
GRANT SELECT, INSERT ON indicator_revisions TO :"app";

-- The yearly rollup, like the monthly one, is written only by its triggers,
-- which run as the owner (SECURITY DEFINER): the application reads it.
GRANT SELECT ON spend_yearly TO :"app";
-- The monthly totals likewise; the application may fold their rows
-- (compact_spend_month_totals keeps every total) but not write them.
GRANT SELECT ON spend_month_totals TO :"app";
GRANT EXECUTE ON FUNCTION compact_spend_month_totals() TO :"app";
-- Each indicator's latest reading, raised only by its trigger (as the
-- owner): the application reads it.
GRANT SELECT ON indicator_last_readings TO :"app";
-- The line catalogue's version is bumped only by its triggers, which run as
-- the owner: the application reads it, and cannot wind it back.
GRANT SELECT ON line_catalogue_version TO :"app";
-- The lines whose money moved, and the mark below which they were pruned,
-- are written only by their triggers and prune_line_money_changes, which
-- run as the owner: the application reads them, and may ask for pruning
-- (which removes only changes every snapshot already sees), but cannot hide
-- a change from a process that keeps money between reports.
GRANT SELECT ON line_money_changes TO :"app";
GRANT SELECT ON line_money_changes_pruned TO :"app";
GRANT EXECUTE ON FUNCTION prune_line_money_changes() TO :"app";
-- Org-id registers (org_id_registered): the copy of the local-authority-eng
-- register that organisations' GB-LAE codes are checked against, read by
-- the trigger (which runs as the application) and by nothing else.
GRANT SELECT ON local_authority_eng TO :"app";
-- Two-factor sign-in: an account's TOTP secret (replaced while unconfirmed,
-- removed when turned off or reset), its recovery codes (each used once:
-- two_factor_recovery_once), the roles that must use it (one row, changed by
-- admins), and sign-ins awaiting their code (deleted when used or expired).
GRANT SELECT, INSERT, DELETE ON user_totp TO :"app";
GRANT UPDATE (secret, confirmed_at, last_step, created_at) ON user_totp TO :"app";
GRANT SELECT, INSERT, DELETE ON two_factor_recovery_codes TO :"app";
GRANT UPDATE (used_at) ON two_factor_recovery_codes TO :"app";
GRANT SELECT ON two_factor_settings TO :"app";
GRANT UPDATE (required_roles, updated_by, updated_at) ON two_factor_settings TO :"app";
GRANT SELECT, INSERT, DELETE ON sign_in_pending TO :"app";
-- Contract documents (invitations to tender, contracts, other tender
-- documents): uploaded and read, never changed or deleted
-- (contract_document_append_only).
GRANT SELECT, INSERT ON contract_documents TO :"app";
-- Publisher settings (one row, publisher_settings_one_row): read for every
-- open-data export, changed by admins, never inserted or deleted.
GRANT SELECT ON publisher_settings TO :"app";
GRANT UPDATE (name, uri, org_id, three_sixty_giving_prefix, ocid_prefix, licence, updated_by, updated_at) ON publisher_settings TO :"app";
