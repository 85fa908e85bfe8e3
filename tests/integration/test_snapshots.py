"""Integration tests of surged's snapshots (docs/adr/0010-snapshots.md): the real server writes
them, crashes (kill -9) while it does, loads them back at recovery or through @SnapshotRestore,
and the tests check that what comes back is the cut the server promised, with the command log's
transactions after it.

The tests:
  RoundTripTest        every column type, NULLs, empty and non-ASCII values, a replicated table and
                       materialized views survive @SnapshotSave + later writes + kill -9: the
                       snapshot is loaded and only the log after its cut is replayed.
                       The transaction ids and NOW() continue from a snapshot; with the command
                       log off a restart loads the newest snapshot.
  ConsistentCutTest    snapshots (native rows and CSV) taken while writers run multi-partition
                       transfers (some rolling back) and inserts are transactionally consistent
                       cuts placed between the request and the answer of @SnapshotSave; a
                       partition pause of milliseconds.
  CsvTest              CSV snapshots of a schema of many tables all succeed, each file its table's.
  RetentionTest        automatic snapshots every second keep --snapshot-retain of them and remove
                       the log before the oldest kept cut; nothing acknowledged is lost; with every
                       snapshot damaged the start is refused. --snapshot-log-mb triggers one.
  KillDuringSnapshotTest  kill -9 while snapshots are written (and incomplete or damaged snapshot
                       directories left behind) never breaks recovery or loses an acknowledged call.
  FaultTest            snapshot.write / snapshot.fsync fail the snapshot cleanly; a snapshot
                       damaged by snapshot.corrupt is skipped at recovery for the older one.
  AdminTest            @SnapshotDelete / @SnapshotScan / @SnapshotRestore: their refusals, and a
                       restored database surviving kill -9 (from its own snapshot, or by replaying
                       the restore).
  DdlDuringSnapshotTest  schema changes and writes while a snapshot's scans run: the snapshot
                       keeps the state at its cut; the schema history replays at recovery and
                       restore; SIGTERM while one runs.

    python3 test_snapshots.py --surged PATH/TO/surged

Helpers (Surged, DurabilityCase, outcome_of...) come from test_durability.py; its environment
variables apply (SURGE_DURABILITY_KEEP=1 keeps each test's data directories and server logs).
"""
import collections
import csv
import itertools
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest

import surgedb
import test_durability
from test_durability import (ACCOUNTS, CALL_TIMEOUT, COUNTER_KEYS, DEFINITE_FAILURES, EVENT_DDL, INITIAL_BALANCE,
                             SCHEMA, DurabilityCase, outcome_of, transfer_sql)
from test_server import free_port

# (Test classes imported by name would run here too: SyncCrashTest is used through the module.)
check_ledger = test_durability.SyncCrashTest.check_ledger

PAUSE_BOUND_MS = 100.0  # the cut parks every partition; for a small database it must be brief


def as_dicts(response):
    """The first result table of a Response as a list of {column: value}."""
    t = response.tables[0]
    return [dict(zip(t.columns, row)) for row in t.rows]


def snapshot_dirs(root):
    """(complete, incomplete): the snapshot directories under root with and without a MANIFEST."""
    complete, incomplete = [], []
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            if os.path.isdir(path):
                (complete if os.path.exists(os.path.join(path, "MANIFEST")) else incomplete).append(path)
    return complete, incomplete


def manifest_cut(snapshot_dir):
    with open(os.path.join(snapshot_dir, "MANIFEST")) as f:
        return int(re.search(r"^cut_lsn (\d+)$", f.read(), re.M).group(1))


def log_segments(data_dir):
    """The first LSNs of the command log's segments, in order."""
    names = os.listdir(os.path.join(data_dir, "cmdlog"))
    return sorted(int(m.group(1)) for m in (re.fullmatch(r"log-(\d{20})\.seg", n) for n in names) if m)


