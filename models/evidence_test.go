package models

import (
	"strings"
	"testing"
)

func TestSanitiseFileName(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\ann\Invoice 7.pdf`:      "Invoice 7.pdf",
		"../../etc/passwd":                "passwd",
		"..":                              "evidence",
		".htaccess":                       "htaccess",
		"a\r\nContent-Type: x\".pdf":      "a Content-Type_ x_.pdf",
		"  reçu   été.png ":               "re_u _t_.png",
		"":                                "evidence",
		"///":                             "evidence",
		strings.Repeat("x", 300) + ".csv": strings.Repeat("x", 116) + ".csv",
	} {
		if got := SanitiseFileName(in); got != want {
			t.Errorf("SanitiseFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectEvidenceType(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"pdf", "%PDF-1.4\n%\xe2\xe3\xcf\xd3", EvidencePDF},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", EvidencePNG},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", EvidenceJPEG},
		{"text", "Paid in full, thank you.\n", EvidenceText},
		{"html", "<html><body>hi</body></html>", ""},
		{"svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`, ""},
		{"latin1", "caf\xe9 receipt", ""},
		{"gif", "GIF89a\x01\x00", ""},
		{"zip", "PK\x03\x04\x14\x00", ""},
		{"exe", "MZ\x90\x00\x03", ""},
	} {
		if got := DetectEvidenceType([]byte(c.data)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCheckEvidenceNames(t *testing.T) {
	pdf := []byte("%PDF-1.7\n")
	if name, ct, err := CheckEvidence("scan", pdf); err != nil || name != "scan.pdf" || ct != EvidencePDF {
		t.Fatalf("got %q %q %v", name, ct, err)
	}
	if name, ct, err := CheckEvidence("rows.CSV", []byte("a,b\n")); err != nil || name != "rows.CSV" || ct != EvidenceCSV {
		t.Fatalf("got %q %q %v", name, ct, err)
	}
	if name, _, err := CheckEvidence("report.docx", pdf); err != nil || name != "report.docx.pdf" {
		t.Fatalf("an unknown extension gets the right one added: %q %v", name, err)
	}
	if _, _, err := CheckEvidence("a.png", pdf); err == nil || !strings.Contains(ErrorMessage(err), "named .png but its contents are a PDF") {
		t.Fatalf("err = %v", err)
	}
}
