package export

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// hledgerHeader opens the journal. The journal is the books, so it holds
// approved spend only; the comment says so to whoever opens the file.
const hledgerHeader = `; granttrack spend ledger as an hledger journal.
;
; Only APPROVED spend entries are in the books: pending and rejected
; entries are not, so they are not in this journal (the CSV, JSON and XLSX
; exports list every entry with its status).
;
; Each entry is an expense of its funding line, owed to its payee:
;   expenses:<programme code>:<funding line code>   against
;   liabilities:creditors:<payee>
; granttrack records spend when it is incurred and approved, not when it is
; paid, so the other side is a creditor rather than the bank. A reversal is
; a transaction of its own with negative amounts, tagged reverses:<entry>.
; The transaction code in brackets is the entry's id.
;
; Text is made safe for the journal: line breaks and tabs become spaces,
; ";" becomes ",", "|" in a payee becomes "/", commas in tag values become
; ";", and text a spreadsheet would run as a formula starts with an
; apostrophe. Account names keep letters, digits, single spaces and
; - & . ' only. Read the file with a UTF-8 locale (LANG=C.UTF-8 hledger ...):
; hledger 1.25 stops at the £ sign otherwise.

commodity £1,000.00

`

// hledgerWriter writes one balanced transaction per approved entry.
type hledgerWriter struct {
	w       *bufio.Writer
	written int
}

func newHledgerWriter(w io.Writer) (RowWriter, error) {
	bw := bufio.NewWriter(w)
	_, err := bw.WriteString(hledgerHeader)
	return &hledgerWriter{w: bw}, err
}

func (h *hledgerWriter) Row(r store.LedgerRow) error {
	if r.Status != models.SpendApproved {
		return nil
	}
	h.written++
	tags := []string{"entry:" + strconv.FormatInt(r.ID, 10), "recorded_by:" + hledgerTag(r.RecordedBy)}
	if r.DecidedBy != nil {
		tags = append(tags, "approver:"+hledgerTag(*r.DecidedBy))
	}
	if r.Award != nil {
		tags = append(tags, "award:"+hledgerTag(*r.Award))
	}
	tags = append(tags, "category:"+hledgerTag(r.Category))
	if r.Reference != "" {
		tags = append(tags, "reference:"+hledgerTag(r.Reference))
	}
	if r.ReversesID != nil {
		tags = append(tags, "reverses:"+strconv.FormatInt(*r.ReversesID, 10))
	}
	if r.ReversalReason != nil {
		tags = append(tags, "reason:"+hledgerTag(*r.ReversalReason))
	}
	desc := strings.ReplaceAll(hledgerText(r.Payee), "|", "/")
	if d := hledgerText(r.Description); d != "" {
		desc += " | " + d
	}
	expense := "expenses:" + hledgerAccount(r.Programme) + ":" + hledgerAccount(r.FundingLine)
	creditor := "liabilities:creditors:" + hledgerAccount(r.Payee)
	// Status * (cleared) and the code come first, so a description that
	// starts with "!" or "(" is read as the description.
	var b strings.Builder
	b.WriteString(r.IncurredOn.Format(models.DateLayout))
	b.WriteString(" * (")
	b.WriteString(strconv.FormatInt(r.ID, 10))
	b.WriteString(") ")
	b.WriteString(desc)
	b.WriteString("\n    ; ")
	b.WriteString(strings.Join(tags, ", "))
	b.WriteString("\n    ")
	hledgerPosting(&b, expense, r.Amount)
	b.WriteString("    ")
	hledgerPosting(&b, creditor, r.Amount.Neg())
	b.WriteString("\n")
	_, err := h.w.WriteString(b.String())
	return err
}

func hledgerPosting(b *strings.Builder, account string, amount decimal.Decimal) {
	b.WriteString(account)
	b.WriteString(strings.Repeat(" ", max(2, 60-len(account))))
	if amount.IsNegative() {
		b.WriteString("-")
	}
	b.WriteString("£")
	b.WriteString(models.FormatMoney(amount.Abs()))
	b.WriteString("\n")
}

// Close ends the journal with what it holds.
func (h *hledgerWriter) Close(m *Manifest) error {
	h.w.WriteString("; " + strconv.Itoa(h.written) + " approved entries of the " + strconv.Itoa(m.Rows) +
		" the export's filters matched; approved total £" + m.Approved + ".\n; audit head seq " +
		strconv.FormatInt(m.AuditSeq, 10) + " hash " + m.AuditHash + "\n")
	return h.w.Flush()
}

// hledgerText puts free text on one line of a journal: line breaks and
// tabs become spaces, ";" (which starts a comment) becomes ",", runs of
// spaces are one space, and a would-be formula starts with an apostrophe.
func hledgerText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ';':
			return ','
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return ' '
		}
		return r
	}, SafeText(s))
	return strings.Join(strings.Fields(s), " ")
}

// hledgerTag is hledgerText for a tag's value, which ends at a comma.
func hledgerTag(s string) string { return strings.ReplaceAll(hledgerText(s), ",", ";") }

// hledgerAccount is one component of an account name: ":" separates
// components and two spaces end the name, so it keeps letters, digits,
// hyphens, & . and ', and makes anything else a single space.
func hledgerAccount(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-&.'", r) {
			return r
		}
		return ' '
	}, s)
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "-&.' ")
	if s == "" {
		return "unknown"
	}
	return s
}

// collapse turns runs of c into one c.
func collapse(s string, c byte) string {
	double := string([]byte{c, c})
	for strings.Contains(s, double) {
		s = strings.ReplaceAll(s, double, string(c))
	}
	return s
}
