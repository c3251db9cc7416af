package server

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// Route is one JSON API operation. The list of routes is the single source
// for registering handlers, the OpenAPI document and the role matrix.
type Route struct {
	Method  string
	Path    string // Fiber syntax, e.g. /api/v1/funding-lines/:id
	Summary string
	// Roles may call the route; nil means no sign-in is needed.
	Roles   []models.Role
	Query   any // a struct with `query` tags, for the document
	Request any // the body type, for the document
	// Upload names the multipart/form-data field of a route that takes a
	// file instead of a JSON body; FileSize bounds that file.
	Upload   string
	FileSize int64
	Response any // the success body type, for the document
	// Files are the media types of a route that answers a file, not JSON.
	Files  []string
	Status int // success status; 200 when zero
	// Accepted marks a route that may instead answer 202 with the same body:
	// the change was proposed for a second person's decision, not made.
	Accepted bool
	// OneTimeSecret marks a creating route whose answer holds a secret shown
	// once (a new API token): it is never kept for an Idempotency-Key replay.
	OneTimeSecret bool
	// Conflict marks a GET that may answer 409, such as an open-data export
	// refused until the publisher is configured.
	// Conflict marks a GET that may answer 409: an open-data export refused
	// until the publisher is configured, or what it reads is not in a state
	// that has it yet (a payment run's files before approval).
	Conflict bool
	Handler  fiber.Handler
}

// Role sets used by the matrix; see README.md. Writers keep the money: an
// admin manages accounts and the scheme of delegation and takes no money
// decision, so no one person can both make an approver and approve.
var (
	everyone = models.AllRoles()
	writers  = []models.Role{models.RoleFinanceOfficer, models.RoleFinanceManager}
	admins   = []models.Role{models.RoleAdmin}
	auditors = []models.Role{models.RoleAdmin, models.RoleAuditor}
	// deciders take some two-person decision: money (writers) or accounts
	// and the scheme (admins).
	deciders = []models.Role{models.RoleAdmin, models.RoleFinanceOfficer, models.RoleFinanceManager}
)

