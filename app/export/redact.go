package export

import (
	"fmt"
	"regexp"
	"strings"
)

// Redaction of personal data from the publishing pack. The Order asks for
// the recipient of each item; it does not ask for personal data the body
// need not publish, so before any file is written:
//   - a payee, recipient or supplier with no org-id (the body has no register
//     entry showing it is an organisation: a sole trader, an individual, an
//     expenses claimant) is published as "Individual (name withheld)";
//   - e-mail addresses, telephone numbers and bank details (sort codes,
//     account numbers, IBANs) are cut out of every text cell.
// Office holders are named: the Order asks for their names (paragraph 1(a))
// and their expenses (1(d)). Each redaction is listed by file, row and
// column (never with what was withheld), so a reviewer can check it.

// WithheldName replaces the name of an individual.
const WithheldName = "Individual (name withheld)"

// Redaction is one cell the pack changed before publishing.
type Redaction struct {
	File  string `json:"file"`
	Row   int    `json:"row"` // 1 is the first row after the header
	Field string `json:"field"`
	What  string `json:"what"` // e.g. "e-mail address"
}

func (r Redaction) String() string {
	return fmt.Sprintf("%s row %d, %s: %s withheld", r.File, r.Row, strings.ReplaceAll(r.Field, "_", " "), r.What)
}

// personalData are the patterns cut out of text, with what each is.
var personalData = []struct {
	what string
	re   *regexp.Regexp
}{
	{"e-mail address", regexp.MustCompile(`[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)},
	{"bank details", regexp.MustCompile(`\bGB\d{2} ?[A-Z]{4}(?: ?\d){14}\b`)},
	{"bank details", regexp.MustCompile(`(?i)\b(?:sort code|account(?: number| no\.?)?|a/c(?: no\.?)?)[\s:.#]*\d[\d -]{5,}\d`)},
	{"bank details", regexp.MustCompile(`\b\d{2}-\d{2}-\d{2}\b`)},
	// A UK number's area or service code never starts with 0 (00 is the
	// international prefix), so "…-2024-003-4483…" in a reference is no number.
	{"telephone number", regexp.MustCompile(`(?:\+44\s?(?:\(0\)\s?)?|\b0)[1-9]\d{1,3}[\s-]?\d{3,4}[\s-]?\d{3,4}\b`)},
}

// redactText cuts personal data out of s, returning what it found.
func redactText(s string) (string, []string) {
	var found []string
	for _, p := range personalData {
		if p.re.MatchString(s) {
			s = p.re.ReplaceAllString(s, "[redacted "+p.what+"]")
			found = append(found, p.what)
		}
	}
	return s, found
}

// redactTable redacts t in place and returns what it redacted.
func redactTable(t *Table) []Redaction {
	col := map[string]int{}
	for i, c := range t.Columns {
		col[c.Name] = i
	}
	var out []Redaction
	for r, row := range t.Rows {
		for i, c := range t.Columns {
			if c.Money || c.Verbatim || row[i] == "" {
				continue
			}
			if org, ok := col[c.Name+"_org_id"]; ok && row[org] == "" {
				row[i] = WithheldName
				out = append(out, Redaction{File: t.File, Row: r + 1, Field: c.Name, What: "name of an individual (no org-id)"})
				continue
			}
			cleaned, found := redactText(row[i])
			row[i] = cleaned
			for _, what := range found {
				out = append(out, Redaction{File: t.File, Row: r + 1, Field: c.Name, What: what})
			}
		}
	}
	return out
}
