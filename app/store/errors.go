package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/puddle/v2"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/models"
)

// constraintErrors turn a violated constraint, picked by name, into the
// message and field a user sees.
var constraintErrors = map[string]struct {
	code, field, message string
}{
	"users_email_key":                        {models.ECONFLICT, "email", "a user with this email already exists"},
	"users_oidc_identity_key":                {models.ECONFLICT, "", "another user is linked to that identity provider account"},
	"organisations_org_id_key":               {models.ECONFLICT, "org_id", "an organisation with this org-id already exists"},
	"organisations_name_key":                 {models.ECONFLICT, "name", "an organisation with this name already exists"},
	"programmes_code_key":                    {models.ECONFLICT, "code", "a programme with this code already exists"},
	"funding_lines_code_key":                 {models.ECONFLICT, "code", "a funding line with this code already exists"},
	"awards_reference_key":                   {models.ECONFLICT, "reference", "an award with this reference already exists"},
	"funding_lines_programme_id_fkey":        {models.EINVALID, "programme_id", "no such programme"},
	"funding_lines_funder_id_fkey":           {models.EINVALID, "funder_id", "no such organisation"},
	"funding_lines_awarded_supplier_id_fkey": {models.EINVALID, "tender.awarded_supplier_id", "no such organisation"},
	"awards_recipient_id_fkey":               {models.EINVALID, "recipient_id", "no such organisation"},
	"awards_funding_line_id_fkey":            {models.ENOTFOUND, "", "no such funding line"},
	"awards_within_budget":                   {models.ECONFLICT, "amount", "the awards and reservations on this funding line would exceed its budget"},
	"reservations_close_once":                {models.ECONFLICT, "", "a reservation can only be released or converted once, and is never edited or deleted"},
	"reservations_funding_line_id_fkey":      {models.ENOTFOUND, "", "no such funding line"},
	"awards_reservation_key":                 {models.ECONFLICT, "", "that reservation has already been converted into an award"},
	"indicators_funding_line_id_fkey":        {models.EINVALID, "funding_line_id", "no such funding line"},
	"indicators_programme_id_fkey":           {models.EINVALID, "programme_id", "no such programme"},
	"measurements_indicator_id_fkey":         {models.ENOTFOUND, "", "no such indicator"},
	"measurements_superseded_once":           {models.ECONFLICT, "supersedes", "that measurement has already been corrected; correct the latest revision"},
	"measurements_one_current_per_period":    {models.ECONFLICT, "supersedes", "the indicator already has a reading for this period: record a correction that names it, for the same period"},
	"awards_line_open":                       {models.ECONFLICT, "", "awards can only be made on an approved or active funding line"},
	"awards_recipient_org_id":                {models.EINVALID, "recipient_id", "the recipient needs its org-id (e.g. GB-CHC-1077810) before its first award"},
	"tranches_sum_to_award":                  {models.EINVALID, "tranches", "the tranches must add up to the award to the penny"},
	"funding_lines_status_transition":        {models.EINVALID, "status", "that status change is not allowed"},
	"funding_lines_tender_band_check":        {models.EINVALID, "tender.max_value", "the tender's maximum must be at least its minimum"},
	"funding_lines_tender_kind_check":        {models.EINVALID, "tender", "only a contract has a tender"},
	"spend_entries_append_only":              {models.ECONFLICT, "", "the spend ledger is append-only; record a reversal instead"},
	"spend_entries_maker_checker":            {models.EFORBIDDEN, "", "spend must be approved by someone other than the person who recorded it"},
	"audit_events_append_only":               {models.ECONFLICT, "", "the audit trail is append-only"},
	"spend_line_active":                      {models.ECONFLICT, "funding_line_id", "spend is recorded and approved only on an active funding line"},
	"spend_within_line_dates":                {models.ECONFLICT, "incurred_on", "spend must be incurred within its funding line's dates"},
	"spend_within_award_dates":               {models.ECONFLICT, "incurred_on", "spend must be incurred within its award's dates"},
	"spend_award_approved":                   {models.ECONFLICT, "award_id", "spend is recorded only against an approved award"},
	"funding_lines_status_decision":          {models.EFORBIDDEN, "status", "a funding line is approved or activated only by a second person's decision"},
	"awards_within_line_dates":               {models.EINVALID, "ends_on", "an award must run within its funding line's dates"},
	"awards_recipient_can_receive":           {models.EINVALID, "recipient_id", "that organisation cannot receive an award"},
	"awards_decided_once":                    {models.ECONFLICT, "", "an award is proposed pending and decided once by someone else"},
	"line_decisions_decided_once":            {models.ECONFLICT, "", "a proposal is decided once and never changed"},
	"line_decisions_one_pending":             {models.ECONFLICT, "", "this funding line already has a proposal awaiting a decision"},
	"delegation_rules_by_decision":           {models.EFORBIDDEN, "", "the scheme of delegation changes only through a change one admin proposes and another approves"},
	"delegation_changes_decided_once":        {models.ECONFLICT, "", "a proposal is decided once and never changed"},
	"budget_profile_sums_to_budget":          {models.EINVALID, "years", "the budget profile must add up to the line's budget to the penny, within the line's years"},
	"budget_above_floor":                     {models.ECONFLICT, "", "the budget change would leave a year or a line below what is already approved and committed in it"},
	"spend_within_year_budget":               {models.ECONFLICT, "", "the approval would take a year's approved spend above its profiled budget"},
	"budget_changed_by_budget_change":        {models.ECONFLICT, "", "an approved line's budget and profile change only through an approved budget change"},
	"budget_change_balances":                 {models.EINVALID, "moves", "a budget change's moves must add up to zero (an increase's must all add money to one line)"},
	"budget_change_effective_on":             {models.EINVALID, "effective_on", "a budget change's effective date must fall within the dates of each line it moves and not after a year it moves has ended"},
	"budget_change_line_open":                {models.ECONFLICT, "", "budget changes apply to approved or active lines only"},
	"budget_changes_append_only":             {models.ECONFLICT, "", "budget changes are never edited or deleted; withdraw a pending change and propose another"},
	"budget_changes_maker_checker":           {models.EFORBIDDEN, "", "a budget change must be approved by someone other than the person who proposed it"},
	"budget_profiles_amount_check":           {models.ECONFLICT, "", "a year's budget cannot go below zero"},
	"decision_kind_unknown":                  {models.EINVALID, "", "the scheme of delegation has no such kind of decision"},
	"decision_citation_required":             {models.EINVALID, "decision_record_id", "this decision must cite the decision record that authorised it"},
	"decision_records_reference_key":         {models.ECONFLICT, "reference", "a decision record with this reference already exists"},
	"award_covers_spend":                     {models.ECONFLICT, "amount", "an award cannot go below the spend already approved against it, nor be cancelled with any"},
	"award_dates_cover_spend":                {models.ECONFLICT, "ends_on", "an award's dates must cover the spend recorded against it"},
	"awards_varied_by_decision":              {models.EFORBIDDEN, "", "an approved award changes only by a variation or cancellation one person proposes and another approves"},
	"award_variations_decided_once":          {models.ECONFLICT, "", "a proposal is decided once and never changed"},
	"award_variations_award_approved":        {models.ECONFLICT, "", "only an approved award is varied or cancelled"},
	"award_variations_one_pending":           {models.ECONFLICT, "", "this award already has a variation or cancellation awaiting a decision"},
	"alert_settings_budget_used_percent":     {models.EINVALID, "budget_used_percent", "must be a whole percentage from 1 to 100"},
	"alert_settings_ending_within_days":      {models.EINVALID, "ending_within_days", "must be a whole number of days from 1 to 366"},
	"alert_settings_tranche_grace_days":      {models.EINVALID, "tranche_grace_days", "must be a whole number of days from 0 to 90"},
	"spend_evidence_append_only":             {models.ECONFLICT, "", "spend evidence is append-only; add the right file beside a wrong one"},
	"account_grant_required":                 {models.EFORBIDDEN, "role", "a role that approves money is given only through an account grant one admin proposes and another approves"},
	"account_grants_decided_once":            {models.ECONFLICT, "", "an account grant is decided once"},
	"account_grants_one_pending":             {models.ECONFLICT, "role", "this account already has a grant awaiting a second admin"},
	"password_resets_token_hash_key":         {models.ECONFLICT, "", "that reset link was already issued"},
	// Contracts (contracts.go).
	"funding_lines_procurement_method_check":        {models.EINVALID, "tender.procurement_method", "must be one of open, restricted, competitive_with_negotiation, direct_award or framework_call_off"},
	"funding_lines_main_procurement_category_check": {models.EINVALID, "tender.main_procurement_category", "must be one of goods, services or works"},
	"funding_lines_direct_award_reason":             {models.EINVALID, "tender.direct_award_reason", "a direct award, and only a direct award, says why the contract was not competed"},
	"funding_lines_framework_named":                 {models.EINVALID, "tender.framework_name", "a call-off, and only a call-off, names the framework it is called off"},
	"funding_lines_contract_title_check":            {models.EINVALID, "tender.contract_title", "must not be blank"},
	"funding_lines_contract_value_check":            {models.EINVALID, "tender.contract_value", "must be more than zero"},
	"funding_lines_tender_period_check":             {models.EINVALID, "tender.closes_on", "must be on or after the day the tender was published"},
	"funding_lines_contract_period_check":           {models.EINVALID, "tender.contract_ends_on", "must be on or after the day the contract starts"},
	"funding_lines_contract_within_line":            {models.EINVALID, "tender.contract_starts_on", "the contract must run within its funding line's dates"},
	"funding_lines_contract_complete":               {models.EINVALID, "tender.contract_value", "a contract's value is recorded with its winning supplier, title, dates, procedure and category"},
	"contract_within_band":                          {models.ECONFLICT, "tender.contract_value", "the contract's value lies outside its tender's band with no approved band exception"},
	"award_to_winning_supplier":                     {models.EINVALID, "recipient_id", "an award on a contract line goes to the tender's winning supplier"},
	"award_within_contract":                         {models.EINVALID, "amount", "the awards on a contract line add up to no more than the contract's value"},
	"contract_band_exceptions_decided_once":         {models.ECONFLICT, "", "a proposal is decided once and never changed"},
	"contract_band_exceptions_one_pending":          {models.ECONFLICT, "", "this funding line already has a band exception awaiting a decision"},
	"funding_lines_procurement_kind_check":          {models.EINVALID, "tender", "only a contract has a procurement"},
	// Contract documents.
	"contract_document_append_only":          {models.ECONFLICT, "", "contract documents are append-only; upload the replacement as a new document that supersedes the old one"},
	"contract_document_on_contract_line":     {models.EINVALID, "", "only a contract line has tender and contract documents"},
	"contract_document_supersedes_same_kind": {models.EINVALID, "supersedes_id", "a document replaces only a document of the same kind on the same line"},
	"contract_documents_superseded_once":     {models.ECONFLICT, "supersedes_id", "that document has already been replaced; replace its latest version"},
	// Payments.
	"spend_within_tranche":             {models.ECONFLICT, "tranche_id", "approved spend naming a tranche cannot exceed what the tranche has outstanding"},
	"spend_tranche_withheld":           {models.ECONFLICT, "tranche_id", "the tranche is withheld; release it before paying it"},
	"spend_entries_tranche_award_fkey": {models.EINVALID, "tranche_id", "no such tranche of that award"},
	"spend_entries_award_line_fkey":    {models.EINVALID, "award_id", "no such award on that funding line"},
	"tranche_status_transition":        {models.EINVALID, "status", "that change of a tranche's status is not allowed"},
	"tranche_paid_by_spend":            {models.ECONFLICT, "status", "a tranche is paid exactly when approved spend naming it reaches its amount"},
	"payment_run_tranche_payable":      {models.ECONFLICT, "tranche_ids", "a payment run pays a due or claimed tranche's outstanding amount, in one run only"},
	"payment_run_items_paid_by_entry":  {models.ECONFLICT, "", "a payment names its approved spend entry once, and its confirmation once after approval"},
	"payment_runs_decided_once":        {models.ECONFLICT, "", "a payment run is decided once and never changed or deleted"},
	"payment_run_paid_in_full":         {models.ECONFLICT, "", "approving a payment run records an approved spend entry for every payment in it"},
	"payment_runs_maker_checker":       {models.EFORBIDDEN, "", "a payment run is approved or rejected by someone other than its proposer, and withdrawn only by them"},
	// Office holders' expenses (expenses.go).
	"office_holder_expenses_decided_once": {models.ECONFLICT, "", "an office holder's expense is recorded pending, then decided once by someone else, and never otherwise changed"},
	"office_holder_expenses_append_only":  {models.ECONFLICT, "", "office holders' expenses are never deleted"},
	// Org-ids (models.NormaliseOrgID holds the same rule in Go).
	"org_id_registered": {models.EINVALID, "org_id", "is not in its register: a GB-LAE code must be in the local-authority-eng register, a GB-COH number 8 digits or a Companies House prefix and 6 digits"},
}

