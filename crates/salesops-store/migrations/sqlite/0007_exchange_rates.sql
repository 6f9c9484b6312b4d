-- The rate table ops maintain: how much of the organisation's base currency
-- one unit of another currency buys, from a date on. Rates are exact
-- decimal strings.

CREATE TABLE exchange_rates (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    currency TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    rate TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, currency, valid_from)
);
