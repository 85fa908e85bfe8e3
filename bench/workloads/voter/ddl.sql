-- VoltDB's Voter: a TV talent show's phone votes. Each vote is checked (a contestant that
-- exists, a caller under the vote limit, the caller's state from the area code) and recorded;
-- two materialized views keep the running counts. The procedures are in voter.cc; the server
-- loads them with CREATE PROCEDURE ... FROM LIBRARY (surge-bench does that after this file).
CREATE TABLE contestants (
  contestant_number INTEGER NOT NULL PRIMARY KEY,
  contestant_name VARCHAR(50) NOT NULL
);

CREATE TABLE area_code_state (
  area_code SMALLINT NOT NULL PRIMARY KEY,
  state VARCHAR(2) NOT NULL
);

CREATE TABLE votes (
  phone_number BIGINT NOT NULL,
  state VARCHAR(2) NOT NULL,
  contestant_number INTEGER NOT NULL
);
PARTITION TABLE votes ON COLUMN phone_number;

CREATE VIEW v_votes_by_phone_number (phone_number, num_votes) AS
  SELECT phone_number, COUNT(*) FROM votes GROUP BY phone_number;

CREATE VIEW v_votes_by_contestant_number_state (contestant_number, state, num_votes) AS
  SELECT contestant_number, state, COUNT(*) FROM votes GROUP BY contestant_number, state;
