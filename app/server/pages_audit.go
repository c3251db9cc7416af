package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// The auditors' pages: the audit trail with its chain's state, and ledger
// exports downloaded with the web session.

func (s *Server) registerAuditPages() {
	s.app.Get("/audit", s.requireWebRole(auditors), s.auditPage)
	s.app.Post("/audit/verify", s.requireWebRole(auditors), s.verifyNowPage)
	s.app.Get("/exports", s.requireWebRole(auditors), s.exportsPage)
	s.app.Get("/exports/ledger", s.requireWebRole(auditors), s.exportLedgerPage)
	s.app.Post("/exports/verify", s.requireWebRole(auditors), s.verifyExportPage)
	s.limitBody("POST", "/exports/verify", MaxVerifyUpload, "an export")
}

// verifyExportPage verifies an uploaded export and its manifest and shows
// the report; missing or unreadable parts are shown beside their fields.
func (s *Server) verifyExportPage(c *fiber.Ctx) error {
	rep, err := s.verifyUpload(c)
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.exportsForm(c, fiber.StatusUnprocessableEntity, errs)
	}
	return s.render(c, "audit/verify", fiber.Map{"Title": "Export verification", "R": rep})
}

// stateLine is a line of a pretty-printed before or after state; Changed
// marks a top-level key whose value differs on the other side.
type stateLine struct {
	Text    string
	Changed bool
}

// auditRow is an event as the audit page shows it.
type auditRow struct {
	*models.AuditEvent
	Before, After []stateLine
	Changed       []string
}

// prettyState indents a state for reading. Against other (the state on the
// other side of the change, nil if there was none) it marks the top-level
// keys whose values differ; the states are canonical JSON, so equal values
// have equal bytes.
func prettyState(state, other json.RawMessage) ([]stateLine, []string) {
	if len(state) == 0 {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(state, &fields) != nil {
		var b bytes.Buffer
		if json.Indent(&b, state, "", "  ") != nil {
			return []stateLine{{Text: string(state)}}, nil
		}
		return []stateLine{{Text: b.String(), Changed: other != nil && !bytes.Equal(state, other)}}, nil
	}
	var others map[string]json.RawMessage
	_ = json.Unmarshal(other, &others) // not an object: every key differs
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	lines := []stateLine{{Text: "{"}}
	var changed []string
	for i, k := range keys {
		var b bytes.Buffer
		if err := json.Indent(&b, fields[k], "  ", "  "); err != nil {
			b.Reset()
			b.Write(fields[k])
		}
		text := fmt.Sprintf("  %q: %s", k, b.String())
		if i < len(keys)-1 {
			text += ","
		}
		ov, ok := others[k]
		diff := other != nil && (!ok || !bytes.Equal(ov, fields[k]))
		if diff {
			changed = append(changed, k)
		}
		lines = append(lines, stateLine{Text: text, Changed: diff})
	}
	return append(lines, stateLine{Text: "}"}), changed
}

func (s *Server) auditPage(c *fiber.Ctx) error {
	f, ferr := auditFilter(c)
	errs, err := formErrors(ferr)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.AuditFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	f.Newest = true
	// The page shows the background verification's last runs rather than
	// checking every event and entry on every view.
	verified, err := s.store.LastVerification(c.UserContext())
	if err != nil {
		return err
	}
	l, err := s.store.AuditPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	rows := make([]auditRow, len(l.Events))
	for i, ev := range l.Events {
		rows[i] = auditRow{AuditEvent: ev}
		var beforeOther, afterOther json.RawMessage
		if len(ev.Before) > 0 && len(ev.After) > 0 {
			beforeOther, afterOther = ev.After, ev.Before
		}
		rows[i].Before, _ = prettyState(ev.Before, beforeOther)
		rows[i].After, rows[i].Changed = prettyState(ev.After, afterOther)
	}
	q := fiber.Map{}
	for _, k := range []string{"actor", "action", "entity", "entity_id", "from", "to", "per_page"} {
		q[k] = c.Query(k)
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "audit/list", fiber.Map{"Title": "Audit trail", "Verified": verified, "Busy": c.Query("busy") != "", "Rows": rows,
		"Pager": auditPager(c, f.Page, l), "Errors": errs, "Q": q})
}

// verifyNowPage checks the whole chain and ledger at once, keeps the run
// like the background's, audits who asked, and shows the audit page.
func (s *Server) verifyNowPage(c *fiber.Ctx) error {
	_, err := s.verifyNow(c)
	if errors.Is(err, store.ErrVerificationBusy) {
		return c.Redirect("/audit?busy=1", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/audit", fiber.StatusSeeOther)
}

func (s *Server) exportsPage(c *fiber.Ctx) error { return s.exportsForm(c, fiber.StatusOK, nil) }

// exportsForm is the form whose submission downloads an export.
func (s *Server) exportsForm(c *fiber.Ctx, status int, errs map[string]string) error {
	progs, err := s.store.Programmes(c.UserContext())
	if err != nil {
		return err
	}
	lines, _, err := s.store.FundingLines(c.UserContext(), store.FundingLineFilter{})
	if err != nil {
		return err
	}
	orgs, _, err := s.store.Organisations(c.UserContext(), store.OrganisationFilter{Role: "recipient"})
	if err != nil {
		return err
	}
	q := fiber.Map{}
	for _, k := range []string{"format", "fy", "from", "to", "programme_id", "funding_line_id", "recipient_id"} {
		q[k] = c.Query(k)
	}
	return s.render(c.Status(status), "audit/exports", fiber.Map{"Title": "Exports", "Formats": export.Formats(), "Programmes": progs,
		"Lines": lines, "Recipients": orgs, "Errors": errs, "Q": q, "Columns": export.Columns})
}

// exportLedgerPage downloads an export as the API does, with the same audit
// event; a bad filter is shown beside its field on the form.
func (s *Server) exportLedgerPage(c *fiber.Ctx) error {
	format, f, err := exportRequest(c)
	if err == nil {
		err = s.sendLedger(c, format, f)
	}
	if err == nil {
		return nil
	}
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	return s.exportsForm(c, fiber.StatusUnprocessableEntity, errs)
}
