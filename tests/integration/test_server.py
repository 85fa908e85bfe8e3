"""Integration tests: start the real surged on a free loopback port and talk to it over gRPC with
the Python client. Run by ctest:  python3 test_server.py --surged PATH/TO/surged
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc

import surgedb
from surge.v1 import surge_pb2 as pb
from surge.v1 import surge_pb2_grpc as pb_grpc

SURGED = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A surged process on a free port with its own data directory."""

    def __init__(self, *args, partitions=2):
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory()
        self.log = open(os.path.join(self.dir.name, "surged.log"), "w+")
        self.proc = subprocess.Popen(
            [SURGED, "--port", str(self.port), "--partitions", str(partitions), "--data-dir",
             os.path.join(self.dir.name, "data"), *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.address = f"127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while True:
            try:
                with surgedb.connect(self.address, timeout=2) as c:
                    c.call("@Ping")
                break
            except surgedb.Error:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("surged did not start:\n" + self.output())
                time.sleep(0.05)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        if self.proc.returncode != 0:  # show why (a sanitizer report, a crash...)
            sys.stderr.write(f"surged exited with {self.proc.returncode}; its log:\n{self.output()[-20000:]}\n")
        self.log.close()
        self.dir.cleanup()
        return self.proc.returncode


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(partitions=3)
        cls.db = surgedb.connect(cls.server.address)
        cls.db.sql("CREATE TABLE votes (phone BIGINT NOT NULL, state VARCHAR(2) NOT NULL, "
                   "contestant INTEGER NOT NULL, PRIMARY KEY (phone))")
        cls.db.sql("PARTITION TABLE votes ON COLUMN phone")
        cls.db.sql("CREATE TABLE contestants (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL)")
        cls.db.sql("CREATE VIEW votes_by_phone (phone, n) AS SELECT phone, COUNT(*) FROM votes GROUP BY phone")
        cls.db.sql("CREATE PROCEDURE Vote PARTITION ON TABLE votes COLUMN phone PARAMETER 0 AS "
                   "INSERT INTO votes VALUES (?, ?, ?)")
        cls.db.sql("CREATE PROCEDURE Results AS SELECT contestant, COUNT(*) FROM votes GROUP BY contestant "
                   "ORDER BY contestant")
        for i, name in enumerate(["Edwina", "Jessie", "Alana"], 1):
            cls.db.call("contestants.insert", i, name)

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        code = cls.server.stop()
        assert code == 0, f"surged exited {code}"

    def test_procedures_route_and_results_merge(self):
        for phone in range(5550000, 5550030):
            self.db.call("Vote", phone, "MA", phone % 3 + 1)
        self.assertEqual(self.db.call("Results").rows, [(1, 10), (2, 10), (3, 10)])
        stats = self.db.call("@Statistics", "TABLE").rows
        per_partition = [r[3] for r in stats if r[1] == "votes"]
        self.assertEqual(len(per_partition), 3)
        self.assertEqual(sum(per_partition), 30)
        self.assertTrue(all(n > 0 for n in per_partition), per_partition)
        # Replicated table: every partition has every row.
        self.assertEqual([r[3] for r in stats if r[1] == "contestants"], [3, 3, 3])
        rows = self.db.sql("SELECT c.name, COUNT(*) FROM votes v JOIN contestants c ON v.contestant = c.id "
                           "GROUP BY c.name ORDER BY c.name").rows
        self.assertEqual(rows, [("Alana", 10), ("Edwina", 10), ("Jessie", 10)])
        self.assertEqual(self.db.sql("SELECT COUNT(*) FROM votes_by_phone").rows, [(30,)])
        self.db.sql("CREATE VIEW votes_by_contestant (contestant, n) AS SELECT contestant, COUNT(*) FROM votes "
                    "GROUP BY contestant")
        self.assertEqual(self.db.sql("SELECT contestant, n FROM votes_by_contestant ORDER BY contestant").rows,
                         [(1, 10), (2, 10), (3, 10)])

    def test_single_partition_procedures_cannot_write_other_partitions(self):
        # Routed by the contestant parameter, but inserts the phone parameter's row.
        self.db.sql("CREATE PROCEDURE Misrouted PARTITION ON TABLE votes COLUMN phone PARAMETER 2 AS "
                    "INSERT INTO votes VALUES (?, ?, ?)")
        ok, refused = 0, 0
        for phone in range(8000000, 8000030):
            try:
                self.db.call("Misrouted", phone, "MA", 8000000)
                ok += 1
            except surgedb.Error as e:
                self.assertEqual(e.status, "SQL_ERROR")
                self.assertIn("mispartitioned", e.message)
                refused += 1
        self.assertGreater(refused, 0)
        self.assertGreater(ok, 0)
        self.assertEqual(self.db.sql("SELECT COUNT(*) FROM votes WHERE phone >= 8000000 AND phone < 8000030").rows,
                         [(ok,)])

    def test_crud_procedures(self):
        self.db.call("votes.insert", 1, "NY", 1)
        self.assertEqual(self.db.call("votes.select", 1).rows, [(1, "NY", 1)])
        self.assertEqual(self.db.call("votes.update", 1, "CA", 2, 1).modified, 1)
        self.db.call("votes.upsert", 1, "TX", 3)
        self.assertEqual(self.db.call("votes.select", 1).rows, [(1, "TX", 3)])
        self.assertEqual(self.db.call("votes.delete", 1).modified, 1)
        self.assertEqual(self.db.call("votes.select", 1).rows, [])

    def test_types_round_trip(self):
        self.db.sql("CREATE TABLE typed (id INTEGER NOT NULL PRIMARY KEY, d DECIMAL, f FLOAT, t TIMESTAMP, "
                    "b VARBINARY(4), s VARCHAR(8))")
        ts = surgedb.Timestamp(1_700_000_000_123_456)
        self.db.call("typed.insert", 1, surgedb.Decimal("12.5"), 0.25, ts, b"\x00\xff", "héllo")
        self.db.call("typed.insert", 2, None, None, None, None, None)
        rows = self.db.sql("SELECT * FROM typed ORDER BY id").rows
        self.assertEqual(rows[0], (1, surgedb.Decimal("12.5"), 0.25, ts, b"\x00\xff", "héllo"))
        self.assertEqual(rows[1], (2, None, None, None, None, None))

    def test_bad_input_gets_a_clear_status_and_changes_nothing(self):
        before = self.db.sql("SELECT COUNT(*) FROM votes").rows
        cases = [
            (("nope",), "UNKNOWN_PROCEDURE", "does not exist"),
            (("Vote", 1, "MA"), "INVALID_PARAMETER", "expects 3 parameters"),
            (("Vote", "not a number", "MA", 1), "INVALID_PARAMETER", "partition parameter 1"),
            (("Vote", 2, None, 1), "SQL_ERROR", "NOT NULL"),
            (("Vote", 3, "MAX", 1), "SQL_ERROR", "too long"),
            (("@AdHoc", "SELEC 1"), "SQL_ERROR", "syntax error at 1:1"),
            (("@AdHoc", "CREATE TABLE x (a INTEGER); SELECT 1"), "INVALID_PARAMETER", "mixes schema changes"),
            (("@AdHoc",), "INVALID_PARAMETER", "SQL text"),
            (("@Nope",), "UNKNOWN_PROCEDURE", "system procedure"),
            (("@SystemCatalog", "FOO"), "INVALID_PARAMETER", "selector"),
        ]
        for call, status, text in cases:
            with self.subTest(call=call):
                with self.assertRaises(surgedb.Error) as e:
                    self.db.call(*call)
                self.assertEqual(e.exception.status, status, str(e.exception))
                self.assertIn(text, e.exception.message)
        self.assertEqual(self.db.sql("SELECT COUNT(*) FROM votes").rows, before)

    def test_oversized_and_malformed_messages(self):
        with self.assertRaises(surgedb.Error) as e:
            self.db.call("Vote", 4, "x" * (70 << 20), 1)
        self.assertEqual(e.exception.status, "RESOURCE_EXHAUSTED")
        # A message that is not an Invocation at all.
        channel = grpc.insecure_channel(self.server.address)
        raw = channel.unary_unary("/surge.v1.Surge/Call", request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as e:
            raw(b"\xff\xff\xff\xff", timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("malformed", e.exception.details())
        channel.close()
        self.assertEqual(self.db.call("@Ping").tables, [])

    def test_malformed_stream_message_ends_the_stream_after_earlier_answers(self):
        # A stream whose second message is not an InvocationBatch: the first message's calls
        # are answered, then the stream ends INVALID_ARGUMENT; nothing of the second runs.
        channel = grpc.insecure_channel(self.server.address)
        raw = channel.stream_stream("/surge.v1.Surge/Stream", request_serializer=lambda b: b,
                                    response_deserializer=pb.ResponseBatch.FromString)
        good = pb.InvocationBatch()
        for h in range(1, 41):
            good.invocations.add(procedure="@Ping", client_handle=h)
        good.invocations.add(procedure="NoSuchProcedure", client_handle=41)
        messages = [good.SerializeToString(), b"\xff\xff\xff\xff"]
        answered = {}
        with self.assertRaises(grpc.RpcError) as e:
            for batch in raw(iter(messages), timeout=10):
                for r in batch.responses:
                    answered[r.client_handle] = r.status.code
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("malformed", e.exception.details())
        self.assertEqual(sorted(answered), list(range(1, 42)))
        self.assertEqual(answered[1], pb.OK)
        self.assertEqual(answered[41], pb.UNKNOWN_PROCEDURE)
        channel.close()
        self.assertEqual(self.db.call("@Ping").tables, [])

    def test_ddl_is_all_or_nothing_across_partitions(self):
        self.db.sql("CREATE TABLE ledger (id BIGINT NOT NULL PRIMARY KEY, amt BIGINT NOT NULL)")
        self.db.sql("PARTITION TABLE ledger ON COLUMN id")
        for i in range(12):
            self.db.call("ledger.insert", i, i % 4)
        with self.assertRaises(surgedb.Error) as e:
            self.db.sql("CREATE ASSUMEUNIQUE INDEX ledger_amt ON ledger (amt)")
        self.assertIn("partition", e.exception.message)
        cat = self.db.call("@SystemCatalog", "INDEXES").rows
        self.assertNotIn("ledger_amt", [r[1] for r in cat])
        self.db.sql("CREATE INDEX ledger_amt ON ledger (amt)")
        self.assertEqual(self.db.sql("SELECT COUNT(*) FROM ledger WHERE amt = 2").rows, [(3,)])
        with self.assertRaises(surgedb.Error) as e:
            self.db.sql("PARTITION TABLE contestants ON COLUMN id")
        self.assertIn("only an empty table", e.exception.message)

    def test_system_procedures(self):
        tables = {r[0]: r[1] for r in self.db.call("@SystemCatalog", "TABLES").rows}
        self.assertEqual(tables["votes"], "PARTITIONED")
        self.assertEqual(tables["contestants"], "REPLICATED")
        procs = {r[0]: r[1] for r in self.db.call("@SystemCatalog", "PROCEDURES").rows}
        self.assertEqual(procs["vote"], "SQL")
        self.assertEqual(procs["votes.insert"], "CRUD")
        self.assertEqual(procs["@AdHoc"], "SYSTEM")
        self.assertEqual(self.db.call("@Statistics", "PARTITIONCOUNT").rows, [(3,)])
        for _ in range(5):
            self.db.call("@Ping")
        stats = {r[0]: r for r in self.db.call("@Statistics", "PROCEDURE").rows}
        self.assertGreaterEqual(stats["@Ping"][1], 5)
        self.assertEqual(stats["@Ping"][2], 0)
        name, calls, failures, avg, p50, p95, p99, mx = stats["@AdHoc"]
        self.assertGreater(calls, 0)
        self.assertTrue(p50 <= p95 <= p99 <= mx, stats["@AdHoc"])
        plan = [r[0] for r in self.db.call("@Explain", "SELECT * FROM votes WHERE phone = 5").rows]
        self.assertTrue(any("votes" in line for line in plan), plan)
        plan = [r[0] for r in self.db.call("@ExplainProc", "Vote").rows]
        self.assertTrue(any("INSERT" in line.upper() for line in plan), plan)

    def test_async_calls(self):
        futures = [self.db.call_async("@AdHoc", "SELECT ? + 1", i) for i in range(200)]
        self.assertEqual([f.result(timeout=30).rows[0][0] for f in futures], list(range(1, 201)))
        bad = self.db.call_async("NoSuchProcedure")
        with self.assertRaises(surgedb.Error) as cm:
            bad.result(timeout=30)
        self.assertEqual(cm.exception.status, "UNKNOWN_PROCEDURE")

    def test_replicated_reads_run_anywhere_and_partitioned_ones_see_everything(self):
        db = self.db
        db.sql("CREATE TABLE rr1 (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10))")
        db.sql("CREATE TABLE rr2 (id INTEGER NOT NULL PRIMARY KEY, score INTEGER)")
        db.sql("CREATE TABLE pp (id INTEGER NOT NULL PRIMARY KEY)")
        db.sql("PARTITION TABLE pp ON COLUMN id")
        for i in range(30):
            db.sql("INSERT INTO rr1 VALUES (?, ?)", i, f"n{i}")
            db.sql("INSERT INTO rr2 VALUES (?, ?)", i, i * 10)
            if i % 2 == 0:
                db.sql("INSERT INTO pp VALUES (?)", i)
        # Replicated only (served by one partition, round robin): the same answer every time.
        for _ in range(6):
            r = db.sql("SELECT COUNT(*), SUM(b.score) FROM rr1 a JOIN rr2 b ON a.id = b.id WHERE a.id < 10")
            self.assertEqual(r.rows, [(10, 450)])
        # A subquery over a partitioned table makes it multi-partition: it sees every partition.
        r = db.sql("SELECT COUNT(*) FROM rr1 WHERE id IN (SELECT id FROM pp)")
        self.assertEqual(r.rows, [(15,)])
        r = db.sql("SELECT id FROM rr1 WHERE id < 3 UNION SELECT id FROM pp WHERE id > 24 ORDER BY 1")
        self.assertEqual(r.rows, [(0,), (1,), (2,), (26,), (28,)])

    def test_streams_feed_views_on_every_partition(self):
        db = self.db
        db.sql("CREATE STREAM readings PARTITION ON COLUMN meter (meter BIGINT NOT NULL, kwh INTEGER NOT NULL)")
        db.sql("CREATE VIEW meter_totals (meter, n, kwh) AS SELECT meter, COUNT(*), SUM(kwh) FROM readings "
               "GROUP BY meter")
        # Not grouped by the partition column: each partition keeps partial groups, merged on read.
        db.sql("CREATE VIEW size_counts (big, n) AS SELECT kwh, COUNT(*) FROM readings WHERE kwh >= 5 GROUP BY kwh")
        db.sql("CREATE PROCEDURE Report PARTITION ON TABLE readings COLUMN meter PARAMETER 0 AS "
               "INSERT INTO readings VALUES (?, ?)")
        for meter in range(60):
            db.call("Report", meter, meter % 7)
            db.call("readings.insert", meter, 5)  # the stream's CRUD insert procedure
        db.sql("INSERT INTO readings VALUES (1000, 9)")
        self.assertEqual(db.sql("SELECT COUNT(*), SUM(n), SUM(kwh) FROM meter_totals").rows,
                         [(61, 121, sum(m % 7 for m in range(60)) + 300 + 9)])
        self.assertEqual(db.sql("SELECT big, n FROM size_counts ORDER BY big").rows,
                         [(5, 60 + sum(1 for m in range(60) if m % 7 == 5)), (6, sum(1 for m in range(60) if m % 7 == 6)),
                          (9, 1)])
        # Every partition saw its own meters, and holds none of the stream's rows.
        stats = db.call("@Statistics", "TABLE").rows
        self.assertEqual([r[3] for r in stats if r[1] == "readings"], [0, 0, 0])
        self.assertTrue(all(r[3] > 0 for r in stats if r[1] == "meter_totals"))
        self.assertEqual([r[2] for r in stats if r[1] == "readings"], ["PARTITIONED STREAM"] * 3)
        streams = db.call("@SystemCatalog", "STREAMS").rows
        self.assertIn(("readings", "meter", None, 2), streams)
        self.assertNotIn("readings", [r[0] for r in db.call("@SystemCatalog", "TABLES").rows])
        with self.assertRaisesRegex(surgedb.Error, "keeps no rows to read"):
            db.sql("SELECT COUNT(*) FROM readings")
        # A failed call's rows never reach the views.
        with self.assertRaises(surgedb.Error):
            db.sql("INSERT INTO readings VALUES (2000, 1), (2001, NULL)")
        self.assertEqual(db.sql("SELECT COUNT(*) FROM meter_totals WHERE meter >= 2000").rows, [(0,)])

    def test_stream_batches(self):
        calls = [("Vote", 7000000 + i, "NH", 1) for i in range(2000)] + [("Vote", 7000000, "NH", 1)]
        out = self.db.call_many(calls, batch=300)
        self.assertTrue(all(isinstance(r, surgedb.Response) for r in out[:2000]))
        self.assertIsInstance(out[2000], surgedb.Error)
        self.assertEqual(self.db.sql("SELECT COUNT(*) FROM votes WHERE phone >= 7000000 AND phone < 7100000").rows,
                         [(2000,)])

    def test_stream_batch_keeps_call_order_per_partition(self):
        # A read's single-partition calls go to their partition as tasks of up to 256 calls; a
        # call that cannot join (an unknown procedure here) is handed over after those before it.
        # Calls of one key must see each other in the order sent.
        self.db.sql("CREATE TABLE ordered (id BIGINT NOT NULL PRIMARY KEY, v INTEGER NOT NULL)")
        self.db.sql("PARTITION TABLE ordered ON COLUMN id")
        calls = []
        for i in range(300):
            calls += [("ordered.insert", i, 0), ("ordered.update", i, 1, i), ("ordered.select", i)]
            if i % 50 == 0:
                calls.append(("NoSuchProcedure", i))
            calls += [("ordered.delete", i), ("ordered.select", i), ("ordered.insert", i, 2)]
        out = self.db.call_many(calls, batch=len(calls))
        selects = [(c[1], out[n]) for n, c in enumerate(calls) if c[0] == "ordered.select"]
        for k, (i, r) in enumerate(selects):
            self.assertEqual(r.rows, [(i, 1)] if k % 2 == 0 else [], (i, k))
        unknown = [out[n] for n, c in enumerate(calls) if c[0] == "NoSuchProcedure"]
        self.assertTrue(all(isinstance(e, surgedb.Error) and e.status == "UNKNOWN_PROCEDURE" for e in unknown))
        self.assertEqual(self.db.sql("SELECT COUNT(*), MIN(v), MAX(v) FROM ordered").rows, [(300, 2, 2)])

    def test_large_result(self):
        self.db.sql("CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, s VARCHAR(16))")
        self.db.sql("PARTITION TABLE big ON COLUMN id")
        self.db.call_many([("big.insert", i, "row") for i in range(20000)], batch=1000)
        t0 = time.time()
        rows = self.db.sql("SELECT * FROM big").rows
        self.assertEqual(len(rows), 20000)
        self.assertLess(time.time() - t0, 10)


class OverloadTest(unittest.TestCase):
    def test_full_queues_say_overloaded_and_lose_nothing_accepted(self):
        server = Server("--queue-capacity", "1", partitions=1)
        try:
            db = surgedb.connect(server.address)
            db.sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)")
            db.sql("PARTITION TABLE t ON COLUMN id")
            out = db.call_many([("t.insert", i) for i in range(5000)], batch=5000)
            ok = sum(1 for r in out if isinstance(r, surgedb.Response))
            overloaded = sum(1 for r in out if isinstance(r, surgedb.Error) and r.status == "OVERLOADED")
            self.assertEqual(ok + overloaded, 5000)
            self.assertGreater(overloaded, 0)
            self.assertEqual(db.sql("SELECT COUNT(*) FROM t").rows, [(ok,)])
            db.close()
        finally:
            self.assertEqual(server.stop(), 0)


class TimeoutTest(unittest.TestCase):
    def test_calls_queued_past_their_timeout_do_not_run(self):
        server = Server(partitions=1)
        try:
            db = surgedb.connect(server.address)
            db.sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)")
            db.sql("PARTITION TABLE t ON COLUMN id")
            channel = grpc.insecure_channel(server.address)
            stub = pb_grpc.SurgeStub(channel)
            # A burst of 1 ms-timeout calls on one stream: those that wait longer in the queue
            # are answered TIMEOUT and leave no row.
            batch = pb.InvocationBatch(invocations=[
                pb.Invocation(procedure="t.insert", params=[pb.Value(int=i)], client_handle=i, timeout_ms=1)
                for i in range(20000)])
            codes = {}
            for rb in stub.Stream(iter([batch]), timeout=60):
                for r in rb.responses:
                    codes[r.client_handle] = r.status.code
            self.assertEqual(len(codes), 20000)
            ok = sum(1 for c in codes.values() if c == pb.OK)
            timed_out = sum(1 for c in codes.values() if c == pb.TIMEOUT)
            self.assertEqual(ok + timed_out + sum(1 for c in codes.values() if c == pb.OVERLOADED), 20000)
            self.assertGreater(timed_out, 0)
            self.assertEqual(db.sql("SELECT COUNT(*) FROM t").rows, [(ok,)])
            channel.close()
            db.close()
        finally:
            self.assertEqual(server.stop(), 0)


class LifecycleTest(unittest.TestCase):
    def test_help_and_bad_flags(self):
        r = subprocess.run([SURGED, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for flag in ["--config", "--data-dir", "--port", "--partitions", "--schema", "--queue-capacity"]:
            self.assertIn(flag, r.stdout)
        r = subprocess.run([SURGED, "--port", "99999"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("port", r.stderr)
        r = subprocess.run([SURGED, "--frobnicate", "1"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option", r.stderr)

    def test_schema_and_config_files(self):
        with tempfile.TemporaryDirectory() as d:
            schema = os.path.join(d, "schema.sql")
            with open(schema, "w") as f:
                f.write("CREATE TABLE kv (k VARCHAR(8) NOT NULL PRIMARY KEY, v BIGINT);\n"
                        "PARTITION TABLE kv ON COLUMN k;\nINSERT INTO kv VALUES ('a', 1);\n")
            config = os.path.join(d, "surged.toml")
            with open(config, "w") as f:
                f.write(f'[server]\nschema = "{schema}"\nlog_level = "warn"\n')
            server = Server("--config", config)
            try:
                with surgedb.connect(server.address) as db:
                    self.assertEqual(db.call("kv.select", "a").rows, [("a", 1)])
            finally:
                self.assertEqual(server.stop(), 0)
            with open(schema, "w") as f:
                f.write("CREATE TABLE kv (k VARCHAR(8));\nCREATE TABLE kv (k INTEGER);\n")
            r = subprocess.run([SURGED, "--schema", schema, "--port", str(free_port()), "--data-dir",
                                os.path.join(d, "data")], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn("line 2", r.stdout + r.stderr)

    def test_sigterm_answers_every_call(self):
        server = Server(partitions=2)
        db = surgedb.connect(server.address)
        db.sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)")
        db.sql("PARTITION TABLE t ON COLUMN id")
        results = []

        def load():
            results.extend(db.call_many([("t.insert", i) for i in range(20000)], batch=500))

        th = threading.Thread(target=load)
        th.start()
        time.sleep(0.2)
        code = server.stop()
        th.join(30)
        self.assertFalse(th.is_alive())
        self.assertEqual(code, 0)
        # Every call got an answer: success, a refusal, or (sent after the server closed the
        # stream) UNAVAILABLE.
        self.assertEqual(len(results), 20000)
        for r in results:
            self.assertTrue(isinstance(r, surgedb.Response) or
                            r.status in ("SHUTTING_DOWN", "OVERLOADED", "UNAVAILABLE"), r)


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if not SURGED or not os.path.exists(SURGED):
        sys.exit("usage: test_server.py --surged PATH")
    unittest.main(verbosity=2)
