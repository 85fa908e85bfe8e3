// Query shapes the reference engine gets wrong. SQLite is the oracle here, but not an infallible
// one: these are bugs of SQLite 3.40 that surge-difftest ran into. The generator and the reducer
// avoid them (a reduction could otherwise wander from a SurgeDB bug into one of these), so each
// test here should be as narrow as the bug. Remove a test once the oldest SQLite we run on has
// the fix.
#pragma once

#include "difftest/database.h"
#include "difftest/sql_tree.h"

namespace surge::difftest {

/// Whether the query, or any subquery in it, has a shape SQLite is known to answer wrongly:
///  - an inner join with an ON term (a conjunct) that reads no column of its FROM list, followed
///    by a RIGHT or FULL join: SQLite 3.40 moves the constant term to the WHERE and returns no
///    rows when it is false (`t0 JOIN t1 ON t0.a = t1.a AND NULL RIGHT JOIN t1 AS x ON ...` drops
///    x's rows);
///  - EXISTS over a SELECT DISTINCT with OFFSET: SQLite 3.40 ignores the DISTINCT there
///    (`EXISTS (SELECT DISTINCT 1 FROM t ORDER BY 1 LIMIT 1 OFFSET 1)` is true when t has two rows);
///  - a derived table or common table with a scalar subquery in its select list on the
///    null-supplying side of an outer join: after the first unmatched row SQLite 3.40 returns NULL
///    for the subquery in every later row (`t LEFT JOIN (SELECT u.k, (SELECT 5 FROM v) AS x FROM u)
///    AS d ON t.k = d.k` gives x = 5 for the first match only);
///  - a derived or common table whose UNION ALL has an arm with a RIGHT or FULL join, followed
///    in the FROM list by an inner join (the outer join may also sit in a derived table of the
///    arm): SQLite 3.40 fails with "ON clause references tables to
///    its right" (`FROM (SELECT 1 AS a FROM t UNION ALL SELECT 2 FROM u RIGHT JOIN v ON NULL) AS d
///    JOIN w ON 1 = 1`).
bool HitsKnownSqliteBug(const Select& s);
bool HitsKnownSqliteBug(const Node& n);
/// The above for the subqueries of an UPDATE/DELETE, and one more: a subquery reading the table
/// being changed. SQLite evaluates an uncorrelated subquery of the WHERE when a row first needs it,
/// after the rows before have been updated (the standard, and SurgeDB, evaluate the condition on
/// the table as it was before the statement).
bool HitsKnownSqliteBug(const Dml& d);

}  // namespace surge::difftest
