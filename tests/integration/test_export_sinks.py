"""Integration tests of the http and postgresql export targets (src/export/http_sink.h,
src/export/pg_sink.h): the real surged exports to an in-process webhook (a ThreadingHTTPServer,
HTTP/1.1 keep-alive, that records every request and can be told to fail) and to a real
PostgreSQL server started for the tests (initdb + pg_ctl in a temporary directory).

HTTP: each POST carries rows of one (stream, partition) in seq order, as JSON Lines
(application/x-ndjson) or CSV lines without a header (text/csv), with X-Surge-Stream,
X-Surge-Partition, X-Surge-First-Seq and X-Surge-Last-Seq, at most batch_rows rows. A 2xx answer
acknowledges the batch; anything else (another status, no answer within timeout_ms, a closed or
refused connection) is retried from the first unacknowledged row. So per (stream, partition) each
request must start right after the last row acknowledged by a 2xx answer: never later (rows would
be lost), never earlier (acknowledged rows sent again). Repeats are exact copies.

PostgreSQL: rows go to a table per stream (surge_txn_id, surge_timestamp, surge_partition,
surge_seq, surge_op, then the stream's columns; PRIMARY KEY (surge_partition, surge_seq)), one
transaction per batch with INSERT ... ON CONFLICT DO NOTHING: the table holds each row exactly once.

The tests:
  HttpFormatTest     two streams (every column type, awkward text) to a JSONL target (batch_rows = 3,
                     header.Authorization / header.X-Tenant) and the same rows to a CSV target: every
                     row once, values, metadata (txn_id of the call, owning partition, seqs 1..N),
                     request headers, Content-Type, batches of at most 3 rows (a 20-row transaction
                     is split), one (stream, partition) per request in seq order; wrong http settings
                     (https, no url, roll_seconds...) fail the start naming the target and setting.
  HttpFailureTest    the webhook answers 503 (then 500 for two requests), answers slower than
                     timeout_ms, closes connections without answering, or is stopped and started
                     again on the same port: calls go on, @Statistics EXPORT shows retrying with the
                     right last_error, then ok; every row arrives, repeats only of unacknowledged
                     batches, as exact copies.
  HttpAckTest        a 2xx answer acknowledges its batch: a later batch of the same delivery failing
                     must not send it again, nor may another partition's failing batches.
  PostgresTest       every column type (NULLs, '', commas, quotes, newlines, backslashes, \\. lines,
                     non-ASCII) arrives with its value and PostgreSQL type, the table's layout and
                     primary key; a table exporting INSERT / UPDATE / DELETE gives the ops and images
                     (default table name "{stream}"); PostgreSQL stopped under load -> retrying with
                     "cannot connect" -> started -> every row exactly once; kill -9 of surged under
                     load (sync log) -> every acknowledged call's row exactly once, none of a failed
                     call, each exported id in the table written in the same transaction (a trigger
                     logs what PostgreSQL is given: the repeats the primary key absorbed);
                     create_table = false with the table missing -> retrying naming it -> created by
                     hand -> delivered; wrong postgresql settings fail the start. PostgreSQL is
                     started once for the class (skipped when /usr/lib/postgresql/*/bin/initdb is
                     missing); each test uses its own database.

    python3 test_export_sinks.py --surged PATH/TO/surged

Helpers come from test_export.py / test_durability.py (SURGE_DURABILITY_KEEP=1 keeps each test's
directory: data and server logs).
"""
import collections
import datetime
import decimal
import glob
import http.server
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import surgedb
import test_durability
import test_export
from test_durability import CALL_TIMEOUT, outcome_of
from test_export import (CRASH_SCHEMA, PAYLOAD, TIMESTAMP_TEXT, TYPED_COLUMNS, TYPED_DDL, TYPED_ROWS, ExportCase,
                         parse_csv)
from test_server import free_port

D = surgedb.Decimal
TS = surgedb.Timestamp
# More rows for the typed streams: the smallest integers, a subnormal double, text that COPY or a
# line splitter could take for something else.
EXTRA_ROWS = [
    (11, -128, -32768, -(2 ** 31), -(2 ** 63), 2.2250738585072014e-308, D("-99999999999999999999999999.999999999999"),
     "C:\\dir\\file.txt\ttab \\N \\. end", b"\\", TS(1_234_567_890_000_001)),
    (12, None, None, None, None, 123456.789, D("0.000000000001"), "first\n\\.\nlast", b"\n\r", TS(86_400_000_000)),
    (13, 9, 9, 9, 9, -0.0, D("-1"), "x\u2028y\u0085z \u00a0nbsp \U0001F600", b"\xff" * 10, TS(10 ** 15)),
    (14, None, None, None, None, None, None, "\\", None, None),
]
ALL_TYPED = TYPED_ROWS + EXTRA_ROWS
WAIT = 10.0  # seconds for a status to show


def typed_sql(stream):
    return f"INSERT INTO {stream} VALUES ({', '.join('?' * len(TYPED_COLUMNS))})"


# ---------------------------------------------------------------------------------------------
# The webhook.

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.server.hook._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.hook._closed(self.connection)

    def do_POST(self):
        hook = self.server.hook
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) != length:  # the client went away
            self.close_connection = True
            return
        action = hook._next_action(self.headers)
        rec = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "action": action[0], "answered": None, "time": time.time()}
        hook._record(rec)
        if action[0] == "drop":  # close without an answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if action[0] == "slow":  # a 200, but only after action[1] seconds (surged gave up by then)
            hook.release.wait(action[1])
            code, text = 200, "late"
            self.close_connection = True
        else:
            code, text = action[1], action[2]
        data = text.encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            rec["answered"] = code if action[0] == "answer" else "late"
        except OSError:
            rec["answered"] = "unsent"
            self.close_connection = True

    do_PUT = do_GET = do_POST


