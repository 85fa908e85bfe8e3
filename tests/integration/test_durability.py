"""Jepsen-style durability tests of surged's command log: crash the real server with kill -9 (and
with injected log faults) while clients write, restart it on the same data directory, and check
that what recovery rebuilt agrees with what the clients were told.

Every call's outcome is one of
  ok       the server answered OK: the change must survive (sync mode: it was fsynced first);
  failed   the server answered a status that says the call did not run or rolled back
           (SQL_ERROR, OVERLOADED, SHUTTING_DOWN, TIMEOUT, ...): the change must never appear;
  unknown  no answer (connection dropped by the kill, deadline), OUTCOME_UNKNOWN (the call ran
           but the command log failed before it was durable) or UNAVAILABLE (the clients' word
           for a lost connection; the server's for a refusal after the log failed): the change
           may or may not appear, but once a restart shows which, it must stay that way. (A
           server refusal is also checked to be absent where the test can tell it apart.)

The tests:
  SyncCrashTest      kill -9 under a mixed load (unique inserts, counters, multi-partition
                     transfers, calls that must fail) in sync mode, restart, check; 3 cycles.
  AsyncLossTest      async mode loses only the acknowledgements of the last interval, and only a
                     suffix of each client's calls; SIGTERM under load loses nothing.
  FaultTest          SURGED_FAULTS: failed fsync / write / short write make the log sticky-failed
                     and lose nothing acknowledged; a torn write is dropped at recovery, once.
  RestartTest        NOW() and transaction ids survive restarts; one surged per data directory;
                     a restart with another partition count or with the log off is refused.

    python3 test_durability.py --surged PATH/TO/surged [--soak SECONDS]

--soak repeats the sync-mode crash cycle (test_sync_kill9_cycles) for that many seconds.
Environment: SURGE_DURABILITY_SEED fixes the crash test's random choices (thread timing still
varies); SURGE_DURABILITY_KEEP=1 keeps each test's data directory and server logs.
"""
import collections
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import surgedb
from test_server import free_port

SURGED = None
SOAK_SECONDS = 0.0

# Statuses with which the server says the call did not run (or ran and rolled back). Everything
# else, including every transport error the client reports (UNAVAILABLE, DEADLINE_EXCEEDED,
# CANCELLED, INTERNAL, UNKNOWN...) and the server's own UNAVAILABLE for a failed command log,
# leaves the outcome unknown.
DEFINITE_FAILURES = {"SQL_ERROR", "OVERLOADED", "SHUTTING_DOWN", "TIMEOUT", "UNKNOWN_PROCEDURE",
                     "INVALID_PARAMETER", "USER_ABORT"}
CALL_TIMEOUT = 10.0  # seconds, on every client call: nothing may hang


def outcome_of(fn):
    """Runs one call: ("ok", response) | ("failed", error) | ("unknown", error)."""
    try:
        return "ok", fn()
    except surgedb.Error as e:
        return ("failed" if e.status in DEFINITE_FAILURES else "unknown"), e
    except Exception as e:  # anything odd from the transport: the call may or may not have run
        return "unknown", e