def read_csv(path):
    """(header, rows) of an RFC 4180 file, every field as text."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def outcome_state(result):
    """The outcome (test_durability's ok / failed / unknown) of one call_many result."""
    if isinstance(result, surgedb.Response):
        return "ok"
    return "failed" if getattr(result, "status", None) in DEFINITE_FAILURES else "unknown"


class SnapshotCase(DurabilityCase):
    """DurabilityCase with snapshot helpers."""

    def save(self, db, *args):
        """@SnapshotSave; its one row as a dict."""
        rows = as_dicts(db.call("@SnapshotSave", *args))
        self.assertEqual(len(rows), 1)
        return rows[0]

    def scan(self, db, *args):
        """@SnapshotScan: {snapshot id: row as a dict}."""
        return {r["id"]: r for r in as_dicts(db.call("@SnapshotScan", *args))}

    def stats(self, db):
        return as_dicts(db.call("@Statistics", "SNAPSHOT"))[0]

    def fresh(self, name, partitions=2):
        """A new server on a new data directory, and a client."""
        server = self.start(data_dir=os.path.join(self.tmp.name, name), partitions=partitions, mode="sync")
        return server, self.connect(server)

    def expect_error(self, fn, status, *fragments):
        """fn() must fail with this status and a message holding every fragment; returns the message."""
        with self.assertRaises(surgedb.Error) as cm:
            fn()
        self.assertEqual(cm.exception.status, status, str(cm.exception))
        for fragment in fragments:
            self.assertIn(fragment, cm.exception.message)
        return cm.exception.message

    def wait_for(self, what, predicate, timeout=10.0, interval=0.02):
        deadline = time.time() + timeout
        while not predicate():
            if time.time() > deadline:
                self.fail(f"timed out waiting for {what}")
            time.sleep(interval)

    def quiescent(self, db, fn, timeout=10.0):
        """Runs fn() while no snapshot completes: between two @Statistics 'SNAPSHOT' answers that
        are both idle with the same completed count (a snapshot stays 'running' until its
        retention has run), so that what fn reads of the disk is one state of retention."""
        deadline = time.time() + timeout
        while True:
            before = self.stats(db)
            if before["status"] == "idle":
                result = fn()
                after = self.stats(db)
                if after["status"] == "idle" and after["completed"] == before["completed"]:
                    return result
            self.assertLess(time.time(), deadline, "snapshots never paused")
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# 1. Round trip of every type through a snapshot, the log after it, and kill -9.

TYPED_SCHEMA = [
    "CREATE TABLE typed (id BIGINT NOT NULL PRIMARY KEY, ti TINYINT, si SMALLINT, i INTEGER, big BIGINT, "
    "f FLOAT, d DECIMAL, s VARCHAR(64), b VARBINARY(64), ts TIMESTAMP, grp INTEGER NOT NULL)",
    "PARTITION TABLE typed ON COLUMN id",
    "CREATE TABLE tags (k VARCHAR(32) NOT NULL PRIMARY KEY, label VARCHAR(100), weight FLOAT)",  # replicated
    "CREATE VIEW typed_by_grp (grp, n, total) AS SELECT grp, COUNT(*), SUM(i) FROM typed GROUP BY grp",
    "CREATE VIEW tags_by_label (label, n) AS SELECT label, COUNT(*) FROM tags GROUP BY label",
]
TYPED_COLUMNS = "id, ti, si, i, big, f, d, s, b, ts, grp"
STRINGS = ["", "plain", "héllo wörld", "日本語のテキスト", "emoji 🙂🚀", "quote ' and \"", "comma, and\nnewline",
           "tab\there", " leading and trailing "]
BYTES = [b"", b"\x00", b"\x00\xff\x10\x80", bytes(range(64))]


def typed_row(rng, i):
    """A row of typed: (id, ti, si, i, big, f, d, s, b, ts, grp); each nullable column NULL now and
    then, extremes and edge values among the rest."""
    def maybe(v):
        return None if rng.random() < 0.15 else v
    return (i,
            maybe(rng.choice([0, 1, -1, 127, -127, rng.randint(-127, 127)])),
            maybe(rng.choice([0, 32767, -32767, rng.randint(-32767, 32767)])),
            maybe(rng.choice([0, 2 ** 31 - 1, -(2 ** 31) + 1, rng.randint(-10 ** 6, 10 ** 6)])),
            maybe(rng.choice([0, 2 ** 63 - 1, -(2 ** 63) + 1, rng.randint(-10 ** 15, 10 ** 15)])),
            maybe(rng.choice([0.0, -0.5, 1e308, -5e-324, 1 / 3, rng.uniform(-1e9, 1e9)])),
            maybe(surgedb.Decimal(rng.choice(["0", "-0.000000000001", "99999999999999999999999999.999999999999",
                                              f"{rng.randint(-10 ** 9, 10 ** 9)}.{rng.randint(0, 999999):06d}"]))),
            maybe(rng.choice(STRINGS)),
            maybe(rng.choice(BYTES + [rng.randbytes(rng.randrange(1, 65))])),
            maybe(surgedb.Timestamp(rng.choice([0, -1, -10 ** 12, 1_700_000_000_123_456,
                                                rng.randint(0, 4 * 10 ** 15)]))),
            rng.randrange(5))


def view_of(typed):
    """typed_by_grp recomputed from rows: {grp: (count, SUM(i) or None when every i is NULL)}."""
    out = {}
    for row in typed.values():
        n, total = out.get(row[10], (0, None))
        if row[3] is not None:
            total = (total or 0) + row[3]
        out[row[10]] = (n + 1, total)
    return out


class RoundTripTest(SnapshotCase):
    def read_all(self, db):
        typed = {r[0]: r for r in db.sql(f"SELECT {TYPED_COLUMNS} FROM typed").rows}
        tags = {r[0]: r for r in db.sql("SELECT k, label, weight FROM tags").rows}
        views = ({g: (n, t) for g, n, t in db.sql("SELECT grp, n, total FROM typed_by_grp").rows},
                 dict(db.sql("SELECT label, n FROM tags_by_label").rows))
        return typed, tags, views

    def test_every_type_survives_snapshot_log_and_kill9(self):
        rng = random.Random(10)
        server = self.start(mode="sync")
        db = self.connect(server)
        for stmt in TYPED_SCHEMA:
            db.sql(stmt)
        typed = {i: typed_row(rng, i) for i in range(1, 401)}
        typed[401] = (401,) + (None,) * 9 + (0,)  # every nullable column NULL
        typed[402] = (402, 0, 0, 0, 0, 0.0, surgedb.Decimal("0"), "", b"", surgedb.Timestamp(0), 0)  # zeroes, empties
        results = db.call_many([("typed.insert",) + row for row in typed.values()])
        self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [])
        tags = {f"k{j}": (f"k{j}", rng.choice(["red", "grün", "", None]), rng.choice([None, 0.25, -3.5]))
                for j in range(30)}
        for row in tags.values():
            db.call("tags.insert", *row)
        # Updates and deletes before the cut too, so the storage has holes and rewritten tuples.
        for i in range(1, 41):
            db.sql("UPDATE typed SET s = ?, i = ? WHERE id = ?", "rewritten ✓", i, i)
            typed[i] = typed[i][:3] + (i,) + typed[i][4:7] + ("rewritten ✓",) + typed[i][8:]
        for i in range(41, 61):
            db.sql("DELETE FROM typed WHERE id = ?", i)
            del typed[i]
        self.assertEqual(self.read_all(db), (typed, tags, (view_of(typed), self.tag_view(tags))),
                         "the model of the database is wrong before any snapshot")

        snap = self.save(db)
        self.assertEqual(snap["rows"], len(typed) + len(tags), "views are not stored, every table row is")
        self.assertEqual(snap["partitions"], 2)
        self.assertEqual(snap["path"], os.path.join(self.data_dir, "snapshots", snap["id"]))
        self.assertTrue(os.path.exists(os.path.join(snap["path"], "MANIFEST")))

        # After the cut: inserts, updates, deletes, a replicated upsert and delete, and a schema
        # change with rows, all only in the log. Each call that changes something is one record.
        logged = 0
        new_rows = {i: typed_row(rng, i) for i in range(1000, 1100)}
        results = db.call_many([("typed.insert",) + row for row in new_rows.values()])
        self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [])
        typed.update(new_rows)
        logged += len(new_rows)
        for i in list(range(61, 111)) + [401]:
            self.assertEqual(db.sql("UPDATE typed SET s = ?, b = ?, grp = ? WHERE id = ?", "après", b"\x01\x02", 9,
                                    i).modified, 1)
            typed[i] = typed[i][:7] + ("après", b"\x01\x02") + typed[i][9:10] + (9,)
            logged += 1
        for i in list(range(111, 141)) + [1000]:
            self.assertEqual(db.sql("DELETE FROM typed WHERE id = ?", i).modified, 1)
            del typed[i]
            logged += 1
        db.call("tags.upsert", "k0", "upserted", 1.5)
        db.call("tags.insert", "k-new", None, None)
        db.call("tags.delete", "k1")
        tags["k0"] = ("k0", "upserted", 1.5)
        tags["k-new"] = ("k-new", None, None)
        del tags["k1"]
        logged += 3
        db.sql("CREATE TABLE late (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(20)); "
               "PARTITION TABLE late ON COLUMN id")
        for i in range(5):
            db.call("late.insert", i, f"late {i}")
        logged += 6
        before = self.read_all(db)
        self.assertEqual(before, (typed, tags, (view_of(typed), self.tag_view(tags))))
        self.close_clients()
        server.kill9()

        server = self.start(mode="sync")
        out = server.output()
        self.assertIn(f"recovery: loading snapshot {snap['path']} ({snap['rows']} rows, cut at LSN {snap['cut_lsn']})",
                      out)
        self.assertIn(f"loaded snapshot {snap['path']}", out)
        self.assertEqual(server.recovered(), logged, f"only the log after the cut is replayed:\n{out}")
        db = self.connect(server)
        after = self.read_all(db)
        self.assertEqual(after[0], typed, "typed differs after snapshot + log replay")
        self.assertEqual(after[1], tags, "tags differs after snapshot + log replay")
        self.assertEqual(after[2], before[2], "views differ from their recomputation")
        self.assertEqual(db.sql("SELECT id, note FROM late ORDER BY id").rows, [(i, f"late {i}") for i in range(5)])
        # The rebuilt views stay maintained.
        db.call("typed.insert", 5000, None, None, 7, None, None, None, None, None, None, 77)
        db.call("tags.insert", "k-after", "red", None)
        db.call("tags.insert", "k-empty", "", None)
        typed[5000] = (5000, None, None, 7) + (None,) * 6 + (77,)
        tags["k-after"] = ("k-after", "red", None)
        tags["k-empty"] = ("k-empty", "", None)
        self.assertEqual(self.read_all(db)[2], (view_of(typed), self.tag_view(tags)))

        # The CSV form of the same data (RFC 4180: NULL is an empty field, '' is "").
        csv_snap = self.save(db, os.path.join(self.tmp.name, "csv"), "CSV")
        header, rows = read_csv(os.path.join(csv_snap["path"], "tags.csv"))
        self.assertEqual(header, ["k", "label", "weight"])
        self.assertEqual(sorted(r[0] for r in rows), sorted(tags))
        self.assertEqual({r[0]: r[1] for r in rows}, {k: v[1] or "" for k, v in tags.items()})
        with open(os.path.join(csv_snap["path"], "tags.csv"), encoding="utf-8") as f:
            lines = set(f.read().splitlines())
        self.assertIn("k-new,,", lines, "NULL must be an empty field")
        self.assertIn('k-empty,"",', lines, "the empty string must be \"\"")
        header, rows = read_csv(os.path.join(csv_snap["path"], "typed.csv"))
        self.assertEqual(header, [c.strip() for c in TYPED_COLUMNS.split(",")])
        self.assertEqual({int(r[0]): r[7] for r in rows}, {i: r[7] or "" for i, r in typed.items()})
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_ids_and_time_continue_from_a_snapshot(self):
        # Nothing after the cut: the transaction ids and NOW() go on from the snapshot's manifest.
        server = self.start(mode="sync")
        db = self.connect(server)
        db.sql("CREATE TABLE stamps (id BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL); "
               "PARTITION TABLE stamps ON COLUMN id")
        txn_ids = [db.sql("INSERT INTO stamps VALUES (?, NOW())", i).txn_id for i in range(20)]
        stamps = db.sql("SELECT id, ts FROM stamps ORDER BY id").rows
        snap = self.save(db)
        self.close_clients()
        server.kill9()
        server = self.start(mode="sync")
        self.assertIn(f"loaded snapshot {snap['path']}", server.output())
        self.assertEqual(server.recovered(), 0)
        db = self.connect(server)
        self.assertEqual(db.sql("SELECT id, ts FROM stamps ORDER BY id").rows, stamps)
        r = db.sql("INSERT INTO stamps VALUES (100, NOW())")
        self.assertGreater(r.txn_id, max(txn_ids), "a transaction id was reused after loading a snapshot")
        self.assertGreater(db.call("stamps.select", 100).rows[0][1], max(ts for _, ts in stamps))
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_views_over_streams_survive_snapshots_and_the_log(self):
        # A view over a stream holds state that exists nowhere else: the snapshot carries its rows,
        # and the log after the cut carries the stream inserts that changed it since.
        server = self.start(mode="sync")
        db = self.connect(server)
        for ddl in [
            "CREATE STREAM readings PARTITION ON COLUMN meter (meter BIGINT NOT NULL, kwh INTEGER NOT NULL)",
            "CREATE VIEW per_meter (meter, n, kwh) AS SELECT meter, COUNT(*), SUM(kwh) FROM readings GROUP BY meter",
            # no GROUP BY: one row per partition, merged on read
            "CREATE VIEW overall (n, kwh) AS SELECT COUNT(*), SUM(kwh) FROM readings",
            # grouped by another column: partial groups per partition
            "CREATE VIEW per_size (kwh, n) AS SELECT kwh, COUNT(*) FROM readings GROUP BY kwh",
            "CREATE STREAM notes (text VARCHAR(20) NOT NULL)",  # replicated
            "CREATE VIEW note_counts (text, n) AS SELECT text, COUNT(*) FROM notes GROUP BY text",
        ]:
            db.sql(ddl)
        def send(lo, hi):
            for m in range(lo, hi):
                db.sql("INSERT INTO readings VALUES (?, ?)", m % 13, m % 5)
                if m % 10 == 0:
                    db.sql("INSERT INTO notes VALUES (?)", f"n{m % 3}")
        def views():
            return [db.sql(q).rows for q in ("SELECT meter, n, kwh FROM per_meter ORDER BY meter",
                                            "SELECT n, kwh FROM overall",
                                            "SELECT kwh, n FROM per_size ORDER BY kwh",
                                            "SELECT text, n FROM note_counts ORDER BY text")]
        send(0, 200)
        self.save(db)
        send(200, 260)  # after the cut: replayed from the log
        expected = views()
        self.assertEqual(expected[1], [(260, sum(m % 5 for m in range(260)))])
        self.close_clients()
        server.kill9()
        server = self.start(mode="sync")
        db = self.connect(server)
        self.assertEqual(views(), expected)
        send(260, 270)  # still maintained
        self.assertEqual(db.sql("SELECT n FROM overall").rows, [(270,)])
        # And restored into a fresh server from a snapshot taken now.
        snap = self.save(db, os.path.join(self.tmp.name, "ext"))
        expected = views()
        fresh, fdb = self.fresh("restored")
        fdb.call("@SnapshotRestore", snap["path"])
        self.assertEqual([fdb.sql(q).rows for q in ("SELECT meter, n, kwh FROM per_meter ORDER BY meter",
                                                   "SELECT n, kwh FROM overall",
                                                   "SELECT kwh, n FROM per_size ORDER BY kwh",
                                                   "SELECT text, n FROM note_counts ORDER BY text")], expected)
        self.close_clients()
        self.assertEqual(fresh.stop(), 0)
        self.assertEqual(server.stop(), 0)

    def test_command_log_off_restarts_from_the_newest_snapshot(self):
        # Without a log, snapshots are the only durability: what came after the newest is lost.
        server = self.start(mode="off")
        db = self.connect(server)
        db.sql(EVENT_DDL)
        for i in range(1, 71):
            db.call("AddEvent", i, 0, f"e{i}")
            if i in (50, 60):
                newest = self.save(db)
                self.assertEqual(newest["cut_lsn"], 0)
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        for restart in ("SIGTERM", "kill -9"):
            server = self.start(mode="off")
            self.assertIn(f"loaded snapshot {newest['path']}", server.output(), restart)
            db = self.connect(server)
            self.assertEqual(dict(db.sql("SELECT id, payload FROM events").rows), {i: f"e{i}" for i in range(1, 61)},
                             f"after {restart}")
            db.call("AddEvent", 1000, 0, "lost")
            self.close_clients()
            server.kill9()

    @staticmethod
    def tag_view(tags):
        return dict(collections.Counter(row[1] for row in tags.values()))


