DROP TABLE IF EXISTS sign_in_pending;
DROP TABLE IF EXISTS two_factor_settings;
DROP TABLE IF EXISTS two_factor_recovery_codes;
DROP FUNCTION IF EXISTS two_factor_recovery_once();
DROP TABLE IF EXISTS user_totp;
