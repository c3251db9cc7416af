-- Single sign-on: a user may be linked to one account at an OpenID provider,
-- named by the provider's issuer and the subject it gives the person. Accounts
-- are matched on both, never on an email, which a provider may let people
-- change; one provider account is linked to at most one user.
ALTER TABLE users
    ADD COLUMN oidc_issuer  text CHECK (oidc_issuer <> ''),
    ADD COLUMN oidc_subject text CHECK (oidc_subject <> ''),
    ADD CONSTRAINT users_oidc_identity_whole CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));

--bun:split

CREATE UNIQUE INDEX users_oidc_identity_key ON users (oidc_issuer, oidc_subject);

--bun:split

-- Sign-ins under way at the provider: the state (only its SHA-256), the
-- nonce and the PKCE verifier of each, kept server-side so that any app node
-- can finish a sign-in another began. A row is deleted when the browser comes
-- back, so a state is good once; it is refused after expires_at.
CREATE TABLE oidc_sign_ins (
    state_hash    bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce         text NOT NULL CHECK (nonce <> ''),
    code_verifier text NOT NULL CHECK (code_verifier <> ''),
    next          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX oidc_sign_ins_expires_idx ON oidc_sign_ins (expires_at);
