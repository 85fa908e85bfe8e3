"""Integration tests of USING TTL (docs/streams.md, "Time to live"): the real surged deletes
expired rows in batches, as logged transactions that replay exactly.

  TtlTest      partitioned and replicated TTL tables lose exactly their expired rows (NULL never
               expires), in batches of BATCH_SIZE; views over them follow; a table that exports
               its deletes exports the expired rows; kill -9 and recovery leave the same rows;
               @TtlDelete refuses bad parameters; the DDL errors.
  MigrateTest  USING TTL ... MIGRATE TO TARGET: expired rows are exported (op MIGRATE) and stay
               until their target acknowledged them, however long it fails; a row changed while
               migrating is migrated again as it is now; marks survive a snapshot and kill -9;
               the errors.

    python3 test_ttl.py --surged PATH/TO/surged
"""
import csv
import glob
import os
import sys
import tempfile
import time
import unittest

import surgedb
import test_durability
from test_durability import Surged
from test_export import ExportCase, as_dicts, break_dir, read_exports, repair_dir

OLD = "2020-01-01 00:00:00"


class TtlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.tmp.name, "data")
        self.out = os.path.join(self.tmp.name, "out")
        self.config = os.path.join(self.tmp.name, "surged.toml")
        with open(self.config, "w") as f:
            f.write(f'[export.targets.gone]\ntype = "file"\ndir = "{self.out}"\nroll_seconds = 1\n')
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            if s.alive():
                s.kill9()
        self.tmp.cleanup()

    def start(self, *args):
        s = Surged(self.data, os.path.join(self.tmp.name, f"surged-{len(self.servers)}.log"), "--config",
                   self.config, *args, partitions=3)
        self.servers.append(s)
        return s

    def wait_for(self, db, sql, want, timeout=15):
        deadline = time.time() + timeout
        while True:
            got = db.sql(sql).rows
            if got == want or time.time() > deadline:
                return got
            time.sleep(0.05)

    def test_expired_rows_go_in_batches_and_replay(self):
        server = self.start("--ttl-interval-ms", "100")
        db = server.client()
        db.sql("CREATE TABLE ev (id INTEGER NOT NULL PRIMARY KEY, ts TIMESTAMP, v INTEGER NOT NULL) "
               "EXPORT TO TARGET gone ON DELETE USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 7")
        db.sql("PARTITION TABLE ev ON COLUMN id")
        db.sql("CREATE INDEX ev_ts ON ev (ts)")
        db.sql("CREATE VIEW ev_by_v (v, n) AS SELECT v, COUNT(*) FROM ev GROUP BY v")
        db.sql("CREATE TABLE rep (id INTEGER NOT NULL, ts TIMESTAMP) USING TTL 30 MINUTES ON COLUMN ts")
        db.sql("CREATE TABLE noidx (id INTEGER NOT NULL, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts BATCH_SIZE 2")
        db.sql("PARTITION TABLE noidx ON COLUMN id")
        old_ids = list(range(0, 100))
        for i in old_ids:
            db.call("ev.insert", i, OLD, i % 3)
        for i in range(100, 120):
            db.sql("INSERT INTO ev VALUES (?, NOW(), ?)", i, i % 3)
        db.call("ev.insert", 500, None, 1)  # NULL never expires
        for i in range(10):
            db.call("rep.insert", i, OLD if i < 6 else None)
            db.call("noidx.insert", i, OLD)
        keep = [(i,) for i in range(100, 120)] + [(500,)]
        self.assertEqual(self.wait_for(db, "SELECT id FROM ev ORDER BY id", keep), keep)
        self.assertEqual(self.wait_for(db, "SELECT id FROM rep ORDER BY id", [(6,), (7,), (8,), (9,)]),
                         [(6,), (7,), (8,), (9,)])
        self.assertEqual(self.wait_for(db, "SELECT COUNT(*) FROM noidx", [(0,)]), [(0,)])
        # The view follows the deletes.
        self.assertEqual(db.sql("SELECT v, n FROM ev_by_v ORDER BY v").rows, [(0, 6), (1, 8), (2, 7)])
        # Batches: 100 expired rows over 3 partitions in batches of at most 7 (each a transaction).
        stats = {r[0]: r[1] for r in db.call("@Statistics", "PROCEDURE").rows}
        self.assertGreaterEqual(stats["@TtlDelete"], 100 // 7)
        # The expired rows were exported as deletes (ON DELETE), each once.
        deadline = time.time() + 10
        while True:
            rows = []
            for path in glob.glob(os.path.join(self.out, "ev-*.csv")):
                with open(path, newline="") as f:
                    rows += [r for r in csv.DictReader(f)]
            if len(rows) >= 100 or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(sorted(int(r["id"]) for r in rows), old_ids)
        self.assertEqual({r["op"] for r in rows}, {"DELETE"})
        # kill -9, restart without TTL runs: the logged deletes replay to the same rows.
        before = {t: db.sql(f"SELECT * FROM {t} ORDER BY id").rows for t in ("ev", "rep", "noidx")}
        db.close()
        server.kill9()
        server = self.start("--ttl-interval-ms", "0")
        db = server.client()
        for t, rows in before.items():
            self.assertEqual(db.sql(f"SELECT * FROM {t} ORDER BY id").rows, rows, t)
        db.close()
        self.assertEqual(server.stop(), 0)

    def test_errors(self):
        server = self.start("--ttl-interval-ms", "0")
        db = server.client()
        db.sql("CREATE TABLE t (id INTEGER NOT NULL, ts TIMESTAMP) USING TTL 5 SECONDS ON COLUMN ts")
        cases = [
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 WEEK ON COLUMN ts", "TTL unit is SECONDS"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 0 DAYS ON COLUMN ts", "positive whole number"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN nope", 'TTL column "nope" does not'),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN id", "must be a TIMESTAMP"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts BATCH_SIZE 0", "BATCH_SIZE"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TL 1 DAY ON COLUMN ts", "expected TTL"),
            ("CREATE STREAM s (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts", "syntax error"),
            ("ALTER TABLE t DROP COLUMN ts", "uses it for its TTL"),
        ]
        for sql, text in cases:
            with self.subTest(sql=sql):
                with self.assertRaises(surgedb.Error) as e:
                    db.sql(sql)
                self.assertIn(text, str(e.exception))
        db.sql("CREATE TABLE pt (id INTEGER NOT NULL, ts TIMESTAMP) USING TTL 5 SECONDS ON COLUMN ts")
        db.sql("PARTITION TABLE pt ON COLUMN id")
        for params, text in [(("t",), "takes a table name"), (("nope", 0), "not a table with a TTL"),
                             (("pt", 5), "partition 5 does not exist"), (("t", 0), "its partition is -1")]:
            with self.subTest(params=params):
                with self.assertRaises(surgedb.Error) as e:
                    db.call("@TtlDelete", *params)
                self.assertIn(text, str(e.exception))
        # Called by hand it deletes what expired now (t is replicated: -1).
        db.call("t.insert", 1, OLD)
        self.assertEqual(db.call("@TtlDelete", "t", -1).rows, [(1, 0)])  # deleted, migrated
        self.assertEqual(db.sql("SELECT COUNT(*) FROM t").rows, [(0,)])
        db.close()
        self.assertEqual(server.stop(), 0)