# ---------------------------------------------------------------------------------------------
# 2. Snapshots under concurrent multi-partition writes are consistent cuts.

NASTY = ["a,b", 'say "hi"', "line\nbreak", "crlf\r\nend", "ünï©ødé", "", " "]
FILLER_ROWS = 1 << 17  # accounts with balance 0, scanned before the hot ones (inserted last)
FILLER_BASE = 10 ** 6


class ConsistentCutTest(SnapshotCase):
    """test_durability's schema (accounts, transfers_log, events, counters) plus a replicated
    count of transfers. The sixteen hot accounts are inserted after many idle ones, so they sit at
    the end of the blocks: the scans reach them late and the transfers meanwhile are copied on
    write. Some transfers fail on their last statement and roll back."""

    def test_snapshots_under_concurrent_writes_are_consistent_cuts(self):
        # Async: more writes land while the scans run (a snapshot's MANIFEST still waits until the
        # log is durable up to its cut).
        server = self.start(mode="async")
        db = self.connect(server)
        for stmt in SCHEMA:
            db.sql(stmt)
        db.sql("CREATE TABLE transfer_count (k INTEGER NOT NULL PRIMARY KEY, n BIGINT NOT NULL)")  # replicated
        db.call("transfer_count.insert", 0, 0)
        db.call("accounts.insert", FILLER_BASE, 0)
        n = 1
        while n < FILLER_ROWS:
            db.sql(f"INSERT INTO accounts SELECT id + {n}, balance FROM accounts")
            n *= 2
        for a in range(ACCOUNTS):
            db.call("accounts.insert", a, INITIAL_BALANCE)
        for k in range(COUNTER_KEYS):
            db.call("counters.insert", k, 0)
        ext = os.path.join(self.tmp.name, "ext")

        # Per writer, its calls in order: kind, id, value, sent, answered (monotonic), outcome.
        calls = [[] for _ in range(3)]
        ids = itertools.count(1)
        stop = threading.Event()
        problems = []

        def work(w):
            rng = random.Random(w)
            try:
                with server.client() as c:
                    while not stop.is_set():
                        cid = next(ids)
                        r = rng.random()
                        if r < 0.6:
                            src, dst = rng.sample(range(ACCOUNTS), 2)
                            value = (src, dst, rng.randint(1, 50))
                            fail = r < 0.1  # inserts its transfers_log row twice: must roll back
                            sql = transfer_sql(cid, *value, twice=fail) + "; UPDATE transfer_count SET n = n + 1"
                            kind, fn = "transfer", lambda: c.sql(sql)
                        else:
                            fail = False
                            value = (w, f"w{w}#{cid} " + "".join(rng.choice(NASTY) for _ in range(rng.randrange(8))))
                            kind, fn = "event", lambda: c.call("AddEvent", cid, *value)
                        sent = time.monotonic()
                        state, res = outcome_of(fn)
                        calls[w].append((kind, cid, value, sent, time.monotonic(), state))
                        if state != ("failed" if fail else "ok"):
                            problems.append(f"{kind} {cid} ({'must fail' if fail else 'must succeed'}): {res}")
            except Exception as e:  # a bug in this test: fail it rather than lose the thread quietly
                problems.append(f"writer {w} died: {e!r}")

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(3)]
        saves = []  # (sent, answered, row, statistics)
        failed_saves = []  # checked after the snapshots that were taken
        try:
            for t in threads:
                t.start()
            def transfers_done():
                return sum(1 for w in calls for c in list(w) if c[0] == "transfer")

            for _ in range(10):
                # At least 0.3 s and 20 more transfers before each snapshot (a TSan build is slow).
                time.sleep(0.3)
                want, deadline = transfers_done() + 20, time.monotonic() + 30
                while transfers_done() < want and time.monotonic() < deadline and not problems:
                    time.sleep(0.05)
                sent = time.monotonic()
                state, res = outcome_of(lambda: db.call("@SnapshotSave", ext, "CSV"))
                answered = time.monotonic()
                if state != "ok":
                    failed_saves.append(str(res))
                    continue
                saves.append((sent, answered, as_dicts(res)[0], self.stats(db)))
                if len(saves) == 3:
                    break
            time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(problems, [], "writes answered wrongly while snapshots were taken")
        n_transfers = sum(1 for w in calls for c in w if c[0] == "transfer")
        self.assertGreater(n_transfers, 50, "too few transfers ran to test anything")
        self.assertEqual([s[2]["cut_lsn"] for s in saves], sorted(s[2]["cut_lsn"] for s in saves))

        report = []
        for n, (sent, answered, row, st) in enumerate(saves):
            where = f"snapshot {n + 1} ({row['id']})"
            # Statistics describe this snapshot; its cut paused the partitions briefly.
            self.assertEqual((st["status"], st["last_id"], st["last_rows"], st["last_cut_lsn"]),
                             ("idle", row["id"], row["rows"], row["cut_lsn"]), where)
            self.assertLess(st["last_pause_ms"], PAUSE_BOUND_MS, f"{where}: partitions paused too long")

            # The CSV files.
            tables = {}
            for name, types in [("accounts", (int, int)), ("transfers_log", (int, int, int, int)),
                                ("events", (int, int, str)), ("counters", (int, int)), ("transfer_count", (int, int))]:
                header, rows = read_csv(os.path.join(row["path"], f"{name}.csv"))
                self.assertEqual(len(header), len(types), f"{where}: {name}.csv header {header}")
                tables[name] = sorted(tuple(t(v) for t, v in zip(types, r)) for r in rows)
            self.assertEqual(row["rows"], sum(len(t) for t in tables.values()), f"{where}: rows in the CSV files")
            self.check_cut(where + " CSV", tables, calls, sent, answered)

            # The native files, restored into a fresh server: the same rows as the CSV.
            fresh, fdb = self.fresh(f"restore-{n}")
            restored = as_dicts(fdb.call("@SnapshotRestore", row["path"]))[0]
            self.assertEqual((restored["id"], restored["rows"], restored["cut_lsn"]),
                             (row["id"], row["rows"], row["cut_lsn"]), where)
            for name in tables:
                self.assertEqual(sorted(fdb.sql(f"SELECT * FROM {name}").rows), tables[name],
                                 f"{where}: restored {name} differs from {name}.csv")
            self.assertEqual(fdb.sql("SELECT SUM(balance) FROM accounts").rows, [(ACCOUNTS * INITIAL_BALANCE,)])
            fresh.kill9()
            report.append(f"{len(tables['transfers_log'])} transfers, pause {st['last_pause_ms']:.2f} ms, "
                          f"{st['last_seconds'] * 1000:.0f} ms in all")
        total = sum(len(w) for w in calls)
        print(f"\n  {total} calls ({n_transfers} transfers) during {len(saves)} snapshots: " + "; ".join(report),
              flush=True)
        self.assertEqual(failed_saves, [], "@SnapshotSave failed")
        self.assertEqual(len(saves), 3)
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def check_cut(self, where, tables, calls, save_sent, save_answered):
        """The snapshot holds a prefix of each writer's successful calls: all those answered before
        @SnapshotSave was sent, none sent after it was answered; no failed call; each row as
        written; the balances and the replicated count of exactly its transfers."""
        events = {r[0]: (r[1], r[2]) for r in tables["events"]}
        transfers = {r[0]: (r[1], r[2], r[3]) for r in tables["transfers_log"]}
        issued = set()
        for w, mine in enumerate(calls):
            pattern = ""
            for kind, cid, value, sent, answered, state in mine:
                issued.add(cid)
                rows = events if kind == "event" else transfers
                present = cid in rows
                if state != "ok":
                    self.assertFalse(present, f"{where}: {kind} {cid} failed, yet is present")
                    continue
                pattern += "1" if present else "0"
                if answered < save_sent:
                    self.assertTrue(present, f"{where}: {kind} {cid}, answered before the save was sent, is missing")
                if sent > save_answered:
                    self.assertFalse(present, f"{where}: {kind} {cid}, sent after the save was answered, is present")
                if present:
                    self.assertEqual(rows[cid], value, f"{where}: {kind} {cid}")
            self.assertNotIn("01", pattern, f"{where}: writer {w}'s calls in the snapshot are not a prefix of them")
        self.assertEqual((set(events) | set(transfers)) - issued, set(), f"{where}: rows nobody wrote")
        balances = dict(tables["accounts"])
        expected = {a: INITIAL_BALANCE for a in range(ACCOUNTS)}
        expected.update((FILLER_BASE + i, 0) for i in range(FILLER_ROWS))
        for src, dst, amount in transfers.values():
            expected[src] -= amount
            expected[dst] += amount
        self.assertEqual(sum(balances.values()), ACCOUNTS * INITIAL_BALANCE, f"{where}: money made or lost")
        self.assertEqual(balances, expected, f"{where}: balances disagree with the transfers in the snapshot")
        self.assertEqual(tables["transfer_count"], [(0, len(transfers))],
                         f"{where}: the replicated count disagrees with the transfers in the snapshot")
        self.assertEqual(tables["counters"], [(k, 0) for k in range(COUNTER_KEYS)], where)