class Webhook:
    """An HTTP/1.1 keep-alive server on 127.0.0.1:port in a thread. Records every request (method,
    path, headers with lower-case names, body, the action taken and what was answered: a status
    code, "late", "unsent" or None for a dropped connection). What it does with the next request:
    the next entry of plan, else mode: ("answer", code, text) | ("slow", seconds) | ("drop",).
    fail_partition makes requests of that X-Surge-Partition answer 503 whatever the mode."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.requests = []
        self.plan = collections.deque()
        self.mode = ("answer", 200, "")
        self.fail_partition = None
        self.release = threading.Event()
        self.conns = set()
        self.httpd = None
        self.thread = None
        self.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.release.clear()
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        httpd.daemon_threads = True
        httpd.hook = self
        self.httpd = httpd
        self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        """Stops listening and closes every connection (a keep-alive one too)."""
        if not self.httpd:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.release.set()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)
        self.httpd = None

    def set_mode(self, *mode):
        with self.lock:
            self.mode = mode

    def fail_next(self, n, code=503, text="try later"):
        with self.lock:
            self.plan.extend([("answer", code, text)] * n)

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def _next_action(self, headers):
        with self.lock:
            if self.fail_partition is not None and headers.get("X-Surge-Partition") == str(self.fail_partition):
                return ("answer", 503, f"partition {self.fail_partition} is not welcome")
            return self.plan.popleft() if self.plan else self.mode

    def _record(self, rec):
        with self.lock:
            rec["index"] = len(self.requests)
            self.requests.append(rec)

    def _opened(self, conn):
        with self.lock:
            self.conns.add(conn)

    def _closed(self, conn):
        with self.lock:
            self.conns.discard(conn)


# ---------------------------------------------------------------------------------------------

class SinkCase(ExportCase):
    def wait_stats(self, db, predicate, what, timeout=WAIT):
        """Polls @Statistics EXPORT until predicate(stats) holds (stats non-empty)."""
        deadline = time.time() + timeout
        while True:
            stats = self.export_stats(db)
            if stats and predicate(stats):
                return stats
            if time.time() > deadline:
                self.fail(f"never {what} within {timeout} s; @Statistics EXPORT: {stats}")
            time.sleep(0.02)

    def wait_retrying(self, db, text, timeout=WAIT):
        return self.wait_stats(db, lambda st: all(s["status"] == "retrying" and text in s["last_error"] for s in st),
                               f"retrying with {text!r} in last_error", timeout)

    def wait_ok(self, db, timeout=WAIT):
        return self.wait_stats(db, lambda st: all(s["status"] == "ok" for s in st), "status ok again", timeout)

    def check_bad_settings(self, cases):
        """Each settings dict as target "bad" must stop the start with a message holding text."""
        for settings, text in cases:
            with self.subTest(settings=settings):
                config = self.write_config({"bad": settings})
                r = subprocess.run([test_durability.SURGED, "--config", config, "--port", str(free_port()),
                                    "--data-dir", self.data_dir], capture_output=True, text=True, timeout=30)
                out = r.stdout + r.stderr
                self.assertNotEqual(r.returncode, 0, out)
                self.assertIn(text, out)
                self.assertIn('"bad"', out)

    def send(self, db, stream, lo, hi, fmt="note {i}"):
        """STREAM.insert(i, note) for ids lo..hi-1; all must succeed (export is asynchronous).
        Returns {id: txn id}."""
        results = db.call_many([(f"{stream}.insert", i, fmt.format(i=i)) for i in range(lo, hi)])
        bad = [(i, r) for i, r in zip(range(lo, hi), results) if not isinstance(r, surgedb.Response)]
        self.assertEqual(bad, [], "exporting calls failed while the target was failing (they must not)")
        return {i: r.txn_id for i, r in zip(range(lo, hi), results)}


# ---------------------------------------------------------------------------------------------
# 1. HTTP.

class HttpCase(SinkCase):
    def setUp(self):
        super().setUp()
        self.hooks = []

    def tearDown(self):
        for s in self.servers:  # surged first (it would only retry), then the webhooks
            if s.alive():
                s.proc.kill()
                s.proc.wait(10)
        for h in self.hooks:
            try:
                h.stop()
            except Exception:
                pass
        super().tearDown()

    def new_hook(self):
        h = Webhook()
        self.hooks.append(h)
        return h

    def batches(self, hook, fmt="jsonl", path=None):
        """The webhook's requests (to path, if given) as batches: index, stream / partition / first /
        last (from the headers), answered, headers, path, rows (records as
        test_export.read_exports makes them)."""
        out = []
        for req in hook.snapshot():
            if path is not None and req["path"] != path:
                continue
            h = req["headers"]
            b = {"index": req["index"], "answered": req["answered"], "action": req["action"], "headers": h,
                 "path": req["path"], "method": req["method"], "body": req["body"],
                 "stream": h.get("x-surge-stream"), "partition": int(h.get("x-surge-partition", -1)),
                 "first": int(h.get("x-surge-first-seq", -1)), "last": int(h.get("x-surge-last-seq", -1)), "rows": []}
            where = f"request #{req['index']}"
            text = req["body"].decode("utf-8")
            self.assertTrue(text.endswith("\n"), f"{where}: the body does not end with a line end: {text[-80:]!r}")
            if fmt == "jsonl":
                for k, line in enumerate(text[:-1].split("\n")):  # not splitlines: U+2028 is a line end there
                    j = json.loads(line, parse_float=decimal.Decimal)
                    b["rows"].append({"stream": j["stream"], "partition": j["partition"], "seq": j["seq"],
                                      "txn_id": j["txn_id"], "timestamp": j["timestamp"], "op": j["op"],
                                      "row": j["row"], "file": where, "line": k + 1, "keys": list(j)})
            else:
                for k, r in enumerate(parse_csv(text)):
                    b["rows"].append({"stream": b["stream"], "txn_id": int(r[0]), "timestamp": r[1],
                                      "partition": int(r[2]), "seq": int(r[3]), "op": r[4], "row": r[5:],
                                      "file": where, "line": k + 1})
            out.append(b)
        return out

    def check_batches(self, batches, path, fmt, batch_rows, headers=None, absent=()):
        """Each request: POST to path, Content-Type, the extra headers given (and none of absent),
        1..batch_rows rows of the (stream, partition) its headers name, seqs first..last in order."""
        ctype = "text/csv" if fmt == "csv" else "application/x-ndjson"
        for b in batches:
            where = f"request #{b['index']} ({b['stream']} p{b['partition']} {b['first']}..{b['last']})"
            h = b["headers"]
            self.assertEqual((b["method"], b["path"]), ("POST", path), where)
            self.assertEqual(h.get("content-type"), ctype, where)
            self.assertEqual(int(h.get("content-length")), len(b["body"]), where)
            for k, v in (headers or {}).items():
                self.assertEqual(h.get(k.lower()), v, f"{where}: header {k}")
            for k in absent:
                self.assertNotIn(k.lower(), h, f"{where}: header {k}")
            self.assertTrue(1 <= len(b["rows"]) <= batch_rows, f"{where}: {len(b['rows'])} rows, batch_rows is "
                                                               f"{batch_rows}")
            self.assertEqual([(r["stream"], r["partition"]) for r in b["rows"]],
                             [(b["stream"], b["partition"])] * len(b["rows"]), f"{where}: rows of another "
                                                                               f"(stream, partition)")
            self.assertEqual([r["seq"] for r in b["rows"]], list(range(b["first"], b["last"] + 1)),
                             f"{where}: the rows' seqs against X-Surge-First-Seq / X-Surge-Last-Seq")

    def protocol_problems(self, batches):
        """Per (stream, partition), in request order: each request must start right after the last
        row acknowledged by a 2xx answer (a failed request is then sent again from its first row).
        Returns the violations (later: rows skipped; earlier: acknowledged rows sent again)."""
        acked = {}  # key -> set of allowed "last acknowledged seq" values (two when an answer may be lost)
        problems = []
        for b in batches:
            key = (b["stream"], b["partition"])
            allowed = acked.get(key, {0})
            if b["first"] - 1 not in allowed:
                kind = ("rows skipped: the seqs between were never acknowledged" if b["first"] - 1 > max(allowed)
                        else "acknowledged rows sent again")
                history = [(x["index"], x["first"], x["last"], x["answered"]) for x in batches
                           if (x["stream"], x["partition"]) == key and x["index"] < b["index"]][-4:]
                problems.append(f"request #{b['index']} {key} seqs {b['first']}..{b['last']}: {kind} (the last "
                                f"acknowledged seq was {sorted(allowed)}; the requests before (#, first, last, "
                                f"answer): {history})")
                allowed = {b["first"] - 1}
            a = b["answered"]
            if isinstance(a, int) and 200 <= a <= 299:
                acked[key] = {b["last"]}
            elif a == "unsent":  # the answer may or may not have reached surged
                acked[key] = allowed | {b["last"]}
            else:
                acked[key] = allowed
        return problems

    def check_delivery(self, batches, expect, where, exact=False):
        """expect: {stream: {id: txn id or None}}. Every row arrived, repeats only as exact copies,
        seqs 1..N per (stream, partition), each id under one seq, first deliveries in seq order,
        requests following the acknowledgements (see protocol_problems). exact: no repeats at all.
        Returns ({(stream, id): record}, repeats)."""
        records = [r for b in batches for r in b["rows"]]
        unique, repeats = self.check_sequences(records, where)
        for key in {(s, p) for s, p, _ in unique}:
            firsts, seen = [], set()
            for r in records:
                if (r["stream"], r["partition"]) == key and r["seq"] not in seen:
                    seen.add(r["seq"])
                    firsts.append(r["seq"])
            self.assertEqual(firsts, sorted(firsts), f"{where}: {key}: first deliveries out of seq order")
        got = {}
        for (s, _, _), rec in sorted(unique.items()):
            k = (s, int(rec["row"]["id"] if isinstance(rec["row"], dict) else rec["row"][0]))
            self.assertNotIn(k, got, f"{where}: {k} exported under two seqs")
            got[k] = rec
        want = {(s, i) for s, ids in expect.items() for i in ids}
        self.assertEqual(sorted(set(got) - want), [], f"{where}: rows exported that were never committed")
        self.assertEqual(sorted(want - set(got)), [], f"{where}: committed rows never delivered")
        for s, ids in expect.items():
            for i, txn in ids.items():
                if txn is not None:
                    self.assertEqual(got[(s, i)]["txn_id"], txn, f"{where}: {s} {i}: txn_id is not the call's")
        problems = self.protocol_problems(batches)
        self.assertEqual(problems, [], f"{where}: requests do not follow the acknowledgements (a 2xx "
                                       f"answer acknowledges its batch; the retry starts at the first "
                                       f"unacknowledged row)")
        if exact:
            self.assertEqual(repeats, 0, f"{where}: rows delivered twice although every request was answered 200")
        return got, repeats


class HttpFormatTest(HttpCase):
    def test_jsonl_and_csv_batches_headers_and_values(self):
        hook = self.new_hook()
        jpath, cpath = "/ingest/v1?source=surge", "/csv"
        server = self.start_export({
            "hook": {"type": "http", "url": hook.base + jpath, "format": "jsonl", "batch_rows": 3,
                     "timeout_ms": 5000, "header.Authorization": "Bearer s3cr3t", "header.X-Tenant": "acme"},
            "hookcsv": {"type": "http", "url": hook.base + cpath, "format": "csv"}})
        db = self.connect(server)
        db.sql(f"CREATE STREAM typed PARTITION ON COLUMN id EXPORT TO TARGET hook {TYPED_DDL}")
        db.sql(f"CREATE STREAM typed_csv PARTITION ON COLUMN id EXPORT TO TARGET hookcsv {TYPED_DDL}")
        db.sql("CREATE STREAM burst PARTITION ON COLUMN id EXPORT TO TARGET hook "
               "(id BIGINT NOT NULL, note VARCHAR(20))")
        expect = {"typed": {}, "typed_csv": {}, "burst": {}}
        t0 = time.time()
        for row in ALL_TYPED:
            expect["typed"][row[0]] = db.call("typed.insert", *row).txn_id
            expect["typed_csv"][row[0]] = db.sql(typed_sql("typed_csv"), *row).txn_id
        # One transaction of 20 rows on both partitions: each partition's rows come in one delivery,
        # which batch_rows = 3 splits into requests of 3 rows.
        r = db.sql("INSERT INTO burst VALUES " + ", ".join(f"({i}, 'b{i}')" for i in range(1, 21)))
        expect["burst"] = {i: r.txn_id for i in range(1, 21)}
        self.wait_acked(db, {k: len(v) for k, v in expect.items()})
        self.assertEqual({s["status"] for s in self.export_stats(db)}, {"ok"})
        owner = self.partition_of(db, sorted({row[0] for row in ALL_TYPED} | set(range(1, 21))))
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        now = time.time()

        self.assertEqual({r["path"] for r in hook.snapshot()}, {jpath, cpath})
        jbatches = self.batches(hook, "jsonl", jpath)
        cbatches = self.batches(hook, "csv", cpath)
        self.check_batches(jbatches, jpath, "jsonl", 3, headers={"Authorization": "Bearer s3cr3t", "X-Tenant": "acme",
                                                                  "Host": f"127.0.0.1:{hook.port}"})
        self.check_batches(cbatches, cpath, "csv", 1000, absent=("Authorization", "X-Tenant"))
        self.assertEqual({b["stream"] for b in jbatches}, {"typed", "burst"})
        self.assertEqual({b["stream"] for b in cbatches}, {"typed_csv"})
        got, _ = self.check_delivery(jbatches, {"typed": expect["typed"], "burst": expect["burst"]}, "jsonl",
                                     exact=True)
        cgot, _ = self.check_delivery(cbatches, {"typed_csv": expect["typed_csv"]}, "csv", exact=True)
        burst = [b for b in jbatches if b["stream"] == "burst"]
        self.assertIn(3, [len(b["rows"]) for b in burst],
                      f"the 20-row transaction was never sent in requests of batch_rows = 3 rows: "
                      f"{[(b['partition'], b['first'], b['last']) for b in burst]}")
        self.assertGreater(len(burst), 6, "20 rows in requests of at most 3")
        # The values, through both formats.
        for (stream, i), rec in sorted({**got, **cgot}.items()):
            if stream == "burst":
                self.assertEqual(rec["row"], {"id": i, "note": f"b{i}"})
            else:
                fmt = "csv" if stream == "typed_csv" else "jsonl"
                row = dict(zip(TYPED_COLUMNS, rec["row"])) if fmt == "csv" else rec["row"]
                self.assertEqual(list(row), TYPED_COLUMNS, f"{stream} {i}: columns")
                sent = {r[0]: r for r in ALL_TYPED}[i]
                for column, value in zip(TYPED_COLUMNS, sent):
                    test_export.FormatTest.check_value(self, column, value, row[column], fmt, f"{stream} {i}")
            if "keys" in rec:
                self.assertEqual(rec["keys"], ["stream", "partition", "seq", "txn_id", "timestamp", "op", "row"])
            self.assertEqual(rec["op"], "INSERT")
            self.assertEqual(rec["partition"], owner[i], f"{stream} {i}: exported from partition {rec['partition']}, "
                                                         f"but the value belongs to partition {owner[i]}")
            self.assertRegex(rec["timestamp"], TIMESTAMP_TEXT)
            stamp = datetime.datetime.strptime(rec["timestamp"], "%Y-%m-%d %H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            self.assertTrue(t0 - 60 <= stamp <= now + 60, f"{stream} {i}: commit timestamp {rec['timestamp']}")
        # The raw CSV: no header line; '' as "", NULL as nothing, quotes doubled.
        raw = b"".join(b["body"] for b in cbatches).decode()
        self.assertNotIn("txn_id,", raw)
        self.assertRegex(raw, r',INSERT,5,,,,,,,,,\n')
        self.assertIn('"say ""hi"""', raw)
        print(f"\n  jsonl: {len(jbatches)} requests, csv: {len(cbatches)} requests", flush=True)

    def test_bad_http_settings_fail_the_start(self):
        url = f"http://127.0.0.1:{free_port()}/x"
        self.check_bad_settings([
            ({"type": "http"}, "needs url"),
            ({"type": "http", "url": "https://127.0.0.1:8443/x"}, "https is not supported"),
            ({"type": "http", "url": "ftp://127.0.0.1/x"}, "url must start with http://"),
            ({"type": "http", "url": "http:///x"}, "url names no host"),
            ({"type": "http", "url": "http://127.0.0.1:99999/x"}, "port wants a whole number"),
            ({"type": "http", "url": url, "format": "xml"}, "format is csv or jsonl"),
            ({"type": "http", "url": url, "batch_rows": 0}, "batch_rows wants a whole number"),
            ({"type": "http", "url": url, "timeout_ms": "soon"}, "timeout_ms wants a whole number"),
            ({"type": "http", "url": url, "roll_seconds": 1}, 'unknown setting "roll_seconds" for an http target'),
        ])
        # The https refusal says what to do instead.
        config = self.write_config({"bad": {"type": "http", "url": "https://hooks.example/x"}})
        r = subprocess.run([test_durability.SURGED, "--config", config, "--port", str(free_port()), "--data-dir",
                            self.data_dir], capture_output=True, text=True, timeout=30)
        self.assertIn("https://hooks.example/x", r.stdout + r.stderr)
        self.assertIn("proxy", r.stdout + r.stderr)