class MigrateTest(ExportCase):
    DDL = ("CREATE TABLE readings (id BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP, v INTEGER NOT NULL) "
           "USING TTL 1 HOURS ON COLUMN ts BATCH_SIZE 6 MIGRATE TO TARGET billing; "
           "PARTITION TABLE readings ON COLUMN id; CREATE INDEX readings_ts ON readings (ts)")

    def setup_server(self, *args):
        self.billing = self.out_dir("billing")
        os.makedirs(self.billing, exist_ok=True)
        os.makedirs(self.out_dir("audit"), exist_ok=True)
        return self.start_export({"billing": {"dir": self.billing, "format": "csv"},
                                  "audit": {"dir": self.out_dir("audit"), "format": "csv"}},
                                 "--ttl-interval-ms", "50", *args, partitions=3)

    def ids(self, db):
        return [r[0] for r in db.sql("SELECT id FROM readings ORDER BY id").rows]

    def wait_ids(self, db, want, timeout=20):
        deadline = time.time() + timeout
        while self.ids(db) != want and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.ids(db), want)

    def migrated(self, *dirs):
        """{id: [v of each MIGRATE row]} delivered to the billing target."""
        out = {}
        for rec in read_exports(*dirs):
            self.assertEqual(rec["stream"], "readings")
            self.assertEqual(rec["op"], "MIGRATE")
            out.setdefault(int(rec["row"]["id"]), []).append(int(rec["row"]["v"]))
        return out

    def wait_migrating(self, db, n, timeout=20):
        """Waits until n rows of readings were exported (spooled), and returns the statistics."""
        deadline = time.time() + timeout
        while True:
            stats = [s for s in self.export_stats(db) if s["stream"] == "readings"]
            if sum(s["last_seq"] for s in stats) >= n or time.time() > deadline:
                return stats
            time.sleep(0.05)

    def test_rows_leave_only_once_their_target_has_them(self):
        server = self.setup_server()
        db = self.connect(server)
        db.sql(self.DDL)
        aside = break_dir(self.billing)  # the target cannot take anything yet
        old = list(range(1, 41))
        db.call_many([("readings.insert", i, OLD, i) for i in old])
        db.call_many([("readings.insert", i, None if i == 50 else "2100-01-01 00:00:00", i) for i in range(41, 51)])
        stats = self.wait_migrating(db, 40)
        self.assertEqual(sum(s["last_seq"] for s in stats), 40, stats)
        # Exported, not acknowledged: every row is still there (and queryable).
        time.sleep(0.5)
        self.assertEqual(self.ids(db), list(range(1, 51)))
        self.assertEqual(sum(s["acked_seq"] for s in self.export_stats(db)), 0)
        # A row changed while it migrates is migrated again, as it is now.
        db.sql("UPDATE readings SET v = 1000 WHERE id = 7")
        self.wait_migrating(db, 41)
        repair_dir(self.billing)
        self.wait_ids(db, list(range(41, 51)))
        self.wait_acked(db, {"readings": 41})
        got = self.migrated(self.billing, aside)
        self.assertEqual(sorted(got), old)
        self.assertEqual(got[7][-1], 1000)
        self.assertEqual({i: v for i, v in got.items() if i != 7}, {i: [i] for i in old if i != 7})
        # Nothing more leaves: the rest has not expired.
        time.sleep(0.3)
        self.assertEqual(self.ids(db), list(range(41, 51)))
        # kill -9: the logged migrations and deletes replay to the same rows.
        self.close_clients()
        server.kill9()
        server = self.setup_server()
        db = self.connect(server)
        self.assertEqual(self.ids(db), list(range(41, 51)))
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_marks_survive_a_snapshot_and_kill9(self):
        server = self.setup_server()
        db = self.connect(server)
        db.sql(self.DDL)
        aside = break_dir(self.billing)
        db.call_many([("readings.insert", i, OLD, i) for i in range(1, 31)])
        self.wait_migrating(db, 30)
        db.call("@SnapshotSave")  # the marks are in the snapshot
        db.call_many([("readings.insert", i, OLD, i) for i in range(31, 41)])  # marked after it (log)
        self.wait_migrating(db, 40)
        self.close_clients()
        server.kill9()
        # The restart loads the snapshot and replays the log: the rows keep their marks, so they
        # are not exported again, and they leave once the target has them.
        repair_dir(self.billing)
        server = self.setup_server()
        db = self.connect(server)
        self.wait_ids(db, [])
        self.wait_acked(db)
        got = self.migrated(self.billing, aside)
        self.assertEqual(sorted(got), list(range(1, 41)))
        self.assertEqual({i: v for i, v in got.items() if len(v) != 1}, {}, "migrated twice")
        stats = [s for s in self.export_stats(db) if s["stream"] == "readings"]
        self.assertEqual(sum(s["last_seq"] for s in stats), 40, stats)
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_errors(self):
        server = self.setup_server()
        db = self.connect(server)
        cases = [
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET nope",
             'no export target "nope" is configured (configured: '),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET billing "
             "MIGRATE TO TARGET billing", "MIGRATE TO TARGET is given twice"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts MOVE TO TARGET billing",
             "expected MIGRATE TO TARGET"),
            ("CREATE TABLE a (id INTEGER, ts TIMESTAMP) USING TTL 1 DAY ON COLUMN ts BATCH_SIZE 5 BATCH_SIZE 6",
             "BATCH_SIZE is given twice"),
        ]
        for sql, text in cases:
            with self.subTest(sql=sql):
                with self.assertRaises(surgedb.Error) as e:
                    db.sql(sql)
                self.assertIn(text, str(e.exception))
        # The clauses in either order; a replicated table cannot migrate (said by @TtlDelete).
        db.sql("CREATE TABLE rep (id INTEGER NOT NULL, ts TIMESTAMP) "
               "USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET billing BATCH_SIZE 3")
        with self.assertRaises(surgedb.Error) as e:
            db.call("@TtlDelete", "rep", -1)
        self.assertIn("MIGRATE TO TARGET needs a partitioned table", str(e.exception))
        for params, text in [(("rep", -1, -5), "takes a table name"), (("rep", -1, "x"), "takes a table name")]:
            with self.subTest(params=params):
                with self.assertRaises(surgedb.Error) as e:
                    db.call("@TtlDelete", *params)
                self.assertIn(text, str(e.exception))
        # A caller cannot claim the target has rows it has not acknowledged.
        db.sql("CREATE TABLE pm (id INTEGER NOT NULL PRIMARY KEY, ts TIMESTAMP) "
               "USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET billing; PARTITION TABLE pm ON COLUMN id")
        with self.assertRaises(surgedb.Error) as e:
            db.call("@TtlDelete", "pm", 0, 5)
        self.assertIn('target "billing" has acknowledged pm\'s rows of partition 0 up to 0, not 5', str(e.exception))
        self.assertEqual(db.call("@TtlDelete", "pm", 0, 0).rows, [(0, 0)])
        # Exporting changes and migrating rows: one target.
        with self.assertRaises(surgedb.Error) as e:
            db.sql("CREATE TABLE b (id INTEGER, ts TIMESTAMP) EXPORT TO TARGET audit ON DELETE "
                   "USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET billing")
        self.assertIn("a table's changes and migrated rows go to one target", str(e.exception))
        db.sql("CREATE TABLE b (id INTEGER, ts TIMESTAMP) EXPORT TO TARGET billing ON DELETE "
               "USING TTL 1 DAY ON COLUMN ts MIGRATE TO TARGET billing")
        self.close_clients()
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        test_durability.SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if not test_durability.SURGED or not os.path.exists(test_durability.SURGED):
        sys.exit("usage: test_ttl.py --surged PATH")
    unittest.main(verbosity=2)