class Surged:
    """One surged process on a given data directory; start another on the same directory to
    restart it."""

    def __init__(self, data_dir, log_path, *args, mode="sync", faults=None, partitions=2, wait=True):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w+")
        env = dict(os.environ)
        env.pop("SURGED_FAULTS", None)
        if faults:
            env["SURGED_FAULTS"] = faults
        # info: recovery's "recovered N transactions" line is logged at info level.
        self.proc = subprocess.Popen(
            [SURGED, "--port", str(self.port), "--partitions", str(partitions), "--data-dir", data_dir,
             "--command-log", mode, "--log-level", "info", *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                with surgedb.connect(self.address, timeout=2) as c:
                    c.call("@Ping")
                return
            except surgedb.Error:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"surged did not start (exit {self.proc.poll()}):\n{self.output()[-5000:]}")
                time.sleep(0.05)

    def client(self):
        return surgedb.connect(self.address, timeout=CALL_TIMEOUT)

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)

    def stop(self, timeout=20):
        """SIGTERM; returns the exit code (fails the test if it does not exit in time)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"surged did not stop within {timeout} s of SIGTERM:\n{self.output()[-5000:]}")
            if self.proc.returncode != 0:
                # Keep the evidence (a sanitizer's report is written at exit) for whoever reads the
                # test log; the caller decides whether this exit code is a failure.
                text = self.output()
                start = text.find("WARNING: ThreadSanitizer")
                if start < 0:
                    start = text.find("ERROR: AddressSanitizer")
                excerpt = text[start:start + 20000] if start >= 0 else text[-5000:]
                print(f"surged exited with {self.proc.returncode} after SIGTERM; its output:\n{excerpt}",
                      file=sys.stderr)
        return self.proc.returncode

    def recovered(self):
        """The N of "recovered N transactions" (0 for a new database, None if not logged)."""
        text = self.output()
        m = re.search(r"recovered (\d+) transactions", text)
        if m:
            return int(m.group(1))
        return 0 if "new database" in text else None

    def segments(self):
        m = re.search(r"recovered \d+ transactions \(log up to LSN \d+, (\d+) segments\)", self.output())
        return int(m.group(1)) if m else None


class DurabilityCase(unittest.TestCase):
    """A temporary directory holding one data directory, and every surged the test starts (all
    killed in tearDown)."""

    maxDiff = None

    def setUp(self):
        # SURGE_DURABILITY_KEEP=1 keeps each test's directory (data and server logs) for a post-mortem.
        self.tmp = tempfile.TemporaryDirectory(prefix="surge-durability-")
        if os.environ.get("SURGE_DURABILITY_KEEP"):
            self.tmp._finalizer.detach()
            self.tmp.cleanup = lambda: print(f"\n  kept {self.tmp.name}", flush=True)
        self.data_dir = os.path.join(self.tmp.name, "data")
        self.servers = []
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        for s in self.servers:
            try:
                if s.alive():
                    s.proc.kill()
                s.proc.wait(10)
            except Exception:
                pass
            # A server that died by itself (a crash, a sanitizer's report) leaves its reason in
            # its log, which goes with the directory: show it.
            if s.proc.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                print(f"\nsurged ({s.log_path}) exited with {s.proc.returncode}; the end of its output:\n"
                      f"{s.output()[-20000:]}", file=sys.stderr)
            s.log.close()
        self.tmp.cleanup()

    def start(self, *args, data_dir=None, **kw):
        log = os.path.join(self.tmp.name, f"surged-{len(self.servers)}.log")
        s = Surged(data_dir or self.data_dir, log, *args, wait=False, **kw)
        self.servers.append(s)  # first, so that tearDown kills it even if it never answers
        s.wait_ready()
        return s

    def connect(self, server):
        c = server.client()
        self.clients.append(c)
        return c

    def close_clients(self):
        # Open channels slow down a graceful stop: close them first.
        for c in self.clients:
            c.close()
        self.clients = []


# ---------------------------------------------------------------------------------------------
# 1. Crash test, sync mode.

SCHEMA = [
    "CREATE TABLE events (id BIGINT NOT NULL PRIMARY KEY, writer INTEGER NOT NULL, payload VARCHAR(2000) NOT NULL)",
    "PARTITION TABLE events ON COLUMN id",
    "CREATE PROCEDURE AddEvent PARTITION ON TABLE events COLUMN id PARAMETER 0 AS INSERT INTO events VALUES (?, ?, ?)",
    "CREATE TABLE counters (k BIGINT NOT NULL PRIMARY KEY, n BIGINT NOT NULL)",
    "PARTITION TABLE counters ON COLUMN k",
    "CREATE PROCEDURE Bump PARTITION ON TABLE counters COLUMN k PARAMETER 0 AS "
    "UPDATE counters SET n = n + 1 WHERE k = ?",
    "CREATE TABLE accounts (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)",
    "PARTITION TABLE accounts ON COLUMN id",
    "CREATE TABLE transfers_log (id BIGINT NOT NULL PRIMARY KEY, src BIGINT NOT NULL, dst BIGINT NOT NULL, "
    "amount BIGINT NOT NULL)",
    "PARTITION TABLE transfers_log ON COLUMN id",
]
EVENT_DDL = "; ".join(SCHEMA[:3])  # one schema change, so one log record (and one write + fsync)
ACCOUNTS = 16
INITIAL_BALANCE = 1000
COUNTER_KEYS = 8
WORKERS = 4


def transfer_sql(tid, src, dst, amount, twice=False):
    """One @AdHoc batch, so one multi-partition transaction: debit, credit, log row. (@AdHoc takes
    ? parameters only with a single statement, so the values are literals; all are integers.) With
    twice, the log row is inserted twice: the batch fails on its last statement and must leave
    nothing behind."""
    sql = (f"UPDATE accounts SET balance = balance - {amount} WHERE id = {src}; "
           f"UPDATE accounts SET balance = balance + {amount} WHERE id = {dst}; "
           f"INSERT INTO transfers_log VALUES ({tid}, {src}, {dst}, {amount})")
    if twice:
        sql += f"; INSERT INTO transfers_log VALUES ({tid}, {src}, {dst}, {amount})"
    return sql


class History:
    """What the clients were told, and what restarts showed about the unknown calls.

    events / transfers: id -> [state, value] with state one of ok, failed, unknown (this cycle),
    present, absent (an unknown call that a restart showed applied or not)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.events = {}
        self.transfers = {}
        self.ok_event_ids = []
        self.ok_transfer_ids = []
        self.counter_base = {k: 0 for k in range(COUNTER_KEYS)}
        self.bumps = {k: collections.Counter() for k in range(COUNTER_KEYS)}  # ok / unknown this cycle
        self.tally = collections.Counter()  # outcome counts this cycle
        self.errors = collections.Counter()  # status counts this cycle
        self.unexpected = []  # outcomes that are wrong whatever the log does
        self.setup_records = 0
        self.writes_ok = 0  # every ok writing call since the database was created (one record each)

    def note(self, op, state, err):
        self.tally[state] += 1
        if err is not None:
            self.errors[getattr(err, "status", type(err).__name__)] += 1

    def run_op(self, db, rng, writer):
        r = rng.random()
        if r < 0.42:  # a unique insert (single-partition procedure)
            eid = next(self.ids)
            # Long enough that the log crosses 1 MiB segments within a few cycles.
            payload = f"w{writer}-{rng.randrange(10 ** 9)}-" + "x" * rng.randrange(1500)
            if rng.random() < 0.8:
                state, res = outcome_of(lambda: db.call("AddEvent", eid, writer, payload))
            else:  # ad-hoc, pinned to the row's partition: logged as @AdHoc with its parameters
                state, res = outcome_of(lambda: db.sql("INSERT INTO events VALUES (?, ?, ?)", eid, writer, payload))
            with self.lock:
                self.events[eid] = [state, (writer, payload)]
                if state == "ok":
                    self.ok_event_ids.append(eid)
                    self.writes_ok += 1
                self.note("event", state, res if state != "ok" else None)
                if state == "failed":
                    self.unexpected.append(f"AddEvent({eid}) failed: {res}")
        elif r < 0.70:  # an increment (single-partition UPDATE)
            k = rng.randrange(COUNTER_KEYS)
            if rng.random() < 0.8:
                state, res = outcome_of(lambda: db.call("Bump", k))
            else:
                state, res = outcome_of(lambda: db.sql("UPDATE counters SET n = n + 1 WHERE k = ?", k))
            with self.lock:
                self.note("bump", state, res if state != "ok" else None)
                if state == "ok":
                    self.writes_ok += 1
                    if res.modified != 1:
                        self.unexpected.append(f"Bump({k}) modified {res.modified} rows")
                if state == "failed":
                    self.unexpected.append(f"Bump({k}) failed: {res}")
                else:
                    self.bumps[k][state] += 1
        elif r < 0.92:  # a transfer (multi-partition @AdHoc batch)
            tid = next(self.ids)
            src, dst = rng.sample(range(ACCOUNTS), 2)
            amount = rng.randint(1, 50)
            state, res = outcome_of(lambda: db.sql(transfer_sql(tid, src, dst, amount)))
            with self.lock:
                self.transfers[tid] = [state, (src, dst, amount)]
                if state == "ok":
                    self.ok_transfer_ids.append(tid)
                    self.writes_ok += 1
                self.note("transfer", state, res if state != "ok" else None)
                if state == "failed":
                    self.unexpected.append(f"transfer {tid} failed: {res}")
        else:  # calls that must fail, and must leave no trace
            kind = rng.randrange(4)
            with self.lock:
                old_event = rng.choice(self.ok_event_ids) if self.ok_event_ids else None
                old_transfer = rng.choice(self.ok_transfer_ids) if self.ok_transfer_ids else None
            if kind == 0 and old_event is not None:
                # A duplicate key with another payload: the original row must stay as it was.
                state, res = outcome_of(lambda: db.call("AddEvent", old_event, writer, "duplicate"))
                with self.lock:
                    self.note("dup-event", state, res if state != "ok" else None)
                    if state == "ok":
                        self.unexpected.append(f"duplicate AddEvent({old_event}) succeeded")
            elif kind == 1 and old_transfer is not None:
                # Both UPDATEs run, then the insert fails: the batch must roll back as a whole.
                src, dst = rng.sample(range(ACCOUNTS), 2)
                state, res = outcome_of(lambda: db.sql(transfer_sql(old_transfer, src, dst, 7)))
                with self.lock:
                    self.note("dup-transfer", state, res if state != "ok" else None)
                    if state == "ok":
                        self.unexpected.append(f"duplicate transfer {old_transfer} succeeded")
            elif kind == 2:
                # A fresh transfer id whose batch fails on its last statement: the id must never
                # appear (nor the balance changes).
                tid = next(self.ids)
                src, dst = rng.sample(range(ACCOUNTS), 2)
                amount = rng.randint(1, 50)
                state, res = outcome_of(lambda: db.sql(transfer_sql(tid, src, dst, amount, twice=True)))
                with self.lock:
                    self.transfers[tid] = [state, (src, dst, amount)]
                    self.note("bad-transfer", state, res if state != "ok" else None)
                    if state == "ok":
                        self.unexpected.append(f"transfer {tid} inserting its row twice succeeded")
            else:
                # NOT NULL violated: a definite failure whose id must never appear.
                eid = next(self.ids)
                state, res = outcome_of(lambda: db.call("AddEvent", eid, writer, None))
                with self.lock:
                    self.events[eid] = [state, (writer, None)]
                    self.note("null-event", state, res if state != "ok" else None)
                    if state == "ok":
                        self.unexpected.append(f"AddEvent({eid}, NULL payload) succeeded")


