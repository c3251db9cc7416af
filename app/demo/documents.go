package demo

import (
	"bytes"
	"fmt"
	"strings"

	"granttrack/models"
)

// AllyshipTenderTitle is the title of the demo's invitation to tender for
// the allyship training, published on 12 March 2024.
const AllyshipTenderTitle = "Invitation to tender MOPAC-T-2024-017: anti-racism allyship training"

// tenderDocuments attaches the allyship training's invitation to tender, a
// small generated PDF, so that March 2024's publishing pack carries it.
func (l *loader) tenderDocuments() {
	maker, _, _ := l.people()
	if l.err != nil {
		return
	}
	pdf := SimplePDF("Invitation to tender MOPAC-T-2024-017",
		"The Mayor's Office for Policing and Crime invites tenders from facilitators",
		"to run a session on anti-racism allyship for members of the London Policing Board.",
		"Value band: £10,000 to £25,000. Tenders close on 2 April 2024.",
		"(Fictional demo document.)")
	in := models.ContractDocumentInput{Kind: string(models.DocInvitationToTender), Title: AllyshipTenderTitle, PublishedOn: "2024-03-12"}
	d, err := in.Validate(l.lines["ALLYSHIP-TRAINING"], "MOPAC-T-2024-017 invitation to tender.pdf", pdf)
	l.fail("allyship invitation to tender", err)
	if l.err == nil {
		l.fail("allyship invitation to tender", l.st.AddContractDocument(l.ctx, maker, d))
	}
}

// SimplePDF writes a one-page PDF 1.4 showing each line in Helvetica, with
// a correct cross-reference table, so any reader opens it.
func SimplePDF(lines ...string) []byte {
	var text strings.Builder
	text.WriteString("BT /F1 12 Tf 72 760 Td 16 TL\n")
	for _, line := range lines {
		// PDF strings escape \, ( and ); the pound sign is WinAnsi 0xA3.
		line = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, "£", `\243`).Replace(line)
		fmt.Fprintf(&text, "(%s) Tj T*\n", line)
	}
	text.WriteString("ET")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", text.Len(), text.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}
