"""Integration tests of export (docs/adr/0011-streams-and-export.md): streams and tables that
export their committed rows to a target. The real surged runs with a config file of file targets
(roll_seconds = 1); the tests read the finished files back (CSV by an RFC 4180 reader that tells
NULL from '', JSON Lines by json) and check them against what the clients were told.

Every exported row carries (stream, partition, seq): seqs run 1, 2, ... per (stream, partition)
in commit order, and a sink deduplicates on them. Delivery is at least once, so a crash may repeat
rows, but only as exact copies (same seq, same content); no seq may be missing, none may carry two
contents, no row may belong to a transaction recovery does not have, and no committed row may be
missing once delivery has caught up.

The tests:
  FormatTest           every column type, NULLs, '' , commas / quotes / newlines and non-ASCII
                       text through a CSV and a JSONL target at once (two targets, two streams):
                       values, header, file names, metadata (txn_id of the call, the partition that
                       owns the row's value, seqs 1..N per partition, one txn_id per transaction);
                       wrong target settings fail the start, naming the target and the setting.
  TransactionTest      failed calls (a batch naming a missing table, a unique violation after the
                       stream insert, an INSERT ... SELECT failing midway) export nothing and use no
                       seq; tables export INSERT / DELETE / UPDATE_BEFORE + UPDATE_AFTER as
                       configured (TRUNCATE as DELETEs); a stream dropped and re-created with other
                       columns goes on with its seqs; a replicated stream or table exports once;
                       CREATE naming an unconfigured target is refused.
  CrashTest            Jepsen-style: writers insert into a table and an exporting stream in one
                       transaction (and into a table that exports itself), kill -9 a few times
                       under load, restart, settle: the export holds exactly the rows recovery has
                       (every acknowledged one, none that failed), duplicates only as exact
                       repeats, seqs gapless. In sync mode and in async mode (where the log's
                       last interval may be lost: its rows must never have been delivered).
  SnapshotTest         @SnapshotSave then more rows then kill -9: seqs continue from the snapshot
                       without gaps or reuse; rows not yet acknowledged at the cut are delivered
                       after the crash; with the command log off seqs are not reused; a clean
                       restart delivers nothing twice.
  SinkFailureTest      the target's directory replaced by a regular file: calls still succeed,
                       @Statistics EXPORT shows retrying + last_error; repaired, every row arrives.
                       A restart without the stream's target in the config: rows wait in the
                       spool ("no target") and are delivered once the target is configured again.
  BudgetTest           --export-disk-budget-mb 1 with a broken target: calls that export are
                       refused OVERLOADED (53000) and change nothing, other writes go on; after the
                       repair the backlog drains and exporting calls succeed again. With a healthy
                       target, rows already acknowledged do not count against the budget.

    python3 test_export.py --surged PATH/TO/surged

Helpers (Surged, DurabilityCase, outcome_of...) come from test_durability.py; its environment
variables apply (SURGE_DURABILITY_KEEP=1 keeps each test's data directories, export files and
server logs).
"""
import collections
import datetime
import decimal
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

import surgedb
import test_durability
from test_durability import CALL_TIMEOUT, DurabilityCase, outcome_of
from test_server import free_port

ROLL_SECONDS = 1
SETTLE_TIMEOUT = 20.0  # seconds for delivery to catch up (roll_seconds = 1, so ~1.2 s normally)
META = ["txn_id", "timestamp", "partition", "seq", "op"]
FILE_NAME = re.compile(r"^(?P<stream>.+)-(?P<stamp>\d{8}T\d{6}\.\d{6}Z)-(?P<n>\d+)(-\d+)*\.(?P<ext>csv|jsonl)$")
TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


# ---------------------------------------------------------------------------------------------
# Reading the export files.

def parse_csv(text):
    """RFC 4180 rows of a whole file (LF line ends), each field a str, or None for an unquoted
    empty field (the export's NULL; '' is written ""). Raises ValueError on anything malformed,
    a last line without its line end included."""
    if text and not text.endswith("\n"):
        raise ValueError(f"the file does not end with a line end: ...{text[-80:]!r}")
    rows, row, i, n = [], [], 0, len(text)
    while i < n:
        if text[i] == '"':
            i += 1
            parts = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise ValueError(f"unterminated quoted field at offset {i}")
                parts.append(text[i:j])
                i = j + 1
                if i < n and text[i] == '"':
                    parts.append('"')
                    i += 1
                    continue
                break
            field = "".join(parts)
        else:
            j = i
            while j < n and text[j] not in ",\n":
                j += 1
            field = text[i:j]
            if '"' in field or "\r" in field:
                raise ValueError(f"unquoted field with a quote or CR: {field!r}")
            field = field or None
            i = j
        row.append(field)
        if text[i] == ",":
            i += 1
            if text[i] == "\n":  # an empty last field
                row.append(None)
                rows.append(row)
                row = []
                i += 1
        elif text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
        else:
            raise ValueError(f"a quoted field followed by {text[i]!r} at offset {i}")
    return rows


def list_dir(d):
    """(finished export files, hidden in-progress files) in d; nothing when d is not a directory."""
    if not os.path.isdir(d):
        return [], []
    names = sorted(os.listdir(d))
    temps = [x for x in names if x.startswith(".surge-export-")]
    done = [x for x in names if FILE_NAME.match(x)]
    return done, temps


def read_exports(*dirs, header=True):
    """Every row of the finished files in dirs, as dicts: stream, partition, seq, txn_id,
    timestamp, op, row ({column: value}; a list of values when the CSV has no header), file, line.
    CSV values are text (None for NULL); JSONL values as json parses them (DECIMAL and FLOAT
    numbers as decimal.Decimal, so that nothing is rounded)."""
    out = []
    for d in dirs:
        for name in list_dir(d)[0]:
            m = FILE_NAME.match(name)
            path = os.path.join(d, name)
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
            if m.group("ext") == "jsonl":
                if text and not text.endswith("\n"):
                    raise AssertionError(f"{path}: the last line has no line end")
                for k, line in enumerate(text.splitlines()):
                    j = json.loads(line, parse_float=decimal.Decimal)
                    if j["stream"] != m.group("stream"):
                        raise AssertionError(f"{path}:{k + 1}: a row of stream {j['stream']!r}")
                    out.append({"stream": j["stream"], "partition": j["partition"], "seq": j["seq"],
                                "txn_id": j["txn_id"], "timestamp": j["timestamp"], "op": j["op"],
                                "row": j["row"], "file": path, "line": k + 1})
                continue
            rows = parse_csv(text)
            columns = None
            if header:
                columns = rows[0]
                if columns[:5] != META:
                    raise AssertionError(f"{path}: header {columns}")
                rows = rows[1:]
            for k, r in enumerate(rows):
                rec = {"stream": m.group("stream"), "txn_id": int(r[0]), "timestamp": r[1], "partition": int(r[2]),
                       "seq": int(r[3]), "op": r[4], "file": path, "line": k + 1}
                rec["row"] = dict(zip(columns[5:], r[5:])) if header else r[5:]
                if header and len(r) != len(columns):
                    raise AssertionError(f"{path}: a row of {len(r)} fields under a header of {len(columns)}")
                out.append(rec)
    return out


def content(rec):
    """What must be identical between two deliveries of one (stream, partition, seq)."""
    row = rec["row"]
    return (rec["txn_id"], rec["timestamp"], rec["op"],
            tuple(sorted(row.items())) if isinstance(row, dict) else tuple(row))


def timestamp_text(micros):
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=micros)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond:06d}"


def as_dicts(response):
    t = response.tables[0]
    return [dict(zip(t.columns, row)) for row in t.rows]