class HttpFailureTest(HttpCase):
    PATH = "/hook"

    def start_hooked(self, **settings):
        hook = self.new_hook()
        target = {"type": "http", "url": hook.base + self.PATH, "batch_rows": 4, **settings}
        server = self.start_export({"hook": target})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET hook (id BIGINT NOT NULL, note VARCHAR(40))")
        return hook, server, db

    def finish(self, hook, server, db, expect, where, batch_rows=4):
        self.wait_acked(db, {"s": len(expect)})
        self.wait_ok(db)
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        batches = self.batches(hook)
        self.check_batches(batches, self.PATH, "jsonl", batch_rows)
        got, repeats = self.check_delivery(batches, {"s": expect}, where)
        for (_, i), rec in got.items():
            self.assertEqual(rec["row"]["note"], f"note {i}")
        failed = sum(1 for b in batches if not (isinstance(b["answered"], int) and 200 <= b["answered"] <= 299))
        print(f"\n  {where}: {len(batches)} requests, {failed} not acknowledged, {repeats} rows repeated", flush=True)
        return batches

    def test_error_answers_retry_then_recover(self):
        hook, server, db = self.start_hooked()
        expect = self.send(db, "s", 1, 11)
        self.wait_acked(db, {"s": 10})
        hook.set_mode("answer", 503, "try later\r\nplease")
        expect.update(self.send(db, "s", 11, 31))
        stats = self.wait_retrying(db, "answered 503")
        for s in stats:
            self.assertEqual(s["last_error"], f"http export to {hook.base}{self.PATH}: answered 503 Service "
                                              f"Unavailable: try later  please", s)
            self.assertEqual(s["target"], "hook")
        self.assertGreater(sum(s["pending_rows"] for s in stats), 0)
        self.assertRegex(server.output(), r'export target "hook": .*answered 503.*retrying in \d+ ms')
        time.sleep(0.3)  # a few retries
        # Two more failures of another kind, then 200s (the plan first: no 200 may come before them,
        # else a 500 after a 200 in the same round would hit the bug HttpAckTest shows).
        hook.fail_next(2, 500, "boom")
        hook.set_mode("answer", 200, "")
        self.wait_acked(db, {"s": 30})
        self.wait_ok(db)
        self.assertIn('export target "hook" is delivering again', server.output())
        # A 204 or 202 acknowledges too.
        hook.set_mode("answer", 202, "accepted")
        expect.update(self.send(db, "s", 31, 41))
        batches = self.finish(hook, server, db, expect, "503 / 500")
        answers = collections.Counter(b["answered"] for b in batches)
        self.assertGreaterEqual(answers[503], 2, answers)
        self.assertEqual(answers[500], 2, answers)
        self.assertGreater(answers[202], 0, answers)

    def test_slow_answers_count_as_failures(self):
        hook, server, db = self.start_hooked(timeout_ms=400)
        expect = self.send(db, "s", 1, 6)
        self.wait_acked(db, {"s": 5})
        hook.set_mode("slow", 1.0)  # answers 200, but after 1 s
        t = time.time()
        expect.update(self.send(db, "s", 6, 16))
        self.wait_retrying(db, "no answer")
        self.assertGreater(time.time() - t, 0.3, "a failure reported before timeout_ms passed")
        time.sleep(0.6)
        hook.set_mode("answer", 200, "")
        batches = self.finish(hook, server, db, expect, "slow answers")
        late = [b for b in batches if b["action"] == "slow"]
        self.assertTrue(late, "no request was answered late")
        for b in late:  # its rows were sent again: a late 200 acknowledges nothing
            again = [x for x in batches if x["index"] > b["index"] and (x["stream"], x["partition"], x["first"]) ==
                     (b["stream"], b["partition"], b["first"])]
            self.assertTrue(again, f"request #{b['index']} answered after timeout_ms was taken as acknowledged")

    def test_connections_closed_without_answer(self):
        hook, server, db = self.start_hooked()
        expect = self.send(db, "s", 1, 6)
        self.wait_acked(db, {"s": 5})
        hook.set_mode("drop")
        expect.update(self.send(db, "s", 6, 21))
        self.wait_retrying(db, "no answer")
        time.sleep(0.3)
        hook.set_mode("answer", 200, "")
        batches = self.finish(hook, server, db, expect, "dropped connections")
        self.assertGreaterEqual(sum(1 for b in batches if b["action"] == "drop"), 2)

    def test_webhook_down_then_restarted_on_the_same_port(self):
        hook, server, db = self.start_hooked()
        expect = self.send(db, "s", 1, 11)
        self.wait_acked(db, {"s": 10})
        hook.stop()
        expect.update(self.send(db, "s", 11, 31))
        stats = self.wait_retrying(db, "cannot connect")
        for s in stats:
            self.assertIn(f"http export to {hook.base}{self.PATH}: cannot connect: ", s["last_error"])
            self.assertLess(s["acked_seq"], s["last_seq"], s)
        self.assertEqual(sum(s["last_seq"] for s in stats), 30)
        time.sleep(0.5)
        hook.start()
        self.wait_acked(db, {"s": 30})
        expect.update(self.send(db, "s", 31, 36))
        self.finish(hook, server, db, expect, "webhook restarted")


