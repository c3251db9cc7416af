package store

import "context"

// SQLRFC3339 lets the tests check the database's time format against Go's.
var SQLRFC3339 = sqlRFC3339

// SetImportBatch makes imports write n rows per statement until restore.
func SetImportBatch(n int) (restore func()) {
	old := importBatch
	importBatch = n
	return func() { importBatch = old }
}

// Translate is translate, for tests that check how a refusal by the
// database reads to a user.
var Translate = translate

// Setting is a run-time setting as the store's own connection (its
// transaction, inside Snapshot) sees it.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.NewRaw("SELECT current_setting(?)", name).Scan(ctx, &v)
	return v, err
}