class ExportCase(DurabilityCase):
    """DurabilityCase with a config file of export targets and helpers to read what they wrote."""

    def out_dir(self, name="out"):
        return os.path.join(self.tmp.name, name)

    # Keys of the config file: written bare when TOML allows (a dotted key like header.X is then
    # TOML's dotted key, as the docs show it), quoted otherwise; True quotes every key, so that a
    # kafka.<property> key stays one key.
    QUOTE_KEYS = False

    def write_config(self, targets, name="surged.toml"):
        """targets: {name: {setting: value}}; a target without a type is a file target, and file
        targets get roll_seconds = 1 unless given."""
        lines = []
        for tname, settings in targets.items():
            lines.append(f"[export.targets.{tname}]")
            if settings.get("type", "file") == "file":
                settings = {"type": "file", "roll_seconds": ROLL_SECONDS, **settings}
            for k, v in settings.items():
                if isinstance(v, bool):
                    v = "true" if v else "false"
                elif isinstance(v, str):
                    v = json.dumps(v)  # a TOML basic string
                bare = not self.QUOTE_KEYS and re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", k)
                lines.append(f"{k if bare else json.dumps(k)} = {v}")
            lines.append("")
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return path

    def start_export(self, targets, *args, **kw):
        """A surged with these targets (see write_config)."""
        return self.start("--config", self.write_config(targets), *args, **kw)

    def export_stats(self, db):
        return as_dicts(db.call("@Statistics", "EXPORT"))

    def wait_acked(self, db, expect=None, timeout=SETTLE_TIMEOUT):
        """Waits until every (stream, partition) has acknowledged all it spooled and, for each
        stream in expect ({stream: rows}), the seqs spooled add up to that many rows (a fresh
        stream's seqs are 1..N per partition). Returns the statistics."""
        deadline = time.time() + timeout
        while True:
            stats = self.export_stats(db)
            totals = collections.Counter()
            for s in stats:
                totals[s["stream"]] += s["last_seq"]
            caught_up = all(s["acked_seq"] == s["last_seq"] and s["pending_rows"] == 0 for s in stats)
            if caught_up and all(totals[k] == v for k, v in (expect or {}).items()):
                return stats
            if time.time() > deadline:
                self.fail(f"export did not catch up within {timeout} s (expected rows {expect}); "
                          f"@Statistics EXPORT: {stats}")
            time.sleep(0.05)

    def check_sequences(self, records, where=""):
        """Drops exact repeats of (stream, partition, seq) (asserting they are exact); asserts that
        each (stream, partition) holds seqs 1..N. Returns ({(stream, partition, seq): record},
        number of repeats)."""
        unique, repeats, conflicts = {}, 0, []
        for rec in records:
            key = (rec["stream"], rec["partition"], rec["seq"])
            if key in unique:
                repeats += 1
                if content(unique[key]) != content(rec):
                    conflicts.append(f"{key}: {content(unique[key])} ({unique[key]['file']}) vs {content(rec)} "
                                     f"({rec['file']})")
            else:
                unique[key] = rec
        self.assertEqual(conflicts, [], f"{where}: one (stream, partition, seq) delivered with two contents")
        per = collections.defaultdict(list)
        for stream, partition, seq in unique:
            per[(stream, partition)].append(seq)
        for key, seqs in sorted(per.items()):
            seqs.sort()
            missing = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
            self.assertEqual(missing, [], f"{where}: {key} has gaps in its seqs (has {len(seqs)}, up to {seqs[-1]})")
        return unique, repeats

    def by_id(self, unique, stream, key="id"):
        """{id: [records]} of one stream, in seq order."""
        out = collections.defaultdict(list)
        for (s, _, _), rec in sorted(unique.items()):
            if s == stream:
                v = rec["row"][key]
                out[int(v)].append(rec)
        return out

    def partition_of(self, db, ids):
        """{id: partition} for BIGINT values, learnt by inserting each into a partitioned probe
        table and seeing which partition's tuple count grew."""
        db.sql("CREATE TABLE partition_probe (id BIGINT NOT NULL PRIMARY KEY); "
               "PARTITION TABLE partition_probe ON COLUMN id")

        def counts():
            return {r["partition_id"]: r["tuple_count"] for r in as_dicts(db.call("@Statistics", "TABLE"))
                    if r["table_name"] == "partition_probe"}
        out = {}
        before = counts()
        for i in ids:
            db.call("partition_probe.insert", i)
            after = counts()
            grew = [p for p in after if after[p] != before.get(p, 0)]
            self.assertEqual(len(grew), 1)
            out[i] = grew[0]
            before = after
        return out

    def assert_no_temp_files(self, *dirs):
        for d in dirs:
            self.assertEqual(list_dir(d)[1], [], f"{d}: in-progress files left after a clean stop")


# ---------------------------------------------------------------------------------------------
# 1. Formats.

TYPED_COLUMNS = ["id", "ti", "si", "i", "big", "f", "d", "s", "b", "ts"]
TYPED_DDL = ("(id BIGINT NOT NULL, ti TINYINT, si SMALLINT, i INTEGER, big BIGINT, f FLOAT, d DECIMAL, "
             "s VARCHAR(100), b VARBINARY(64), ts TIMESTAMP)")
D = surgedb.Decimal
TS = surgedb.Timestamp
TYPED_ROWS = [
    (1, 1, 2, 3, 4, 0.5, D("1.5"), "plain", b"\x01\xff", TS(1_700_000_000_123_456)),
    (2, 127, 32767, 2 ** 31 - 1, 2 ** 63 - 1, 1e308, D("99999999999999999999999999.999999999999"),
     "a,b", bytes(range(64)), TS(4 * 10 ** 15)),
    (3, -127, -32767, -(2 ** 31) + 1, -(2 ** 63) + 1, -5e-324, D("-0.000000000001"), 'say "hi"', b"\x00",
     TS(-1)),
    (4, 0, 0, 0, 0, 0.0, D("0"), "", b"", TS(0)),  # zeroes and empties ('' is not NULL)
    (5,) + (None,) * 9,  # every nullable column NULL
    (6, None, 7, None, 8, 1 / 3, None, "line\nbreak and crlf\r\nend", None, TS(-10 ** 12)),
    (7, 5, None, 9, None, -2.25, D("-12345.678901"), "héllo wörld, 日本語 🙂", b"\xde\xad\xbe\xef", None),
    (8, 1, 1, 1, 1, 1.0, D("1"), " leading and trailing ", b"x", TS(1)),
    (9, 2, 2, 2, 2, 2.0, D("2"), "tab\there, \"both\"\n", b"y", TS(2)),
    (10, 3, 3, 3, 3, 3.0, D("3"), "ünï©ødé", b"z", TS(3)),
]