class HttpAckTest(HttpCase):
    def test_acknowledged_batch_is_not_sent_again_when_a_later_one_fails(self):
        # 9 rows of one partition in one delivery, batch_rows = 3: [1-3] answered 200, [4-6] 503,
        # then 200s. The retry must start at seq 4; [1-3] was acknowledged.
        hook = self.new_hook()
        server = self.start_export({"hook": {"type": "http", "url": hook.base + "/h", "batch_rows": 3}})
        db = self.connect(server)
        db.sql("CREATE STREAM r EXPORT TO TARGET hook (id BIGINT NOT NULL, note VARCHAR(20))")  # replicated: p0
        hook.stop()  # the rows wait, so that one delivery takes all 9
        r = db.sql("INSERT INTO r VALUES " + ", ".join(f"({i}, 'r{i}')" for i in range(1, 10)))
        self.wait_stats(db, lambda st: st[0]["last_seq"] == 9 and st[0]["status"] == "retrying", "9 rows spooled")
        with hook.lock:
            hook.plan.extend([("answer", 200, ""), ("answer", 503, "not now")])
        hook.start()
        self.wait_acked(db, {"r": 9})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        batches = self.batches(hook)
        self.check_batches(batches, "/h", "jsonl", 3)
        seen = [(b["first"], b["last"], b["answered"]) for b in batches]
        self.assertEqual(seen[:2], [(1, 3, 200), (4, 6, 503)], seen)
        self.assertEqual(seen[2:], [(4, 6, 200), (7, 9, 200)],
                         f"the batch of seqs 1..3 was answered 200 (acknowledged), yet after the "
                         f"503 for 4..6 delivery started again at seq 1 instead of 4. Requests (first, last, "
                         f"answer): {seen}")
        self.check_delivery(batches, {"r": {i: r.txn_id for i in range(1, 10)}}, "ack within a delivery")

    def test_a_failing_partition_does_not_resend_another_partitions_rows(self):
        # Requests for partition 1 answer 503; partition 0's are answered 200 and acknowledged:
        # they must not be sent again while partition 1 retries.
        hook = self.new_hook()
        server = self.start_export({"hook": {"type": "http", "url": hook.base + "/h", "batch_rows": 100}})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET hook (id BIGINT NOT NULL, note VARCHAR(40))")
        with hook.lock:
            hook.fail_partition = 1
        expect = self.send(db, "s", 1, 21)
        self.wait_stats(db, lambda st: len(st) == 2 and sum(s["last_seq"] for s in st) == 20, "both partitions")
        time.sleep(1.0)  # partition 1 retries (100, 200, 400 ms ...)
        stats = {s["partition_id"]: s for s in self.export_stats(db)}
        with hook.lock:
            hook.fail_partition = None
        self.wait_acked(db, {"s": 20})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        batches = self.batches(hook)
        p0 = [(b["first"], b["last"], b["answered"]) for b in batches if b["partition"] == 0]
        p1 = [(b["first"], b["last"], b["answered"]) for b in batches if b["partition"] == 1]
        self.assertGreaterEqual(sum(1 for x in p1 if x[2] == 503), 3, p1)
        problems = self.protocol_problems(batches)
        # Each of partition 0's rows POSTed once (in one request, or more when its rows reached the
        # spool in separate rounds, as under a slow build).
        p0_rows_sent = sum(last - first + 1 for first, last, _ in p0)
        self.assertEqual(
            (p0_rows_sent, stats[0]["acked_seq"], problems), (stats[0]["last_seq"], stats[0]["last_seq"], []),
            f"partition 0's rows were answered 200 at once, but while partition 1's requests "
            f"failed they were not acknowledged (@Statistics EXPORT partition 0 while partition 1 failed: "
            f"{stats[0]}) and were POSTed again on every retry: partition 0 requests (first, last, answer) {p0}; "
            f"partition 1 {p1}")
        self.check_delivery(batches, {"s": expect}, "failing partition")


