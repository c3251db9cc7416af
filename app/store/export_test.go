package store

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