class FormatTest(ExportCase):
    def check_value(self, column, sent, got, fmt, where):
        """One exported value against the value sent: got is CSV text (None: NULL) or a JSON value."""
        msg = f"{where} column {column}: sent {sent!r}, exported {got!r}"
        if sent is None:
            self.assertIsNone(got, msg)
            return
        self.assertIsNotNone(got, msg)
        if column in ("ti", "si", "i", "big", "id"):
            if fmt == "jsonl":
                self.assertIs(type(got), int, msg)
            self.assertEqual(int(got), sent, msg)
        elif column == "f":
            if fmt == "jsonl":
                self.assertIsInstance(got, (int, decimal.Decimal), msg + " (a number)")
            self.assertEqual(float(got), sent, msg)
        elif column == "d":
            if fmt == "jsonl":
                self.assertIsInstance(got, (int, decimal.Decimal), msg + " (a number)")
            self.assertEqual(decimal.Decimal(got), sent, msg)
        elif column == "s":
            self.assertEqual(got, sent, msg)
        elif column == "b":
            self.assertIsInstance(got, str, msg)
            self.assertEqual(bytes.fromhex(got), sent, msg + " (hex)")
        elif column == "ts":
            self.assertEqual(got, timestamp_text(sent), msg)

    def test_every_type_in_csv_and_jsonl(self):
        csv_dir, json_dir, plain_dir = self.out_dir("csv"), self.out_dir("jsonl"), self.out_dir("plain")
        server = self.start_export({"csvt": {"dir": csv_dir, "format": "csv", "header": True},
                                    "jt": {"dir": json_dir, "format": "jsonl"},
                                    "plain": {"dir": plain_dir, "format": "csv", "header": False}})
        db = self.connect(server)
        db.sql(f"CREATE STREAM typed_csv PARTITION ON COLUMN id EXPORT TO TARGET csvt {TYPED_DDL}")
        db.sql(f"CREATE STREAM typed_json PARTITION ON COLUMN id EXPORT TO TARGET jt {TYPED_DDL}")
        db.sql("CREATE STREAM bare PARTITION ON COLUMN id EXPORT TO TARGET plain (id BIGINT NOT NULL, s VARCHAR(20))")
        placeholders = ", ".join("?" * len(TYPED_COLUMNS))
        txn_of = {}  # (stream, id) -> txn id the call reported
        t0 = time.time()
        for row in TYPED_ROWS:
            txn_of[("typed_csv", row[0])] = db.sql(f"INSERT INTO typed_csv VALUES ({placeholders})", *row).txn_id
            txn_of[("typed_json", row[0])] = db.call("typed_json.insert", *row).txn_id
        # One transaction, three rows on both partitions: one txn_id.
        batch = [(101, "one"), (102, "two"), (103, "three")]
        r = db.sql("; ".join(f"INSERT INTO typed_csv (id, s) VALUES ({i}, '{s}')" for i, s in batch))
        for i, _ in batch:
            txn_of[("typed_csv", i)] = r.txn_id
        db.sql("INSERT INTO bare VALUES (1, 'no header'), (2, NULL)")
        expected = {("typed_csv", row[0]): row for row in TYPED_ROWS}
        expected.update({("typed_csv", i): (i,) + (None,) * 6 + (s,) + (None,) * 2 for i, s in batch})
        expected.update({("typed_json", row[0]): row for row in TYPED_ROWS})
        self.wait_acked(db, {"typed_csv": len(TYPED_ROWS) + len(batch), "typed_json": len(TYPED_ROWS), "bare": 2})
        owner = self.partition_of(db, sorted({i for _, i in expected}))
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        self.assert_no_temp_files(csv_dir, json_dir, plain_dir)

        records = read_exports(csv_dir, json_dir)
        unique, repeats = self.check_sequences(records, "format")
        self.assertEqual(repeats, 0, "a clean run delivers every row once")
        got = {}
        for rec in records:
            key = (rec["stream"], int(rec["row"]["id"]))
            self.assertNotIn(key, got, f"{key} exported twice")
            got[key] = rec
        self.assertEqual(sorted(got), sorted(expected))
        now = time.time()
        for key, rec in sorted(got.items()):
            stream, i = key
            fmt = "jsonl" if stream == "typed_json" else "csv"
            self.assertEqual(list(rec["row"]), TYPED_COLUMNS, f"{key}: columns")
            self.assertEqual(os.path.dirname(rec["file"]), json_dir if fmt == "jsonl" else csv_dir)
            for column, sent in zip(TYPED_COLUMNS, expected[key]):
                self.check_value(column, sent, rec["row"][column], fmt, f"{key}")
            self.assertEqual(rec["op"], "INSERT")
            self.assertEqual(rec["txn_id"], txn_of[key], f"{key}: txn_id is not the one the call reported")
            self.assertEqual(rec["partition"], owner[i], f"{key}: exported from partition {rec['partition']}, "
                                                         f"but the value {i} belongs to partition {owner[i]}")
            self.assertRegex(rec["timestamp"], TIMESTAMP_TEXT)
            stamp = datetime.datetime.strptime(rec["timestamp"], "%Y-%m-%d %H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            self.assertTrue(t0 - 60 <= stamp <= now + 60, f"{key}: commit timestamp {rec['timestamp']} (UTC) is "
                                                          f"not the time of the call")
        # Commit order: per (stream, partition) the seqs follow the (sequential) calls' txn ids.
        for (stream, p) in {(s, p) for s, p, _ in unique}:
            recs = sorted((r for (s, q, _), r in unique.items() if (s, q) == (stream, p)), key=lambda r: r["seq"])
            txns = [r["txn_id"] for r in recs]
            self.assertEqual(txns, sorted(txns), f"{stream} p{p}: seq order is not commit order")
            stamps = [r["timestamp"] for r in recs]
            self.assertEqual(stamps, sorted(stamps), f"{stream} p{p}: timestamps go back")
        # The batch's rows share its txn_id (and its timestamp) across partitions.
        batch_recs = [got[("typed_csv", i)] for i, _ in batch]
        self.assertEqual(len({r["timestamp"] for r in batch_recs}), 1)

        # The raw CSV: header line, NULL as an empty field, '' as "", RFC 4180 quoting.
        csv_files = list_dir(csv_dir)[0]
        self.assertTrue(all(FILE_NAME.match(f).group("stream") == "typed_csv" for f in csv_files), csv_files)
        raw = ""
        for name in csv_files:
            with open(os.path.join(csv_dir, name), encoding="utf-8", newline="") as f:
                text = f.read()
            self.assertTrue(text.startswith("txn_id,timestamp,partition,seq,op," + ",".join(TYPED_COLUMNS) + "\n"),
                            f"{name}: header {text[:120]!r}")
            raw += text
        self.assertRegex(raw, r",INSERT,5,,,,,,,,,\n", "NULLs must be empty fields")
        self.assertRegex(raw, r',INSERT,4,0,0,0,0,0,0(\.0*)?,"","",1970-01-01 00:00:00\.000000\n',
                         "'' must be \"\" (and X'' too)")
        self.assertIn('"say ""hi"""', raw)
        self.assertIn('"line\nbreak and crlf\r\nend"', raw)
        self.assertIn('"héllo wörld, 日本語 🙂"', raw)
        self.assertIn("1969-12-31 23:59:59.999999", raw)
        for name in list_dir(json_dir)[0]:
            self.assertRegex(name, r"^typed_json-\d{8}T\d{6}\.\d{6}Z-\d+\.jsonl$")
        # JSONL: the fixed keys in order.
        with open(os.path.join(json_dir, list_dir(json_dir)[0][0]), encoding="utf-8") as f:
            first = json.loads(f.readline(), object_pairs_hook=lambda kv: [k for k, _ in kv])
        self.assertEqual(first, ["stream", "partition", "seq", "txn_id", "timestamp", "op", "row"])

        # header = false: no header line, the metadata and values only.
        plain = read_exports(plain_dir, header=False)
        self.assertEqual(sorted((r["row"][0], r["row"][1], r["op"]) for r in plain),
                         [("1", "no header", "INSERT"), ("2", None, "INSERT")])
        self.assertEqual(len({r["txn_id"] for r in plain}), 1)

    def test_bad_target_settings_fail_the_start(self):
        cases = [({"type": "carrier-pigeon", "dir": self.out_dir()}, 'type "carrier-pigeon" is not available'),
                 ({"type": "kafka", "dir": self.out_dir()}, 'unknown setting "dir" for a kafka target'),
                 ({"type": "kafka", "roll_seconds": 1}, 'unknown setting "roll_seconds" for a kafka target'),
                 ({}, 'needs dir'),
                 ({"dir": self.out_dir(), "format": "xml"}, "format is csv or jsonl"),
                 ({"dir": self.out_dir(), "roll_seconds": 0}, "roll_seconds wants a whole number"),
                 ({"dir": self.out_dir(), "roll_mb": "big"}, "roll_mb wants a whole number"),
                 ({"dir": self.out_dir(), "header": "yes"}, "header is true or false"),
                 ({"dir": self.out_dir(), "compress": True}, 'unknown setting "compress"')]
        for settings, text in cases:
            with self.subTest(settings=settings):
                config = self.write_config({"bad": settings})
                r = subprocess.run([test_durability.SURGED, "--config", config, "--port", str(free_port()),
                                    "--data-dir", self.data_dir], capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(text, r.stdout + r.stderr)
                self.assertIn('"bad"', r.stdout + r.stderr)


# ---------------------------------------------------------------------------------------------
# 2. Transactions: what is exported, and when nothing is.

class TransactionTest(ExportCase):
    def start_one(self, partitions=2):
        server = self.start_export({"t": {"dir": self.out_dir(), "format": "csv"}}, partitions=partitions)
        return server, self.connect(server)

    def test_failed_calls_export_nothing(self):
        server, db = self.start_one()
        db.sql("CREATE STREAM ev PARTITION ON COLUMN id EXPORT TO TARGET t (id BIGINT NOT NULL, note VARCHAR(20))")
        db.sql("CREATE TABLE uniq (id BIGINT NOT NULL PRIMARY KEY); PARTITION TABLE uniq ON COLUMN id")
        db.sql("CREATE TABLE src (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(100))")
        db.sql("CREATE PROCEDURE AddEv PARTITION ON TABLE ev COLUMN id AS INSERT INTO ev VALUES (?, ?)")
        db.call("uniq.insert", 1)
        db.sql("INSERT INTO src VALUES (300, 'fits'), (301, 'fits too'), "
               "(302, 'this note is far too long for twenty characters')")
        ok = {}  # id -> txn id
        ok[1] = db.sql("INSERT INTO ev VALUES (1, 'ok')").txn_id
        failing = {
            "a batch naming a missing table": "INSERT INTO ev VALUES (2, 'bad'); INSERT INTO missing_table VALUES (1)",
            "a unique violation after the stream insert": "INSERT INTO ev VALUES (3, 'bad'); INSERT INTO uniq VALUES (1)",
            "rows on both partitions, then a unique violation":
                "INSERT INTO ev VALUES (4, 'bad'), (5, 'bad'), (6, 'bad'); INSERT INTO ev VALUES (7, 'bad'); "
                "INSERT INTO uniq VALUES (1)",
            "an INSERT ... SELECT failing midway (its first rows inserted)":
                "INSERT INTO ev SELECT id, note FROM src ORDER BY id",
            "a NOT NULL violation in a later row of one INSERT": "INSERT INTO ev VALUES (8, 'bad'), (NULL, 'bad')",
        }
        for what, sql in failing.items():
            state, res = outcome_of(lambda: db.sql(sql))
            self.assertEqual(state, "failed", f"{what}: {res}")
        # A procedure whose statement fails (value too long) after nothing else: nothing.
        state, res = outcome_of(lambda: db.call("AddEv", 9, "x" * 30))
        self.assertEqual(state, "failed", str(res))
        ok[10] = db.call("AddEv", 10, "ok").txn_id
        ok[11] = db.sql("INSERT INTO ev VALUES (11, 'ok'); INSERT INTO uniq VALUES (11)").txn_id
        # Rolled back calls in between, then ok ones again: no seq was used by the failed ones.
        state, _ = outcome_of(lambda: db.sql("INSERT INTO ev VALUES (12, 'bad'); INSERT INTO uniq VALUES (11)"))
        self.assertEqual(state, "failed")
        ok[13] = db.sql("INSERT INTO ev VALUES (13, 'ok')").txn_id
        self.assertEqual(db.sql("SELECT id FROM uniq ORDER BY id").rows, [(1,), (11,)])
        self.wait_acked(db, {"ev": len(ok)})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, _ = self.check_sequences(read_exports(self.out_dir()), "failed calls")
        got = self.by_id(unique, "ev")
        self.assertEqual(sorted(got), sorted(ok), "exported ids: failed calls exported rows")
        for i, txn in ok.items():
            self.assertEqual([(r["txn_id"], r["row"]["note"]) for r in got[i]], [(txn, "ok")])

    def test_table_changes(self):
        server, db = self.start_one()
        db.sql("CREATE TABLE acct (id BIGINT NOT NULL PRIMARY KEY, bal INTEGER NOT NULL, note VARCHAR(20)) "
               "EXPORT TO TARGET t ON INSERT, UPDATE, DELETE; PARTITION TABLE acct ON COLUMN id")
        db.sql("CREATE TABLE ins_only (id BIGINT NOT NULL PRIMARY KEY, v INTEGER) EXPORT TO TARGET t; "
               "PARTITION TABLE ins_only ON COLUMN id")
        db.sql("CREATE TABLE del_only (id BIGINT NOT NULL PRIMARY KEY, v INTEGER) EXPORT TO TARGET t ON DELETE")
        db.sql("CREATE TABLE quiet (id BIGINT NOT NULL PRIMARY KEY)")  # exports nothing
        model = {}  # acct: id -> (bal, note)
        ops = collections.defaultdict(list)  # acct id -> [(op, bal, note)]

        def insert(i, bal, note):
            db.call("acct.insert", i, bal, note)
            model[i] = (bal, note)
            ops[i].append(("INSERT", bal, note))

        def update(i, bal, note):
            ops[i].append(("UPDATE_BEFORE",) + model[i])
            ops[i].append(("UPDATE_AFTER", bal, note))
            model[i] = (bal, note)

        for i in range(1, 7):
            insert(i, 100 * i, f"n{i}")
        self.assertEqual(db.sql("UPDATE acct SET bal = 5, note = NULL WHERE id = 1").modified, 1)
        update(1, 5, None)
        # A multi-partition UPDATE of several rows: a before/after pair per row.
        self.assertEqual(db.sql("UPDATE acct SET bal = bal + 1 WHERE bal >= 300").modified, 4)
        for i in range(3, 7):
            update(i, model[i][0] + 1, model[i][1])
        self.assertEqual(db.sql("DELETE FROM acct WHERE id = 2").modified, 1)
        ops[2].append(("DELETE",) + model.pop(2))
        db.call("acct.upsert", 3, 7, "upserted")  # an existing row: an update
        update(3, 7, "upserted")
        # Changes that roll back: nothing.
        for sql in ["UPDATE acct SET bal = 0 WHERE id = 4; INSERT INTO acct VALUES (5, 1, 'dup')",
                    "DELETE FROM acct WHERE id = 6; INSERT INTO missing_table VALUES (1)",
                    "UPDATE acct SET bal = bal - 1000; UPDATE acct SET note = 'way too long for twenty chars'"]:
            state, res = outcome_of(lambda: db.sql(sql))
            self.assertEqual(state, "failed", f"{sql}: {res}")
        # An UPDATE matching no row exports nothing.
        self.assertEqual(db.sql("UPDATE acct SET bal = 1 WHERE id = 999").modified, 0)
        for i in range(1, 4):
            db.call("ins_only.insert", i, i)
        db.sql("UPDATE ins_only SET v = v + 10")
        db.sql("DELETE FROM ins_only WHERE id = 1")
        db.call("del_only.insert", 1, 1)
        db.call("del_only.insert", 2, 2)
        db.sql("UPDATE del_only SET v = 5")
        db.sql("DELETE FROM del_only WHERE id = 2")
        db.sql("TRUNCATE TABLE del_only")  # deletes every row
        db.call("quiet.insert", 1)
        # A stream dropped and created again with other columns: its seqs go on, and the rows
        # written before (not yet delivered) keep their columns.
        db.sql("CREATE STREAM re PARTITION ON COLUMN id EXPORT TO TARGET t (id BIGINT NOT NULL, a INTEGER)")
        db.sql("INSERT INTO re VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        db.sql("DROP STREAM re")
        db.sql("CREATE STREAM re PARTITION ON COLUMN id EXPORT TO TARGET t "
               "(id BIGINT NOT NULL, a INTEGER, b VARCHAR(10))")
        db.sql("INSERT INTO re VALUES (5, 5, 'b5'), (6, 6, 'b6'), (7, 7, 'b7'), (8, 8, 'b8')")
        self.assertEqual(dict((r[0], (r[1], r[2])) for r in db.sql("SELECT id, bal, note FROM acct").rows), model)
        self.wait_acked(db, {"acct": sum(len(v) for v in ops.values()), "ins_only": 3, "del_only": 2, "re": 8})
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        unique, _ = self.check_sequences(read_exports(self.out_dir()), "table changes")
        self.assertEqual({s for s, _, _ in unique}, {"acct", "ins_only", "del_only", "re"})
        acct = self.by_id(unique, "acct")
        got = {i: [(r["op"], int(r["row"]["bal"]), r["row"]["note"]) for r in recs] for i, recs in acct.items()}
        self.assertEqual(got, dict(ops), "acct: ops and images per row in seq order")
        for i, recs in acct.items():
            for before, after in zip(recs, recs[1:]):
                if before["op"] == "UPDATE_BEFORE":
                    self.assertEqual(after["op"], "UPDATE_AFTER", f"acct {i}: a before image without its after")
                    self.assertEqual(before["txn_id"], after["txn_id"])
                    self.assertEqual(before["seq"] + 1, after["seq"])
        self.assertEqual({i: [r["op"] for r in recs] for i, recs in self.by_id(unique, "ins_only").items()},
                         {1: ["INSERT"], 2: ["INSERT"], 3: ["INSERT"]})
        dels = self.by_id(unique, "del_only")
        self.assertEqual({i: [(r["op"], r["row"]["v"]) for r in recs] for i, recs in dels.items()},
                         {1: [("DELETE", "5")], 2: [("DELETE", "5")]})
        self.assertEqual({r[0]["partition"] for r in dels.values()}, {0}, "a replicated table exports from partition 0")
        self.assertLess(dels[2][0]["seq"], dels[1][0]["seq"])
        re_rows = self.by_id(unique, "re")
        self.assertEqual({i: [r["row"] for r in recs] for i, recs in re_rows.items()},
                         {**{i: [{"id": str(i), "a": str(i)}] for i in range(1, 5)},
                          **{i: [{"id": str(i), "a": str(i), "b": f"b{i}"}] for i in range(5, 9)}},
                         "a re-created stream: each row with the columns it was written with")

    def test_replicated_stream_and_table_export_once(self):
        server, db = self.start_one(partitions=3)
        db.sql("CREATE STREAM rs EXPORT TO TARGET t (k INTEGER NOT NULL, v VARCHAR(10))")
        db.sql("CREATE TABLE rt (k INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10)) EXPORT TO TARGET t ON INSERT, DELETE")
        txns = {}
        for k in range(1, 6):
            txns[k] = db.sql("INSERT INTO rs VALUES (?, ?)", k, f"v{k}").txn_id
            db.call("rt.insert", k, f"v{k}")
        db.sql("INSERT INTO rs VALUES (6, 'a'), (7, 'b')")
        db.sql("DELETE FROM rt WHERE k > 3")
        self.wait_acked(db, {"rs": 7, "rt": 7})
        stats = self.export_stats(db)
        self.assertEqual({(s["stream"], s["partition_id"]) for s in stats}, {("rs", 0), ("rt", 0)},
                         f"a replicated stream's rows come from partition 0 only: {stats}")
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, repeats = self.check_sequences(read_exports(self.out_dir()), "replicated")
        self.assertEqual(repeats, 0)
        rs = self.by_id(unique, "rs", key="k")
        self.assertEqual({k: len(v) for k, v in rs.items()}, {k: 1 for k in range(1, 8)}, "each row exported once")
        self.assertEqual({r[0]["partition"] for r in rs.values()}, {0})
        for k, txn in txns.items():
            self.assertEqual(rs[k][0]["txn_id"], txn)
        rt = self.by_id(unique, "rt", key="k")
        self.assertEqual({k: [r["op"] for r in v] for k, v in rt.items()},
                         {1: ["INSERT"], 2: ["INSERT"], 3: ["INSERT"], 4: ["INSERT", "DELETE"],
                          5: ["INSERT", "DELETE"]})

    def test_unknown_target_is_refused(self):
        server, db = self.start_one()
        for sql in ["CREATE STREAM x PARTITION ON COLUMN a EXPORT TO TARGET nowhere (a INTEGER NOT NULL)",
                    "CREATE STREAM x EXPORT TO TARGET nowhere (a INTEGER NOT NULL)",
                    "CREATE TABLE y (a INTEGER NOT NULL PRIMARY KEY) EXPORT TO TARGET nowhere ON DELETE"]:
            with self.assertRaises(surgedb.Error, msg=sql) as cm:
                db.sql(sql)
            self.assertEqual(cm.exception.status, "SQL_ERROR", str(cm.exception))
            self.assertIn('no export target "nowhere" is configured', cm.exception.message)
            self.assertIn("configured: t", cm.exception.message)
        self.assertEqual(db.call("@SystemCatalog", "STREAMS").rows, [])
        # Nothing was created: the names are free.
        db.sql("CREATE STREAM x EXPORT TO TARGET T (a INTEGER NOT NULL)")  # names fold to lower case
        db.sql("CREATE TABLE y (a INTEGER NOT NULL PRIMARY KEY)")
        self.assertEqual([r[2] for r in db.call("@SystemCatalog", "STREAMS").rows], ["t"])
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        # A server without targets refuses every EXPORT TO TARGET, and says how to configure one.
        server = self.start(data_dir=os.path.join(self.tmp.name, "bare"))
        db = self.connect(server)
        with self.assertRaises(surgedb.Error) as cm:
            db.sql("CREATE STREAM z EXPORT TO TARGET t (a INTEGER NOT NULL)")
        self.assertIn('no export target "t" is configured', cm.exception.message)
        self.assertIn("[export.targets.t]", cm.exception.message)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 3. Crashes under load.

PAYLOAD = 'w{w} #{i}, "q"'  # a comma and quotes: every CSV row quotes it
CRASH_SCHEMA = [
    "CREATE TABLE ledger (id BIGINT NOT NULL PRIMARY KEY, writer INTEGER NOT NULL, payload VARCHAR(100) NOT NULL)",
    "PARTITION TABLE ledger ON COLUMN id",
    "CREATE STREAM evs PARTITION ON COLUMN id EXPORT TO TARGET out "
    "(id BIGINT NOT NULL, writer INTEGER NOT NULL, payload VARCHAR(100) NOT NULL)",
    "CREATE TABLE tlog (id BIGINT NOT NULL PRIMARY KEY, writer INTEGER NOT NULL, payload VARCHAR(100) NOT NULL) "
    "EXPORT TO TARGET out",
    "PARTITION TABLE tlog ON COLUMN id",
    "CREATE PROCEDURE AddT PARTITION ON TABLE tlog COLUMN id AS INSERT INTO tlog VALUES (?, ?, ?)",
]
CRASH_WORKERS = 4


class CrashTest(ExportCase):
    """Writers: (a) an @AdHoc batch inserting one id into ledger and evs, one multi-partition
    transaction; (b) AddT, a single-partition insert into tlog, a table that exports itself; (c) a
    batch inserting a fresh id into evs and then a ledger id that exists: it fails as a whole."""

    def run_cycles(self, mode, cycles, args=()):
        seed = int(os.environ.get("SURGE_DURABILITY_SEED") or random.randrange(10 ** 6))
        rng = random.Random(seed)
        out = self.out_dir()
        targets = {"out": {"dir": out, "format": "csv"}}
        server = self.start_export(targets, *args, mode=mode)
        with server.client() as db:
            for stmt in CRASH_SCHEMA:
                db.sql(stmt)
        lock = threading.Lock()
        ids = itertools.count(1)
        calls = {}  # id -> [kind, state, txn id or error, (writer, payload)]
        ok_ledger = []
        problems = []
        tally = collections.Counter()

        def op(c, w, wrng):
            i = next(ids)
            payload = PAYLOAD.format(w=w, i=i)
            r = wrng.random()
            with lock:
                old = wrng.choice(ok_ledger) if ok_ledger else None
            if r < 0.45 or (r >= 0.9 and old is None):
                kind = "ledger"
                fn = lambda: c.sql(f"INSERT INTO ledger VALUES ({i}, {w}, '{payload}'); "
                                   f"INSERT INTO evs VALUES ({i}, {w}, '{payload}')")
            elif r < 0.9:
                kind = "tlog"
                fn = lambda: c.call("AddT", i, w, payload)
            else:
                kind = "doomed"
                fn = lambda: c.sql(f"INSERT INTO evs VALUES ({i}, {w}, '{payload}'); "
                                   f"INSERT INTO ledger VALUES ({old}, {w}, 'dup')")
            state, res = outcome_of(fn)
            with lock:
                tally[(kind, state)] += 1
                calls[i] = [kind, state, res.txn_id if state == "ok" else res, (w, payload)]
                if kind == "ledger" and state == "ok":
                    ok_ledger.append(i)
                if kind == "doomed" and state == "ok":
                    problems.append(f"doomed batch {i} succeeded")
                if kind != "doomed" and state == "failed":
                    problems.append(f"{kind} {i} failed: {res}")

        for cycle in range(1, cycles + 2):
            final = cycle == cycles + 1
            stop = threading.Event()
            clients = [server.client() for _ in range(CRASH_WORKERS)]

            def work(w):
                wrng = random.Random(seed * 100 + cycle * 10 + w)
                try:
                    while not stop.is_set():
                        op(clients[w], w, wrng)
                except Exception as e:  # a bug in this test: fail it rather than lose the thread quietly
                    with lock:
                        problems.append(f"writer {w} died: {e!r}")

            threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(CRASH_WORKERS)]
            seconds = 0.5 if final else rng.uniform(0.7, 1.3)
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
                self.assertEqual(server.proc.returncode, -signal.SIGKILL, server.output()[-3000:])
                server = self.start_export(targets, *args, mode=mode)
                # Only ids recovery has may be duplicated on purpose (async mode loses some ok ones).
                with server.client() as db:
                    present = [r[0] for r in db.sql("SELECT id FROM ledger").rows]
                with lock:
                    ok_ledger[:] = present
            done, temps = list_dir(out)
            print(f"  {mode} cycle {cycle} (seed {seed}): {'' if final else 'kill -9 after '}{seconds:.2f} s; "
                  f"{dict(sorted((f'{k}/{s}', n) for (k, s), n in tally.items()))}; {len(done)} files", flush=True)
            tally.clear()
        self.assertEqual(problems, [])

        # Settle: everything recovery has must be delivered; then a clean stop.
        db = self.connect(server)
        ledger = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM ledger").rows}
        tlog = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM tlog").rows}
        self.wait_acked(db, {"evs": len(ledger), "tlog": len(tlog)})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        self.assert_no_temp_files(out)
        return calls, ledger, tlog, read_exports(out), seed

    def check_history(self, mode, calls, ledger, tlog, records, seed, lost_ok_allowed):
        where = f"{mode} (seed {seed})"
        unique, repeats = self.check_sequences(records, where)
        self.assertEqual({s for s, _, _ in unique} - {"evs", "tlog"}, set())
        lost_ok = []
        for stream, table, kind in [("evs", ledger, "ledger"), ("tlog", tlog, "tlog")]:
            exported = self.by_id(unique, stream)
            twice = {i: [(r["partition"], r["seq"]) for r in recs] for i, recs in exported.items() if len(recs) > 1}
            self.assertEqual(twice, {}, f"{where}: {stream} ids exported under two seqs")
            outran = sorted(set(exported) - set(table))
            self.assertEqual(outran, [], f"{where}: {stream} rows exported whose transaction recovery does not have "
                                         f"(their calls: {[calls.get(i, ['?'])[:2] for i in outran[:10]]})")
            missing = sorted(set(table) - set(exported))
            self.assertEqual(missing, [], f"{where}: {stream}: committed rows never exported "
                                          f"(their calls: {[calls.get(i, ['?'])[:2] for i in missing[:10]]})")
            for i, recs in exported.items():
                rec = recs[0]
                self.assertEqual((int(rec["row"]["writer"]), rec["row"]["payload"]), table[i], f"{where}: {stream} {i}")
                self.assertEqual(rec["op"], "INSERT")
                kind_i, state, txn, value = calls[i]
                self.assertEqual(kind_i, kind, f"{where}: {stream} {i}")
                if state == "ok":
                    self.assertEqual(rec["txn_id"], txn, f"{where}: {stream} {i}: txn_id is not the call's")
            for i, (kind_i, state, _, _) in calls.items():
                if kind_i != kind:
                    continue
                if state == "ok" and i not in table:
                    lost_ok.append(i)
                if state == "failed":
                    self.assertNotIn(i, exported, f"{where}: {stream} {i}: a failed call's row was exported")
        doomed = [i for i, c in calls.items() if c[0] == "doomed"]
        evs_ids = set(self.by_id(unique, "evs"))
        self.assertEqual([i for i in doomed if i in evs_ids], [], f"{where}: rolled-back batches exported rows")
        if lost_ok_allowed:
            print(f"  {mode}: {len(lost_ok)} acknowledged calls lost by kill -9 (allowed in async mode)", flush=True)
        else:
            self.assertEqual(sorted(lost_ok), [], f"{where}: acknowledged calls lost")
        per_part = collections.Counter((s, p) for s, p, _ in unique)
        print(f"  {mode}: {len(unique)} rows exported ({dict(sorted(per_part.items()))}), {repeats} repeated after "
              f"crashes; {len(ledger)} ledger, {len(tlog)} tlog rows", flush=True)

    def test_sync_kill9_under_load(self):
        print(flush=True)
        calls, ledger, tlog, records, seed = self.run_cycles("sync", 3)
        self.check_history("sync", calls, ledger, tlog, records, seed, lost_ok_allowed=False)

    def test_async_kill9_never_delivers_lost_transactions(self):
        # Async: a kill loses the log's last interval. Those transactions' rows (spooled, maybe
        # written to a file) must never reach a finished file, because after the restart new
        # transactions take their seqs.
        print(flush=True)
        calls, ledger, tlog, records, seed = self.run_cycles("async", 2, ("--command-log-interval-ms", "100"))
        self.check_history("async", calls, ledger, tlog, records, seed, lost_ok_allowed=True)


# ---------------------------------------------------------------------------------------------
# 4. Snapshots.

SNAP_SCHEMA = [
    "CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET out (id BIGINT NOT NULL, note VARCHAR(40))",
    "CREATE TABLE tx (id BIGINT NOT NULL PRIMARY KEY, v INTEGER) EXPORT TO TARGET out ON INSERT, UPDATE, DELETE",
    "PARTITION TABLE tx ON COLUMN id",
]


class SnapshotTest(ExportCase):
    def setup_server(self, mode="sync"):
        self.targets = {"out": {"dir": self.out_dir(), "format": "jsonl"}}
        server = self.start_export(self.targets, mode=mode)
        db = self.connect(server)
        for stmt in SNAP_SCHEMA:
            db.sql(stmt)
        return server, db

    def restart(self, mode="sync"):
        server = self.start_export(self.targets, mode=mode)
        return server, self.connect(server)

    def send(self, db, lo, hi):
        results = db.call_many([("s.insert", i, f"note {i}") for i in range(lo, hi)])
        self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [])

    def check_s(self, unique, ids, where):
        got = self.by_id(unique, "s")
        self.assertEqual(sorted(got), sorted(ids), f"{where}: stream ids")
        self.assertEqual({i: len(r) for i, r in got.items() if len(r) != 1}, {}, f"{where}: ids under two seqs")
        for i, recs in got.items():
            self.assertEqual(recs[0]["row"]["note"], f"note {i}")

    def test_sequences_continue_after_snapshot_and_kill9(self):
        server, db = self.setup_server()
        self.send(db, 1, 41)
        for i in range(1, 21):
            db.call("tx.insert", i, i)
        self.wait_acked(db, {"s": 40, "tx": 20})
        snap = as_dicts(db.call("@SnapshotSave"))[0]
        before = {(r["stream"], r["partition_id"]): r["last_seq"] for r in self.export_stats(db)}
        self.send(db, 41, 81)  # after the cut, and not yet delivered when the kill comes
        for i in range(1, 11):
            db.sql("UPDATE tx SET v = v + 100 WHERE id = ?", i)
        self.close_clients()
        server.kill9()

        server, db = self.restart()
        self.assertIn(f"loaded snapshot {snap['path']}", server.output())
        self.send(db, 81, 121)
        db.sql("DELETE FROM tx WHERE id > 15")
        self.wait_acked(db, {"s": 120, "tx": 20 + 2 * 10 + 5})
        after = {(r["stream"], r["partition_id"]): r["last_seq"] for r in self.export_stats(db)}
        for key, seq in before.items():
            self.assertGreater(after[key], seq, f"{key}: seqs did not go on")
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        unique, repeats = self.check_sequences(read_exports(self.out_dir()), "snapshot")
        self.check_s(unique, range(1, 121), "snapshot")
        tx = self.by_id(unique, "tx")
        expect = {}
        for i in range(1, 21):
            expect[i] = ["INSERT"] + (["UPDATE_BEFORE", "UPDATE_AFTER"] if i <= 10 else []) + (
                ["DELETE"] if i > 15 else [])
        self.assertEqual({i: [r["op"] for r in recs] for i, recs in tx.items()}, expect)
        for i in range(1, 11):
            self.assertEqual([r["row"]["v"] for r in tx[i]], [i, i, i + 100])
        print(f"\n  snapshot + kill -9: {len(unique)} rows, {repeats} repeated", flush=True)

    def test_unacknowledged_rows_at_the_cut_survive_kill9(self):
        # The rows before the cut are not yet delivered when the snapshot is taken: they exist
        # only in the spool once retention removes the log before the cut.
        server, db = self.setup_server()
        self.send(db, 1, 41)
        snap = as_dicts(db.call("@SnapshotSave"))[0]
        self.send(db, 41, 51)
        self.close_clients()
        server.kill9()

        server, db = self.restart()
        self.assertIn(f"loaded snapshot {snap['path']}", server.output())
        self.send(db, 51, 61)
        snap2 = as_dicts(db.call("@SnapshotSave"))[0]  # a second cut, its predecessor's rows pending
        self.send(db, 61, 71)
        self.close_clients()
        server.kill9()

        server, db = self.restart()
        self.assertIn(f"loaded snapshot {snap2['path']}", server.output())
        self.send(db, 71, 81)
        self.wait_acked(db, {"s": 80})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, repeats = self.check_sequences(read_exports(self.out_dir()), "pending at the cut")
        self.check_s(unique, range(1, 81), "pending at the cut")

    def test_command_log_off_never_reuses_a_seq(self):
        # Without a log, rows after the newest snapshot are lost at a crash, but were exported:
        # the seqs go on after them, not after the snapshot's.
        server, db = self.setup_server(mode="off")
        self.send(db, 1, 31)
        self.wait_acked(db, {"s": 30})
        db.call("@SnapshotSave")
        self.send(db, 31, 41)
        self.wait_acked(db, {"s": 40})
        self.close_clients()
        server.kill9()
        server, db = self.restart(mode="off")
        self.send(db, 41, 61)
        self.wait_acked(db, {"s": 60})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, _ = self.check_sequences(read_exports(self.out_dir()), "log off")
        self.check_s(unique, range(1, 61), "log off")

    def test_clean_restart_delivers_nothing_twice(self):
        server, db = self.setup_server()
        self.send(db, 1, 21)
        self.wait_acked(db, {"s": 20})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        files = list_dir(self.out_dir())[0]
        server, db = self.restart()
        time.sleep(ROLL_SECONDS + 0.3)
        self.assertEqual(list_dir(self.out_dir())[0], files, "a restart after a clean stop delivered rows again")
        self.send(db, 21, 31)
        self.wait_acked(db, {"s": 30})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, repeats = self.check_sequences(read_exports(self.out_dir()), "clean restart")
        self.assertEqual(repeats, 0)
        self.check_s(unique, range(1, 31), "clean restart")