# ---------------------------------------------------------------------------------------------
# 2. PostgreSQL.

def find_pg_bin():
    found = []
    for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        m = re.search(r"/postgresql/(\d+)/bin/initdb$", p)
        if m:
            found.append((int(m.group(1)), os.path.dirname(p)))
    return max(found)[1] if found else None


class Postgres:
    """A PostgreSQL server in a temporary directory on 127.0.0.1:port, superuser surge, trust
    authentication. As root, the server runs as user postgres (it refuses root)."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="surge-pg-")
        self.db = os.path.join(self.dir, "db")
        self.log = os.path.join(self.dir, "pg.log")
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        psql = os.path.join(bindir, "psql")
        self.psql_bin = psql if os.path.exists(psql) else "psql"
        self.running = False
        try:
            self.run([os.path.join(bindir, "initdb"), "-D", self.db, "-A", "trust", "-U", "surge", "-N", "-E",
                      "UTF8", "--locale", "C"])
            self.start()
        except BaseException:
            self.close()
            raise

    def run(self, cmd):
        r = subprocess.run(self.as_user + cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stdout}{r.stderr}{self.log_tail()}")
        return r

    def log_tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return "\n" + f.read()[-3000:]
        except OSError:
            return ""

    def start(self):
        self.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.db, "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "-l", self.log, "-w",
                  "start"])
        self.running = True

    def stop(self):
        self.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.db, "-m", "fast", "-w", "stop"])
        self.running = False

    def close(self):
        try:
            if self.running:
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def conninfo(self, dbname):
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=surge connect_timeout=5"

    def psql(self, sql, dbname="postgres"):
        """Runs one statement (its own transaction); returns psql's unaligned output."""
        r = subprocess.run([self.psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                            str(self.port), "-U", "surge", "-d", dbname, "-At", "-F", "|", "-c", sql],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "5"})
        if r.returncode != 0:
            raise AssertionError(f"psql failed: {sql}\n{r.stderr}")
        return r.stdout

    def query(self, sql, dbname="postgres"):
        """The rows of a query as dicts (through json_agg, so that text with newlines survives)."""
        out = self.psql(f"SELECT coalesce(json_agg(q), '[]'::json) FROM ({sql}) q", dbname)
        return json.loads(out, parse_float=decimal.Decimal)


