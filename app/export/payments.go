package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"granttrack/app/store"
	"granttrack/models"
)

// RemittanceColumns is the documented layout of a payment run's remittance
// file: one row per payment, for the payees and the finance system.
var RemittanceColumns = []string{"payment_reference", "payment_run", "pay_on", "payee", "payee_org_id", "award", "tranche",
	"tranche_due_on", "funding_line", "amount", "spend_entry_id"}

// JournalColumns is the documented layout of a payment run's journal for
// the finance system: one line per payment.
var JournalColumns = []string{"date", "cost_centre", "gl_code", "supplier", "amount", "reference"}

// Remittance writes a payment run's remittance as RFC 4180 CSV (CRLF),
// text cells safe from formula injection, amounts plain numbers.
func Remittance(w io.Writer, run *models.PaymentRun, payments []store.Payment) error {
	return writeCSV(w, RemittanceColumns, len(payments), func(i int) []string {
		p := payments[i]
		entry := ""
		if p.SpendEntryID != nil {
			entry = strconv.FormatInt(*p.SpendEntryID, 10)
		}
		org := ""
		if p.PayeeOrgID != nil {
			org = *p.PayeeOrgID
		}
		return []string{SafeText(p.Reference), SafeText(run.Reference), day(run.PayOn), SafeText(p.Payee), SafeText(org),
			SafeText(p.AwardReference), strconv.Itoa(p.Seq), day(p.DueOn), SafeText(p.FundingLine), models.FormatMoney(p.Amount), entry}
	})
}

// Journal writes a payment run's journal for the finance system as RFC
// 4180 CSV (CRLF): ECONFLICT, naming the lines, when a line paid from has
// no cost centre or GL account code yet.
func Journal(w io.Writer, run *models.PaymentRun, payments []store.Payment) error {
	var missing []string
	for _, p := range payments {
		if (p.CostCentre == "" || p.GLAccount == "") && !strings.Contains(strings.Join(missing, ","), p.FundingLine) {
			missing = append(missing, p.FundingLine)
		}
	}
	if len(missing) > 0 {
		return models.Errorf(models.ECONFLICT, "The journal needs a cost centre and a GL account code on every funding line it pays from; %s has none yet: enter them on the line's edit form.",
			strings.Join(missing, ", "))
	}
	return writeCSV(w, JournalColumns, len(payments), func(i int) []string {
		p := payments[i]
		return []string{day(run.PayOn), p.CostCentre, p.GLAccount, SafeText(p.Payee), models.FormatMoney(p.Amount), SafeText(p.Reference)}
	})
}

func writeCSV(w io.Writer, header []string, n int, row func(int) []string) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		if err := cw.Write(row(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
