package server_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/server"
	"granttrack/models"
)

// TestExportsPageDownloadsCSVForExcel: the exports form asks for a CSV
// with a UTF-8 byte order mark by default, so Excel opens names such as
// Café correctly; the API gives one only when asked.
func TestExportsPageDownloadsCSVForExcel(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "12.00", "incurred_on": "2024-06-03", "category": "other", "description": "Café"}), 201)
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	page := auditor.request("GET", "/exports", nil)
	e.mustStatus(page, 200)
	if !strings.Contains(string(page.Body), `<input type="checkbox" name="excel" value="true" checked>`) {
		t.Fatalf("the form should ask for the Excel CSV by default:\n%s", page.Body)
	}
	q := fmt.Sprintf("?format=csv&funding_line_id=%d", f.LineID)
	web := auditor.request("GET", "/exports/ledger"+q+"&excel=true", nil)
	e.mustStatus(web, 200)
	api := e.do(models.RoleAuditor, "GET", "/api/v1/exports/ledger"+q, nil)
	e.mustStatus(api, 200)
	if !bytes.HasPrefix(web.Body, []byte("\ufeffentry_id,")) || bytes.HasPrefix(api.Body, []byte("\ufeff")) || !bytes.Contains(web.Body, []byte("Café")) {
		t.Fatalf("web %q\napi %q", web.Body, api.Body)
	}
	if !strings.Contains(web.Header.Get(server.ManifestHeader), `"utf8_bom":true`) {
		t.Errorf("the manifest should say the file starts with a byte order mark: %s", web.Header.Get(server.ManifestHeader))
	}
}