# ---------------------------------------------------------------------------------------------
# 2b. CSV snapshots of a schema with many tables.

class CsvTest(SnapshotCase):
    TABLES = 120

    def test_csv_snapshots_of_many_tables(self):
        # Each table has a rows file per partition and a CSV file; the cut registers them table by
        # table and queues each CSV header as it goes, while the writer thread already writes the
        # first ones. Every snapshot must succeed, each CSV holding its own table's rows.
        server = self.start(mode="async")
        db = self.connect(server)
        names = [f"t{i:03d}" for i in range(self.TABLES)]
        db.sql("; ".join(f"CREATE TABLE {t} (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(20)); "
                         f"PARTITION TABLE {t} ON COLUMN id" for t in names))
        db.sql("; ".join(f"INSERT INTO {t} VALUES (1, '{t}-a'), (2, '{t}-b')" for t in names))
        ext = os.path.join(self.tmp.name, "ext")
        failures, saved = [], 0
        for _ in range(15):
            state, res = outcome_of(lambda: db.call("@SnapshotSave", ext, "CSV"))
            if state != "ok":
                failures.append(f"{getattr(res, 'status', '')}: {getattr(res, 'message', res)}")
                continue
            saved += 1
            row = as_dicts(res)[0]
            self.assertEqual(row["rows"], 2 * self.TABLES)
            for t in names:
                header, rows = read_csv(os.path.join(row["path"], f"{t}.csv"))
                self.assertEqual((header, sorted(rows)), (["id", "v"], [["1", f"{t}-a"], ["2", f"{t}-b"]]),
                                 f"{row['id']}: {t}.csv")
        scan = self.scan(db, ext)
        self.assertEqual([v["status"] for v in scan.values()], ["valid"] * saved)
        self.assertEqual(failures, [], f"{len(failures)} of 15 CSV snapshots of {self.TABLES} tables failed")
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 3. Retention and log truncation under automatic snapshots.

