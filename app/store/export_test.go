package store

// SQLRFC3339 lets the tests check the database's time format against Go's.
var SQLRFC3339 = sqlRFC3339