# ---------------------------------------------------------------------------------------------
# 5. A target that cannot write; 6. the disk budget.

def break_dir(d):
    """Makes d unusable for the file target (root ignores permissions): moves it aside and puts a
    regular file in its place. Returns where it went."""
    aside = d + ".aside"
    os.rename(d, aside)
    with open(d, "w") as f:
        f.write("not a directory\n")
    return aside


def repair_dir(d):
    os.remove(d)
    os.mkdir(d)


class SinkFailureTest(ExportCase):
    def test_retries_while_the_directory_is_broken_then_delivers_everything(self):
        out = self.out_dir()
        server = self.start_export({"out": {"dir": out, "format": "csv"}})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET out (id BIGINT NOT NULL, note VARCHAR(20))")
        db.call_many([("s.insert", i, f"n{i}") for i in range(1, 11)])
        self.wait_acked(db, {"s": 10})
        aside = break_dir(out)
        results = db.call_many([("s.insert", i, f"n{i}") for i in range(11, 41)])
        self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [],
                         "calls must go on while a target is failing (within the budget)")
        deadline = time.time() + 10
        while True:
            stats = self.export_stats(db)
            if stats and all(s["status"] == "retrying" for s in stats):
                break
            self.assertLess(time.time(), deadline, f"never shown as retrying: {stats}")
            time.sleep(0.05)
        for s in stats:
            self.assertEqual(s["target"], "out")
            self.assertIn(out, s["last_error"], f"last_error should name the path: {s}")
            self.assertLess(s["acked_seq"], s["last_seq"], s)
            self.assertEqual(s["pending_rows"], s["last_seq"] - s["acked_seq"], s)
        self.assertEqual(sum(s["last_seq"] for s in stats), 40)
        self.assertTrue(any(s["spool_bytes"] > 0 for s in stats))
        self.assertRegex(server.output(), r'export target "out": .*retrying in \d+ ms')
        time.sleep(0.5)  # a few retries
        repair_dir(out)
        self.wait_acked(db, {"s": 40})
        deadline = time.time() + 5
        while {s["status"] for s in self.export_stats(db)} != {"ok"}:
            self.assertLess(time.time(), deadline, f"still not ok: {self.export_stats(db)}")
            time.sleep(0.05)
        self.assertIn('export target "out" is delivering again', server.output())
        db.call_many([("s.insert", i, f"n{i}") for i in range(41, 51)])
        self.wait_acked(db, {"s": 50})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        self.assert_no_temp_files(out)
        unique, repeats = self.check_sequences(read_exports(out, aside), "sink failure")
        got = self.by_id(unique, "s")
        self.assertEqual(sorted(got), list(range(1, 51)))
        self.assertEqual({i: len(r) for i, r in got.items() if len(r) != 1}, {})

    def test_target_missing_from_the_config_keeps_rows_until_it_returns(self):
        out = self.out_dir()
        targets = {"out": {"dir": out, "format": "csv"}}
        server = self.start_export(targets)
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET out (id BIGINT NOT NULL)")
        db.call_many([("s.insert", i) for i in range(1, 11)])
        self.wait_acked(db, {"s": 10})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        # Restarted without the target: the stream still takes rows; they wait in the spool.
        server = self.start()
        db = self.connect(server)
        results = db.call_many([("s.insert", i) for i in range(11, 21)])
        self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [])
        deadline = time.time() + 10
        while sum(s["last_seq"] for s in self.export_stats(db)) < 20:
            self.assertLess(time.time(), deadline, f"rows not spooled: {self.export_stats(db)}")
            time.sleep(0.05)
        for s in self.export_stats(db):
            self.assertEqual((s["target"], s["status"]), ("out", "no target"), s)
            self.assertIn('"out"', s["last_error"])
            self.assertEqual(s["pending_rows"], s["last_seq"] - s["acked_seq"])
        self.assertGreater(sum(s["pending_rows"] for s in self.export_stats(db)), 0)
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        # With the target back, they are delivered.
        server = self.start_export(targets)
        db = self.connect(server)
        self.wait_acked(db, {"s": 20})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, repeats = self.check_sequences(read_exports(out), "no target")
        self.assertEqual(repeats, 0)
        self.assertEqual(sorted(self.by_id(unique, "s")), list(range(1, 21)))


