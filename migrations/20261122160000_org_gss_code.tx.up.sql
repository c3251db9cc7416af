-- Open-data exports name places by code, not by name: a borough's ONS GSS
-- code (Lambeth is E09000022) is what 360Giving's beneficiaryLocation wants.
-- Optional: only organisations that are places (the boroughs) have one.
ALTER TABLE organisations ADD COLUMN gss_code text CHECK (gss_code ~ '^[EKNSW][0-9]{8}$');

-- What a policing body must publish about each crime and disorder reduction
-- grant beside its recipient and purpose. Nullable: awards made before these
-- columns existed are listed as incomplete by the publishing pack until filled.
ALTER TABLE awards ADD COLUMN conditions text, ADD COLUMN crime_reduction_reason text;
