package export

import (
	"bufio"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mozillazg/go-unidecode"
	"github.com/shopspring/decimal"
	"golang.org/x/text/unicode/norm"

	"granttrack/app/store"
	"granttrack/models"
)

// hledgerHeader opens the journal. The journal is the books, so it holds
// approved spend only; the comment says so to whoever opens the file.
const hledgerHeader = `; granttrack spend ledger as an hledger journal.
;
; Only APPROVED spend entries are in the books: pending and rejected
; entries are not, so they are not in this journal (the CSV, JSON and XLSX
; exports list every entry with its status). Transactions are in date order.
;
; Each entry is an expense of its funding line, owed to its payee:
;   expenses:<programme code>:<funding line code>   against
;   liabilities:creditors:<payee> #<organisation id>
; The organisation's id keeps payees whose names look alike apart.
; granttrack records spend when it is incurred and approved, not when it is
; paid, so the other side is a creditor rather than the bank. A reversal is
; a transaction of its own with negative amounts, tagged reverses:<entry>.
; The transaction code in brackets is the entry's id. Each funding line's
; budget is a periodic transaction on its first day, for hledger bal --budget.
;
; The journal is plain ASCII, so hledger reads it in any locale (hledger
; 1.25 stops at the first non-ASCII byte in a C locale): names are
; transliterated to ASCII here, and the CSV, JSON, XLSX and beancount
; exports keep them as written. Line breaks and tabs become spaces, ";"
; becomes ",", "|" in a payee becomes "/", commas in tag values become ";".
; Account names keep letters, digits, single spaces and - & . ' / , only.

commodity 1,000.00 GBP

`

// hledgerWriter writes one balanced transaction per approved entry, in
// the order they come (by date), and remembers the accounts it used so
// that Close can declare them.
type hledgerWriter struct {
	w        *bufio.Writer
	accounts map[string]bool
	payees   map[string]bool
	lines    []store.LineBudget
	written  int
}

func newHledgerWriter(w io.Writer) (RowWriter, error) {
	bw := bufio.NewWriter(w)
	_, err := bw.WriteString(hledgerHeader)
	return &hledgerWriter{w: bw, accounts: map[string]bool{}, payees: map[string]bool{}}, err
}

// hledgerExpense and hledgerCreditor are the accounts an entry posts to.
func hledgerExpense(programme, line string) string {
	return "expenses:" + hledgerAccount(programme) + ":" + hledgerAccount(line)
}

func hledgerCreditor(payee string, id int64) string {
	return "liabilities:creditors:" + hledgerAccount(payee) + " #" + strconv.FormatInt(id, 10)
}

func (h *hledgerWriter) Row(r store.LedgerRow) error {
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
	// hledger reads the payee as the description up to "|".
	payee := strings.ReplaceAll(hledgerText(r.Payee), "|", "/")
	h.payees[payee] = true
	desc := payee
	if d := hledgerText(r.Description); d != "" {
		desc += " | " + d
	}
	expense, creditor := hledgerExpense(r.Programme, r.FundingLine), hledgerCreditor(r.Payee, r.PayeeID)
	h.accounts[expense], h.accounts[creditor] = true, true
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
	b.WriteString(models.FormatMoney(amount))
	b.WriteString(" GBP\n")
}

func (h *hledgerWriter) budgets(lines []store.LineBudget) { h.lines = lines }

// hledgerBudget is the account a budget is drawn from.
const hledgerBudget = "equity:budget"

// Close writes each funding line's budget as a periodic transaction on the
// line's first day (hledger bal --budget compares it with the spend),
// declares every account and payee used, so that hledger check accounts
// and payees (and hledger -s) hold, and ends with what the journal holds.
func (h *hledgerWriter) Close(m *Manifest) error {
	for _, l := range h.lines {
		expense := hledgerExpense(l.Programme, l.FundingLine)
		h.accounts[expense], h.accounts[hledgerBudget] = true, true
		var b strings.Builder
		b.WriteString("~ " + l.StartsOn.Format(models.DateLayout) + "  budget of " + hledgerText(l.Programme) + " " + hledgerText(l.FundingLine) +
			" until " + l.EndsOn.Format(models.DateLayout) + "\n    ")
		hledgerPosting(&b, expense, l.Budget)
		b.WriteString("    " + hledgerBudget + "\n\n")
		h.w.WriteString(b.String())
	}
	accounts := make([]string, 0, len(h.accounts))
	for a := range h.accounts {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	for _, a := range accounts {
		h.w.WriteString("account " + a + "\n")
	}
	for _, p := range slices.Sorted(maps.Keys(h.payees)) {
		h.w.WriteString("payee " + p + "\n")
	}
	h.w.WriteString("\n; " + strconv.Itoa(h.written) + " approved entries; approved total " + m.Approved + " GBP.\n; audit head seq " +
		strconv.FormatInt(m.AuditSeq, 10) + " hash " + m.AuditHash + "\n")
	return h.w.Flush()
}

// hledgerText puts free text on one line of the journal, in ASCII:
// letters are transliterated (Café is Cafe, Bengali and Chinese are
// romanised), £ is GBP, line breaks and tabs become spaces, ";" (which
// starts a comment) becomes ",", and runs of spaces are one space.
func hledgerText(s string) string {
	s = unidecode.Unidecode(norm.NFC.String(strings.ReplaceAll(s, "£", "GBP ")))
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ';':
			return ','
		case r > unicode.MaxASCII:
			return -1 // unidecode leaves none; the journal must stay ASCII
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// hledgerTag is hledgerText for a tag's value, which ends at a comma.
func hledgerTag(s string) string { return strings.ReplaceAll(hledgerText(s), ",", ";") }

// hledgerAccount is one component of an account name: ":" separates
// components, two spaces end the name and a leading "(" or "[" would make
// a virtual posting, so it keeps letters, digits and - & . ' / , and makes
// anything else a single space.
func hledgerAccount(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-&.'/,", r) {
			return r
		}
		return ' '
	}, hledgerText(s))
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "-&.'/, ")
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