class SyncCrashTest(DurabilityCase):
    # Small segments, so that recovery reads several and a kill may land near a segment switch.
    SMALL_SEGMENTS = ("--command-log-segment-mb", "1")

    def setup_schema(self, db):
        for stmt in SCHEMA:
            db.sql(stmt)
        for k in range(COUNTER_KEYS):
            db.call("counters.insert", k, 0)
        for a in range(ACCOUNTS):
            db.call("accounts.insert", a, INITIAL_BALANCE)
        return len(SCHEMA) + COUNTER_KEYS + ACCOUNTS  # records logged

    def check_ledger(self, where, what, ledger, rows, resolved):
        """ledger: id -> [state, value] as the clients saw it; rows: id -> value as recovered. An ok
        (or once-seen) row is there unchanged, a failed (or once-absent) one is not, an unknown one
        may be either and is pinned from now on; no row appears that no client wrote."""
        for key, entry in ledger.items():
            state, value = entry
            present = key in rows
            if state in ("ok", "present"):
                self.assertTrue(present, f"{where}: {what} {key} ({state}) is missing")
                self.assertEqual(rows[key], value, f"{where}: {what} {key} changed")
            elif state in ("failed", "absent"):
                self.assertFalse(present, f"{where}: {what} {key} ({state}) is present: {rows.get(key)}")
            else:  # unknown: either, and from now on it stays so
                if present:
                    self.assertEqual(rows[key], value, f"{where}: {what} {key} has another value")
                entry[0] = "present" if present else "absent"
                resolved[entry[0]] += 1
        phantom = set(rows) - set(ledger)
        self.assertFalse(phantom, f"{where}: {what}s nobody wrote: {sorted(phantom)[:10]}")

    def check(self, db, h, server, cycle):
        """Compares the recovered database with the history; resolves this cycle's unknowns."""
        where = f"after restart {cycle}"
        # The same transactions the log holds: at least every ok writing call.
        recovered = server.recovered()
        self.assertIsNotNone(recovered, f"{where}: no 'recovered N transactions' line:\n{server.output()}")
        self.assertGreaterEqual(recovered, h.setup_records + h.writes_ok, where)

        rows = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM events").rows}
        resolved = collections.Counter()
        self.check_ledger(where, "event", h.events, rows, resolved)

        counters = dict(db.sql("SELECT k, n FROM counters").rows)
        self.assertEqual(sorted(counters), list(range(COUNTER_KEYS)), where)
        for k in range(COUNTER_KEYS):
            lo = h.counter_base[k] + h.bumps[k]["ok"]
            hi = lo + h.bumps[k]["unknown"]
            self.assertTrue(lo <= counters[k] <= hi,
                            f"{where}: counter {k} = {counters[k]}, expected {lo}..{hi} "
                            f"(base {h.counter_base[k]}, ok {h.bumps[k]['ok']}, unknown {h.bumps[k]['unknown']})")
            h.counter_base[k] = counters[k]
            h.bumps[k] = collections.Counter()

        log_rows = {r[0]: (r[1], r[2], r[3]) for r in db.sql("SELECT id, src, dst, amount FROM transfers_log").rows}
        self.check_ledger(where, "transfer", h.transfers, log_rows, resolved)

        # All or nothing: each balance is the initial one plus the net of the transfer rows present.
        balances = dict(db.sql("SELECT id, balance FROM accounts").rows)
        self.assertEqual(sorted(balances), list(range(ACCOUNTS)), where)
        expected = {a: INITIAL_BALANCE for a in range(ACCOUNTS)}
        for src, dst, amount in log_rows.values():
            expected[src] -= amount
            expected[dst] += amount
        self.assertEqual(sum(balances.values()), ACCOUNTS * INITIAL_BALANCE, f"{where}: money was made or lost")
        self.assertEqual(balances, expected, f"{where}: balances disagree with the transfers present")
        # The multi-partition read agrees with the single-partition view of each row.
        self.assertEqual(db.sql("SELECT SUM(balance) FROM accounts").rows, [(ACCOUNTS * INITIAL_BALANCE,)])
        return recovered, resolved, len(rows), len(log_rows)

    def run_load(self, server, h, seconds, seed):
        stop = threading.Event()
        clients = [server.client() for _ in range(WORKERS)]

        def work(i):
            rng = random.Random(seed * 100 + i)
            try:
                while not stop.is_set():
                    h.run_op(clients[i], rng, i)
            except Exception as e:  # a bug in this test: fail it rather than lose the thread quietly
                with h.lock:
                    h.unexpected.append(f"client thread {i} died: {e!r}")

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(WORKERS)]
        try:
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()      # no new calls (one racing past the check fails to connect: unknown) ...
            server.kill9()  # ... and whatever is in flight now is unknown
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
            self.assertFalse(any(t.is_alive() for t in threads), "a client thread hung after the kill")
        finally:
            stop.set()
            for c in clients:
                c.close()
        self.assertEqual(server.proc.returncode, -signal.SIGKILL,
                         f"surged exited by itself before the kill:\n{server.output()[-5000:]}")

    def log_bytes(self):
        d = os.path.join(self.data_dir, "cmdlog")
        return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))

    def start_sync(self, window):
        """A sync-mode server with small segments and the given group commit window (ms; None:
        the default)."""
        args = list(self.SMALL_SEGMENTS)
        if window is not None:
            args += ["--command-log-interval-ms", str(window)]
        return self.start(*args, mode="sync")

    def test_sync_kill9_cycles(self):
        seed = int(os.environ.get("SURGE_DURABILITY_SEED") or random.randrange(10 ** 6))
        print(f"\n  sync crash test: seed {seed} (SURGE_DURABILITY_SEED; thread timing still varies)", flush=True)
        rng = random.Random(seed)
        windows = [None, 0, 10]  # group commit: the default 2 ms, back to back, 10 ms
        h = History()
        window = rng.choice(windows)
        server = self.start_sync(window)
        with server.client() as db:
            h.setup_records = self.setup_schema(db)
        cycles = 3
        t0 = time.time()
        cycle = 0
        while cycle < cycles or time.time() - t0 < SOAK_SECONDS:
            cycle += 1
            h.tally.clear()
            h.errors.clear()
            seconds = rng.uniform(0.5, 2.0)
            self.run_load(server, h, seconds, seed + cycle)
            killed_window = window
            window = rng.choice(windows)
            server = self.start_sync(window)
            with server.client() as db:
                recovered, resolved, n_events, n_transfers = self.check(db, h, server, cycle)
            self.assertEqual(h.unexpected, [], f"cycle {cycle}: wrong answers")
            errors = ", ".join(f"{k} {v}" for k, v in sorted(h.errors.items()))
            window_text = "default" if killed_window is None else f"{killed_window} ms"
            print(f"  cycle {cycle}: kill -9 after {seconds:.2f} s (group commit {window_text}): ok {h.tally['ok']}, "
                  f"failed {h.tally['failed']}, unknown {h.tally['unknown']} (applied {resolved['present']}, "
                  f"not {resolved['absent']}); recovered {recovered} txns "
                  f"({server.segments()} segments, {self.log_bytes() >> 10} KiB), {n_events} events, "
                  f"{n_transfers} transfers; errors: {errors or '-'}", flush=True)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


    def test_stream_batches_are_logged_in_order(self):
        # A stream read's calls run on their partition as one task, and their records are appended
        # to the log together after the task. Sync mode answers each only once durable, so a kill -9
        # right after the answers loses none; async mode loses none on a clean stop. Replay keeps
        # each partition's order (an update follows its insert in the same batch).
        for mode in ("sync", "async"):
            with self.subTest(mode=mode):
                data_dir = os.path.join(self.tmp.name, f"batches-{mode}")
                server = self.start(mode=mode, data_dir=data_dir)
                db = self.connect(server)
                db.sql("CREATE TABLE sb (id BIGINT NOT NULL PRIMARY KEY, v INTEGER NOT NULL); "
                       "PARTITION TABLE sb ON COLUMN id")
                calls, expect_ok = [], []
                for i in range(3000):
                    calls += [("sb.insert", i, 0), ("sb.update", i, 1, i), ("sb.select", i)]
                    expect_ok += [True, True, True]
                    if i % 100 == 99:
                        calls.append(("sb.insert", i, 5))  # a duplicate key: fails, logs nothing
                        expect_ok.append(False)
                out = db.call_many(calls, batch=1000)
                self.assertEqual([isinstance(r, surgedb.Response) for r in out], expect_ok)
                self.assertTrue(all(r.rows == [(c[1], 1)] for c, r in zip(calls, out) if c[0] == "sb.select"))
                self.close_clients()
                if mode == "sync":
                    server.kill9()
                else:
                    self.assertEqual(server.stop(), 0)
                server = self.start(mode=mode, data_dir=data_dir)
                db = self.connect(server)
                self.assertEqual(server.recovered(), 1 + 2 * 3000)  # the DDL batch, the inserts and updates
                self.assertEqual(dict(db.sql("SELECT id, v FROM sb").rows), {i: 1 for i in range(3000)})
                self.close_clients()
                self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 2. Async mode: bounded loss.

