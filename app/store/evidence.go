package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// AddEvidence stores a file as evidence for a spend entry, checked by
// models.CheckEvidence. Evidence is added to pending or approved entries
// only: a rejected entry is closed, and its evidence is what it was decided
// on. An entry holds at most models.MaxEvidencePerEntry files; the entry row
// is locked so two uploads cannot both take the last place. The audit event
// names the file by its hash and size, not its bytes.
func (s *Store) AddEvidence(ctx context.Context, actor models.Actor, entryID int64, name string, data []byte) (*models.SpendEvidence, error) {
	clean, contentType, err := models.CheckEvidence(name, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	ev := &models.SpendEvidence{SpendEntryID: entryID, StoredFile: models.StoredFile{FileName: clean, ContentType: contentType,
		Size: int64(len(data)), SHA256: sum[:], Content: data, UploadedBy: actor.UserID}}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var status models.SpendStatus
		if err := tx.NewRaw("SELECT status FROM spend_entries WHERE id = ? FOR NO KEY UPDATE", entryID).Scan(ctx, &status); err != nil {
			return notFound(err, "Spend entry", entryID)
		}
		if status == models.SpendRejected {
			return models.Errorf(models.ECONFLICT, "Spend entry %d was rejected, so it takes no more evidence.", entryID)
		}
		n, err := tx.NewSelect().Model((*models.SpendEvidence)(nil)).Where("spend_entry_id = ?", entryID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= models.MaxEvidencePerEntry {
			return models.Errorf(models.ECONFLICT, "Spend entry %d already has %d evidence files, the most it may have.", entryID, n)
		}
		if _, err := tx.NewInsert().Model(ev).Returning("id, uploaded_at").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "spend.evidence_add", Entity: "spend_entry", EntityID: entryID,
			After: map[string]any{"evidence_id": ev.ID, "file_name": ev.FileName, "content_type": ev.ContentType,
				"size": ev.Size, "sha256": hex.EncodeToString(ev.SHA256)}})
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// EvidenceFor lists an entry's evidence, oldest first, without the files'
// contents; ENOTFOUND if there is no such entry.
func (s *Store) EvidenceFor(ctx context.Context, entryID int64) ([]*models.SpendEvidence, error) {
	exists, err := s.db.NewSelect().Model((*models.SpendEntry)(nil)).Where("id = ?", entryID).Exists(ctx)
	if err != nil {
		return nil, translate(err)
	}
	if !exists {
		return nil, models.Errorf(models.ENOTFOUND, "Spend entry %d was not found.", entryID)
	}
	evs := []*models.SpendEvidence{}
	err = s.db.NewSelect().Model(&evs).ExcludeColumn("content").Where("spend_entry_id = ?", entryID).Order("id").Scan(ctx)
	return evs, translate(err)
}

// Evidence returns one file of an entry's evidence with its contents;
// ENOTFOUND if the entry has no such file.
func (s *Store) Evidence(ctx context.Context, entryID, id int64) (*models.SpendEvidence, error) {
	ev := new(models.SpendEvidence)
	if err := s.db.NewSelect().Model(ev).Where("id = ? AND spend_entry_id = ?", id, entryID).Scan(ctx); err != nil {
		return nil, notFound(err, "Evidence file", id)
	}
	return ev, nil
}
