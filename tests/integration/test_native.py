"""Integration tests of native (C++) procedures: the real surged loads test_procs.so and voter.so
through DDL. Run by ctest:
  python3 test_native.py --surged PATH --procs PATH/test_procs.so --voter PATH/voter.so
"""
import decimal
import os
import sys
import threading
import unittest

import surgedb
import test_server
from test_server import Server

PROCS = None
VOTER = None
VOTER_DDL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "workloads", "voter",
                         "ddl.sql")


class NativeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(partitions=3)
        cls.db = surgedb.connect(cls.server.address)
        cls.db.sql("CREATE TABLE accounts (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)")
        cls.db.sql("PARTITION TABLE accounts ON COLUMN id")
        for name in ("Deposit", "Clock", "Fail", "Recover", "Throw"):
            cls.db.sql(f"CREATE PROCEDURE {name} PARTITION ON TABLE accounts COLUMN id PARAMETER 0 "
                       f"FROM LIBRARY '{PROCS}'")
        for name in ("Transfer", "Echo", "Typed"):
            cls.db.sql(f"CREATE PROCEDURE {name} FROM LIBRARY '{PROCS}'")

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        assert cls.server.stop() == 0

    def balance(self, account):
        rows = self.db.sql("SELECT balance FROM accounts WHERE id = ?", account).rows
        return rows[0][0] if rows else None

    def expect_error(self, status, fragment, proc, *params):
        with self.assertRaises(surgedb.Error) as cm:
            self.db.call(proc, *params)
        self.assertEqual(cm.exception.status, status, cm.exception)
        self.assertIn(fragment, cm.exception.message)
        return cm.exception

    def test_single_partition_calls_and_user_abort(self):
        self.assertEqual(self.db.call("Deposit", 101, 50).rows, [(50,)])
        self.assertEqual(self.db.call("Deposit", 101, -20).rows, [(30,)])
        # The procedure wrote the negative balance before aborting: the abort undoes it.
        self.expect_error("USER_ABORT", "insufficient funds: balance would be -70", "Deposit", 101, -100)
        self.assertEqual(self.balance(101), 30)

    def test_multi_partition_abort_rolls_back_every_partition(self):
        # Accounts on different partitions (3 partitions, many ids: at least two differ).
        for i in range(200, 210):
            self.db.call("Deposit", i, 100)
        self.assertEqual(self.db.call("Transfer", 200, 209, 60).rows, [(40,)])
        self.assertEqual((self.balance(200), self.balance(209)), (40, 160))
        self.expect_error("USER_ABORT", "insufficient funds", "Transfer", 200, 205, 41)
        self.assertEqual((self.balance(200), self.balance(205)), (40, 100))
        self.expect_error("USER_ABORT", "no such account", "Transfer", 200, 999999, 1)
        self.assertEqual(self.balance(200), 40)

    def test_statement_errors(self):
        e = self.expect_error("SQL_ERROR", "statement 0 of fail", "Fail", 300)
        self.assertEqual(e.sqlstate, "23505")
        self.assertIsNone(self.balance(300))  # the first insert was undone
        r = self.db.call("Recover", 301)
        self.assertIn("unique", r.rows[0][0].lower())
        self.assertEqual(self.balance(301), 0)  # caught: the call committed its first insert
        self.expect_error("USER_ABORT", "threw an exception: boom", "Throw", 302)

    def test_timestamp_and_random_come_from_the_transaction(self):
        self.db.call("Deposit", 400, 1)
        first = self.db.call("Clock", 400)
        second = self.db.call("Clock", 400)
        ts, now = first.tables[0].rows[0][0], first.tables[1].rows[0][0]
        self.assertEqual(ts, now)  # NOW() in a statement is the transaction's timestamp
        self.assertLess(ts, second.tables[0].rows[0][0])
        randoms = [t.rows[0][0] for t in first.tables[2:]]
        self.assertEqual(len(set(randoms)), 3)
        self.assertNotEqual(randoms, [t.rows[0][0] for t in second.tables[2:]])

    def test_parameters(self):
        r = self.db.call("Echo", 1, "two", None, 4.5)
        self.assertEqual([t.rows[0][0] for t in r.tables], [1, "two", None, 4.5])
        self.assertEqual(self.db.call("Echo").tables, [])
        ts = surgedb.Timestamp(1_700_000_000_000_000)
        r = self.db.call("Typed", 12, 3, decimal.Decimal("1.50"), "text", b"\x00\x01", ts, True)
        self.assertEqual([t.types[0] for t in r.tables],
                         ["BIGINT", "FLOAT", "DECIMAL", "VARCHAR", "VARBINARY", "TIMESTAMP", "BOOLEAN"])
        values = [t.rows[0][0] for t in r.tables]
        self.assertEqual(values[0], 12)
        self.assertEqual(values[1], 3.0)
        self.assertEqual(str(values[2]).rstrip("0"), "1.5")
        self.assertEqual(values[3:5], ["text", b"\x00\x01"])
        self.assertIs(values[6], True)
        self.expect_error("INVALID_PARAMETER", "takes 7 parameters", "Typed", 1)
        self.expect_error("INVALID_PARAMETER", "parameter 1 of typed", "Typed", "x", 3, decimal.Decimal(1), "t", b"", ts, True)
        self.expect_error("INVALID_PARAMETER", "takes 2 parameters (BIGINT, BIGINT), not 3", "Deposit", 1, 2, 3)

    def test_bad_definitions_change_nothing(self):
        before = self.db.call("@SystemCatalog", "PROCEDURES").rows
        cases = [
            (f"CREATE PROCEDURE Nope FROM LIBRARY '{PROCS}'", "has no class 'Nope'"),
            (f"CREATE PROCEDURE BadStatement FROM LIBRARY '{PROCS}'", "no_such_table"),
            (f"CREATE PROCEDURE BadInit FROM LIBRARY '{PROCS}'", "Init failed: cannot start"),
            ("CREATE PROCEDURE X FROM LIBRARY '/no/such/lib.so'", "does not load"),
            ("CREATE PROCEDURE X FROM LIBRARY '/etc/hostname'", "does not load"),
            (f"CREATE PROCEDURE X PARTITION ON TABLE accounts COLUMN id PARAMETER 5 FROM LIBRARY '{PROCS}' "
             "CLASS 'Deposit'", "PARAMETER 5 is out of range"),
            (f"CREATE PROCEDURE Deposit FROM LIBRARY '{PROCS}'", "already exists"),
            # A schema change that breaks a native procedure's statement is refused.
            ("DROP TABLE accounts", "no longer plans"),
        ]
        for ddl, fragment in cases:
            with self.subTest(ddl=ddl):
                with self.assertRaises(surgedb.Error) as cm:
                    self.db.sql(ddl)
                self.assertIn(fragment, cm.exception.message)
        self.assertEqual(self.db.call("@SystemCatalog", "PROCEDURES").rows, before)

    def test_drop_and_redefine(self):
        self.db.sql(f"CREATE PROCEDURE Echo2 FROM LIBRARY '{PROCS}' CLASS 'Echo'")
        self.assertEqual(self.db.call("Echo2", 7).rows, [(7,)])
        self.db.sql("DROP PROCEDURE Echo2")
        self.expect_error("UNKNOWN_PROCEDURE", "does not exist", "Echo2", 7)
        self.db.sql(f"CREATE PROCEDURE Echo2 FROM LIBRARY '{PROCS}' CLASS 'Typed'")
        self.expect_error("INVALID_PARAMETER", "takes 7 parameters", "Echo2", 7)
        self.db.sql("DROP PROCEDURE Echo2")

    def test_explain_proc_lists_each_statement(self):
        plan = "\n".join(r[0] for r in self.db.call("@ExplainProc", "Deposit").rows)
        self.assertIn("statement 0: SELECT balance FROM accounts WHERE id = ?", plan)
        self.assertIn("statement 1: UPSERT INTO accounts", plan)