class AsyncLossTest(DurabilityCase):
    INTERVAL_MS = 100
    MARGIN_S = 0.3

    def test_async_kill9_loses_only_the_last_interval(self):
        server = self.start("--command-log-interval-ms", str(self.INTERVAL_MS), mode="async")
        db = self.connect(server)
        db.sql(SCHEMA[0])
        db.sql(SCHEMA[1])
        db.sql(SCHEMA[2])
        writers = 2
        acks = [[] for _ in range(writers)]  # per writer: (id, state, ack time)
        stop = threading.Event()
        clients = [server.client() for _ in range(writers)]

        def work(w):
            # Each writer's calls are sequential, so its records reach the log in call order: what
            # survives must be a prefix of its calls.
            for i in itertools.count():
                if stop.is_set():
                    return
                eid = w * 10 ** 9 + i
                state, res = outcome_of(lambda: clients[w].call("AddEvent", eid, w, f"a{i}"))
                acks[w].append((eid, state, time.monotonic(), res))

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(writers)]
        for t in threads:
            t.start()
        try:
            time.sleep(random.uniform(1.2, 1.8))  # a random phase of the writer's interval
            stop.set()
            killed_at = time.monotonic()
            server.kill9()
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
            self.assertFalse(any(t.is_alive() for t in threads))
        finally:
            stop.set()
            for c in clients:
                c.close()

        server = self.start("--command-log-interval-ms", str(self.INTERVAL_MS), mode="async")
        db = self.connect(server)
        present = {r[0] for r in db.sql("SELECT id FROM events").rows}
        horizon = killed_at - (self.INTERVAL_MS / 1000 + self.MARGIN_S)
        ok = lost_recent = lost_old = 0
        for w in range(writers):
            calls = acks[w]
            failed = [(eid, res) for eid, state, _, res in calls if state == "failed"]
            self.assertEqual(failed, [], "an insert of a fresh id failed")
            for eid, state, t, _ in calls:
                if state != "ok":
                    continue
                ok += 1
                if eid not in present:
                    if t < horizon:
                        lost_old += 1
                    else:
                        lost_recent += 1
            mine = sorted(eid - w * 10 ** 9 for eid in present if eid // 10 ** 9 == w)
            self.assertEqual(mine, list(range(len(mine))), f"writer {w}: what survived is not a prefix of its calls")
            self.assertLessEqual(len(mine), len(calls), f"writer {w}: more rows than calls")
        self.assertEqual(lost_old, 0, f"{lost_old} inserts acknowledged more than {self.INTERVAL_MS} ms + "
                                      f"{self.MARGIN_S * 1000:.0f} ms before the kill were lost")
        issued = {eid for w in range(writers) for eid, _, _, _ in acks[w]}
        self.assertEqual(present - issued, set(), "rows nobody inserted")
        self.assertGreater(ok, 0)
        last_ack = max(t for w in range(writers) for _, state, t, _ in acks[w] if state == "ok")
        print(f"\n  async ({self.INTERVAL_MS} ms): {ok} acknowledged, {len(present)} recovered, "
              f"{lost_recent} recent acks lost (within {self.INTERVAL_MS} ms + margin of the kill; the last ack "
              f"came {(killed_at - last_ack) * 1000:.1f} ms before it)", flush=True)
        self.close_clients()
        server.stop()

    def test_sigterm_under_load_keeps_every_acknowledged_call(self):
        # A graceful stop writes and fsyncs whatever was appended, even in async mode: nothing
        # acknowledged is lost, and calls refused SHUTTING_DOWN did not run.
        server = self.start("--command-log-interval-ms", "200", mode="async")
        db = self.connect(server)
        db.sql(EVENT_DDL)
        self.close_clients()
        outcomes = {}
        lock = threading.Lock()
        ids = itertools.count(1)

        def work(w):
            with server.client() as c:
                while True:
                    eid = next(ids)
                    state, res = outcome_of(lambda: c.call("AddEvent", eid, w, f"s{eid}"))
                    with lock:
                        outcomes[eid] = (state, res)
                    if state != "ok":
                        return  # closes the channel, so that the server's stop does not wait for it

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.8)
        self.assertEqual(server.stop(), 0)
        for t in threads:
            t.join(CALL_TIMEOUT + 5)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertNotIn("dropped", server.output())

        server = self.start(mode="async")
        db = self.connect(server)
        present = {r[0] for r in db.sql("SELECT id FROM events").rows}
        ok = {eid for eid, (s, _) in outcomes.items() if s == "ok"}
        failed = {eid for eid, (s, _) in outcomes.items() if s == "failed"}
        self.assertEqual(ok - present, set(), "acknowledged before SIGTERM, lost by a clean stop")
        self.assertEqual(failed & present, set(), "refused (SHUTTING_DOWN...) yet applied")
        self.assertTrue(present <= set(outcomes))
        statuses = collections.Counter(getattr(r, "status", "?") for s, r in outcomes.values() if s != "ok")
        print(f"\n  async SIGTERM under load: {len(ok)} ok, all recovered; refusals: {dict(statuses)}", flush=True)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 3. Injected write / fsync failures, and 4. a torn write.


