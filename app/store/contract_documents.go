package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// AddContractDocument stores a contract line's document, checked by
// models.ContractDocumentInput.Validate, as the database's
// contract_document_rules does: EINVALID when the line is not a contract
// line (contract_document_on_contract_line) or the document it supersedes
// is not of the same line and kind (contract_document_supersedes_same_kind);
// ECONFLICT when that document was superseded already; ENOTFOUND for no
// such line. The audit event names the file by its hash and size.
func (s *Store) AddContractDocument(ctx context.Context, actor models.Actor, d *models.ContractDocument) error {
	sum := sha256.Sum256(d.Content)
	d.SHA256, d.Size, d.UploadedBy = sum[:], int64(len(d.Content)), actor.UserID
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl := new(models.FundingLine)
		if err := tx.NewSelect().Model(fl).Column("id", "code", "kind").Where("id = ?", d.FundingLineID).Scan(ctx); err != nil {
			return notFound(err, "Funding line", d.FundingLineID)
		}
		if fl.Kind != models.KindContract {
			return &models.Error{Code: models.EINVALID, Err: models.ErrDocumentNotOnContract,
				Message: "Funding line " + fl.Code + " is not a contract line; only a contract line has tender and contract documents."}
		}
		if d.SupersedesID != nil {
			old := new(models.ContractDocument)
			err := tx.NewSelect().Model(old).Column("id", "funding_line_id", "kind").Where("id = ?", *d.SupersedesID).Scan(ctx)
			if err != nil || old.FundingLineID != d.FundingLineID || old.Kind != d.Kind {
				return &models.Error{Code: models.EINVALID, Err: models.ErrDocumentSupersedesOtherKind,
					Message: "A document replaces only a document of the same kind on the same line.",
					Fields: []models.FieldError{{Field: "supersedes_id", Message: "must be one of " + fl.Code + "'s documents of the kind " +
						d.Kind.Label() + " (see its list of documents)"}}}
			}
			taken, err := tx.NewSelect().Model((*models.ContractDocument)(nil)).Where("supersedes_id = ?", *d.SupersedesID).Exists(ctx)
			if err != nil {
				return err
			}
			if taken {
				return &models.Error{Code: models.ECONFLICT, Message: "That document has already been replaced.",
					Fields: []models.FieldError{{Field: "supersedes_id", Message: "has already been replaced; replace its latest version"}}}
			}
		}
		if _, err := tx.NewInsert().Model(d).Returning("id, uploaded_at").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "contract_document.add", Entity: "funding_line", EntityID: fl.ID,
			After: map[string]any{"document_id": d.ID, "kind": d.Kind, "title": d.Title, "document_date": d.DocumentDate.Format(models.DateLayout),
				"supersedes_id": d.SupersedesID, "personal_data": d.PersonalData, "file_name": d.FileName, "content_type": d.ContentType,
				"size": d.Size, "sha256": hex.EncodeToString(d.SHA256)}})
	})
}

// ContractDocuments lists a funding line's documents, oldest first, without
// their contents; ENOTFOUND if there is no such line.
func (s *Store) ContractDocuments(ctx context.Context, lineID int64) ([]*models.ContractDocument, error) {
	if _, err := s.FundingLine(ctx, lineID); err != nil {
		return nil, err
	}
	docs := []*models.ContractDocument{}
	err := s.db.NewSelect().Model(&docs).ExcludeColumn("content").Where("funding_line_id = ?", lineID).Order("id").Scan(ctx)
	return docs, translate(err)
}

// ContractDocument returns one of a line's documents with its contents;
// ENOTFOUND if the line has no such document.
func (s *Store) ContractDocument(ctx context.Context, lineID, id int64) (*models.ContractDocument, error) {
	d := new(models.ContractDocument)
	if err := s.db.NewSelect().Model(d).Where("id = ? AND funding_line_id = ?", id, lineID).Scan(ctx); err != nil {
		return nil, notFound(err, "Contract document", id)
	}
	return d, nil
}

// PublishableDocuments returns, with their contents, the current version
// (superseded by none) of each invitation to tender published from from to
// to, and of each contract document of the lines in contractLines: what
// the publishing pack publishes under the Order's paragraph 4(b), in the
// order of line and kind.
func (s *Store) PublishableDocuments(ctx context.Context, from, to time.Time, contractLines []int64) ([]*models.ContractDocument, error) {
	docs := []*models.ContractDocument{}
	q := s.db.NewSelect().Model(&docs).
		Where("NOT EXISTS (SELECT 1 FROM contract_documents n WHERE n.supersedes_id = contract_document.id)").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("kind = ? AND document_date BETWEEN ? AND ?", models.DocInvitationToTender, from, to)
			if len(contractLines) > 0 {
				q = q.WhereOr("kind = ? AND funding_line_id IN (?)", models.DocContract, bun.In(contractLines))
			}
			return q
		}).
		Order("funding_line_id", "kind DESC", "id")
	return docs, translate(q.Scan(ctx))
}

// CurrentDocuments returns, without their contents, the current version
// (superseded by none) of each document of the lines not marked as holding
// personal data, by line: what the open-data exports describe.
func (s *Store) CurrentDocuments(ctx context.Context, lineIDs []int64) (map[int64][]*models.ContractDocument, error) {
	out := map[int64][]*models.ContractDocument{}
	if len(lineIDs) == 0 {
		return out, nil
	}
	docs := []*models.ContractDocument{}
	err := s.db.NewSelect().Model(&docs).ExcludeColumn("content").
		Where("funding_line_id IN (?) AND NOT personal_data", bun.In(lineIDs)).
		Where("NOT EXISTS (SELECT 1 FROM contract_documents n WHERE n.supersedes_id = contract_document.id)").
		Order("funding_line_id", "id").Scan(ctx)
	for _, d := range docs {
		out[d.FundingLineID] = append(out[d.FundingLineID], d)
	}
	return out, translate(err)
}