class RetentionTest(SnapshotCase):
    def test_retention_and_log_truncation(self):
        args = ("--snapshot-interval", "1", "--snapshot-retain", "2", "--command-log-segment-mb", "1")
        server = self.start(*args, mode="sync")
        db = self.connect(server)
        db.sql(EVENT_DDL)
        ledger = {}  # id -> [state, (writer, payload)], as SyncCrashTest.check_ledger wants it
        lock = threading.Lock()
        ids = itertools.count(1)
        stop = threading.Event()
        problems = []

        def work(w):
            rng = random.Random(w)
            try:
                with server.client() as c:
                    while not stop.is_set():
                        batch = [("AddEvent", next(ids), w, f"r{w}-" + "x" * rng.randrange(100, 400))
                                 for _ in range(50)]
                        results = c.call_many(batch)
                        with lock:
                            for call, res in zip(batch, results):
                                ledger[call[1]] = [outcome_state(res), (w, call[3])]
                                if not isinstance(res, surgedb.Response):
                                    problems.append(f"AddEvent({call[1]}): {res}")
            except Exception as e:
                problems.append(f"writer {w} died: {e!r}")

        snapshots_root = os.path.join(self.data_dir, "snapshots")
        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(3)]
        most_complete = 0
        try:
            for t in threads:
                t.start()
            # Write for at least 4 s, and until the log has rolled over twice (or lost a segment to
            # retention) and 3 s more have passed for later snapshots to cut past the second
            # segment: a slow build (TSan) writes far less in 4 s.
            t_start = time.time()
            rolled_at = None
            while True:
                now = time.time()
                # Between a MANIFEST's rename and retention there may be retain + 1 for a moment.
                most_complete = max(most_complete, len(snapshot_dirs(snapshots_root)[0]))
                segs = log_segments(self.data_dir)
                if rolled_at is None and segs and (segs[0] > 1 or len(segs) >= 3):
                    rolled_at = now
                if rolled_at is not None and now >= max(t_start + 4, rolled_at + 3):
                    break
                if now > t_start + 90:
                    break  # the assertions below say what is missing
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(problems, [])
        self.assertLessEqual(most_complete, 3)

        def disk_state():
            complete, _ = snapshot_dirs(snapshots_root)
            return complete, [manifest_cut(d) for d in complete], log_segments(self.data_dir)

        complete, cuts, segments = self.quiescent(db, disk_state)
        st = self.stats(db)
        self.assertGreaterEqual(st["completed"], 3, "too few automatic snapshots to test retention")
        self.assertEqual(st["failed"], 0, st["last_error"])
        self.assertTrue(1 <= len(complete) <= 2, f"--snapshot-retain 2 kept {len(complete)}: {complete}")
        self.assertEqual(max(cuts), st["last_cut_lsn"], "the newest snapshot must be kept")
        oldest_cut = min(cuts)
        # The segments wholly before the oldest kept snapshot's cut are gone; the one holding the
        # first record after the cut is still there.
        self.assertGreater(segments[0], 1, f"no log segment was removed: {segments}")
        self.assertLessEqual(segments[0], oldest_cut + 1, f"records after the cut {oldest_cut} are gone: {segments}")
        self.assertTrue(len(segments) == 1 or segments[1] > oldest_cut + 1,
                        f"segments wholly before the cut {oldest_cut} remain: {segments}")
        ok = sum(1 for s, _ in ledger.values() if s == "ok")
        self.close_clients()
        server.kill9()

        server = self.start(*args, mode="sync")
        out = server.output()
        self.assertIn("loaded snapshot", out)
        self.assertLess(server.recovered(), ok, "recovery replayed the whole log")
        db = self.connect(server)
        rows = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM events").rows}
        resolved = collections.Counter()
        check_ledger(self, "after kill -9", "event", ledger, rows, resolved)
        print(f"\n  {ok} inserts, {st['completed']} snapshots ({most_complete} complete at most at once), "
              f"{len(segments)} log segments kept from LSN {segments[0]} (oldest kept cut {oldest_cut}); "
              f"recovered {server.recovered()} transactions after the snapshot", flush=True)
        self.close_clients()
        server.kill9()

        # With every snapshot damaged, the log (which no longer starts at LSN 1) cannot rebuild the
        # database: the start is refused, naming what is missing and why each snapshot was not used,
        # and harms nothing.
        complete, _ = snapshot_dirs(snapshots_root)
        originals = {}
        for d in complete:
            path = os.path.join(d, "p1-t0.rows")
            with open(path, "rb") as f:
                originals[path] = f.read()
            damaged = bytearray(originals[path])
            damaged[len(damaged) // 2] ^= 0x01
            with open(path, "wb") as f:
                f.write(damaged)
        refused = subprocess.run([test_durability.SURGED, "--port", str(free_port()), "--partitions", "2",
                                  "--data-dir", self.data_dir, "--command-log", "sync", *args],
                                 capture_output=True, text=True, timeout=60)
        out = refused.stdout + refused.stderr
        self.assertNotEqual(refused.returncode, 0, out)
        self.assertIn("recovery needs the log from LSN 1", out)
        for d in complete:
            self.assertIn(f"{d}: snapshot file {d}/p1-t0.rows is damaged", out)
        for path, data in originals.items():
            with open(path, "wb") as f:
                f.write(data)
        server = self.start(*args, mode="sync")
        db = self.connect(server)
        self.assertEqual(db.sql("SELECT COUNT(*) FROM events").rows, [(len(rows),)])
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_snapshot_when_the_log_grows(self):
        server = self.start("--snapshot-interval", "0", "--snapshot-log-mb", "1", mode="async")
        db = self.connect(server)
        db.sql(EVENT_DDL)

        def write(first, n):  # about n KiB of log
            results = db.call_many([("AddEvent", i, 0, "x" * 1000) for i in range(first, first + n)])
            self.assertEqual([r for r in results if not isinstance(r, surgedb.Response)], [])

        write(0, 400)
        time.sleep(0.6)  # more than the timer's tick: below 1 MiB of log, no snapshot (nor by time)
        self.assertEqual(self.stats(db)["completed"], 0)
        write(400, 800)
        self.wait_for("a snapshot by log size", lambda: self.stats(db)["completed"] == 1)
        self.assertIn("automatic snapshot (log size)", server.output())
        self.assertGreater(self.stats(db)["last_rows"], 400)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 4. kill -9 while snapshots are being written.

class KillDuringSnapshotTest(SnapshotCase):
    BALLAST_ROWS = 1 << 16  # so that a snapshot takes long enough to be killed in the middle

    def plant_bad_snapshots(self, root):
        """Leaves what a crash or a bad disk could: a newer copy of a snapshot without its MANIFEST
        (and a partial MANIFEST.tmp), and one whose MANIFEST does not check."""
        complete, _ = snapshot_dirs(root)
        source = complete[-1] if complete else None
        planted = []
        for name, damage in [("99991231T235959.998Z", "no-manifest"), ("99991231T235959.999Z", "bad-manifest")]:
            path = os.path.join(root, name)
            if source:
                shutil.copytree(source, path)
            else:
                os.makedirs(path)
            if damage == "no-manifest":
                if os.path.exists(os.path.join(path, "MANIFEST")):
                    os.rename(os.path.join(path, "MANIFEST"), os.path.join(path, "MANIFEST.tmp"))
                with open(os.path.join(path, "MANIFEST.tmp"), "r+" if source else "w") as f:
                    f.truncate(20)
            else:
                with open(os.path.join(path, "MANIFEST"), "a") as f:
                    f.write("rows p9-t9.rows 0 1 1 x\n")  # after the checksum line: does not check
            planted.append(path)
        return planted

    def test_kill9_while_snapshots_run(self):
        seed = int(os.environ.get("SURGE_DURABILITY_SEED") or random.randrange(10 ** 6))
        print(f"\n  kill -9 during snapshots: seed {seed}", flush=True)
        rng = random.Random(seed)
        args = ("--snapshot-interval", "1", "--command-log-segment-mb", "1")
        server = self.start(*args, mode="sync")
        with server.client() as db:
            db.sql(EVENT_DDL)
            db.sql("CREATE TABLE ballast (id BIGINT NOT NULL PRIMARY KEY, pad VARCHAR(200) NOT NULL); "
                   "PARTITION TABLE ballast ON COLUMN id")
            db.sql("INSERT INTO ballast VALUES (0, '" + "b" * 100 + "')")
            n = 1
            while n < self.BALLAST_ROWS:
                db.sql(f"INSERT INTO ballast SELECT id + {n}, pad FROM ballast")
                n *= 2
        snapshots_root = os.path.join(self.data_dir, "snapshots")
        ledger = {}  # id -> [state, (writer, payload)]
        lock = threading.Lock()
        ids = itertools.count(1)
        planted = []
        left_incomplete = 0
        for cycle in range(1, 5):
            stop = threading.Event()
            problems = []

            def work(w):
                try:
                    with server.client() as c:
                        while not stop.is_set():
                            eid = next(ids)
                            payload = f"c{cycle}w{w}-{eid}"
                            state, _ = outcome_of(lambda: c.call("AddEvent", eid, w, payload))
                            with lock:
                                ledger[eid] = [state, (w, payload)]
                except Exception as e:
                    problems.append(f"writer {w} died: {e!r}")

            threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(2)]
            for t in threads:
                t.start()
            try:
                with server.client() as c:
                    if cycle % 2 == 1:
                        # Odd cycles: kill -9 as soon as a snapshot is running (cycle 1: the first
                        # one, so that only an incomplete snapshot exists at the restart).
                        deadline = time.time() + 5
                        while self.stats(c)["status"] != "running":
                            self.assertLess(time.time(), deadline, "no automatic snapshot began")
                    else:
                        # Even cycles: once a snapshot has completed, at a random moment.
                        self.wait_for("a snapshot to complete", lambda: self.stats(c)["completed"] > 0)
                        time.sleep(rng.uniform(0, 1.0))
                    server.kill9()
            finally:
                stop.set()
                for t in threads:
                    t.join(CALL_TIMEOUT + 5)
            self.assertFalse(any(t.is_alive() for t in threads), "a client thread hung after the kill")
            self.assertEqual(problems, [])
            complete, incomplete = snapshot_dirs(snapshots_root)
            left_incomplete += len(incomplete)
            if cycle == 1 and not incomplete:
                # (The kill came before the directory was made.) What a crash there leaves instead:
                os.makedirs(os.path.join(snapshots_root, "19700101T000000.000Z"))
            if cycle == 3:
                planted = self.plant_bad_snapshots(snapshots_root)

            server = self.start(*args, mode="sync")
            out = server.output()
            if not complete:
                self.assertNotIn("loaded snapshot", out, f"cycle {cycle}: there was no complete snapshot to load")
            if cycle >= 3:  # cycle 2 waited for a complete snapshot
                self.assertIn("loaded snapshot", out)
                for path in planted:
                    self.assertNotIn(f"loading snapshot {path}", out)
            with server.client() as db:
                rows = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM events").rows}
                resolved = collections.Counter()
                check_ledger(self, f"after restart {cycle}", "event", ledger, rows, resolved)
                self.assertEqual(db.sql("SELECT COUNT(*) FROM ballast").rows, [(self.BALLAST_ROWS,)])
            print(f"  cycle {cycle}: {len(rows)} events; {len(complete)} complete and {len(incomplete)} "
                  f"incomplete snapshot directories after the kill; {server.recovered()} transactions replayed",
                  flush=True)
        self.assertGreater(left_incomplete, 0, "no kill hit a snapshot being written")

        # The next snapshot's retention removes what the crashes (and the planted copies) left.
        db = self.connect(server)
        completed = self.stats(db)["completed"]
        self.wait_for("an automatic snapshot", lambda: self.stats(db)["completed"] > completed)
        complete, incomplete = self.quiescent(db, lambda: snapshot_dirs(snapshots_root))
        self.assertEqual(incomplete, [], "incomplete snapshot directories were not removed")
        self.assertTrue(all(os.path.basename(p) not in os.listdir(snapshots_root) for p in planted))
        self.assertEqual(self.stats(db)["failed"], 0)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 5. Injected snapshot faults.