class FaultTest(DurabilityCase):
    def fault_case(self, point):
        server = self.start(mode="sync", faults=f"{point}@5")
        db = self.connect(server)
        db.sql(EVENT_DDL)  # hit 1 of the fault point
        outcomes = {}  # id -> (state, error)
        lock = threading.Lock()
        ids = itertools.count(1)
        clients = [server.client() for _ in range(3)]
        deadline = time.time() + 10

        def work(w):
            while time.time() < deadline:
                eid = next(ids)
                state, res = outcome_of(lambda: clients[w].call("AddEvent", eid, w, f"f{eid}"))
                with lock:
                    outcomes[eid] = (state, res)
                if state != "ok":
                    return

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(CALL_TIMEOUT + 15)
        self.assertFalse(any(t.is_alive() for t in threads))
        for c in clients:
            c.close()
        ok = [eid for eid, (s, _) in outcomes.items() if s == "ok"]
        bad = {eid: res for eid, (s, res) in outcomes.items() if s != "ok"}
        self.assertGreaterEqual(len(ok), 1, f"{point}: no call succeeded before the fault")
        self.assertTrue(bad, f"{point}: the fault never fired")
        for eid, res in bad.items():
            self.assertIn(getattr(res, "status", None), ("OUTCOME_UNKNOWN", "UNAVAILABLE"),
                          f"{point}: call {eid}: {res}")
        # Refused after the failure (the server's UNAVAILABLE names the command log): did not run.
        refused = [eid for eid, res in bad.items()
                   if getattr(res, "status", None) == "UNAVAILABLE" and "command log" in getattr(res, "message", "")]
        self.assertTrue(server.alive(), f"{point}: surged died:\n{server.output()[-3000:]}")
        # The failure is sticky: every transaction is refused (reads too) ...
        for call in [("AddEvent", 10 ** 9, 0, "late"), ("@AdHoc", "SELECT COUNT(*) FROM events"),
                     ("events.select", 1)]:
            with self.assertRaises(surgedb.Error, msg=f"{point}: {call[0]} ran after the log failed") as cm:
                db.call(*call)
            self.assertEqual(cm.exception.status, "UNAVAILABLE", str(cm.exception))
            self.assertIn("command log", cm.exception.message)
        # (@Ping and @Statistics should still answer: test_system_procedures_answer_after_log_failure.)
        self.close_clients()
        code = server.stop()
        self.assertIn(point, server.output())

        server = self.start(mode="sync")
        db = self.connect(server)
        present = {r[0]: r[2] for r in db.sql("SELECT * FROM events").rows}
        missing = [eid for eid in ok if eid not in present]
        self.assertEqual(missing, [], f"{point}: acknowledged inserts lost")
        self.assertEqual([eid for eid in refused if eid in present], [], f"{point}: refused calls ran")
        self.assertEqual({eid: f"f{eid}" for eid in present}, present)
        self.assertTrue(set(present) <= set(outcomes), f"{point}: rows nobody inserted")
        torn = "dropped" in server.output()
        print(f"\n  {point}@5: {len(ok)} ok, {len(bad)} unknown (of which {len(set(bad) & set(present))} "
              f"recovered); exit {code} on SIGTERM after the failure; torn tail dropped at restart: "
              f"{'yes' if torn else 'no'}", flush=True)
        # The restarted server takes writes again; and a second restart recovers the same.
        db.call("AddEvent", 10 ** 9 + 1, 0, "after")
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        server = self.start(mode="sync")
        db = self.connect(server)
        again = {r[0]: r[2] for r in db.sql("SELECT * FROM events").rows}
        self.assertEqual(again, {**present, 10 ** 9 + 1: "after"})
        self.assertNotIn("dropped", server.output())
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_fsync_failure(self):
        self.fault_case("cmdlog.fsync")

    def test_short_write(self):
        self.fault_case("cmdlog.short_write")

    def test_write_failure(self):
        self.fault_case("cmdlog.write")

    def test_system_procedures_answer_after_log_failure(self):
        # docs/adr/0009: after a log failure "@Ping, @Statistics and @Shutdown still answer".
        for mode in ["async", "sync"]:
            with self.subTest(mode=mode):
                server = self.start("--command-log-interval-ms", "20", mode=mode, faults="cmdlog.fsync@2",
                                    data_dir=os.path.join(self.tmp.name, mode))
                db = self.connect(server)
                db.sql(EVENT_DDL)  # fsync 1 (async: at the next interval)
                time.sleep(0.1)
                outcome_of(lambda: db.call("AddEvent", 1, 0, "x"))  # fsync 2 fails (async: answered first)
                deadline = time.time() + 10
                while time.time() < deadline:  # async: until the failure shows
                    state, res = outcome_of(lambda: db.call("AddEvent", 2, 0, "y"))
                    if state != "ok":
                        break
                    time.sleep(0.05)
                self.assertIn(getattr(res, "status", None), ("OUTCOME_UNKNOWN", "UNAVAILABLE"), str(res))
                problems = []
                for call in [("@Ping",), ("@Statistics", "COMMANDLOG"), ("@Statistics", "PARTITIONCOUNT")]:
                    state, res = outcome_of(lambda: db.call(*call))
                    if state != "ok":
                        problems.append(f"{' '.join(call)}: {getattr(res, 'status', '')} "
                                        f"{getattr(res, 'message', res)}")
                    elif call[1:] == ("COMMANDLOG",):
                        self.assertIn("fault cmdlog.fsync", res.rows[0][1])
                state, res = outcome_of(lambda: db.call("@Shutdown"))
                if state != "ok":
                    problems.append(f"@Shutdown: {getattr(res, 'status', '')} {getattr(res, 'message', res)}")
                self.close_clients()
                server.proc.wait(20)  # it stops whatever its answer said
                self.assertEqual(problems, [], f"{mode}: refused after the command log failed")

    def test_torn_write_then_exit(self):
        # One sequential client, so each write is one record and half of it is a torn record.
        server = self.start(mode="sync", faults="cmdlog.torn_exit@4")
        db = self.connect(server)
        db.sql(EVENT_DDL)  # write 1
        ok, unknown = [], []
        for eid in range(1, 100):
            state, res = outcome_of(lambda: db.call("AddEvent", eid, 0, f"t{eid}"))
            if state == "ok":
                ok.append(eid)
                continue
            self.assertEqual(state, "unknown", str(res))
            unknown.append(eid)
            break
        self.assertEqual(server.proc.wait(20), 70, server.output()[-3000:])
        self.assertEqual(ok, [1, 2], "writes 2 and 3 are acknowledged, write 4 is torn")
        self.assertIn("torn write", server.output())
        self.close_clients()

        server = self.start(mode="sync")
        out = server.output()
        self.assertRegex(out, r"warn.*dropped", f"no warning about the torn tail:\n{out}")
        self.assertEqual(server.recovered(), 1 + len(ok), out)
        db = self.connect(server)
        rows = db.sql("SELECT id, payload FROM events ORDER BY id").rows
        self.assertEqual(rows, [(eid, f"t{eid}") for eid in ok], "the torn record must not be replayed")
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        # The repaired log recovers cleanly.
        server = self.start(mode="sync")
        out = server.output()
        self.assertNotIn("dropped", out)
        self.assertNotIn("torn", out)
        self.assertEqual(server.recovered(), 1 + len(ok), out)
        db = self.connect(server)
        self.assertEqual(db.sql("SELECT id, payload FROM events ORDER BY id").rows, rows)
        self.close_clients()
        self.assertEqual(server.stop(), 0)


