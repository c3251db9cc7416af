package export

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode"
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
; exports list every entry with its status). Transactions are in date order.
;
; Each entry is an expense of its funding line owed to its payee:
;   Expenses:<Programme>:<Funding-Line>  against
;   Liabilities:Creditors:<Payee>-<organisation id>
; (spend is recorded when incurred and approved, not when paid). The
; organisation's id keeps payees whose names look alike apart. A reversal
; is a transaction of its own with negative amounts and reverses metadata.
; Account components keep letters (of any script) and digits, other
; characters become hyphens, and a component starts with a capital letter
; or a digit (X- before one that cannot); a name with combining marks
; (such as Bengali vowel signs, which beancount's account names do not
; allow) is transliterated to Latin letters. Payee and narration strings
; keep the text as written. The commodity and open directives are at the
; end of the file, each dated the day its account is first used; each
; funding line's budget is a custom "budget" directive on its first day.

option "title" "granttrack spend ledger"
option "operating_currency" "GBP"

`

// beancountWriter writes one balanced transaction per approved entry and
// remembers each account's first day (one date per account, not per row)
// for the open directives.
type beancountWriter struct {
	w       *bufio.Writer
	opened  map[string]time.Time
	first   time.Time
	lines   []store.LineBudget
	written int
}

func newBeancountWriter(w io.Writer) (RowWriter, error) {
	bw := bufio.NewWriter(w)
	_, err := bw.WriteString(beancountHeader)
	return &beancountWriter{w: bw, opened: map[string]time.Time{}}, err
}

// beancountExpense and beancountCreditor are the accounts an entry posts to.
func beancountExpense(programme, line string) string {
	return "Expenses:" + beancountAccount(programme) + ":" + beancountAccount(line)
}

func beancountCreditor(payee string, id int64) string {
	return "Liabilities:Creditors:" + beancountAccount(payee) + "-" + strconv.FormatInt(id, 10)
}

// use notes that account is used on day, for its open directive, and
// the commodity too.
func (bc *beancountWriter) use(account string, day time.Time) {
	if first, ok := bc.opened[account]; !ok || day.Before(first) {
		bc.opened[account] = day
	}
	if bc.first.IsZero() || day.Before(bc.first) {
		bc.first = day
	}
}

func (bc *beancountWriter) Row(r store.LedgerRow) error {
	bc.written++
	expense, creditor := beancountExpense(r.Programme, r.FundingLine), beancountCreditor(r.Payee, r.PayeeID)
	bc.use(expense, r.IncurredOn)
	bc.use(creditor, r.IncurredOn)
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
		b.WriteString(strings.Repeat(" ", max(2, 60-utf8.RuneCountInString(p.account))))
		b.WriteString(models.FormatMoney(amount))
		b.WriteString(" GBP\n")
	}
	b.WriteString("\n")
	_, err := bc.w.WriteString(b.String())
	return err
}

func (bc *beancountWriter) budgets(lines []store.LineBudget) { bc.lines = lines }

// Close writes each funding line's budget as a custom "budget" directive
// on the line's first day (for the line's whole life, which ends_on
// gives), declares the commodity and opens every account used, on the
// day it was first used, and ends with what the file holds.
func (bc *beancountWriter) Close(m *Manifest) error {
	for _, l := range bc.lines {
		expense := beancountExpense(l.Programme, l.FundingLine)
		bc.use(expense, l.StartsOn)
		bc.w.WriteString(l.StartsOn.Format(models.DateLayout) + ` custom "budget" ` + expense + ` "total" ` + models.FormatMoney(l.Budget) +
			" GBP\n  ends_on: " + l.EndsOn.Format(models.DateLayout) + "\n")
	}
	if !bc.first.IsZero() {
		bc.w.WriteString(bc.first.Format(models.DateLayout) + " commodity GBP\n  name: \"Pound sterling\"\n")
	}
	accounts := make([]string, 0, len(bc.opened))
	for a := range bc.opened {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	for _, a := range accounts {
		bc.w.WriteString(bc.opened[a].Format(models.DateLayout) + " open " + a + " GBP\n")
	}
	bc.w.WriteString("\n; " + strconv.Itoa(bc.written) + " approved entries; approved total " + m.Approved + " GBP.\n; audit head seq " +
		strconv.FormatInt(m.AuditSeq, 10) + " hash " + m.AuditHash + "\n")
	return bc.w.Flush()
}

// beancountString quotes text as a beancount string on one line: line
// breaks and tabs become spaces, and quotes and backslashes are escaped.
func beancountString(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return `"` + beancountEscape.Replace(s) + `"`
}

var beancountEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// beancountAccount is one component of an account name in beancount's
// rules ([\p{Lu}\p{Nd}][\p{L}\p{Nd}-]*): letters of any script and digits
// are kept, anything else becomes a hyphen. Combining marks are not
// allowed, so a name that has any after NFC (Bengali's vowel signs,
// Devanagari's) is transliterated to Latin letters rather than lose them.
// A component starting with a small letter gets a capital; one starting
// with a letter that has no capital (Chinese) gets "X-" before it.
func beancountAccount(s string) string {
	s = norm.NFC.String(s)
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.M, r) }) {
		s = unidecode.Unidecode(s)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '-'
	}, s)
	s = strings.Trim(collapse(s, '-'), "-")
	if s == "" {
		return "Unknown"
	}
	first, size := utf8.DecodeRuneInString(s)
	if up := unicode.ToUpper(first); unicode.IsLower(first) && unicode.IsUpper(up) {
		return string(up) + s[size:]
	}
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return "X-" + s
	}
	return s
}
