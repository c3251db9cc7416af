-- A contract line records its procurement: how the supplier was chosen
-- (a direct award says why; a call-off names its framework), the contract's
-- title, the tender's published and closing dates, the winning supplier
-- (awarded_supplier_id), the contract's value and period, and the main
-- procurement category. OCDS and the publishing pack read them from here.
ALTER TABLE funding_lines
    ADD COLUMN procurement_method        text,
    ADD COLUMN direct_award_reason       text,
    ADD COLUMN framework_name            text,
    ADD COLUMN contract_title            text,
    ADD COLUMN tender_published_on       date,
    ADD COLUMN contract_value            numeric(15,2),
    ADD COLUMN contract_starts_on        date,
    ADD COLUMN contract_ends_on          date,
    ADD COLUMN main_procurement_category text,
    ADD CONSTRAINT funding_lines_procurement_method_check CHECK (procurement_method IN
        ('open', 'restricted', 'competitive_with_negotiation', 'direct_award', 'framework_call_off')),
    ADD CONSTRAINT funding_lines_main_procurement_category_check CHECK (main_procurement_category IN ('goods', 'services', 'works')),
    -- A direct award says why there was no competition; only a direct award.
    ADD CONSTRAINT funding_lines_direct_award_reason CHECK (
        (coalesce(procurement_method, '') = 'direct_award') = (btrim(coalesce(direct_award_reason, '')) <> '')),
    -- A call-off names the framework it is called off; only a call-off.
    ADD CONSTRAINT funding_lines_framework_named CHECK (
        (coalesce(procurement_method, '') = 'framework_call_off') = (btrim(coalesce(framework_name, '')) <> '')),
    ADD CONSTRAINT funding_lines_contract_title_check CHECK (btrim(contract_title) <> ''),
    ADD CONSTRAINT funding_lines_contract_value_check CHECK (contract_value > 0 AND contract_value <> 'NaN'),
    ADD CONSTRAINT funding_lines_tender_period_check CHECK (tender_published_on <= tender_closes_on),
    ADD CONSTRAINT funding_lines_contract_period_check CHECK (contract_starts_on <= contract_ends_on),
    ADD CONSTRAINT funding_lines_contract_within_line CHECK (contract_starts_on >= starts_on AND contract_ends_on <= ends_on),
    -- A contract's value is recorded with everything that makes it a
    -- contract: the winner, its title, period, procedure and category.
    ADD CONSTRAINT funding_lines_contract_complete CHECK (contract_value IS NULL OR (
        awarded_supplier_id IS NOT NULL AND contract_title IS NOT NULL AND contract_starts_on IS NOT NULL
        AND contract_ends_on IS NOT NULL AND procurement_method IS NOT NULL AND main_procurement_category IS NOT NULL)),
    ADD CONSTRAINT funding_lines_procurement_kind_check CHECK (kind = 'contract' OR (
        procurement_method IS NULL AND direct_award_reason IS NULL AND framework_name IS NULL AND contract_title IS NULL
        AND tender_published_on IS NULL AND contract_value IS NULL AND contract_starts_on IS NULL
        AND contract_ends_on IS NULL AND main_procurement_category IS NULL));