// decisionRules are assert_decision_authority's refusals, by the constraint
// name it raises them with.
var decisionRules = map[string]error{
	"decision_four_eyes":         models.ErrFourEyes,
	"decision_role_authority":    models.ErrRoleAuthority,
	"decision_amount_authority":  models.ErrAmountAuthority,
	"decision_authority_pending": models.ErrAuthorityPending,
}

// translate turns a driver error into a coded error; coded errors and nil
// pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var coded *models.Error
	if errors.As(err, &coded) {
		return err
	}
	if unavailable(err) {
		return &models.Error{Code: models.EUNAVAILABLE, Message: "The database is not reachable; try again shortly.", Err: err}
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if rule, ok := decisionRules[pgErr.ConstraintName]; ok {
		// The database's message names the user, role, kind and amounts: show
		// it without the rule's name, which the caller can test with errors.Is.
		msg := strings.TrimPrefix(pgErr.Message, pgErr.ConstraintName+": ")
		return &models.Error{Code: models.EFORBIDDEN, Message: upperFirst(msg) + ".", Err: errors.Join(rule, err)}
	}
	if ce, ok := constraintErrors[pgErr.ConstraintName]; ok {
		e := &models.Error{Code: ce.code, Message: upperFirst(ce.message) + ".", Err: err}
		if ce.field != "" {
			e.Fields = []models.FieldError{{Field: ce.field, Message: ce.message}}
		}
		return e
	}
	switch pgErr.Code {
	case "23505":
		return &models.Error{Code: models.ECONFLICT, Message: "That already exists.", Err: err}
	case "23503":
		return &models.Error{Code: models.EINVALID, Message: "That refers to something that does not exist.", Err: err}
	case "23514", "23502", "22001", "22003":
		return &models.Error{Code: models.EINVALID, Message: "The input breaks a rule of the ledger.", Err: err}
	case "40001", "40P01":
		return &models.Error{Code: models.ECONFLICT, Message: "Another change got there first; please try again.", Err: err}
	}
	return err
}

// unavailable reports whether err says the database cannot be reached or is
// going away, rather than that a query was wrong: a refused or broken
// connection, a closed pool, or the server shutting down or full.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || // connection exception
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || // shutting down, cannot connect now
			pgErr.Code == "53300" // too many connections
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, context.DeadlineExceeded) || err.Error() == "sql: database is closed" || pgconn.SafeToRetry(err)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