PG_META = [("surge_txn_id", "bigint"), ("surge_timestamp", "timestamp without time zone"),
           ("surge_partition", "integer"), ("surge_seq", "bigint"), ("surge_op", "text")]
PG_TYPED = [("id", "bigint"), ("ti", "smallint"), ("si", "smallint"), ("i", "integer"), ("big", "bigint"),
            ("f", "double precision"), ("d", "numeric"), ("s", "text"), ("b", "bytea"),
            ("ts", "timestamp without time zone")]


class PostgresTest(SinkCase):
    pg = None

    @classmethod
    def setUpClass(cls):
        bindir = find_pg_bin()
        if not bindir:
            reason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
            print(f"\n  skipping PostgresTest: {reason}", flush=True)
            raise unittest.SkipTest(reason)
        cls.pg = Postgres(bindir)

    @classmethod
    def tearDownClass(cls):
        if cls.pg:
            cls.pg.close()
            cls.pg = None

    def setUp(self):
        super().setUp()
        if not self.pg.running:  # a failed test left it stopped
            self.pg.start()
        self.dbname = "t_" + self._testMethodName[len("test_"):][:40].lower()
        self.pg.psql(f'DROP DATABASE IF EXISTS "{self.dbname}"')
        self.pg.psql(f'CREATE DATABASE "{self.dbname}"')

    def tearDown(self):
        for s in self.servers:
            if s.alive():
                s.proc.kill()
                s.proc.wait(10)
        super().tearDown()

    def target(self, **settings):
        return {"type": "postgresql", "conninfo": self.pg.conninfo(self.dbname), **settings}

    def query(self, sql):
        return self.pg.query(sql, self.dbname)

    def columns(self, table):
        return [(r["column_name"], r["data_type"]) for r in self.query(
            f"SELECT column_name, data_type, ordinal_position FROM information_schema.columns "
            f"WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position")]

    def check_pg_rows(self, rows, where):
        """rows: dicts with surge_partition / surge_seq (unique by the primary key): per partition
        seqs 1..N without gaps. Returns {id: row}, asserting each id is there once."""
        per = collections.defaultdict(list)
        for r in rows:
            per[r["surge_partition"]].append(r["surge_seq"])
        for p, seqs in sorted(per.items()):
            missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
            self.assertEqual(missing, [], f"{where}: partition {p} has gaps in its seqs")
        by_id = collections.defaultdict(list)
        for r in rows:
            by_id[r["id"]].append(r)
        twice = {i: [(r["surge_partition"], r["surge_seq"]) for r in v] for i, v in by_id.items() if len(v) > 1}
        self.assertEqual(twice, {}, f"{where}: ids stored under two (partition, seq)")
        return {i: v[0] for i, v in by_id.items()}

    def test_every_type_arrives_with_its_value_and_type(self):
        server = self.start_export({"pg": self.target(table="surge_{stream}")})
        db = self.connect(server)
        db.sql(f"CREATE STREAM typed PARTITION ON COLUMN id EXPORT TO TARGET pg {TYPED_DDL}")
        txn = {}
        t0 = time.time()
        for row in ALL_TYPED:
            txn[row[0]] = db.call("typed.insert", *row).txn_id
        r = db.sql("INSERT INTO typed (id, s) VALUES (101, 'a'), (102, 'b'), (103, 'c')")  # one transaction
        for i in (101, 102, 103):
            txn[i] = r.txn_id
        expected = {row[0]: row for row in ALL_TYPED}
        expected.update({101: (101,) + (None,) * 6 + ("a",) + (None,) * 2,
                         102: (102,) + (None,) * 6 + ("b",) + (None,) * 2,
                         103: (103,) + (None,) * 6 + ("c",) + (None,) * 2})
        self.wait_acked(db, {"typed": len(expected)})
        owner = self.partition_of(db, sorted(expected))
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        now = time.time()

        self.assertEqual(self.columns("surge_typed"), PG_META + PG_TYPED, "the table's columns and types")
        num = self.query("SELECT numeric_precision, numeric_scale FROM information_schema.columns "
                         "WHERE table_name = 'surge_typed' AND column_name = 'd'")
        self.assertEqual(num, [{"numeric_precision": 38, "numeric_scale": 12}])
        pk = self.query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'surge_typed'::regclass AND i.indisprimary "
                        "ORDER BY array_position(i.indkey::int2[], a.attnum)")
        self.assertEqual([r["attname"] for r in pk], ["surge_partition", "surge_seq"], "the primary key")
        rows = self.query(
            "SELECT surge_txn_id, (extract(epoch FROM surge_timestamp) * 1000000)::bigint AS stamp, surge_partition, "
            "surge_seq, surge_op, id, ti, si, i, big, f::text AS f, d::text AS d, s, encode(b, 'hex') AS b, "
            "(extract(epoch FROM ts) * 1000000)::bigint AS ts FROM surge_typed")
        got = self.check_pg_rows(rows, "typed")
        self.assertEqual(len(rows), len(expected), "rows stored more than once")
        self.assertEqual(sorted(got), sorted(expected))
        for i, sent in sorted(expected.items()):
            r = got[i]
            for column, value in zip(TYPED_COLUMNS, sent):
                msg = f"id {i} column {column}: sent {value!r}, stored {r[column]!r}"
                if value is None:
                    self.assertIsNone(r[column], msg)
                elif column == "f":
                    self.assertEqual(float(r[column]), value, msg)
                elif column == "d":
                    self.assertEqual(decimal.Decimal(r[column]), value, msg)
                elif column == "b":
                    self.assertEqual(bytes.fromhex(r[column]), value, msg)
                elif column == "ts":
                    self.assertEqual(r[column], int(value), msg)
                else:
                    self.assertEqual(r[column], value, msg)
            self.assertEqual(r["surge_op"], "INSERT")
            self.assertEqual(r["surge_txn_id"], txn[i], f"id {i}: surge_txn_id is not the call's")
            self.assertEqual(r["surge_partition"], owner[i], f"id {i}: partition")
            self.assertTrue((t0 - 60) * 1e6 <= r["stamp"] <= (now + 60) * 1e6, f"id {i}: surge_timestamp {r['stamp']}")
        self.assertEqual(len({got[i]["stamp"] for i in (101, 102, 103)}), 1, "one transaction, one timestamp")
        # '' is not NULL.
        self.assertEqual(self.query("SELECT id FROM surge_typed WHERE s = '' AND b = ''::bytea"), [{"id": 4}])

    def test_table_changes_give_ops_and_images(self):
        server = self.start_export({"pg": self.target()})  # table = "{stream}" by default
        db = self.connect(server)
        db.sql("CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, bal INTEGER NOT NULL, note VARCHAR(20)) "
               "EXPORT TO TARGET pg ON INSERT, UPDATE, DELETE; PARTITION TABLE acct ON COLUMN id")
        model, ops = {}, collections.defaultdict(list)
        for i in range(1, 7):
            txn = db.call("acct.insert", i, 100 * i, f"n{i}").txn_id
            model[i] = (100 * i, f"n{i}")
            ops[i].append(("INSERT", 100 * i, f"n{i}", txn))

        def updated(i, bal, note, txn):
            ops[i].append(("UPDATE_BEFORE",) + model[i] + (txn,))
            ops[i].append(("UPDATE_AFTER", bal, note, txn))
            model[i] = (bal, note)

        r = db.sql("UPDATE acct SET bal = 5, note = NULL WHERE id = 1")
        updated(1, 5, None, r.txn_id)
        r = db.sql("UPDATE acct SET bal = bal + 1 WHERE bal >= 300")  # several rows, both partitions
        self.assertEqual(r.modified, 4)
        for i in range(3, 7):
            updated(i, model[i][0] + 1, model[i][1], r.txn_id)
        r = db.sql("DELETE FROM acct WHERE id = 2")
        ops[2].append(("DELETE",) + model.pop(2) + (r.txn_id,))
        state, res = outcome_of(lambda: db.sql("UPDATE acct SET bal = 0 WHERE id = 4; INSERT INTO acct VALUES "
                                               "(5, 1, 'dup')"))
        self.assertEqual(state, "failed", str(res))  # rolled back: nothing
        r = db.sql("DELETE FROM acct WHERE id >= 5")
        for i in (5, 6):
            ops[i].append(("DELETE",) + model.pop(i) + (r.txn_id,))
        self.wait_acked(db, {"acct": sum(len(v) for v in ops.values())})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        self.assertEqual(self.columns("acct"), PG_META + [("id", "bigint"), ("bal", "integer"), ("note", "text")])
        rows = self.query("SELECT * FROM acct ORDER BY surge_partition, surge_seq")
        per = collections.defaultdict(list)
        for r in rows:
            per[r["surge_partition"]].append(r["surge_seq"])
        for p, seqs in per.items():
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)), f"partition {p}: seqs")
        got = collections.defaultdict(list)
        for r in rows:
            got[r["id"]].append((r["surge_op"], r["bal"], r["note"], r["surge_txn_id"]))
        self.assertEqual(dict(got), dict(ops), "per id, in seq order: (op, bal, note, txn id)")

    def test_postgres_down_then_up_delivers_everything_once(self):
        server = self.start_export({"pg": self.target()})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET pg (id BIGINT NOT NULL, note VARCHAR(40))")
        expect = self.send(db, "s", 1, 21)
        self.wait_acked(db, {"s": 20})
        stop = threading.Event()
        sent, problems = {}, []

        def writer():  # keeps inserting while PostgreSQL goes down and comes back
            with server.client() as c:
                for i in itertools.count(1001):
                    if stop.is_set():
                        return
                    state, res = outcome_of(lambda: c.call("s.insert", i, f"note {i}"))
                    if state == "ok":
                        sent[i] = res.txn_id
                    else:
                        problems.append((i, str(res)))
                    time.sleep(0.005)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        try:
            time.sleep(0.2)
            self.pg.stop()
            stats = self.wait_retrying(db, "cannot connect")
            for s in stats:
                self.assertIn("postgresql export: cannot connect: ", s["last_error"])
                self.assertEqual(s["target"], "pg")
            time.sleep(0.5)
            pending = sum(s["pending_rows"] for s in self.export_stats(db))
            self.assertGreater(pending, 0)
        finally:
            if not self.pg.running:
                self.pg.start()
        time.sleep(0.3)
        stop.set()
        t.join(CALL_TIMEOUT + 5)
        self.assertEqual(problems, [], "calls failed while PostgreSQL was down (export is asynchronous)")
        expect.update(sent)
        self.wait_acked(db, {"s": len(expect)}, timeout=20)
        self.wait_ok(db)
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        rows = self.query("SELECT surge_partition, surge_seq, surge_txn_id, id, note FROM s")
        got = self.check_pg_rows(rows, "postgres down")
        self.assertEqual(len(rows), len(expect))
        self.assertEqual(sorted(got), sorted(expect), "ids in PostgreSQL")
        for i, txn in expect.items():
            self.assertEqual((got[i]["surge_txn_id"], got[i]["note"]), (txn, f"note {i}"))
        print(f"\n  postgres down: {len(expect)} rows ({pending} pending while it was down)", flush=True)

    def test_create_table_false_waits_for_the_table(self):
        server = self.start_export({"pg": self.target(table="ext_{stream}", create_table=False)})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET pg (id BIGINT NOT NULL, note VARCHAR(40))")
        expect = self.send(db, "s", 1, 11)
        stats = self.wait_retrying(db, "ext_s")
        for s in stats:
            self.assertIn("does not exist", s["last_error"], s)
        self.assertEqual(self.query("SELECT relname FROM pg_class WHERE relname LIKE '%ext_s%' AND relkind = 'r'"),
                         [], "create_table = false created the table")
        self.pg.psql("CREATE TABLE ext_s (surge_txn_id bigint NOT NULL, surge_timestamp timestamp NOT NULL, "
                     "surge_partition integer NOT NULL, surge_seq bigint NOT NULL, surge_op text NOT NULL, "
                     "id bigint, note text, PRIMARY KEY (surge_partition, surge_seq))", self.dbname)
        self.wait_acked(db, {"s": 10})
        self.wait_ok(db)
        expect.update(self.send(db, "s", 11, 16))
        self.wait_acked(db, {"s": 15})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        rows = self.query("SELECT surge_partition, surge_seq, surge_txn_id, id, note FROM ext_s")
        got = self.check_pg_rows(rows, "create_table = false")
        self.assertEqual(len(rows), 15)
        self.assertEqual({i: (r["surge_txn_id"], r["note"]) for i, r in got.items()},
                         {i: (t, f"note {i}") for i, t in expect.items()})

    def test_sync_kill9_under_load(self):
        seed = int(os.environ.get("SURGE_DURABILITY_SEED") or random.randrange(10 ** 6))
        rng = random.Random(seed)
        targets = {"out": self.target()}
        server = self.start_export(targets, mode="sync")
        calls = {}  # id -> (kind, state, txn id or error, (writer, payload))
        with server.client() as db:
            for stmt in CRASH_SCHEMA:
                db.sql(stmt)
            # A first row each, so that surged creates the tables; then a trigger logs every row
            # PostgreSQL is given (BEFORE INSERT fires before ON CONFLICT DO NOTHING drops a
            # repeat): the log shows the redeliveries the primary key absorbed.
            calls[0] = ("ledger", "ok", db.sql("INSERT INTO ledger VALUES (0, 9, 'seed'); "
                                               "INSERT INTO evs VALUES (0, 9, 'seed')").txn_id, (9, "seed"))
            calls[-1] = ("tlog", "ok", db.call("AddT", -1, 9, "seed").txn_id, (9, "seed"))
            self.wait_acked(db, {"evs": 1, "tlog": 1})
        self.pg.psql("CREATE TABLE attempts (tbl text, p integer, seq bigint)", self.dbname)
        self.pg.psql("CREATE FUNCTION note_attempt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "INSERT INTO attempts VALUES (TG_TABLE_NAME, NEW.surge_partition, NEW.surge_seq); "
                     "RETURN NEW; END $$", self.dbname)
        for table in ("evs", "tlog"):
            self.pg.psql(f"CREATE TRIGGER {table}_attempt BEFORE INSERT ON {table} FOR EACH ROW "
                         f"EXECUTE FUNCTION note_attempt()", self.dbname)
        lock = threading.Lock()
        ids = itertools.count(1)
        ok_ledger, problems = [0], []
        tally = collections.Counter()

        def op(c, w, wrng):
            i = next(ids)
            payload = PAYLOAD.format(w=w, i=i)
            r = wrng.random()
            with lock:
                old = wrng.choice(ok_ledger) if ok_ledger else None
            if r < 0.45 or (r >= 0.9 and old is None):
                kind, fn = "ledger", lambda: c.sql(f"INSERT INTO ledger VALUES ({i}, {w}, '{payload}'); "
                                                   f"INSERT INTO evs VALUES ({i}, {w}, '{payload}')")
            elif r < 0.9:
                kind, fn = "tlog", lambda: c.call("AddT", i, w, payload)
            else:  # fails as a whole: its stream row must never be exported
                kind, fn = "doomed", lambda: c.sql(f"INSERT INTO evs VALUES ({i}, {w}, '{payload}'); "
                                                   f"INSERT INTO ledger VALUES ({old}, {w}, 'dup')")
            state, res = outcome_of(fn)
            with lock:
                tally[(kind, state)] += 1
                calls[i] = (kind, state, res.txn_id if state == "ok" else res, (w, payload))
                if kind == "ledger" and state == "ok":
                    ok_ledger.append(i)
                if (kind == "doomed") == (state == "ok") and state != "unknown":
                    problems.append(f"{kind} {i}: {state} {res}")

        cycles = 2
        for cycle in range(1, cycles + 2):
            final = cycle == cycles + 1
            stop = threading.Event()
            clients = [server.client() for _ in range(3)]

            def work(w):
                wrng = random.Random(seed * 100 + cycle * 10 + w)
                try:
                    while not stop.is_set():
                        op(clients[w], w, wrng)
                except Exception as e:
                    with lock:
                        problems.append(f"writer {w} died: {e!r}")

            threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(3)]
            seconds = 0.4 if final else rng.uniform(0.6, 1.0)
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()
            if not final:
                server.kill9()
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
            for c in clients:
                c.close()
            self.assertFalse(any(t.is_alive() for t in threads), "a writer hung")
            if not final:
                self.assertEqual(server.proc.returncode, -signal.SIGKILL)
                server = self.start_export(targets, mode="sync")
                with server.client() as db:
                    present = [r[0] for r in db.sql("SELECT id FROM ledger").rows]
                with lock:
                    ok_ledger[:] = present
            print(f"\n  cycle {cycle} (seed {seed}): {'' if final else 'kill -9 after '}{seconds:.2f} s; "
                  f"{dict(sorted((f'{k}/{s}', n) for (k, s), n in tally.items()))}", end="", flush=True)
            tally.clear()
        print(flush=True)
        self.assertEqual(problems, [])
        db = self.connect(server)
        ledger = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM ledger").rows}
        tlog = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM tlog").rows}
        self.wait_acked(db, {"evs": len(ledger), "tlog": len(tlog)}, timeout=20)
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        where = f"kill -9 (seed {seed})"
        for stream, table, kind in [("evs", ledger, "ledger"), ("tlog", tlog, "tlog")]:
            rows = self.query(f"SELECT surge_partition, surge_seq, surge_txn_id, surge_op, id, writer, payload "
                              f"FROM {stream}")
            got = self.check_pg_rows(rows, f"{where} {stream}")
            outran = sorted(set(got) - set(table))
            self.assertEqual(outran, [], f"{where}: {stream} rows in PostgreSQL whose transaction recovery does not "
                                         f"have (calls: {[calls.get(i, ['?'])[:2] for i in outran[:10]]})")
            missing = sorted(set(table) - set(got))
            self.assertEqual(missing, [], f"{where}: {stream}: committed rows missing from PostgreSQL")
            for i, r in got.items():
                self.assertEqual((r["writer"], r["payload"]), table[i], f"{where}: {stream} {i}")
                self.assertEqual(r["surge_op"], "INSERT")
                k, state, txn, _ = calls[i]
                self.assertEqual(k, kind, f"{where}: {stream} {i}")
                if state == "ok":
                    self.assertEqual(r["surge_txn_id"], txn, f"{where}: {stream} {i}: txn id is not the call's")
            lost = sorted(i for i, c in calls.items() if c[0] == kind and c[1] == "ok" and i not in got)
            self.assertEqual(lost, [], f"{where}: {stream}: acknowledged calls whose row is not in PostgreSQL")
            failed = sorted(i for i, c in calls.items() if c[1] == "failed" and i in got)
            self.assertEqual(failed, [], f"{where}: {stream}: rows of failed calls in PostgreSQL")
            print(f"  {stream}: {len(rows)} rows in PostgreSQL, each once", flush=True)
        doomed = {i for i, c in calls.items() if c[0] == "doomed"}
        self.assertEqual(sorted(doomed & {r["id"] for r in self.query("SELECT id FROM evs")}), [],
                         f"{where}: rolled-back batches exported")
        att = self.query("SELECT tbl, count(*) AS given, count(DISTINCT (p, seq)) AS rows FROM attempts GROUP BY tbl "
                         "ORDER BY tbl")
        stored = {t: self.query(f"SELECT count(*) AS n FROM {t} WHERE surge_seq > 0")[0]["n"] for t in ("evs", "tlog")}
        for a in att:  # every row given after the trigger came is stored once
            self.assertLessEqual(a["rows"], stored[a["tbl"]], a)
        print(f"  rows PostgreSQL was given again after the kills (absorbed by the primary key): "
              f"{ {a['tbl']: a['given'] - a['rows'] for a in att} }", flush=True)

    def test_bad_postgresql_settings_fail_the_start(self):
        ok = self.pg.conninfo(self.dbname)
        self.check_bad_settings([
            ({"type": "postgresql"}, "needs conninfo"),
            ({"type": "postgresql", "conninfo": "host=127.0.0.1 port"}, "conninfo: "),
            ({"type": "postgresql", "conninfo": "host=127.0.0.1 colour=blue"}, "conninfo: "),
            ({"type": "postgresql", "conninfo": ok, "create_table": "maybe"}, "create_table is true or false"),
            ({"type": "postgresql", "conninfo": ok, "table": ""}, "table is empty"),
            ({"type": "postgresql", "conninfo": ok, "roll_seconds": 1},
             'unknown setting "roll_seconds" for a postgresql target'),
        ])


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        test_durability.SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if not test_durability.SURGED or not os.path.exists(test_durability.SURGED):
        sys.exit("usage: test_export_sinks.py --surged PATH")
    unittest.main(verbosity=2)
