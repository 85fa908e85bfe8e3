-- Smart meters: meters report cumulative energy counters every 15 minutes through concentrators.
-- Report (meters.cc) validates each reading against the meter's last one, estimates a skipped
-- period by interpolation, keeps the intraday readings, and sends validated readings to the
-- validated stream (exported when surge-bench is given --export-target) and rejections to the
-- rejected stream; the views keep real-time consumption and rejection counts. Silent flags meters
-- that missed two periods, and whether their whole concentrator is silent.
-- surge-bench fills in the EXPORT_VALIDATED and EXPORT_ALERTS comments below with EXPORT TO TARGET
-- clauses when given --export-target, and MIGRATE_READINGS with MIGRATE TO TARGET when given
-- --billing-target.
CREATE TABLE concentrators (
  concentrator_id INTEGER NOT NULL PRIMARY KEY,
  region VARCHAR(16) NOT NULL
);

CREATE TABLE meters (
  meter_id BIGINT NOT NULL PRIMARY KEY,
  concentrator_id INTEGER NOT NULL,
  last_period TIMESTAMP,
  last_counter BIGINT,
  silent_alerted TINYINT DEFAULT 0 NOT NULL  -- 1 once Silent has raised this silence's alert
);
PARTITION TABLE meters ON COLUMN meter_id;
CREATE INDEX meters_last_period ON meters (last_period);

-- Intraday readings: a day's readings stay until the day is over (billing_day is the midnight,
-- UTC, that ends it); then they leave, for the billing target when there is one (MIGRATE TO
-- TARGET: each is deleted only once billing has it).
CREATE TABLE readings (
  meter_id BIGINT NOT NULL,
  period TIMESTAMP NOT NULL,
  counter BIGINT NOT NULL,
  kwh BIGINT NOT NULL,
  estimated TINYINT NOT NULL,
  billing_day TIMESTAMP NOT NULL,
  PRIMARY KEY (meter_id, period)
) USING TTL 1 SECONDS ON COLUMN billing_day BATCH_SIZE 2000 /*MIGRATE_READINGS*/;
PARTITION TABLE readings ON COLUMN meter_id;
CREATE INDEX readings_billing_day ON readings (billing_day);

CREATE STREAM validated PARTITION ON COLUMN meter_id /*EXPORT_VALIDATED*/ (
  meter_id BIGINT NOT NULL,
  concentrator_id INTEGER NOT NULL,
  period TIMESTAMP NOT NULL,
  counter BIGINT NOT NULL,
  kwh BIGINT NOT NULL,
  estimated TINYINT NOT NULL
);

CREATE STREAM rejected PARTITION ON COLUMN meter_id (
  meter_id BIGINT NOT NULL,
  period TIMESTAMP,
  reason VARCHAR(16) NOT NULL
);

CREATE STREAM alerts PARTITION ON COLUMN meter_id /*EXPORT_ALERTS*/ (
  meter_id BIGINT NOT NULL,
  concentrator_id INTEGER NOT NULL,
  last_period TIMESTAMP,
  kind VARCHAR(24) NOT NULL
);

CREATE VIEW consumption_by_concentrator (concentrator_id, readings, kwh) AS
  SELECT concentrator_id, COUNT(*), SUM(kwh) FROM validated GROUP BY concentrator_id;

CREATE VIEW consumption_by_meter (meter_id, readings, kwh, estimated) AS
  SELECT meter_id, COUNT(*), SUM(kwh), SUM(estimated) FROM validated GROUP BY meter_id;

CREATE VIEW rejections (reason, readings) AS
  SELECT reason, COUNT(*) FROM rejected GROUP BY reason;

CREATE VIEW alert_counts (kind, alerts) AS
  SELECT kind, COUNT(*) FROM alerts GROUP BY kind;
