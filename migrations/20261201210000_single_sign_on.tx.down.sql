DROP TABLE oidc_sign_ins;

--bun:split

DROP INDEX users_oidc_identity_key;

--bun:split

ALTER TABLE users DROP CONSTRAINT users_oidc_identity_whole, DROP COLUMN oidc_subject, DROP COLUMN oidc_issuer;