class BudgetTest(ExportCase):
    def test_acknowledged_rows_do_not_count_against_the_budget(self):
        # A healthy target: 0.6 MiB exported and acknowledged, then 0.6 MiB more. The backlog
        # never holds more than 0.6 MiB of unacknowledged rows, so nothing may be refused.
        server = self.start_export({"out": {"dir": self.out_dir(), "format": "csv"}}, "--export-disk-budget-mb", "1")
        db = self.connect(server)
        db.sql("CREATE STREAM big PARTITION ON COLUMN id EXPORT TO TARGET out (id BIGINT NOT NULL, pad VARCHAR(60000))")
        pad = "p" * 50000
        refused = []
        for lo in (0, 12):
            for i in range(lo, lo + 12):
                state, res = outcome_of(lambda: db.call("big.insert", i, pad))
                if state != "ok":
                    refused.append((i, str(res)))
                time.sleep(0.01)
            stats = self.wait_acked(db, {"big": lo + 12 - len(refused)})
        self.assertEqual(refused, [],
                         f"exporting calls were refused OVERLOADED although every earlier row was delivered and "
                         f"acknowledged and no more than 0.6 MiB was ever pending: acknowledged rows must not count "
                         f"against --export-disk-budget-mb. Statistics after: {stats}")

    def test_budget_refuses_exporting_calls_until_the_backlog_drains(self):
        out = self.out_dir()
        server = self.start_export({"out": {"dir": out, "format": "csv"}}, "--export-disk-budget-mb", "1")
        db = self.connect(server)
        db.sql("CREATE STREAM big PARTITION ON COLUMN id EXPORT TO TARGET out (id BIGINT NOT NULL, pad VARCHAR(60000))")
        db.sql("CREATE TABLE audit (id BIGINT NOT NULL PRIMARY KEY); PARTITION TABLE audit ON COLUMN id")
        db.sql("CREATE TABLE texp (id BIGINT NOT NULL PRIMARY KEY, pad VARCHAR(100)) EXPORT TO TARGET out; "
               "PARTITION TABLE texp ON COLUMN id")
        db.sql("CREATE TABLE plain (id BIGINT NOT NULL PRIMARY KEY, pad VARCHAR(60000)); "
               "PARTITION TABLE plain ON COLUMN id")
        db.call("big.insert", 0, "first")
        self.wait_acked(db, {"big": 1})
        aside = break_dir(out)
        ok, refused = [0], []
        pad = "p" * 50000
        for i in range(1, 200):
            state, res = outcome_of(lambda: db.call("big.insert", i, pad))
            if state == "ok":
                ok.append(i)
                time.sleep(0.01)  # the spool's writer takes it and measures the backlog
                continue
            refused.append(i)
            self.assertEqual((res.status, res.sqlstate), ("OVERLOADED", "53000"), str(res))
            self.assertIn("--export-disk-budget-mb", res.message)
            self.assertIn('"out"', res.message, "the message should name the failing target")
            break
        self.assertTrue(refused, "200 rows of 50 KB never went over a 1 MiB budget")
        self.assertGreater(len(ok), 10)
        # Every call that would export is refused and changes nothing ...
        for i, fn in [(1001, lambda: db.sql("INSERT INTO audit VALUES (1001); INSERT INTO big VALUES (1001, 'x')")),
                      (1002, lambda: db.call("texp.insert", 1002, "x")),
                      (1003, lambda: db.sql("INSERT INTO texp VALUES (1003, 'x')"))]:
            state, res = outcome_of(fn)
            self.assertEqual(getattr(res, "status", "OK"), "OVERLOADED", f"call {i}: {res}")
            refused.append(i)
        self.assertEqual(db.sql("SELECT COUNT(*) FROM audit").rows, [(0,)], "a refused batch left a row")
        self.assertEqual(db.sql("SELECT COUNT(*) FROM texp").rows, [(0,)], "a refused insert left a row")
        # ... while writes that export nothing, and reads, go on.
        db.call("plain.insert", 1, pad)
        db.sql("INSERT INTO audit VALUES (2000)")
        self.assertEqual(db.sql("SELECT COUNT(*) FROM plain").rows, [(1,)])
        stats = self.export_stats(db)
        self.assertGreater(sum(s["spool_bytes"] for s in stats), 1 << 20, stats)
        self.assertEqual({s["status"] for s in stats}, {"retrying"}, stats)

        repair_dir(out)
        stats = self.wait_acked(db, {"big": len(ok)})
        # The backlog is delivered: every acknowledged row, none of the refused ones.
        files = read_exports(out, aside)
        unique, _ = self.check_sequences(files, "budget")
        got = self.by_id(unique, "big")
        self.assertEqual(sorted(got), sorted(ok), "the export after the backlog drained")
        # Delivered and acknowledged, the backlog no longer counts against the budget, so exporting
        # calls succeed again (within a few writer ticks of 5 ms).
        deadline = time.time() + 1.5
        while True:
            state, res = outcome_of(lambda: db.call("big.insert", 5000, "after"))
            if state == "ok" or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(state, "ok", f"exporting calls are still refused after the backlog drained: {res}; "
                                      f"statistics: {stats}")
        ok.append(5000)
        db.call("texp.insert", 5001, "after")
        self.wait_acked(db, {"big": len(ok), "texp": 1})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        unique, _ = self.check_sequences(read_exports(out, aside), "budget")
        self.assertEqual(sorted(self.by_id(unique, "big")), sorted(ok))
        self.assertEqual(sorted(self.by_id(unique, "texp")), [5001])


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        test_durability.SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if not test_durability.SURGED or not os.path.exists(test_durability.SURGED):
        sys.exit("usage: test_export.py --surged PATH")
    unittest.main(verbosity=2)