// Routes returns the API's routes.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) apiRoutes() []Route {
	return append([]Route{
		{Method: "GET", Path: "/healthz", Summary: "Liveness: the process answers", Response: health{}, Handler: s.healthz},
		{Method: "GET", Path: "/readyz", Summary: "Readiness: the database answers", Response: health{}, Handler: s.readyz},
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document", Response: map[string]any{}, Handler: s.openapi},

		{Method: "GET", Path: "/api/v1/programmes", Summary: "List programmes", Roles: everyone, Response: list[programmeJSON]{}, Handler: s.listProgrammes},
		{Method: "POST", Path: "/api/v1/programmes", Summary: "Create a programme", Roles: writers, Request: models.ProgrammeInput{}, Response: programmeJSON{}, Status: 201, Handler: s.createProgramme},
		{Method: "GET", Path: "/api/v1/programmes/:id", Summary: "Get a programme", Roles: everyone, Response: programmeJSON{}, Handler: s.getProgramme},
		{Method: "PUT", Path: "/api/v1/programmes/:id", Summary: "Replace a programme's details", Roles: writers, Request: models.ProgrammeInput{}, Response: programmeJSON{}, Handler: s.updateProgramme},

		{Method: "GET", Path: "/api/v1/organisations", Summary: "List organisations", Roles: everyone, Query: organisationQuery{}, Response: list[organisationJSON]{}, Handler: s.listOrganisations},
		{Method: "POST", Path: "/api/v1/organisations", Summary: "Create an organisation", Roles: writers, Request: models.OrganisationInput{}, Response: organisationJSON{}, Status: 201, Handler: s.createOrganisation},
		{Method: "GET", Path: "/api/v1/organisations/:id", Summary: "Get an organisation", Roles: everyone, Response: organisationJSON{}, Handler: s.getOrganisation},
		{Method: "PUT", Path: "/api/v1/organisations/:id", Summary: "Replace an organisation's details", Roles: writers, Request: models.OrganisationInput{}, Response: organisationJSON{}, Handler: s.updateOrganisation},

		{Method: "GET", Path: "/api/v1/funding-lines", Summary: "List funding lines with their totals", Roles: everyone, Query: fundingLineQuery{}, Response: list[fundingLineJSON]{}, Handler: s.listFundingLines},
		{Method: "POST", Path: "/api/v1/funding-lines", Summary: "Create a funding line (in draft)", Roles: writers, Request: models.FundingLineInput{}, Response: fundingLineJSON{}, Status: 201, Handler: s.createFundingLine},
		{Method: "GET", Path: "/api/v1/funding-lines/:id", Summary: "Get a funding line with budget, committed, pending, spent and remaining", Roles: everyone, Response: fundingLineJSON{}, Handler: s.getFundingLine},
		{Method: "PUT", Path: "/api/v1/funding-lines/:id", Summary: "Replace a funding line's details", Roles: writers, Request: models.FundingLineInput{}, Response: fundingLineJSON{}, Handler: s.updateFundingLine},
		{Method: "POST", Path: "/api/v1/funding-lines/:id/status", Summary: "Close or cancel a funding line (approving and activating are proposed with /decisions)", Roles: writers, Request: statusInput{}, Response: fundingLineJSON{}, Handler: s.changeFundingLineStatus},
		{Method: "GET", Path: "/api/v1/funding-lines/:id/awards", Summary: "List a funding line's awards with tranches, paged, with the whole filtered list's count and amount", Roles: everyone, Query: lineAwardQuery{}, Response: list[awardJSON]{}, Handler: s.listAwards},
		{Method: "POST", Path: "/api/v1/funding-lines/:id/awards", Summary: "Award part of a funding line to a recipient", Roles: writers, Request: models.AwardInput{}, Response: awardJSON{}, Status: 201, Handler: s.createAward},
		{Method: "GET", Path: "/api/v1/awards/:id", Summary: "Get an award with its tranches", Roles: everyone, Response: awardJSON{}, Handler: s.getAward},
		{Method: "POST", Path: "/api/v1/awards/:id/approve", Summary: "Approve a proposed award (not your own; within your authority in the scheme of delegation)", Roles: writers, Response: awardJSON{}, Handler: s.decideAward(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/awards/:id/reject", Summary: "Reject a proposed award with a reason", Roles: writers, Request: reasonInput{}, Response: awardJSON{}, Handler: s.decideAward(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/awards/:id/withdraw", Summary: "Withdraw your own proposed award", Roles: writers, Request: reasonInput{}, Response: awardJSON{}, Handler: s.decideAward(models.DecisionWithdrawn)},
		{Method: "GET", Path: "/api/v1/funding-lines/:id/decisions", Summary: "List a funding line's proposed approvals and activations", Roles: everyone, Response: list[lineDecisionJSON]{}, Handler: s.listLineDecisions},
		{Method: "POST", Path: "/api/v1/funding-lines/:id/decisions", Summary: "Propose approving or activating a funding line, for a second person to decide", Roles: writers, Request: lineDecisionInput{}, Response: lineDecisionJSON{}, Status: 201, Handler: s.proposeLineStatus},
		{Method: "POST", Path: "/api/v1/line-decisions/:id/approve", Summary: "Approve a proposed line approval or activation (not your own; within your authority for the line's budget)", Roles: writers, Response: lineDecisionJSON{}, Handler: s.decideLineStatus(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/line-decisions/:id/reject", Summary: "Reject a proposed line approval or activation with a reason", Roles: writers, Request: reasonInput{}, Response: lineDecisionJSON{}, Handler: s.decideLineStatus(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/line-decisions/:id/withdraw", Summary: "Withdraw your own proposed line approval or activation", Roles: writers, Request: reasonInput{}, Response: lineDecisionJSON{}, Handler: s.decideLineStatus(models.DecisionWithdrawn)},
		{Method: "GET", Path: "/api/v1/approvals", Summary: "Decisions awaiting me: every pending decision of every kind that someone else proposed and my role may take", Roles: everyone, Query: pageQuery{}, Response: list[approvalJSON]{}, Handler: s.listApprovals},
		{Method: "GET", Path: "/api/v1/delegation", Summary: "The scheme of delegation: for each kind of decision, which roles approve it up to what amount, and above what amount it must cite a decision record", Roles: everyone, Response: list[delegationKindJSON]{}, Handler: s.getDelegation},
		{Method: "POST", Path: "/api/v1/delegation/changes", Summary: "Propose a change to the scheme of delegation (admins; another admin approves it)", Roles: admins, Request: delegationChangeInput{}, Response: models.DelegationChange{}, Status: 201, Handler: s.proposeDelegationChange},
		{Method: "POST", Path: "/api/v1/delegation-changes/:id/approve", Summary: "Approve a proposed change to the scheme of delegation (another admin)", Roles: admins, Response: models.DelegationChange{}, Handler: s.decideDelegationChange(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/delegation-changes/:id/reject", Summary: "Reject a proposed change to the scheme of delegation with a reason", Roles: admins, Request: reasonInput{}, Response: models.DelegationChange{}, Handler: s.decideDelegationChange(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/delegation-changes/:id/withdraw", Summary: "Withdraw your own proposed change to the scheme of delegation", Roles: admins, Request: reasonInput{}, Response: models.DelegationChange{}, Handler: s.decideDelegationChange(models.DecisionWithdrawn)},
		{Method: "GET", Path: "/api/v1/decision-records", Summary: "List published decision records (e.g. PCD 1519), newest signed first, paged", Roles: everyone, Query: pageQuery{}, Response: list[decisionRecordJSON]{}, Handler: s.listDecisionRecords},
		{Method: "POST", Path: "/api/v1/decision-records", Summary: "Record a published decision for lines, awards and budget changes to cite", Roles: writers, Request: models.DecisionRecordInput{}, Response: decisionRecordJSON{}, Status: 201, Handler: s.createDecisionRecord},

		{Method: "POST", Path: "/api/v1/spend", Summary: "Record spend (pending until a second person approves); send an Idempotency-Key header to make retries safe", Roles: writers, Request: models.SpendInput{}, Response: spendJSON{}, Status: 201, Handler: s.recordSpend},
		{Method: "GET", Path: "/api/v1/spend", Summary: "List spend entries", Roles: everyone, Query: spendQuery{}, Response: list[spendJSON]{}, Handler: s.listSpend},
		{Method: "GET", Path: "/api/v1/spend/:id", Summary: "Get a spend entry", Roles: everyone, Response: spendJSON{}, Handler: s.getSpend},
		{Method: "POST", Path: "/api/v1/spend/:id/approve", Summary: "Approve pending spend (not your own; within your authority in the scheme of delegation)", Roles: writers, Response: spendJSON{}, Handler: s.approveSpend},
		{Method: "POST", Path: "/api/v1/spend/:id/reject", Summary: "Reject pending spend with a reason", Roles: writers, Request: reasonInput{}, Response: spendJSON{}, Handler: s.rejectSpend},
		{Method: "POST", Path: "/api/v1/spend/:id/reverse", Summary: "Record a pending reversal of approved spend, with a reason", Roles: writers, Request: reasonInput{}, Response: spendJSON{}, Status: 201, Handler: s.reverseSpend},
		{Method: "POST", Path: "/api/v1/spend/:id/evidence", Summary: "Add an evidence file (PDF, PNG, JPEG, CSV, XLSX or plain text, at most 5 MiB; at most 5 per entry) to pending or approved spend", Roles: writers, Upload: "file", FileSize: models.MaxEvidenceSize, Response: evidenceJSON{}, Status: 201, Handler: s.addEvidence},
		{Method: "GET", Path: "/api/v1/spend/:id/evidence", Summary: "List a spend entry's evidence files", Roles: everyone, Response: list[evidenceJSON]{}, Handler: s.listEvidence},
		{Method: "GET", Path: "/api/v1/spend/:id/evidence/:evidence_id", Summary: "Download an evidence file, as stored", Roles: everyone, Files: mediaTypes(models.EvidencePDF, models.EvidencePNG, models.EvidenceJPEG, models.EvidenceCSV, models.EvidenceText, models.EvidenceXLSX), Handler: s.downloadEvidence},
		{Method: "GET", Path: "/api/v1/spend-imports", Summary: "List the CSV imports with entries awaiting a decision, oldest first (awaiting=false: every import, newest first), paged, with the whole list's count and amount", Roles: everyone, Query: spendImportQuery{}, Response: list[spendImportJSON]{}, Handler: s.listSpendImports},
		{Method: "GET", Path: "/api/v1/spend-imports/:id", Summary: "Get a CSV import and how many of its entries are pending, approved and rejected", Roles: everyone, Response: spendImportJSON{}, Handler: s.getSpendImport},
		{Method: "POST", Path: "/api/v1/spend-imports/:id/approve", Summary: "Approve every pending entry of an import at once, all or nothing (not your own import; within your authority for its largest entry; never beyond a budget)", Roles: writers, Response: importDecisionJSON{}, Handler: s.approveSpendImport},
		{Method: "POST", Path: "/api/v1/spend-imports/:id/reject", Summary: "Reject every pending entry of an import with one reason", Roles: writers, Request: reasonInput{}, Response: importDecisionJSON{}, Handler: s.rejectSpendImport},

		{Method: "GET", Path: "/api/v1/exports/ledger", Summary: "Download the spend ledger (CSV, JSON, XLSX, hledger or beancount), or grants as 360Giving or contracts as OCDS, with its manifest in the Granttrack-Manifest header", Roles: auditors, Query: exportQuery{}, Files: exportMediaTypes(), Conflict: true, Handler: s.exportLedger},
		{Method: "POST", Path: "/api/v1/exports/verify", Summary: "Verify an export against its manifest, the ledger and the audit chain (multipart/form-data: file, manifest); the report lists findings by row", Roles: auditors, Upload: "file", FileSize: MaxVerifyUpload, Response: export.VerifyReport{}, Handler: s.verifyExport},
		{Method: "GET", Path: "/api/v1/exports/transparency/:file", Summary: "Download one CSV of a month's statutory publishing pack: grants.csv, spend-over-500.csv or contracts-over-10000.csv", Roles: auditors, Query: transparencyQuery{}, Files: []string{"text/csv"}, Handler: s.transparencyFile},
		{Method: "GET", Path: "/api/v1/audit", Summary: "Read the audit trail", Roles: auditors, Query: auditQuery{}, Response: list[auditEventJSON]{}, Handler: s.listAudit},
		{Method: "GET", Path: "/api/v1/audit/verification", Summary: "The background verification's last full run and any incremental run since (the chain from the checkpoint, and the spend entries after it)", Roles: auditors, Response: verificationJSON{}, Handler: s.verification},
		{Method: "POST", Path: "/api/v1/audit/verification", Summary: "Check the whole audit chain and ledger now; the run is kept with the background's and audited", Roles: auditors, Response: verificationRunJSON{}, Handler: s.runVerification},
		{Method: "GET", Path: "/api/v1/audit/verify", Summary: "Verify the audit trail's hash chain, and with an anchor (HASH@SEQ from an export's manifest) that the chain still holds that event", Roles: auditors, Query: auditVerifyQuery{}, Response: auditVerifyJSON{}, Handler: s.verifyAudit},
	}, slices.Concat(s.boardRoutes(), s.budgetRoutes(), s.peopleRoutes(), s.awardVariationRoutes(), s.contractRoutes(), s.alertRoutes(),
		s.paymentRoutes(), s.indicatorRevisionRoutes(), s.expenseRoutes(), s.twoFactorRoutes(), s.contractDocumentRoutes(),
		s.publisherRoutes(), s.listRoutes())...)
}

func (s *Server) registerAPI() {
	s.routes = s.apiRoutes()
	for _, r := range s.routes {
		handlers := []fiber.Handler{}
		if r.Roles != nil {
			handlers = append(handlers, s.bearerAuth, s.allow(r.Roles))
		}
		if r.Method == "POST" && r.Status == 201 && r.Path != "/api/v1/spend" && !r.OneTimeSecret {
			handlers = append(handlers, s.idempotent())
		}
		handlers = append(handlers, r.Handler)
		s.app.Add(r.Method, r.Path, handlers...)
		if r.FileSize > 0 {
			s.limitBody(r.Method, r.Path, r.FileSize, "the file")
		}
	}
}

// allow refuses a signed-in user whose role is not among roles, and records
// the refusal in the audit trail.
func (s *Server) allow(roles []models.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		if u == nil {
			return models.Errorf(models.EUNAUTHORIZED, "Sign in first.")
		}
		if slices.Contains(roles, u.Role) {
			return c.Next()
		}
		err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{
			Action: "authz.denied", Entity: "route", EntityID: 0,
			After: map[string]any{"method": c.Method(), "path": c.Path(), "role": u.Role},
		})
		if err != nil {
			return err
		}
		return models.Errorf(models.EFORBIDDEN, "Your role (%s) may not do this.", strings.ReplaceAll(string(u.Role), "_", " "))
	}
}

// bearerAuth signs in an API client by its token.
func (s *Server) bearerAuth(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return models.Errorf(models.EUNAUTHORIZED, "Send an API token as 'Authorization: Bearer <token>'.")
	}
	u, err := s.store.UserByToken(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	return c.Next()
}

// mediaTypes returns the distinct media types of content types, without
// their parameters, for the document.
func mediaTypes(contentTypes ...string) []string {
	var out []string
	for _, ct := range contentTypes {
		mt, _, _ := strings.Cut(ct, ";")
		if mt = strings.TrimSpace(mt); !slices.Contains(out, mt) {
			out = append(out, mt)
		}
	}
	return out
}

// exportMediaTypes are the media types of every export format.
func exportMediaTypes() []string {
	var cts []string
	for _, f := range export.Formats() {
		ct, _, _ := export.ContentType(f)
		cts = append(cts, ct)
	}
	return mediaTypes(cts...)
}
