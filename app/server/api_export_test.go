package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"granttrack/app/server"
	"granttrack/models"
)

// TestExportLedgerFormatsThroughTheAPI downloads the XLSX, hledger and
// beancount ledgers of one line and checks each is what it says it is.
func TestExportLedgerFormatsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	var entry struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "12.34", "incurred_on": "2024-06-03", "category": "other", "description": "=2+2; x"})
	e.mustStatus(r, 201)
	r.json(t, &entry)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", entry.ID), nil), 200)
	for _, tc := range []struct {
		format, mediaType, ext string
		check                  func(t *testing.T, path string)
	}{
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", func(t *testing.T, path string) {
			x, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if v, err := x.GetCellValue("Ledger", "G2", excelize.Options{RawCellValue: true}); err != nil || v != "12.34" {
				t.Fatalf("amount cell %q %v", v, err)
			}
		}},
		{"hledger", "text/plain; charset=utf-8", "journal", func(t *testing.T, path string) {
			cmd := exec.Command("hledger", "-f", path, "bal", "expenses", "-O", "csv")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"total","12.34 GBP"`) {
				t.Fatalf("hledger (apt-get install hledger if missing): %v\n%s", err, out)
			}
		}},
		{"beancount", "text/plain; charset=utf-8", "beancount", func(t *testing.T, path string) {
			if out, err := exec.Command("bean-check", path).CombinedOutput(); err != nil || len(out) != 0 {
				t.Fatalf("bean-check (apt-get install beancount if missing): %v\n%s", err, out)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=%s&funding_line_id=%d&fy=2024-25", tc.format, f.LineID), nil)
			e.mustStatus(r, 200)
			if ct := r.Header.Get("Content-Type"); ct != tc.mediaType {
				t.Errorf("Content-Type %q, want %q", ct, tc.mediaType)
			}
			if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="ledger.`+tc.ext+`"`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			var m struct {
				Format   string
				Rows     int
				Approved string `json:"approved_total"`
				SHA256   string `json:"sha256"`
			}
			if err := json.Unmarshal([]byte(r.Header.Get(server.ManifestHeader)), &m); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(r.Body)
			if m.Format != tc.format || m.Rows != 1 || m.Approved != "12.34" || m.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("manifest %+v", m)
			}
			// The books are not spreadsheets: they carry the description as
			// written (hledger turns ";", which starts its comments, into ",").
			if want := map[string]string{"journal": "| =2+2, x", "beancount": `"=2+2; x"`}[tc.ext]; want != "" && !bytes.Contains(r.Body, []byte(want)) {
				t.Errorf("the description is not %s:\n%s", want, r.Body)
			}
			path := filepath.Join(t.TempDir(), "ledger."+tc.ext)
			if err := os.WriteFile(path, r.Body, 0o644); err != nil {
				t.Fatal(err)
			}
			tc.check(t, path)
		})
	}
}
