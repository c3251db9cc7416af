package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"granttrack/app/server"
	"granttrack/models"
)

func TestHealth(t *testing.T) {
	e := MustEnv(t)
	e.mustStatus(e.do("", "GET", "/healthz", nil), 200)
	r := e.do("", "GET", "/readyz", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `"ready"`) {
		t.Fatalf("readyz body %s", r.Body)
	}
}

func TestFundingLineLifecycle(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("2000000.00")
	path := fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID)

	r := e.do(models.RoleBoardMember, "GET", path, nil)
	e.mustStatus(r, 200)
	var line struct {
		Budget string
		Status string
		Totals struct{ Committed, Remaining, Uncommitted string }
	}
	r.json(t, &line)
	if line.Budget != "2000000.00" || line.Status != "active" || line.Totals.Remaining != "2000000.00" {
		t.Fatalf("line = %+v", line)
	}

	r = e.do(models.RoleFinanceOfficer, "POST", path+"/awards", map[string]any{
		"recipient_id": f.RecipientID, "reference": unique("AW-"), "amount": "1000000.00",
		"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31", "tranche_count": 3})
	e.mustStatus(r, 201)
	var award struct {
		ID       int64
		Amount   string
		Tranches []struct{ Amount, DueOn string }
	}
	r.json(t, &award)
	want := []string{"333333.34", "333333.33", "333333.33"}
	if len(award.Tranches) != 3 {
		t.Fatalf("tranches = %+v", award.Tranches)
	}
	for i, tr := range award.Tranches {
		if tr.Amount != want[i] {
			t.Errorf("tranche %d = %s, want %s", i, tr.Amount, want[i])
		}
	}
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/awards/%d", award.ID), nil)
	e.mustStatus(r, 200)

	r = e.do(models.RoleBoardMember, "GET", path, nil)
	r.json(t, &line)
	if line.Totals.Committed != "1000000.00" || line.Totals.Uncommitted != "1000000.00" {
		t.Fatalf("totals after award = %+v", line.Totals)
	}

	// A closed line takes no new awards, and closed is final.
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", path+"/status", map[string]any{"status": "closed"}), 422) // no reason
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", path+"/status", map[string]any{"status": "closed", "reason": "Plan period over"}), 200)
	r = e.do(models.RoleFinanceOfficer, "POST", path+"/status", map[string]any{"status": "active"})
	e.mustStatus(r, 422)
	if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Field != "status" {
		t.Fatalf("problem = %+v", p)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", path+"/awards", map[string]any{
		"recipient_id": f.RecipientID, "reference": unique("AW-"), "amount": "1.00",
		"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 409)
}

