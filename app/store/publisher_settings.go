package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

const publisherColumns = "name, uri, org_id, three_sixty_giving_prefix, ocid_prefix, licence"

// PublisherSettings returns the publisher settings as admins stored them;
// an empty setting has not been set (see EffectivePublisher).
func (s *Store) PublisherSettings(ctx context.Context) (models.Publisher, error) {
	var p models.Publisher
	err := s.db.NewRaw("SELECT "+publisherColumns+" FROM publisher_settings").Scan(ctx, &p)
	return p, translate(err)
}

// EffectivePublisher is the publisher every open-data export names: the
// stored settings, with env (the environment variables) standing in for
// each setting an admin has left empty.
func (s *Store) EffectivePublisher(ctx context.Context, env models.Publisher) (models.Publisher, error) {
	p, err := s.PublisherSettings(ctx)
	if err != nil {
		return models.Publisher{}, err
	}
	return p.Or(env), nil
}

// UpdatePublisherSettings replaces the stored publisher settings with p
// (trimmed; an empty setting falls back to its environment variable) and
// audits the change as publisher_settings.update. EINVALID, naming each bad
// field, and nothing stored while any setting is malformed.
func (s *Store) UpdatePublisherSettings(ctx context.Context, actor models.Actor, p models.Publisher) (models.Publisher, error) {
	p = p.Trimmed()
	if err := p.Problems(); err != nil {
		return models.Publisher{}, err
	}
	if p.OrgID != "" {
		p.OrgID, _ = models.NormaliseOrgID(p.OrgID) // checked above
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var before models.Publisher
		if err := tx.NewRaw("SELECT "+publisherColumns+" FROM publisher_settings FOR UPDATE").Scan(ctx, &before); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE publisher_settings SET name = ?, uri = ?, org_id = ?, three_sixty_giving_prefix = ?, ocid_prefix = ?,
			licence = ?, updated_by = ?, updated_at = now()`, p.Name, p.URI, p.OrgID, p.ThreeSixtyGivingPrefix, p.OCIDPrefix, p.Licence,
			actor.UserIDOrNil()).Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "publisher_settings.update", Entity: "publisher_settings", EntityID: 1,
			Before: before, After: p})
	})
	if err != nil {
		return models.Publisher{}, translate(err)
	}
	return p, nil
}
