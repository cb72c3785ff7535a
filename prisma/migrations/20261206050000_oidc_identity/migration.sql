-- Accounts at an OpenID Connect provider, linked to Vigil users.
CREATE TABLE "oidc_identity" (
    "id" SERIAL NOT NULL,
    "issuer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "email" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oidc_identity_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "oidc_identity_issuer_subject_key" ON "oidc_identity"("issuer", "subject");

CREATE INDEX "oidc_identity_user_id_idx" ON "oidc_identity"("user_id");

ALTER TABLE "oidc_identity" ADD CONSTRAINT "oidc_identity_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