# ---------------------------------------------------------------------------------------------
# 5. NOW() is replayed from the log; 6. one server per data directory.

class RestartTest(DurabilityCase):
    def test_now_survives_restarts(self):
        server = self.start(mode="sync")
        db = self.connect(server)
        db.sql("CREATE TABLE stamps (id BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL)")
        db.sql("PARTITION TABLE stamps ON COLUMN id")
        db.sql("CREATE TABLE mp_stamps (id BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL)")
        db.sql("CREATE PROCEDURE StampSP PARTITION ON TABLE stamps COLUMN id AS INSERT INTO stamps VALUES (?, NOW())")
        db.sql("CREATE PROCEDURE StampMP AS INSERT INTO mp_stamps VALUES (?, NOW())")
        txn_ids = []
        for i in range(6):
            txn_ids.append(db.call("StampSP", i).txn_id)
            txn_ids.append(db.call("StampMP", i).txn_id)
            time.sleep(0.002)
        db.sql("INSERT INTO stamps VALUES (100, NOW())")  # @AdHoc NOW(), pinned to one partition

        def read(db):
            return (db.sql("SELECT id, ts FROM stamps ORDER BY id").rows,
                    db.sql("SELECT id, ts FROM mp_stamps ORDER BY id").rows)

        before = read(db)
        self.assertEqual(len(before[0]), 7)
        self.assertEqual(len(set(ts for _, ts in before[0][:6])), 6, "distinct calls, distinct NOW()")
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        server = self.start(mode="sync")
        db = self.connect(server)
        self.assertEqual(read(db), before, "replay after SIGTERM changed NOW()")
        # Transaction ids and timestamps continue past the recovered ones.
        r = db.call("StampSP", 50)
        self.assertGreater(r.txn_id, max(txn_ids))
        new_ts = db.call("stamps.select", 50).rows[0][1]
        self.assertGreater(new_ts, max(ts for _, ts in before[0] + before[1]))
        after = read(db)
        self.close_clients()
        server.kill9()

        server = self.start(mode="sync")
        db = self.connect(server)
        self.assertEqual(read(db), after, "replay after kill -9 changed NOW()")
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_second_server_on_the_same_data_dir_is_refused(self):
        server = self.start(mode="sync")
        db = self.connect(server)
        db.sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)")
        db.call("t.insert", 1)
        second = subprocess.run([SURGED, "--port", str(free_port()), "--partitions", "2", "--data-dir",
                                 self.data_dir, "--command-log", "sync"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(second.returncode, 0)
        self.assertIn("in use", second.stdout + second.stderr)
        # The first is unharmed, and its data survives the second's attempt.
        db.call("t.insert", 2)
        self.assertEqual(db.sql("SELECT id FROM t ORDER BY id").rows, [(1,), (2,)])
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        server = self.start(mode="sync")
        db = self.connect(server)
        self.assertEqual(db.sql("SELECT id FROM t ORDER BY id").rows, [(1,), (2,)])
        self.close_clients()
        self.assertEqual(server.stop(), 0)

    def test_restart_with_other_settings_is_refused(self):
        server = self.start(mode="sync")
        db = self.connect(server)
        db.sql("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY)")
        db.sql("PARTITION TABLE t ON COLUMN id")
        for i in range(20):
            db.call("t.insert", i)
        self.close_clients()
        server.kill9()
        for args, text in [(["--partitions", "3", "--command-log", "sync"], "--partitions 2"),
                           (["--partitions", "2", "--command-log", "off"], "holds a command log")]:
            r = subprocess.run([SURGED, "--port", str(free_port()), "--data-dir", self.data_dir, *args],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(text, r.stdout + r.stderr, args)
        # Neither attempt harmed the directory.
        server = self.start(mode="async")
        db = self.connect(server)
        self.assertEqual(db.sql("SELECT COUNT(*) FROM t").rows, [(20,)])
        self.close_clients()
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    if "--surged" in sys.argv:
        i = sys.argv.index("--surged")
        SURGED = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if "--soak" in sys.argv:
        i = sys.argv.index("--soak")
        SOAK_SECONDS = float(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    if not SURGED or not os.path.exists(SURGED):
        sys.exit("usage: test_durability.py --surged PATH [--soak SECONDS]")
    unittest.main(verbosity=2)