class VoterTest(unittest.TestCase):
    """VoltDB's Voter with its native Vote procedure, from several client threads."""

    def test_voter(self):
        server = Server(partitions=2)
        try:
            db = surgedb.connect(server.address)
            with open(VOTER_DDL) as f:
                db.sql(f.read())
            db.sql(f"CREATE PROCEDURE Vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0 "
                   f"FROM LIBRARY '{VOTER}'")
            db.sql(f"CREATE PROCEDURE Initialize FROM LIBRARY '{VOTER}'")
            db.sql(f"CREATE PROCEDURE Results FROM LIBRARY '{VOTER}'")
            names = "Edwina Burnam,Tabatha Gehling,Kelly Clauss,Jessie Alloway,Alana Bregman,Jessie Eichman"
            self.assertEqual(db.call("Initialize", 6, names).rows, [(6,)])
            self.assertEqual(db.call("Initialize", 6, names).rows, [(6,)])  # once only
            self.assertEqual(db.call("Vote", 6175551234, 7, 2).rows, [(1,)])  # no contestant 7
            self.assertEqual(db.sql("SELECT state FROM area_code_state WHERE area_code = 617").rows, [("MA",)])

            counts = {}
            lock = threading.Lock()

            def voter(base):
                with surgedb.connect(server.address) as c:
                    calls = [("Vote", base + i % 50, i % 6 + 1, 2) for i in range(300)]
                    for r in c.call_many(calls):
                        with lock:
                            counts[r.rows[0][0]] = counts.get(r.rows[0][0], 0) + 1

            threads = [threading.Thread(target=voter, args=(b,)) for b in (2125550000, 4155550000, 9995550000)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # 50 phones per thread, 6 votes each: 2 counted, the rest over the limit.
            self.assertEqual(counts, {0: 300, 2: 600})
            results = db.call("Results").rows
            self.assertEqual(sum(r[2] for r in results), 300)
            self.assertEqual(db.sql("SELECT COUNT(*) FROM votes WHERE state = 'XX'").rows, [(100,)])
            by_state = db.sql("SELECT state, SUM(num_votes) FROM v_votes_by_contestant_number_state "
                              "GROUP BY state ORDER BY state").rows
            self.assertEqual(by_state, [("CA", 100), ("NY", 100), ("XX", 100)])
            db.close()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    for flag in ("--surged", "--procs", "--voter"):
        if flag in sys.argv:
            i = sys.argv.index(flag)
            globals()[flag[2:].upper()] = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    test_server.SURGED = globals().get("SURGED")
    if not test_server.SURGED or not PROCS or not VOTER:
        sys.exit("usage: test_native.py --surged PATH --procs PATH --voter PATH")
    unittest.main(verbosity=2)
