package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// StreamAuditEvents calls fn for every audit event in sequence order,
// reading in one REPEATABLE READ snapshot, row by row, and returns the
// chain's head in that snapshot: what an export of the audit trail holds.
func (s *Store) StreamAuditEvents(ctx context.Context, fn func(*models.AuditEvent) error) (ChainHead, error) {
	var head ChainHead
	err := s.db.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(ctx, &head.Seq, &head.Hash); err != nil {
			return err
		}
		rows, err := tx.NewSelect().Model((*models.AuditEvent)(nil)).Order("seq").Rows(ctx)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev models.AuditEvent
			if err := s.bun.ScanRow(ctx, rows, &ev); err != nil {
				return err
			}
			if err := fn(&ev); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return head, translate(err)
}