class FaultTest(SnapshotCase):
    def setup_events(self, db, first, last):
        for eid in range(first, last + 1):
            db.call("AddEvent", eid, 0, f"e{eid}")

    def events(self, db):
        return dict(db.sql("SELECT id, payload FROM events").rows)

    def failing_save_case(self, point, external):
        server = self.start(mode="sync", faults=f"{point}@1")
        db = self.connect(server)
        db.sql(EVENT_DDL)
        self.setup_events(db, 1, 50)
        root = os.path.join(self.tmp.name, "ext") if external else os.path.join(self.data_dir, "snapshots")
        args = (root,) if external else ()
        with self.assertRaises(surgedb.Error) as cm:
            db.call("@SnapshotSave", *args)
        err = cm.exception
        self.assertIn(f"fault {point}", err.message, str(err))
        self.assertEqual(snapshot_dirs(root), ([], []), f"{point}: the failed snapshot left a directory")
        st = self.stats(db)
        self.assertEqual((st["status"], st["completed"], st["failed"]), ("idle", 0, 1))
        self.assertIn(f"fault {point}", st["last_error"])
        self.assertRegex(server.output(), rf"error snapshot \S+ failed: .*\(fault {re.escape(point)}\)")
        # The server keeps serving, and the next snapshot succeeds (the fault fires once).
        self.setup_events(db, 51, 60)
        self.assertEqual(len(self.events(db)), 60)
        snap = self.save(db, *args)
        self.assertEqual(snap["rows"], 60)
        self.assertEqual([os.path.basename(p) for p in snapshot_dirs(root)[0]], [snap["id"]])
        self.assertEqual(self.scan(db, *args)[snap["id"]]["status"], "valid")
        self.close_clients()
        server.kill9()
        server = self.start(mode="sync")
        if not external:
            self.assertIn(f"loaded snapshot {snap['path']}", server.output())
        self.assertEqual(self.events(self.connect(server)), {i: f"e{i}" for i in range(1, 61)})

    def test_write_failure(self):
        self.failing_save_case("snapshot.write", external=False)

    def test_fsync_failure(self):
        self.failing_save_case("snapshot.fsync", external=True)

    def test_corrupt_snapshot_is_skipped_for_the_older_one(self):
        server = self.start(mode="sync")
        db = self.connect(server)
        db.sql(EVENT_DDL)
        self.setup_events(db, 1, 100)
        a = self.save(db)  # clean
        self.setup_events(db, 101, 200)
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        # Restarted with the fault armed: the first chunk of B reaches the disk with a bit flipped.
        server = self.start(mode="sync", faults="snapshot.corrupt@1")
        db = self.connect(server)
        b = self.save(db)  # the writer cannot tell
        self.assertGreater(b["cut_lsn"], a["cut_lsn"])
        scan = self.scan(db)
        self.assertEqual(scan[a["id"]]["status"], "valid")
        self.assertEqual(scan[b["id"]]["status"], "damaged")
        self.assertIn("checksum", scan[b["id"]]["problem"])
        self.setup_events(db, 201, 300)
        self.close_clients()
        server.kill9()

        server = self.start(mode="sync")
        out = server.output()
        self.assertRegex(out, rf"warn.*recovery: skipping snapshot {re.escape(b['path'])}: .*checksum.*; "
                              r"trying an older one")
        self.assertIn(f"recovery: loading snapshot {a['path']}", out)
        self.assertEqual(server.recovered(), 200, "events 101..300 are replayed from the log after A's cut")
        db = self.connect(server)
        self.assertEqual(self.events(db), {i: f"e{i}" for i in range(1, 301)})
        self.assertEqual({k: v["status"] for k, v in self.scan(db).items()}, {a["id"]: "valid", b["id"]: "damaged"})
        # A is the newest valid snapshot (B is damaged): recovery needs it, so it stays.
        self.expect_error(lambda: db.call("@SnapshotDelete", a["id"]), "INVALID_PARAMETER",
                          "take a newer snapshot first")
        # B cannot be restored.
        _, fdb = self.fresh("restore-b")
        self.expect_error(lambda: fdb.call("@SnapshotRestore", b["path"]), "INVALID_PARAMETER", "checksum")
        self.assertEqual(fdb.call("@SystemCatalog", "TABLES").rows, [], "a refused restore created tables")
        self.assertEqual(as_dicts(db.call("@SnapshotDelete", b["id"])), [{"deleted": b["path"]}])
        self.assertFalse(os.path.exists(b["path"]))
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 6. @SnapshotDelete, @SnapshotScan and @SnapshotRestore: refusals, and restored data surviving.

