package export

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"granttrack/app/store"
	"granttrack/models"
)

// beancountHeader opens the file; like the hledger journal it holds
// approved spend only.
const beancountHeader = `; granttrack spend ledger for beancount.
;
; Only APPROVED spend entries are in the books: pending and rejected
; entries are not, so they are not in this file (the CSV, JSON and XLSX
; exports list every entry with its status).
;
; Each entry is an expense of its funding line owed to its payee:
;   Expenses:<Programme>:<Funding-Line>  against  Liabilities:Creditors:<Payee>
; (spend is recorded when incurred and approved, not when paid). A reversal
; is a transaction of its own with negative amounts and reverses metadata.
; Account components keep only letters, digits and hyphens and start with
; a capital letter. The open directives are at the end of the file, each
; dated the day its account is first used.

option "title" "granttrack spend ledger"
option "operating_currency" "GBP"

`

// beancountWriter writes one balanced transaction per approved entry and
// remembers each account's first day (one date per account, not per row)
// for the open directives.
type beancountWriter struct {
	w       *bufio.Writer
	opened  map[string]time.Time
	written int
}

func newBeancountWriter(w io.Writer) (RowWriter, error) {
	bw := bufio.NewWriter(w)
	_, err := bw.WriteString(beancountHeader)
	return &beancountWriter{w: bw, opened: map[string]time.Time{}}, err
}

func (bc *beancountWriter) Row(r store.LedgerRow) error {
	if r.Status != models.SpendApproved {
		return nil
	}
	bc.written++
	expense := "Expenses:" + beancountAccount(r.Programme) + ":" + beancountAccount(r.FundingLine)
	creditor := "Liabilities:Creditors:" + beancountAccount(r.Payee)
	for _, a := range []string{expense, creditor} {
		if first, ok := bc.opened[a]; !ok || r.IncurredOn.Before(first) {
			bc.opened[a] = r.IncurredOn
		}
	}
	var b strings.Builder
	b.WriteString(r.IncurredOn.Format(models.DateLayout))
	b.WriteString(" * ")
	b.WriteString(beancountString(r.Payee))
	b.WriteString(" ")
	b.WriteString(beancountString(r.Description))
	b.WriteString("\n")
	meta := func(key, value string) {
		b.WriteString("  ")
		b.WriteString(key)
		b.WriteString(": ")
		b.WriteString(beancountString(value))
		b.WriteString("\n")
	}
	meta("entry", strconv.FormatInt(r.ID, 10))
	meta("recorded_by", r.RecordedBy)
	if r.DecidedBy != nil {
		meta("approver", *r.DecidedBy)
	}
	if r.Award != nil {
		meta("award", *r.Award)
	}
	meta("category", r.Category)
	if r.Reference != "" {
		meta("reference", r.Reference)
	}
	if r.ReversesID != nil {
		meta("reverses", strconv.FormatInt(*r.ReversesID, 10))
	}
	if r.ReversalReason != nil {
		meta("reason", *r.ReversalReason)
	}
	for _, p := range []struct {
		account string
		neg     bool
	}{{expense, false}, {creditor, true}} {
		amount := r.Amount
		if p.neg {
			amount = amount.Neg()
		}
		b.WriteString("  ")
		b.WriteString(p.account)
		b.WriteString(strings.Repeat(" ", max(2, 60-len(p.account))))
		b.WriteString(models.FormatMoney(amount))
		b.WriteString(" GBP\n")
	}
	b.WriteString("\n")
	_, err := bc.w.WriteString(b.String())
	return err
}

// Close opens every account used, on the day it was first used, and ends
// with what the file holds.
func (bc *beancountWriter) Close(m *Manifest) error {
	accounts := make([]string, 0, len(bc.opened))
	for a := range bc.opened {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		bc.w.WriteString(bc.opened[a].Format(models.DateLayout) + " open " + a + " GBP\n")
	}
	bc.w.WriteString("\n; " + strconv.Itoa(bc.written) + " approved entries of the " + strconv.Itoa(m.Rows) +
		" the export's filters matched; approved total " + m.Approved + " GBP.\n; audit head seq " +
		strconv.FormatInt(m.AuditSeq, 10) + " hash " + m.AuditHash + "\n")
	return bc.w.Flush()
}

// beancountString quotes text as a beancount string on one line: line
// breaks and tabs become spaces, quotes and backslashes are escaped, and a
// would-be formula starts with an apostrophe.
func beancountString(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, SafeText(s))
	s = strings.Join(strings.Fields(s), " ")
	return `"` + beancountEscape.Replace(s) + `"`
}

var beancountEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// beancountAccount is one component of an account name in beancount's
// rules: ASCII letters, digits and hyphens, starting with a capital letter.
// Accents are dropped (Café is Cafe); other characters become hyphens.
func beancountAccount(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Mn, r):
			return -1
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			return r
		}
		return '-'
	}, norm.NFD.String(s))
	s = strings.Trim(collapse(s, '-'), "-")
	switch {
	case s == "":
		return "Unknown"
	case s[0] >= 'a' && s[0] <= 'z':
		return strings.ToUpper(s[:1]) + s[1:]
	case s[0] < 'A' || s[0] > 'Z':
		return "X" + s
	}
	return s
}
