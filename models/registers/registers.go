// Package registers holds copies of the official registers that
// organisation identifiers are checked against, compiled into the binary so
// that checking needs no network. Each file names its source and date in its
// header ('#' lines).
package registers

import (
	"bufio"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

//go:embed local-authority-eng.tsv
var localAuthorityEng string

// LocalAuthority is one entry of a local authority register.
type LocalAuthority struct {
	Code, Type, Name, OfficialName, StartDate, EndDate string
}

var (
	laeOnce sync.Once
	lae     map[string]LocalAuthority
)

// parseTSV reads a register file: '#' lines are its header, the first other
// line names the columns, and each line after it is one entry.
func parseTSV(data string) [][]string {
	var rows [][]string
	sc := bufio.NewScanner(strings.NewReader(data))
	header := true
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

// LocalAuthorityEng returns the entry of the local-authority-eng register
// (org-id.guide's GB-LAE list) with this code, and whether there is one.
func LocalAuthorityEng(code string) (LocalAuthority, bool) {
	laeOnce.Do(func() {
		lae = map[string]LocalAuthority{}
		for _, f := range parseTSV(localAuthorityEng) {
			for len(f) < 6 {
				f = append(f, "")
			}
			lae[f[0]] = LocalAuthority{Code: f[0], Type: f[1], Name: f[2], OfficialName: f[3], StartDate: f[4], EndDate: f[5]}
		}
	})
	la, ok := lae[code]
	return la, ok
}

// LocalAuthorityEngSource is the register file's header: where it comes from
// and as of when, for messages and documentation.
func LocalAuthorityEngSource() string {
	var b strings.Builder
	for _, line := range strings.Split(localAuthorityEng, "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(strings.TrimSpace(strings.TrimPrefix(line, "#")) + " ")
	}
	return strings.TrimSpace(b.String())
}

// LocalAuthorityEngCodes returns every code in the local-authority-eng
// register, sorted: the list the database's copy (table
// local_authority_eng) must equal.
func LocalAuthorityEngCodes() []string {
	LocalAuthorityEng("")
	codes := make([]string, 0, len(lae))
	for c := range lae {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}