ITEMS_SCHEMA = [
    "CREATE TABLE items (id BIGINT NOT NULL PRIMARY KEY, kind VARCHAR(10) NOT NULL, qty INTEGER)",
    "PARTITION TABLE items ON COLUMN id",
    "CREATE TABLE kinds (kind VARCHAR(10) NOT NULL PRIMARY KEY, label VARCHAR(40))",
    "CREATE VIEW items_by_kind (kind, n) AS SELECT kind, COUNT(*) FROM items GROUP BY kind",
]
KINDS = ["bolt", "nut", "gear"]


class AdminTest(SnapshotCase):
    def insert_items(self, db, first, last):
        for i in range(first, last + 1):
            db.call("items.insert", i, KINDS[i % 3], i * 10)

    def expected_items(self, ids):
        return sorted((i, KINDS[i % 3], i * 10) for i in ids)

    def check_items(self, db, ids, where):
        self.assertEqual(sorted(db.sql("SELECT * FROM items").rows), self.expected_items(ids), where)
        self.assertEqual(sorted(db.sql("SELECT * FROM kinds").rows), sorted((k, k.upper()) for k in KINDS), where)
        want = collections.Counter(KINDS[i % 3] for i in ids)
        self.assertEqual(dict(db.sql("SELECT kind, n FROM items_by_kind").rows), dict(want), f"{where}: the view")

    def test_delete_scan_restore(self):
        server = self.start(mode="sync")
        db = self.connect(server)
        for stmt in ITEMS_SCHEMA:
            db.sql(stmt)
        for k in KINDS:
            db.call("kinds.insert", k, k.upper())
        self.insert_items(db, 1, 50)
        s1 = self.save(db)
        self.insert_items(db, 51, 100)
        s2 = self.save(db)
        self.assertEqual({k: v["status"] for k, v in self.scan(db).items()}, {s1["id"]: "valid", s2["id"]: "valid"})

        # @SnapshotDelete: never the newest valid one of the data directory; an older one, yes.
        self.expect_error(lambda: db.call("@SnapshotDelete", s2["id"]), "INVALID_PARAMETER",
                          "take a newer snapshot first")
        self.expect_error(lambda: db.call("@SnapshotDelete", s2["path"]), "INVALID_PARAMETER",
                          "take a newer snapshot first")
        self.assertTrue(os.path.exists(os.path.join(s2["path"], "MANIFEST")))
        self.assertEqual(as_dicts(db.call("@SnapshotDelete", s1["id"])), [{"deleted": s1["path"]}])
        self.assertFalse(os.path.exists(s1["path"]))
        self.assertEqual(list(self.scan(db)), [s2["id"]])
        # Not a snapshot: refused, and left alone.
        other = os.path.join(self.tmp.name, "not-a-snapshot")
        os.makedirs(other)
        with open(os.path.join(other, "precious.txt"), "w") as f:
            f.write("keep me")
        self.expect_error(lambda: db.call("@SnapshotDelete", other), "INVALID_PARAMETER", "not a snapshot directory")
        self.expect_error(lambda: db.call("@SnapshotDelete", "no-such-id"), "INVALID_PARAMETER",
                          "not a snapshot directory")
        self.assertTrue(os.path.exists(os.path.join(other, "precious.txt")))
        # Outside the data directory any snapshot may go; @SnapshotScan lists a directory's.
        ext = os.path.join(self.tmp.name, "ext")
        e1 = self.save(db, ext)
        e2 = self.save(db, ext)
        self.assertEqual({k: (v["status"], v["rows"]) for k, v in self.scan(db, ext).items()},
                         {e1["id"]: ("valid", 103), e2["id"]: ("valid", 103)})
        self.assertEqual(as_dicts(db.call("@SnapshotDelete", e2["path"])), [{"deleted": e2["path"]}])
        self.assertEqual(list(self.scan(db, ext)), [e1["id"]])

        # @SnapshotRestore: only into an empty database, only with the same partition count.
        message = self.expect_error(lambda: db.call("@SnapshotRestore", e1["path"]), "INVALID_PARAMETER",
                                    "loads a snapshot into an empty database")
        self.assertRegex(message, r"this one has \d+ tables")
        self.expect_error(lambda: db.call("@SnapshotRestore", os.path.join(ext, "nothing-here")), "INVALID_PARAMETER",
                          "no MANIFEST")
        self.check_items(db, range(1, 101), "the source after the refused restores")
        _, one = self.fresh("one-partition", 1)
        self.expect_error(lambda: one.call("@SnapshotRestore", e1["path"]), "INVALID_PARAMETER",
                          "--partitions 2")
        self.assertEqual(one.call("@SystemCatalog", "TABLES").rows, [], "a refused restore created tables")

        # A restore, its own snapshot, more writes, kill -9: recovery starts from that snapshot and
        # no longer needs the restored directory.
        copy = os.path.join(self.tmp.name, "copy-of-e1")
        shutil.copytree(e1["path"], copy)
        r, rdb = self.fresh("restored")
        row = as_dicts(rdb.call("@SnapshotRestore", copy))[0]
        self.assertEqual((row["id"], row["rows"], row["path"]), (e1["id"], 103, copy))
        self.check_items(rdb, range(1, 101), "right after the restore")
        restored_root = os.path.join(self.tmp.name, "restored", "snapshots")
        self.wait_for("the restored server's own snapshot", lambda: snapshot_dirs(restored_root)[0])
        self.insert_items(rdb, 101, 120)
        self.close_clients()
        r.kill9()
        shutil.rmtree(copy)
        r = self.start(data_dir=os.path.join(self.tmp.name, "restored"), mode="sync")
        own = snapshot_dirs(restored_root)[0][0]
        self.assertIn(f"loading snapshot {own}", r.output())
        self.assertEqual(r.recovered(), 20, "only the inserts after the restore's snapshot are replayed")
        self.check_items(self.connect(r), range(1, 121), "restored, then kill -9")

        # Recovery may also have to replay the restore itself (killed before its snapshot was
        # taken: here its snapshots are removed by hand), from the same directory.
        r2, r2db = self.fresh("replayed")
        r2db.call("@SnapshotRestore", e1["path"])
        self.insert_items(r2db, 101, 110)
        r2db.call("items.delete", 1)
        self.close_clients()
        r2.kill9()
        shutil.rmtree(os.path.join(self.tmp.name, "replayed", "snapshots"))
        self.assertEqual(log_segments(os.path.join(self.tmp.name, "replayed"))[0], 1)
        r2 = self.start(data_dir=os.path.join(self.tmp.name, "replayed"), mode="sync")
        self.assertNotIn("loaded snapshot", r2.output())
        self.assertEqual(r2.recovered(), 12, "the restore, 10 inserts and a delete")
        r2db = self.connect(r2)
        self.check_items(r2db, range(2, 111), "restore replayed from the log")
        self.close_clients()
        self.assertEqual(r2.stop(), 0)
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 7. Schema changes and writes while a snapshot's scans run.

