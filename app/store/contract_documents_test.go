package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestContractDocumentRules: a contract document is kept as uploaded
// (contract_document_append_only), belongs to a contract line
// (contract_document_on_contract_line) and replaces only a document of the
// same line and kind (contract_document_supersedes_same_kind), in Go and in
// PostgreSQL; the raw SQL runs as the application role.
func TestContractDocumentRules(t *testing.T) {
	ctx := context.Background()
	st := MustStore(t)
	officer, _, err := storetest.Deciders(ctx, st, unique("doc"))
	if err != nil {
		t.Fatal(err)
	}
	c := contractLine(t, st, "18500.00")
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
	in := models.ContractDocumentInput{Kind: "invitation_to_tender", Title: "Invitation to tender", PublishedOn: "2024-03-01"}
	itt, err := in.Validate(c.Line.ID, "itt.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddContractDocument(ctx, officer, itt); err != nil {
		t.Fatal(err)
	}

	t.Run("GoRefuses", func(t *testing.T) {
		grant := line(t, st, "100.00").ID
		d, err := in.Validate(grant, "itt.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddContractDocument(ctx, officer, d); !errors.Is(err, models.ErrDocumentNotOnContract) {
			t.Fatalf("a grant line's document: %v", err)
		}
		contract := models.ContractDocumentInput{Kind: "contract", Title: "Contract", SignedOn: "2024-04-20", SupersedesID: strconv.FormatInt(itt.ID, 10)}
		d, err = contract.Validate(c.Line.ID, "contract.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddContractDocument(ctx, officer, d); !errors.Is(err, models.ErrDocumentSupersedesOtherKind) {
			t.Fatalf("a contract replacing an invitation: %v", err)
		}
	})

	t.Run("PostgreSQLRefuses", func(t *testing.T) {
		insert := `INSERT INTO contract_documents (funding_line_id, kind, title, document_date, supersedes_id, file_name, content_type, size, sha256, content, uploaded_by)
			VALUES (?, ?, 'Doc', '2024-03-01', ?, 'doc.pdf', 'application/pdf', octet_length(?::bytea), sha256(?::bytea), ?::bytea, ?)`
		for _, c2 := range []struct {
			name, want string
			err        error
		}{
			{"ErrUpdate", "permission denied", raw(st, "UPDATE contract_documents SET title = 'Changed' WHERE id = ?", itt.ID)},
			{"ErrDelete", "permission denied", raw(st, "DELETE FROM contract_documents WHERE id = ?", itt.ID)},
			// The trigger holds even for the schema's owner.
			{"ErrOwnerUpdate", "append-only", asOwner(t, "UPDATE contract_documents SET title = 'Changed' WHERE id = ?", itt.ID)},
			{"ErrOwnerDelete", "append-only", asOwner(t, "DELETE FROM contract_documents WHERE id = ?", itt.ID)},
			{"ErrTruncate", "", raw(st, "TRUNCATE contract_documents")},
			{"ErrGrantLine", "contract_document_on_contract_line", raw(st, insert, line(t, st, "100.00").ID, "invitation_to_tender", nil, pdf, pdf, pdf, officer.UserID)},
			{"ErrSupersedesOtherKind", "contract_document_supersedes_same_kind", raw(st, insert, c.Line.ID, "contract", itt.ID, pdf, pdf, pdf, officer.UserID)},
			{"ErrHashMismatch", "contract_documents_hash_matches", raw(st, strings.Replace(insert, "sha256(?::bytea)", "sha256('other'::bytea || ?::bytea)", 1),
				c.Line.ID, "invitation_to_tender", nil, pdf, pdf, pdf, officer.UserID)},
			{"ErrControlInName", "contract_documents_file_name_check", raw(st, strings.Replace(insert, "'doc.pdf'", "E'doc\\x07.pdf'", 1),
				c.Line.ID, "invitation_to_tender", nil, pdf, pdf, pdf, officer.UserID)},
		} {
			if c2.err == nil {
				t.Errorf("%s: PostgreSQL accepted it", c2.name)
			} else if !strings.Contains(c2.err.Error(), c2.want) {
				t.Errorf("%s: %v, want %q", c2.name, c2.err, c2.want)
			}
		}
		var title string
		if err := st.DB().NewRaw("SELECT title FROM contract_documents WHERE id = ?", itt.ID).Scan(ctx, &title); err != nil || title != "Invitation to tender" {
			t.Fatalf("the document is as uploaded: %q %v", title, err)
		}
	})
}