// TestFundingLineBadInput sends each class of bad input and checks the
// status, that the problem names the field, and that nothing was stored.
func TestFundingLineBadInput(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	valid := func() map[string]any {
		return map[string]any{"code": unique("BAD"), "title": "A line", "kind": "grant", "programme_id": f.ProgrammeID,
			"funder_id": f.FunderID, "budget": "2000000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31"}
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
	without := func(k string) map[string]any { m := valid(); delete(m, k); return m }
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"ErrUnparseable", `{"code": "X",`, 400, ""},
		{"ErrNotJSON", `code=X`, 400, ""},
		{"ErrArray", `[]`, 400, ""},
		{"ErrTrailingData", `{"code":"X"} {"code":"Y"}`, 400, ""},
		{"ErrThreeDecimals", with("budget", "12.345"), 422, "budget"},
		{"ErrExponent", with("budget", "1e3"), 422, "budget"},
		{"ErrNaN", with("budget", "NaN"), 422, "budget"},
		{"ErrNegative", with("budget", "-5"), 422, "budget"},
		{"ErrEmptyMoney", with("budget", ""), 422, "budget"},
		{"ErrFullWidthDigits", with("budget", "１２３"), 422, "budget"},
		{"ErrTooLarge", with("budget", "12345678901234.00"), 422, "budget"},
		{"ErrMoneyAsNumber", with("budget", 2000000.00), 422, "budget"},
		{"ErrThousandsSeparator", with("budget", "2,000,000.00"), 422, "budget"},
		{"ErrUnknownField", with("colour", "blue"), 422, "colour"},
		{"ErrMissingTitle", without("title"), 422, "title"},
		{"ErrBadKind", with("kind", "loan"), 422, "kind"},
		{"ErrBadDate", with("starts_on", "01/04/2024"), 422, "starts_on"},
		{"ErrEndBeforeStart", with("ends_on", "2024-03-31"), 422, "ends_on"},
		{"ErrIDAsString", with("programme_id", "one"), 422, "programme_id"},
		{"ErrNoSuchProgramme", with("programme_id", 999999), 422, "programme_id"},
		{"ErrTenderOnGrant", with("tender", map[string]any{"min_value": "1.00", "max_value": "2.00"}), 422, "tender"},
		{"ErrTenderBand", func() map[string]any {
			m := with("kind", "contract")
			m["tender"] = map[string]any{"min_value": "25000.00", "max_value": "10000.00"}
			return m
		}(), 422, "tender.max_value"},
		{"ErrOverOneMiB", `{"title":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count("funding_lines")
			r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d; body %.300s", r.Status, tc.status, r.Body)
			}
			p := r.problem(t)
			if p.Detail == "" {
				t.Error("problem has no detail")
			}
			if tc.field != "" {
				var fields []string
				for _, fe := range p.Errors {
					fields = append(fields, fe.Field)
					if fe.Message == "" {
						t.Errorf("field %s has no message", fe.Field)
					}
				}
				if !slices.Contains(fields, tc.field) {
					t.Fatalf("problem fields %v do not name %q", fields, tc.field)
				}
			}
			if after := e.count("funding_lines"); after != before {
				t.Fatalf("funding lines went from %d to %d: a failed request stored something", before, after)
			}
		})
	}
	t.Run("OKDuplicateCodeIsConflict", func(t *testing.T) {
		m := valid()
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", m), 201)
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", m)
		e.mustStatus(r, 409)
		if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Field != "code" {
			t.Fatalf("problem = %+v", p)
		}
	})
}

func TestAwardBadInput(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	path := fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID)
	base := func() map[string]any {
		return map[string]any{"recipient_id": f.RecipientID, "reference": unique("AW-"), "amount": "600.00",
			"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31"}
	}
	tranches := base()
	tranches["tranches"] = []map[string]any{{"due_on": "2024-05-01", "amount": "300.00"}, {"due_on": "2024-08-01", "amount": "299.99"}}
	overBudget := base()
	overBudget["amount"] = "1000.01"
	zero := base()
	zero["amount"] = "0.00"
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"ErrTranchesDoNotAddUp": {tranches, 422, "tranches"},
		"ErrOverBudget":         {overBudget, 409, "amount"},
		"ErrZeroAmount":         {zero, 422, "amount"},
	} {
		t.Run(name, func(t *testing.T) {
			before := e.count("awards")
			r := e.do(models.RoleFinanceOfficer, "POST", path, tc.body)
			e.mustStatus(r, tc.status)
			p := r.problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Fatalf("problem = %+v", p)
			}
			if e.count("awards") != before {
				t.Fatal("a refused award was stored")
			}
		})
	}
	r := e.do(models.RoleFinanceOfficer, "POST", path, overBudget)
	if p := r.problem(t); !strings.Contains(p.Detail, "£1,000.00") || !strings.Contains(p.Detail, "£0.01 over") {
		t.Fatalf("over-budget detail should name the budget and the shortfall: %q", p.Detail)
	}
}

// TestAwardsNeverExceedBudgetUnderConcurrency races many awards at a line
// with room for only some of them.
func TestAwardsNeverExceedBudgetUnderConcurrency(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	path := fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID)
	const racers = 60
	statuses := make([]int, racers)
	details := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{
				"recipient_id": f.RecipientID, "reference": unique("RACE-"), "amount": "70.00",
				"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
			statuses[i] = r.Status
			if r.Status != 201 {
				var p server.Problem
				r.json(t, &p)
				details[i] = p.Detail
			}
		}()
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		switch s {
		case 201:
			won++
		case 409:
			if !strings.Contains(details[i], "over") {
				t.Errorf("refusal without a clear reason: %q", details[i])
			}
		default:
			t.Errorf("racer %d got %d: %s", i, s, details[i])
		}
	}
	if won != 14 { // 14 × 70.00 = 980.00; a 15th would be 1050.00
		t.Fatalf("%d awards won, want 14", won)
	}
	var committed string
	if err := e.st.DB().NewRaw("SELECT sum(amount)::text FROM awards WHERE funding_line_id = ?", f.LineID).Scan(t.Context(), &committed); err != nil {
		t.Fatal(err)
	}
	if committed != "980.00" {
		t.Fatalf("committed %s, want 980.00", committed)
	}
}

// roleMatrix is who may call each API route, written out by hand from the
// README's roles table, independently of the route list: one letter per
// role that may (A admin, O finance officer, M finance manager, B board
// member, U auditor), "-" for one that may not, or "public".
var roleMatrix = map[string]string{
	"GET /healthz": "public", "GET /readyz": "public", "GET /api/v1/openapi.json": "public",

	"GET /api/v1/programmes": "AOMBU", "POST /api/v1/programmes": "-OM--",
	"GET /api/v1/programmes/:id": "AOMBU", "PUT /api/v1/programmes/:id": "-OM--",
	"GET /api/v1/organisations": "AOMBU", "POST /api/v1/organisations": "-OM--",
	"GET /api/v1/organisations/:id": "AOMBU", "PUT /api/v1/organisations/:id": "-OM--",
	"GET /api/v1/funding-lines": "AOMBU", "POST /api/v1/funding-lines": "-OM--",
	"GET /api/v1/funding-lines/:id": "AOMBU", "PUT /api/v1/funding-lines/:id": "-OM--",
	"POST /api/v1/funding-lines/:id/status":        "-OM--",
	"GET /api/v1/funding-lines/:id/awards":         "AOMBU",
	"POST /api/v1/funding-lines/:id/awards":        "-OM--",
	"GET /api/v1/awards/:id":                       "AOMBU",
	"POST /api/v1/awards/:id/approve":              "-OM--",
	"POST /api/v1/awards/:id/reject":               "-OM--",
	"POST /api/v1/awards/:id/withdraw":             "-OM--",
	"GET /api/v1/funding-lines/:id/decisions":      "AOMBU",
	"POST /api/v1/funding-lines/:id/decisions":     "-OM--",
	"POST /api/v1/line-decisions/:id/approve":      "-OM--",
	"POST /api/v1/line-decisions/:id/reject":       "-OM--",
	"POST /api/v1/line-decisions/:id/withdraw":     "-OM--",
	"GET /api/v1/approvals":                        "AOMBU",
	"GET /api/v1/delegation":                       "AOMBU",
	"POST /api/v1/delegation/changes":              "A----",
	"POST /api/v1/delegation-changes/:id/approve":  "A----",
	"POST /api/v1/delegation-changes/:id/reject":   "A----",
	"POST /api/v1/delegation-changes/:id/withdraw": "A----",
	"GET /api/v1/decision-records":                 "AOMBU",
	"POST /api/v1/decision-records":                "-OM--",

	"POST /api/v1/spend": "-OM--", "GET /api/v1/spend": "AOMBU", "GET /api/v1/spend/:id": "AOMBU",
	"POST /api/v1/spend/:id/approve": "-OM--", "POST /api/v1/spend/:id/reject": "-OM--", "POST /api/v1/spend/:id/reverse": "-OM--",
	"POST /api/v1/spend/:id/evidence": "-OM--", "GET /api/v1/spend/:id/evidence": "AOMBU",
	"GET /api/v1/spend/:id/evidence/:evidence_id": "AOMBU",
	"GET /api/v1/spend-imports":                   "AOMBU", "GET /api/v1/spend-imports/:id": "AOMBU",
	"POST /api/v1/spend-imports/:id/approve": "-OM--", "POST /api/v1/spend-imports/:id/reject": "-OM--",

	"GET /api/v1/exports/ledger": "A---U", "POST /api/v1/exports/verify": "A---U",
	"GET /api/v1/exports/transparency/:file": "A---U",
	"GET /api/v1/audit":                      "A---U", "GET /api/v1/audit/verify": "A---U",

	"GET /api/v1/funding-lines/:id/budget-profile": "AOMBU", "PUT /api/v1/funding-lines/:id/budget-profile": "-OM--",
	"POST /api/v1/budget-changes": "-OM--", "POST /api/v1/budget-changes/preview": "-OM--",
	"GET /api/v1/budget-changes": "AOMBU", "GET /api/v1/budget-changes/:id": "AOMBU",
	"POST /api/v1/budget-changes/:id/approve": "-OM--", "POST /api/v1/budget-changes/:id/reject": "-OM--",
	"POST /api/v1/budget-changes/:id/withdraw":   "-OM--",
	"GET /api/v1/funding-lines/:id/reservations": "AOMBU", "POST /api/v1/funding-lines/:id/reservations": "-OM--",
	"GET /api/v1/reservations/:id": "AOMBU", "POST /api/v1/reservations/:id/release": "-OM--",
	"POST /api/v1/reservations/:id/convert": "-OM--",
	"GET /api/v1/indicators":                "AOMBU", "POST /api/v1/indicators": "-OM--", "GET /api/v1/indicators/:id": "AOMBU",
	"GET /api/v1/indicators/:id/measurements": "AOMBU", "POST /api/v1/indicators/:id/measurements": "-OM--",
	"GET /api/v1/indicators/:id/revisions": "AOMBU", "POST /api/v1/indicators/:id/revisions": "-OM--",
	"GET /api/v1/reports/budget": "AOMBU", "GET /api/v1/reports/value-for-money": "AOMBU",

	// Accounts are the admins'; each person's own account is everyone's.
	"GET /api/v1/users": "A----", "POST /api/v1/users": "A----",
	"POST /api/v1/users/:id/role": "A----", "POST /api/v1/users/:id/deactivate": "A----",
	"POST /api/v1/users/:id/reactivate": "A----", "POST /api/v1/users/:id/password-reset": "A----",
	"POST /api/v1/account-grants/:id/approve": "A----", "POST /api/v1/account-grants/:id/reject": "A----",
	"POST /api/v1/account-grants/:id/withdraw": "A----",
	"GET /api/v1/me/tokens":                    "AOMBU", "POST /api/v1/me/tokens": "AOMBU", "POST /api/v1/me/tokens/:id/revoke": "AOMBU",
	"GET /api/v1/me/sessions": "AOMBU", "POST /api/v1/me/sessions/end": "AOMBU", "POST /api/v1/me/password": "AOMBU",

	// Award variations and contracts' band exceptions are money decisions.
	"GET /api/v1/awards/:id/variations": "AOMBU", "POST /api/v1/awards/:id/variations": "-OM--",
	"GET /api/v1/award-variations/:id": "AOMBU", "POST /api/v1/award-variations/:id/approve": "-OM--",
	"POST /api/v1/award-variations/:id/reject": "-OM--", "POST /api/v1/award-variations/:id/withdraw": "-OM--",
	"GET /api/v1/funding-lines/:id/band-exceptions": "AOMBU", "POST /api/v1/funding-lines/:id/band-exceptions": "-OM--",
	"POST /api/v1/band-exceptions/:id/approve": "-OM--", "POST /api/v1/band-exceptions/:id/reject": "-OM--",
	"POST /api/v1/band-exceptions/:id/withdraw": "-OM--",

	// Payments: tranches and payment runs are the finance roles'; anyone reads them.
	"POST /api/v1/tranches/:id/claim": "-OM--", "POST /api/v1/tranches/:id/withhold": "-OM--",
	"POST /api/v1/tranches/:id/release": "-OM--", "GET /api/v1/payable-tranches": "AOMBU",
	"GET /api/v1/payment-runs": "AOMBU", "POST /api/v1/payment-runs": "-OM--", "GET /api/v1/payment-runs/:id": "AOMBU",
	"POST /api/v1/payment-runs/:id/approve": "-OM--", "POST /api/v1/payment-runs/:id/reject": "-OM--",
	"POST /api/v1/payment-runs/:id/withdraw": "-OM--", "GET /api/v1/payment-runs/:id/remittance": "AOMBU",
	"GET /api/v1/payment-runs/:id/journal": "AOMBU", "POST /api/v1/payment-confirmations": "-OM--",

	// Alerts are everyone's; their thresholds the admins'.
	"GET /api/v1/alerts": "AOMBU", "GET /api/v1/alert-settings": "AOMBU", "PUT /api/v1/alert-settings": "A----",

	// The background verification's runs are the auditors'.
	"GET /api/v1/audit/verification": "A---U", "POST /api/v1/audit/verification": "A---U",

	// Office holders' expenses: the finance roles record and decide them; anyone reads them.
	"GET /api/v1/office-holder-expenses": "AOMBU", "POST /api/v1/office-holder-expenses": "-OM--",
	"POST /api/v1/office-holder-expenses/import": "-OM--", "POST /api/v1/office-holder-expenses/:id/approve": "-OM--",
	"POST /api/v1/office-holder-expenses/:id/reject": "-OM--", "POST /api/v1/office-holder-expenses/:id/withdraw": "-OM--",
	// Which roles must use two-factor sign-in: everyone reads it, admins change it.
	"GET /api/v1/two-factor-settings": "AOMBU", "PUT /api/v1/two-factor-settings": "A----",
	// Contract documents: the finance roles upload; everyone reads them.
	"POST /api/v1/funding-lines/:id/documents": "-OM--", "GET /api/v1/funding-lines/:id/documents": "AOMBU",
	"GET /api/v1/funding-lines/:id/documents/:document_id": "AOMBU",
	// The publisher identity the exports name: admins and auditors read it, admins change it.
	"GET /api/v1/publisher-settings": "A---U", "PUT /api/v1/publisher-settings": "A----",
	// Every award, paged and filtered: everyone reads it.
	"GET /api/v1/awards": "AOMBU",
}

// matrixRoles are the roles in roleMatrix's letter order.
var matrixRoles = []models.Role{models.RoleAdmin, models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleBoardMember, models.RoleAuditor}

// TestRoleMatrix calls every API route as every role and without a token,
// and checks that exactly the roles roleMatrix names get past
// authorisation; a route missing from the table, or a table row with no
// route, fails it.
func TestRoleMatrix(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	if len(matrixRoles) != len(models.AllRoles()) {
		t.Fatalf("the matrix knows %d roles, the app %d", len(matrixRoles), len(models.AllRoles()))
	}
	seen := map[string]bool{}
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		want, ok := roleMatrix[key]
		if !ok {
			t.Errorf("%s is not in the role matrix", key)
			continue
		}
		id := fmt.Sprint(f.LineID)
		if strings.HasPrefix(rt.Path, "/api/v1/users/") || strings.HasPrefix(rt.Path, "/api/v1/me/") || strings.HasPrefix(rt.Path, "/api/v1/account-grants/") {
			id = "999999999" // none: the matrix must not deactivate, or revoke the token of, one of its own callers
		}
		path := strings.ReplaceAll(rt.Path, ":id", id)
		var body any
		if rt.Method != http.MethodGet {
			body = "{}"
		}
		if want == "public" {
			t.Run(key+" public", func(t *testing.T) {
				e.mustStatus(e.do("", rt.Method, path, body), 200)
			})
			continue
		}
		if rt.Roles == nil {
			t.Errorf("%s is public, but the matrix says %s", key, want)
			continue
		}
		t.Run(key+" anonymous", func(t *testing.T) {
			r := e.do("", rt.Method, path, body)
			e.mustStatus(r, 401)
			r.problem(t)
		})
		for i, role := range matrixRoles {
			t.Run(key+" "+string(role), func(t *testing.T) {
				r := e.do(role, rt.Method, path, body)
				if want[i] != '-' {
					if r.Status == 401 || r.Status == 403 {
						t.Fatalf("%s may call this route but got %d: %s", role, r.Status, r.Body)
					}
				} else {
					e.mustStatus(r, 403)
					r.problem(t)
				}
			})
		}
	}
	for key := range roleMatrix {
		if !seen[key] {
			t.Errorf("the role matrix names %s, which is not a route", key)
		}
	}
	// The refusals were audited.
	var denied int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = 'authz.denied'").Scan(t.Context(), &denied); err != nil {
		t.Fatal(err)
	}
	if denied == 0 {
		t.Fatal("no authz.denied audit events were written")
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	e := MustEnv(t)
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/programmes", nil), 200)
	if _, err := e.st.DB().NewRaw("UPDATE api_tokens SET revoked_at = now() WHERE user_id = ?", e.users[models.RoleAuditor].ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := e.do(models.RoleAuditor, "GET", "/api/v1/programmes", nil)
	e.mustStatus(r, 401)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

// TestOpenAPIMatchesRoutes checks the served document against the routes
// Fiber really has, in both directions.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := MustEnv(t)
	r := e.do("", "GET", "/api/v1/openapi.json", nil)
	e.mustStatus(r, 200)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	r.json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	var documented, registered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	seen := map[string]bool{}
	for _, rt := range e.srv.App().GetRoutes(true) {
		api := strings.HasPrefix(rt.Path, "/api/") || rt.Path == "/healthz" || rt.Path == "/readyz"
		if !api || rt.Method == "HEAD" || seen[rt.Method+rt.Path] {
			continue
		}
		seen[rt.Method+rt.Path] = true
		registered = append(registered, rt.Method+" "+server.OpenAPIPath(rt.Path))
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("OpenAPI paths differ from routes:\ndocumented %v\nregistered %v", documented, registered)
	}
	// Money is documented as a two-decimal string.
	if !strings.Contains(string(r.Body), `^-?[0-9]{1,13}\\.[0-9]{2}$`) {
		t.Error("money schema missing from the document")
	}
}

func TestListFilters(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10.00")
	r := e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines?programme_id=%d&fy=2024-25&status=active&kind=grant", f.ProgrammeID), nil)
	e.mustStatus(r, 200)
	var page struct {
		Items []struct{ ID int64 }
		Total int
	}
	r.json(t, &page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != f.LineID {
		t.Fatalf("page = %+v", page)
	}
	r = e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines?programme_id=%d&fy=2023-24", f.ProgrammeID), nil)
	r.json(t, &page)
	if page.Total != 0 {
		t.Fatalf("a 2024-25 line was listed for 2023-24: %+v", page)
	}
	for _, q := range []string{"fy=2024", "status=open", "kind=loan", "page=0", "per_page=100000", "programme_id=x"} {
		r := e.do(models.RoleBoardMember, "GET", "/api/v1/funding-lines?"+q, nil)
		e.mustStatus(r, 422)
		r.problem(t)
	}
}
