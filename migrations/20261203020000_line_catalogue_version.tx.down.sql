DROP TRIGGER programmes_catalogue_changed ON programmes;
DROP TRIGGER budget_profiles_catalogue_changed ON budget_profiles;
DROP TRIGGER funding_lines_catalogue_changed ON funding_lines;
DROP FUNCTION line_catalogue_changed();
DROP TABLE line_catalogue_version;