class DdlDuringSnapshotTest(SnapshotCase):
    BIG_ROWS = 1 << 18  # about 30 MB: the scans take long enough to be caught running
    PAD = "p" * 100

    def test_ddl_while_scans_run(self):
        # The first snapshot's writer stalls for 2 s, so that it is certainly still being written
        # when @SnapshotDelete asks (the scans are not held up: they queue their rows).
        server = self.start(mode="sync", faults="snapshot.stall")
        db = self.connect(server)
        db.sql("CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, pad VARCHAR(200) NOT NULL); "
               "PARTITION TABLE big ON COLUMN id")
        db.sql("CREATE TABLE other (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(20)); "
               "PARTITION TABLE other ON COLUMN id")
        db.sql(f"INSERT INTO big VALUES (0, 0, '{self.PAD}')")
        n = 1
        while n < self.BIG_ROWS:
            db.sql(f"INSERT INTO big SELECT id + {n}, v, pad FROM big")
            n *= 2
        for i in range(10):
            db.call("other.insert", i, f"o{i}")
        db.sql("CREATE TABLE dupkey (id BIGINT NOT NULL PRIMARY KEY)")
        db.call("dupkey.insert", 1)
        ext = os.path.join(self.tmp.name, "ext")

        pending = db.call_async("@SnapshotSave", ext)
        self.wait_for("the snapshot to run", lambda: self.stats(db)["status"] == "running", timeout=5, interval=0)
        _, writing = snapshot_dirs(ext)
        self.assertEqual(len(writing), 1)
        # While it runs (every call is sent at once, so that all come before the scans end, in
        # whatever order they run; none depends on another's effect):
        last = self.BIG_ROWS - 1
        writes = [f"UPDATE big SET v = 7, pad = 'changed' WHERE id > {last - 10}",
                  f"DELETE FROM big WHERE id > {last - 20} AND id <= {last - 10}"]
        writes += [f"INSERT INTO big VALUES ({last - 15 - i}, 3, 'again')" for i in range(5)]
        writes += [f"INSERT INTO big VALUES ({10 ** 9 + i}, 1, 'new')" for i in range(3)]
        calls = {
            # a second snapshot is refused, and so is deleting this one;
            "save": db.call_async("@SnapshotSave", ext),
            "delete": db.call_async("@SnapshotDelete", writing[0]),
            # writes to rows the scans have not reached yet (the newest, at the end of the blocks)
            # are copied on write: a batch that rolls back, updates, deletes, keys deleted and
            # inserted again, new rows, an upsert;
            "rollback": db.call_async("@AdHoc", f"UPDATE big SET v = v + 100, pad = 'rolled back' "
                                                f"WHERE id > {last - 100}; INSERT INTO dupkey VALUES (1)"),
            "writes": db.call_async("@AdHoc", "; ".join(writes)),
            "upsert": db.call_async("big.upsert", last - 30, 5, "upserted"),
            # and the schema changes: the scans are completed first.
            "drop": db.call_async("@AdHoc", "DROP TABLE other"),
            "create": db.call_async("@AdHoc", "CREATE TABLE other2 (id BIGINT NOT NULL PRIMARY KEY, x INTEGER); "
                                              "PARTITION TABLE other2 ON COLUMN id"),
        }
        outcomes = {name: outcome_of(lambda: f.result(CALL_TIMEOUT)) for name, f in calls.items()}
        refused = {name: outcomes[name] for name in ("save", "delete", "rollback")}
        self.assertEqual({name: state for name, (state, _) in refused.items()},
                         {"save": "failed", "delete": "failed", "rollback": "failed"}, str(refused))
        self.assertIn("a snapshot is already being written", refused["save"][1].message)
        self.assertIn("duplicate", refused["rollback"][1].message)
        delete_refusal = refused["delete"][1]  # its wording is checked last
        self.assertEqual({name: state for name, (state, _) in outcomes.items() if name not in refused},
                         {"writes": "ok", "upsert": "ok", "drop": "ok", "create": "ok"}, str(outcomes))
        db.call("other2.insert", 1, 1)
        snap = pending.result(CALL_TIMEOUT)
        snap = dict(zip(snap.tables[0].columns, snap.rows[0]))
        self.assertRegex(server.output(), r"snapshot \S+: a schema change waited [\d.]+ ms for its scans to finish",
                         "the schema change did not meet a running snapshot: make the table bigger")
        self.assertEqual(snap["rows"], self.BIG_ROWS + 10 + 1, "big, other and dupkey")

        # The live database has every change ...
        live = (db.sql("SELECT COUNT(*), SUM(v) FROM big").rows, db.sql("SELECT * FROM other2").rows)
        self.assertEqual(live, ([(self.BIG_ROWS - 10 + 5 + 3, 10 * 7 + 5 * 3 + 3 * 1 + 5)], [(1, 1)]))
        self.expect_error(lambda: db.sql("SELECT * FROM other"), "SQL_ERROR")
        # ... and the snapshot none: restored into a fresh server, it is the state at its cut.
        _, fdb = self.fresh("restored")
        fdb.call("@SnapshotRestore", snap["path"])
        self.assertEqual(fdb.sql("SELECT COUNT(*), SUM(v), MAX(id) FROM big").rows, [(self.BIG_ROWS, 0, last)])
        self.assertEqual(fdb.sql(f"SELECT COUNT(*) FROM big WHERE id > {last - 100} AND pad = '{self.PAD}'").rows,
                         [(100,)], "the cut's versions of the rows changed during the scan")
        self.assertEqual(sorted(fdb.sql("SELECT * FROM other").rows), [(i, f"o{i}") for i in range(10)])
        self.expect_error(lambda: fdb.sql("SELECT * FROM other2"), "SQL_ERROR")

        # A snapshot after the schema changes holds their history (other created, then dropped):
        # restored (the history as one batch) and recovered (batch by batch), the schema is today's.
        after = self.save(db)
        _, adb = self.fresh("restored-after")
        adb.call("@SnapshotRestore", after["path"])
        self.assertEqual((adb.sql("SELECT COUNT(*), SUM(v) FROM big").rows, adb.sql("SELECT * FROM other2").rows),
                         live)
        self.expect_error(lambda: adb.sql("SELECT * FROM other"), "SQL_ERROR")
        db.call("other2.insert", 2, 2)
        self.close_clients()
        server.kill9()
        server = self.start(mode="sync")
        self.assertIn(f"loaded snapshot {after['path']}", server.output())
        db = self.connect(server)
        self.assertEqual((db.sql("SELECT COUNT(*), SUM(v) FROM big").rows,
                          sorted(db.sql("SELECT * FROM other2").rows)), (live[0], [(1, 1), (2, 2)]))
        self.expect_error(lambda: db.sql("SELECT * FROM other"), "SQL_ERROR")

        # SIGTERM while a snapshot runs: the server answers it (done or failed) and exits 0.
        with server.client() as c:
            pending = c.call_async("@SnapshotSave")
            self.wait_for("the snapshot to run", lambda: self.stats(db)["status"] == "running", timeout=5, interval=0)
            self.close_clients()
            self.assertEqual(server.stop(), 0)
            state, res = outcome_of(lambda: pending.result(CALL_TIMEOUT))
        self.assertNotEqual(state, "unknown", f"@SnapshotSave was not answered at SIGTERM: {res}")
        complete, incomplete = snapshot_dirs(os.path.join(self.data_dir, "snapshots"))
        if state == "ok":
            self.assertIn(res.rows[0][1], complete, "answered OK, yet not complete")
        else:
            self.assertEqual(len(incomplete), 0, f"the failed snapshot ({res}) left a directory")
        print(f"\n  @SnapshotSave during SIGTERM: {state} ({getattr(res, 'message', '') or 'complete'})", flush=True)

        # The refused @SnapshotDelete of the snapshot being written said why.
        self.assertIn("is being written", delete_refusal.message,
                      f"@SnapshotDelete of a snapshot being written: {delete_refusal}")


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        test_durability.SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if not test_durability.SURGED or not os.path.exists(test_durability.SURGED):
        sys.exit("usage: test_snapshots.py --surged PATH")
    unittest.main(verbosity=2)
