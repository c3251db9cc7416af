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
	"awards_line_open":                       {models.ECONFLICT, "", "awards can only be made on an approved or active funding line"},
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
	"funding_lines_budget_covers_spend":      {models.ECONFLICT, "budget", "the budget cannot be less than the line's approved spend, awards and reservations"},
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
	"budget_change_balances":                 {models.EINVALID, "moves", "a budget change's moves must add up to zero"},
	"budget_change_line_open":                {models.ECONFLICT, "", "budget changes apply to approved or active lines only"},
	"budget_changes_append_only":             {models.ECONFLICT, "", "budget changes are never edited or deleted; withdraw a pending change and propose another"},
	"budget_changes_maker_checker":           {models.EFORBIDDEN, "", "a budget change must be approved by someone other than the person who proposed it"},
	"budget_profiles_amount_check":           {models.ECONFLICT, "", "a year's budget cannot go below zero"},
	"decision_kind_unknown":                  {models.EINVALID, "", "the scheme of delegation has no such kind of decision"},
	"decision_citation_required":             {models.EINVALID, "decision_record_id", "this decision must cite the decision record that authorised it"},
	"decision_records_reference_key":         {models.ECONFLICT, "reference", "a decision record with this reference already exists"},
	"spend_evidence_append_only":             {models.ECONFLICT, "", "spend evidence is append-only; add the right file beside a wrong one"},
}

// decisionRules are assert_decision_authority's refusals, by the constraint
// name it raises them with.
var decisionRules = map[string]error{
	"decision_four_eyes":        models.ErrFourEyes,
	"decision_role_authority":   models.ErrRoleAuthority,
	"decision_amount_authority": models.ErrAmountAuthority,
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
