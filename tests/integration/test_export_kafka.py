"""Integration tests of the kafka export target (src/export/kafka_sink.h): the real surged exports
to a mock Kafka cluster (tools/kafka-mock: librdkafka's built-in mock brokers in a separate
process, driven over stdin/stdout), which the tests break (brokers down, produce errors) and read
back (every message of a topic from the beginning).

Each exported row is one message on the topic of its stream (topic = "surge.{stream}"), keyed by
the row's partition-column value as text (no key for a replicated stream), its value the row as
JSON (like a JSONL file line) or as one CSV line without header. Rows are acknowledged once Kafka
acknowledged them; a message Kafka does not take within message.timeout.ms makes the target retry
from the last acknowledged row. Delivery is at least once: a repeat carries the same
(stream, partition, seq) with the same content; per (stream, partition) the seqs are 1..N without
gaps, and a key's messages are in one Kafka partition in seq order.

The tests:
  BasicTest        two streams (partitioned, replicated) and a table exporting INSERT / UPDATE /
                   DELETE to a JSON target with topic "surge.{stream}", a stream to a CSV target
                   with the default topic "{stream}": topics, keys, metadata (txn_id of the call,
                   owning partition, seqs), row values, per-key order, exactly once on a clean
                   run. librdkafka properties as kafka.<property> keys, also written unquoted
                   as docs/streams.md does (TOML dotted keys); an unknown one fails the start.
  OutageTest       every broker down under load: calls go on, the target shows retrying with
                   last_error after message.timeout.ms, and stays retrying while nothing can be
                   delivered; brokers up: every row arrives, repeats only as exact copies, each
                   key's first deliveries in seq order.
  ProduceErrorTest produce requests failing with NOT_LEADER_FOR_PARTITION (retriable) under load:
                   the idempotent producer retries; every row once, in order per key, no gaps.
                   (One request in flight: see the test for the mock brokers' missing sequence
                   checks.)
  KafkaCrashTest   Jepsen-style kill -9 cycles under load (sync command log), as test_export.py's
                   CrashTest but to Kafka: every acknowledged call's row arrives, no failed
                   call's row, every exported row's id is in the table written in the same
                   transaction after recovery, repeats only as exact copies, seqs gapless.

    python3 test_export_kafka.py --surged PATH/TO/surged --kafka-mock PATH/TO/surge-kafka-mock

Helpers come from test_export.py / test_durability.py (SURGE_DURABILITY_KEEP=1 keeps each test's
directory: data, server logs, the mock's log).
"""
import collections
import datetime
import decimal
import itertools
import json
import os
import queue
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
import test_export
from test_durability import CALL_TIMEOUT, outcome_of
from test_export import (CRASH_SCHEMA, CRASH_WORKERS, PAYLOAD, SETTLE_TIMEOUT, TIMESTAMP_TEXT, ExportCase, as_dicts,
                         parse_csv)
from test_server import free_port

KAFKA_MOCK = None
MOCK_TIMEOUT = 30.0  # seconds for one answer of the mock (a dump reads for up to 20 s)
NOT_LEADER_FOR_PARTITION = 6
JSON_KEYS = ["stream", "partition", "seq", "txn_id", "timestamp", "op", "row"]


# ---------------------------------------------------------------------------------------------
# The mock cluster.

class KafkaMock:
    """One surge-kafka-mock process (a mock cluster of `brokers` brokers)."""

    def __init__(self, path, log_path, brokers=3):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([path, "--brokers", str(brokers)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1,
                                     encoding="utf-8", errors="replace")
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        first = self._line(10)
        if not first.startswith("bootstrap "):
            raise AssertionError(f"surge-kafka-mock said {first!r} instead of its bootstrap brokers")
        self.bootstrap = first.split(" ", 1)[1]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of output

    def _line(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"surge-kafka-mock did not answer within {timeout} s") from None
        if line is None:
            raise AssertionError(f"surge-kafka-mock exited ({self.proc.poll()}); see {self.log.name}")
        return line

    def _send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def command(self, cmd, timeout=MOCK_TIMEOUT):
        """One command answered by one line: returns it ("ok"); raises on "error ..."."""
        self._send(cmd)
        answer = self._line(timeout)
        if answer != "ok":
            raise AssertionError(f"surge-kafka-mock {cmd!r}: {answer}")
        return answer

    def dump(self, topic, parse=True, timeout=MOCK_TIMEOUT):
        """Every message of topic from the beginning: [{partition, offset, key (str or None),
        value, raw}], raw the value's text, value parsed as JSON (numbers with a fraction as
        decimal.Decimal) when parse, else the text."""
        self._send(f"dump {topic}")
        out = []
        while True:
            line = self._line(timeout)
            if line.startswith("end "):
                if int(line.split()[1]) != len(out):
                    raise AssertionError(f"dump {topic}: {line} after {len(out)} messages")
                return out
            if line.startswith("error"):
                raise AssertionError(f"surge-kafka-mock dump {topic}: {line}")
            m = json.loads(line)
            m["raw"] = m["value"]
            if parse:
                m["value"] = json.loads(m["raw"], parse_float=decimal.Decimal)
            out.append(m)

    def close(self):
        if self.proc.poll() is None:
            try:
                self._send("quit")
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.log):
            try:
                f.close()
            except Exception:
                pass


# ---------------------------------------------------------------------------------------------

class KafkaExportCase(ExportCase):
    """ExportCase with a fresh mock cluster per test and helpers to read back what it holds."""

    def setUp(self):
        super().setUp()
        self.kafka = KafkaMock(KAFKA_MOCK, os.path.join(self.tmp.name, "kafka-mock.log"))

    def tearDown(self):
        # surged first (it would only log reconnects), then the cluster, then the directory.
        for s in self.servers:
            if s.alive():
                s.proc.kill()
                s.proc.wait(10)
        self.kafka.close()
        super().tearDown()

    QUOTE_KEYS = True  # a kafka.<property> key stays one key (see test_dotted_kafka_keys_as_documented)

    def kafka_target(self, **settings):
        """A kafka target's settings; keyword kafka_x_y stands for kafka.x.y."""
        out = {"type": "kafka", "brokers": self.kafka.bootstrap}
        for k, v in settings.items():
            out[k.replace("_", ".") if k.startswith("kafka_") else k] = v
        return out

    def create_topics(self, topics):
        for name, partitions in topics.items():
            self.kafka.command(f"topic {name} {partitions}")

    def kafka_records(self, topic, stream, fmt="jsonl"):
        """The messages of topic as export records (the dicts of test_export.read_exports, for
        check_sequences / by_id / content) plus key, kpartition, offset and raw. CSV values give
        the row as a list of text fields (None for NULL)."""
        out = []
        for m in self.kafka.dump(topic, parse=fmt == "jsonl"):
            where = f"{topic}[{m['partition']}]@{m['offset']}"
            if fmt == "jsonl":
                j = m["value"]
                self.assertEqual(j["stream"], stream, f"{where}: a row of another stream on this topic")
                rec = {k: j[k] for k in JSON_KEYS}
            else:
                self.assertFalse(m["raw"].endswith("\n"), f"{where}: a CSV value ends with a line end")
                rows = parse_csv(m["raw"] + "\n")
                self.assertEqual(len(rows), 1, f"{where}: a CSV value of {len(rows)} lines: {m['raw']!r}")
                r = rows[0]
                rec = {"stream": stream, "txn_id": int(r[0]), "timestamp": r[1], "partition": int(r[2]),
                       "seq": int(r[3]), "op": r[4], "row": r[5:]}
            rec.update(file=where, line=m["offset"], key=m["key"], kpartition=m["partition"], offset=m["offset"],
                       raw=m["raw"])
            out.append(rec)
        return out

    def check_kafka_order(self, records, where, exact):
        """Per key (keyed messages only): one Kafka partition, and in offset order the rows'
        (partition, seq) ascend (exact: strictly, no repeats; otherwise the first delivery of
        each seq in seq order, repeats anywhere). Returns {key: [seqs in offset order]}."""
        kparts = collections.defaultdict(set)
        order = collections.defaultdict(list)
        for rec in sorted(records, key=lambda r: (r["kpartition"], r["offset"])):
            if rec["key"] is None:
                continue
            k = (rec["stream"], rec["key"])
            kparts[k].add(rec["kpartition"])
            order[k].append((rec["partition"], rec["seq"]))
        spread = {k: sorted(p) for k, p in kparts.items() if len(p) != 1}
        self.assertEqual(spread, {}, f"{where}: a key's messages in several Kafka partitions")
        for k, seqs in sorted(order.items()):
            self.assertEqual(len({p for p, _ in seqs}), 1, f"{where}: key {k} from several surge partitions")
            if exact:
                self.assertEqual(seqs, sorted(set(seqs)), f"{where}: key {k}: messages not in seq order (or "
                                                          f"repeated) on a clean run")
            else:
                firsts, seen = [], set()
                for s in seqs:
                    if s not in seen:
                        seen.add(s)
                        firsts.append(s)
                self.assertEqual(firsts, sorted(firsts), f"{where}: key {k}: a row overtook an earlier one of its "
                                                         f"key (first deliveries out of seq order): {seqs}")
        return order

    def wait_status(self, db, status, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            stats = self.export_stats(db)
            if stats and all(s["status"] == status for s in stats):
                return stats
            if time.time() > deadline:
                self.fail(f"the export never showed status {status!r} within {timeout} s: {stats}")
            time.sleep(0.02)

    def send_stream(self, db, lo, hi, stream="s"):
        """s.insert(i, note) for ids lo..hi-1 (a stream partitioned on id); all must succeed."""
        results = db.call_many([(f"{stream}.insert", i, f"note {i}") for i in range(lo, hi)])
        bad = [(i, r) for i, r in zip(range(lo, hi), results) if not isinstance(r, surgedb.Response)]
        self.assertEqual(bad, [], "exporting calls failed (export is asynchronous: they must not)")
        return {i: r.txn_id for i, r in zip(range(lo, hi), results)}


# ---------------------------------------------------------------------------------------------
# 1. Topics, keys, values, order.

EVC_NOTES = [None, "", "a,b", 'say "hi"', "line\nbreak", "héllo wörld 🙂", "plain", " pad ", "x" * 40, "last"]


class BasicTest(KafkaExportCase):
    def test_topics_keys_metadata_and_order(self):
        self.create_topics({"surge.ev": 3, "surge.rep": 2, "surge.acct": 3, "evc": 2})
        server = self.start_export({
            "kj": self.kafka_target(topic="surge.{stream}", format="jsonl", kafka_linger_ms="2"),
            "kc": self.kafka_target(format="csv"),  # the default topic: the stream's name
        })
        db = self.connect(server)
        db.sql("CREATE STREAM ev PARTITION ON COLUMN id EXPORT TO TARGET kj "
               "(id BIGINT NOT NULL, n INTEGER NOT NULL, note VARCHAR(40))")
        db.sql("CREATE STREAM rep EXPORT TO TARGET kj (k INTEGER NOT NULL, v VARCHAR(20))")
        db.sql("CREATE TABLE acct (name VARCHAR(30) NOT NULL PRIMARY KEY, bal INTEGER NOT NULL) "
               "EXPORT TO TARGET kj ON INSERT, UPDATE, DELETE; PARTITION TABLE acct ON COLUMN name")
        db.sql("CREATE STREAM evc PARTITION ON COLUMN id EXPORT TO TARGET kc (id BIGINT NOT NULL, note VARCHAR(40))")
        t0 = time.time()

        # ev: 48 rows on 6 keys (8 each), then a batch: ev rows on two keys and a rep row, one txn.
        ev_calls = [("ev.insert", n % 6 + 1, n, f"note {n}") for n in range(48)]
        results = db.call_many(ev_calls)
        self.assertTrue(all(isinstance(r, surgedb.Response) for r in results), results)
        ev_expect = {}  # n -> (id, note, txn)
        for (_, i, n, note), r in zip(ev_calls, results):
            ev_expect[n] = (i, note, r.txn_id)
        batch = db.sql("INSERT INTO ev VALUES (1, 100, 'batch'); INSERT INTO ev VALUES (2, 101, 'batch'); "
                       "INSERT INTO rep VALUES (100, 'batch')").txn_id
        ev_expect[100] = (1, "batch", batch)
        ev_expect[101] = (2, "batch", batch)
        rep_expect = {k: (f"v{k}", db.sql("INSERT INTO rep VALUES (?, ?)", k, f"v{k}").txn_id) for k in range(1, 6)}
        rep_expect[100] = ("batch", batch)

        # acct: inserts, updates (one multi-partition UPDATE of several rows), a delete.
        names = ["alice", "bob", 'café, "quoted"', "dave"]
        model, ops = {}, collections.defaultdict(list)  # ops: name -> [(op, bal, txn)]
        for k, name in enumerate(names, 1):
            txn = db.call("acct.insert", name, 100 * k).txn_id
            model[name] = 100 * k
            ops[name].append(("INSERT", 100 * k, txn))
        r = db.sql("UPDATE acct SET bal = 7 WHERE name = 'alice'")
        ops["alice"] += [("UPDATE_BEFORE", 100, r.txn_id), ("UPDATE_AFTER", 7, r.txn_id)]
        model["alice"] = 7
        r = db.sql("UPDATE acct SET bal = bal + 1 WHERE bal >= 200")
        self.assertEqual(r.modified, 3)
        for name in names[1:]:
            ops[name] += [("UPDATE_BEFORE", model[name], r.txn_id), ("UPDATE_AFTER", model[name] + 1, r.txn_id)]
            model[name] += 1
        r = db.sql("DELETE FROM acct WHERE name = 'bob'")
        ops["bob"].append(("DELETE", model.pop("bob"), r.txn_id))

        # evc (CSV): NULL, '', commas, quotes, a line break, non-ASCII.
        evc_expect = {}
        for i, note in enumerate(EVC_NOTES, 1):
            evc_expect[i] = (note, db.call("evc.insert", i, note).txn_id)

        acct_rows = sum(len(v) for v in ops.values())
        stats = self.wait_acked(db, {"ev": len(ev_expect), "rep": len(rep_expect), "acct": acct_rows,
                                     "evc": len(evc_expect)})
        self.assertEqual({(s["stream"], s["target"]) for s in stats},
                         {("ev", "kj"), ("rep", "kj"), ("acct", "kj"), ("evc", "kc")})
        for s in stats:
            self.assertEqual((s["status"], s["last_error"], s["pending_rows"]), ("ok", "", 0), s)
        self.assertEqual({s["partition_id"] for s in stats if s["stream"] == "rep"}, {0})
        owner = self.partition_of(db, list(range(1, 11)))
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        now = time.time()

        ev = self.kafka_records("surge.ev", "ev")
        rep = self.kafka_records("surge.rep", "rep")
        acct = self.kafka_records("surge.acct", "acct")
        evc = self.kafka_records("evc", "evc", fmt="csv")
        records = ev + rep + acct + evc
        unique, repeats = self.check_sequences(records, "basic")
        self.assertEqual(repeats, 0, "a clean run delivers every row once")
        self.check_kafka_order(records, "basic", exact=True)
        self.assertEqual(len(records), len(ev_expect) + len(rep_expect) + acct_rows + len(evc_expect))

        for rec in records:
            where = rec["file"]
            self.assertRegex(rec["timestamp"], TIMESTAMP_TEXT, where)
            stamp = datetime.datetime.strptime(rec["timestamp"], "%Y-%m-%d %H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            self.assertTrue(t0 - 60 <= stamp <= now + 60, f"{where}: commit timestamp {rec['timestamp']} (UTC)")
        # The JSON value: the fixed keys in order.
        first = json.loads(ev[0]["raw"], object_pairs_hook=lambda kv: [k for k, _ in kv])
        self.assertEqual(first, JSON_KEYS)

        # ev: key = the id as text; the owning partition; the call's txn_id; values.
        got = {}
        for rec in ev:
            row = rec["row"]
            self.assertEqual(list(row), ["id", "n", "note"], rec["file"])
            self.assertIs(type(row["id"]), int)
            self.assertNotIn(row["n"], got, f"{rec['file']}: n={row['n']} twice")
            got[row["n"]] = rec
            self.assertEqual(rec["key"], str(row["id"]), f"{rec['file']}: the key is not the partition value")
            self.assertEqual(rec["partition"], owner[row["id"]], f"{rec['file']}: exported from partition "
                                                                 f"{rec['partition']}, id {row['id']} belongs to "
                                                                 f"{owner[row['id']]}")
            self.assertEqual(rec["op"], "INSERT")
        self.assertEqual({n: (r["row"]["id"], r["row"]["note"], r["txn_id"]) for n, r in got.items()}, ev_expect)
        # Commit order: per (stream, partition) the seqs follow the txn ids; per key, n ascends
        # (one connection's calls, one partition: in call order).
        for stream, recs in [("ev", ev), ("acct", acct), ("rep", rep), ("evc", evc)]:
            per = collections.defaultdict(list)
            for rec in recs:
                per[rec["partition"]].append(rec)
            for p, lst in per.items():
                lst.sort(key=lambda r: r["seq"])
                txns = [r["txn_id"] for r in lst]
                self.assertEqual(txns, sorted(txns), f"{stream} p{p}: seq order is not commit order")
        for i in range(1, 7):
            ns = [r["row"]["n"] for r in sorted(ev, key=lambda r: r["offset"]) if r["row"]["id"] == i]
            self.assertEqual(ns, sorted(ns), f"ev key {i}: not in call order in Kafka: {ns}")

        # rep: no key, partition 0, each row once.
        self.assertEqual({r["key"] for r in rep}, {None}, "a replicated stream's messages have no key")
        self.assertEqual({r["partition"] for r in rep}, {0})
        self.assertEqual({r["row"]["k"]: (r["row"]["v"], r["txn_id"]) for r in rep}, rep_expect)
        self.assertEqual(len(rep), len(rep_expect))

        # acct: key = the name; each name's changes in seq order, with their txn ids.
        got_ops = collections.defaultdict(list)
        for rec in sorted(acct, key=lambda r: r["seq"]):
            self.assertEqual(rec["key"], rec["row"]["name"], rec["file"])
            got_ops[rec["row"]["name"]].append((rec["op"], rec["row"]["bal"], rec["txn_id"]))
        self.assertEqual(dict(got_ops), dict(ops))

        # evc (CSV, no header): the exact line, NULL as an empty field, '' as "".
        self.assertEqual(len(evc), len(EVC_NOTES))
        for rec in evc:
            i = int(rec["row"][0])
            note, txn = evc_expect[i]
            self.assertEqual(rec["key"], str(i))
            self.assertEqual(rec["op"], "INSERT")
            self.assertEqual(rec["txn_id"], txn)
            self.assertEqual(rec["row"], [str(i), note], rec["file"])
            self.assertEqual(rec["partition"], owner[i])
            field = "" if note is None else '"' + note.replace('"', '""') + '"' if (
                note == "" or any(c in note for c in ',"\n')) else note
            self.assertEqual(rec["raw"], f"{txn},{rec['timestamp']},{rec['partition']},{rec['seq']},INSERT,{i},{field}")
        print(f"\n  basic: {len(records)} messages on 4 topics", flush=True)

    def test_dotted_kafka_keys_as_documented(self):
        # docs/streams.md writes librdkafka properties as unquoted TOML keys (kafka.linger.ms = 20):
        # TOML makes those nested tables, which the config flattens back into one setting. The
        # other tests quote their keys; here the documented form, a string and an integer value.
        self.create_topics({"s": 2})
        config = os.path.join(self.tmp.name, "dotted.toml")
        with open(config, "w") as f:
            f.write(f'[export.targets.k]\ntype = "kafka"\nbrokers = "{self.kafka.bootstrap}"\n'
                    f'kafka.linger.ms = 2\nkafka.message.timeout.ms = "5000"\n')
        server = self.start("--config", config)
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET k (id BIGINT NOT NULL)")
        self.assertTrue(all(isinstance(r, surgedb.Response) for r in db.call_many(
            [("s.insert", i) for i in range(1, 11)])))
        self.wait_acked(db, {"s": 10})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        self.assertEqual(sorted(r["row"]["id"] for r in self.kafka_records("s", "s")), list(range(1, 11)))
        # A property librdkafka does not know fails the start, naming the target and the property.
        with open(config, "w") as f:
            f.write(f'[export.targets.k]\ntype = "kafka"\nbrokers = "{self.kafka.bootstrap}"\n'
                    f'kafka.no.such.property = "1"\n')
        r = subprocess.run([test_durability.SURGED, "--config", config, "--port", str(free_port()),
                            "--data-dir", self.data_dir], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('"k"', r.stdout + r.stderr)
        self.assertIn("no.such.property", r.stdout + r.stderr)


# ---------------------------------------------------------------------------------------------
# 2. Every broker down; 3. produce errors.

class OutageTest(KafkaExportCase):
    def test_all_brokers_down_then_up_delivers_everything(self):
        self.create_topics({"surge.s": 3})
        # reconnect.backoff.max.ms: after the outage librdkafka reconnects within 1 s (its default
        # backs off up to 10 s, which only makes the test slower).
        server = self.start_export({"k": self.kafka_target(topic="surge.{stream}", kafka_message_timeout_ms="2000",
                                                           kafka_reconnect_backoff_max_ms="1000")})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET k (id BIGINT NOT NULL, note VARCHAR(40))")
        txns = self.send_stream(db, 1, 21)
        self.wait_acked(db, {"s": 20})

        self.kafka.command("down -1")
        down_at = time.time()
        txns.update(self.send_stream(db, 21, 61))  # the calls go on: export is asynchronous
        stats = self.wait_status(db, "retrying", timeout=10)
        shown_after = time.time() - down_at
        for s in stats:
            self.assertEqual(s["target"], "k")
            self.assertNotEqual(s["last_error"], "", s)
            self.assertEqual(s["pending_rows"], s["last_seq"] - s["acked_seq"], s)
        self.assertTrue(any(s["acked_seq"] < s["last_seq"] for s in stats), stats)
        self.assertEqual(sum(s["last_seq"] for s in stats), 60)
        error = stats[0]["last_error"]
        self.assertIn("surge.s", error, "last_error should name the topic")
        self.assertRegex(error.lower(), r"timed out|timeout", "last_error should say the message timed out")
        self.assertRegex(server.output(), r'export target "k": .*retrying in \d+ ms')
        txns.update(self.send_stream(db, 61, 81))  # more while retrying
        # While every broker is down nothing can be delivered: the target should stay retrying.
        # (Checked at the end, after the delivery checks.)
        flaps, deadline = [], time.time() + 2.5
        while time.time() < deadline:
            stats = self.export_stats(db)
            if any(s["status"] != "retrying" for s in stats):
                flaps.append((round(time.time() - down_at, 2), [(s["partition_id"], s["status"], s["acked_seq"],
                                                                 s["last_seq"]) for s in stats]))
            time.sleep(0.05)
        log_down = server.output()

        self.kafka.command("up -1")
        up_at = time.time()
        self.wait_acked(db, {"s": 80}, timeout=SETTLE_TIMEOUT)
        caught_up = time.time() - up_at
        self.wait_status(db, "ok", timeout=5)
        self.assertIn('export target "k" is delivering again', server.output())
        txns.update(self.send_stream(db, 81, 91))
        self.wait_acked(db, {"s": 90})
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        records = self.kafka_records("surge.s", "s")
        unique, repeats = self.check_sequences(records, "outage")
        got = self.by_id(unique, "s")
        self.assertEqual(sorted(got), list(range(1, 91)), "rows lost (or invented) by the outage")
        self.assertEqual({i: len(r) for i, r in got.items() if len(r) != 1}, {}, "ids under two seqs")
        for i, recs in got.items():
            self.assertEqual((recs[0]["row"]["note"], recs[0]["txn_id"]), (f"note {i}", txns[i]))
        for rec in records:
            self.assertEqual(rec["key"], str(rec["row"]["id"]))
        self.check_kafka_order(records, "outage", exact=False)
        print(f"\n  outage: retrying shown {shown_after:.1f} s after the brokers went down, caught up "
              f"{caught_up:.1f} s after they came back; {len(records)} messages, {repeats} repeated", flush=True)
        delays = re.findall(r"retrying in (\d+) ms", log_down)
        self.assertEqual(flaps[:5], [], f"with every broker down (nothing acknowledged), "
                                        f"@Statistics EXPORT went back to status ok ({len(flaps)} of the samples in "
                                        f"2.5 s; (seconds since down, [(partition, status, acked_seq, last_seq)]) "
                                        f"shown), and the log says the target is delivering again "
                                        f"{log_down.count('is delivering again')} times while down; the retry "
                                        f"delays it logged: {delays} ms")


class ProduceErrorTest(KafkaExportCase):
    def test_retriable_produce_errors_deliver_once_in_order(self):
        self.create_topics({"surge.s": 3})
        # max.in.flight = 1: the mock brokers (librdkafka 2.0.2, and later ones too) check the
        # idempotent producer's sequence numbers only for transactional producers, so with several
        # requests in flight a batch after a failed one is appended (a real broker refuses it
        # OUT_OF_ORDER_SEQUENCE_NUMBER), and librdkafka then counts the failed batch as implicitly
        # acknowledged by the later success ("IMPLICITACK" in its eos debug log): those rows are
        # lost in the mock, never in Kafka. One request in flight keeps the mock honest.
        # debug = eos: librdkafka logs its retries, which shows that the errors were injected.
        server = self.start_export({"k": self.kafka_target(topic="surge.{stream}",
                                                           kafka_max_in_flight_requests_per_connection="1",
                                                           kafka_debug="eos")})
        db = self.connect(server)
        db.sql("CREATE STREAM s PARTITION ON COLUMN id EXPORT TO TARGET k (id BIGINT NOT NULL, note VARCHAR(40))")
        txns = self.send_stream(db, 1, 21)
        self.wait_acked(db, {"s": 20})
        # 120 rows on 12 keys (10 each) in 6 bursts, the first 5 produce requests failing.
        self.kafka.command(f"errors 5 {NOT_LEADER_FOR_PARTITION}")
        sent = []
        for chunk in range(6):
            calls = [("s.insert", 1 + n % 12, f"k{n}") for n in range(chunk * 20, chunk * 20 + 20)]
            results = db.call_many(calls)
            self.assertTrue(all(isinstance(r, surgedb.Response) for r in results), results)
            sent += [(c[1], c[2], r.txn_id) for c, r in zip(calls, results)]
            time.sleep(0.03)  # several produce requests
        self.wait_acked(db, {"s": 20 + len(sent)})
        stats = self.wait_status(db, "ok", timeout=5)
        self.assertEqual({s["last_error"] for s in stats}, {""}, stats)
        retries = server.output().count("drain before retrying")
        self.assertGreater(retries, 0, "librdkafka never retried: were the produce errors injected?")
        self.assertNotIn("IMPLICITACK", server.output())
        self.close_clients()
        self.assertEqual(server.stop(), 0)

        records = self.kafka_records("surge.s", "s")
        unique, repeats = self.check_sequences(records, "produce errors")
        self.assertEqual(repeats, 0, "retriable produce errors must not duplicate (idempotent producer)")
        self.check_kafka_order(records, "produce errors", exact=True)
        self.assertEqual(len(records), 20 + len(sent))
        got = sorted((r["row"]["id"], r["row"]["note"], r["txn_id"]) for r in records)
        expect = sorted([(i, f"note {i}", t) for i, t in txns.items()] + sent)
        self.assertEqual(got, expect)
        for rec in records:
            self.assertEqual(rec["key"], str(rec["row"]["id"]))
        # Per key, the rows in Kafka are in the order the client sent them.
        for key in range(1, 13):
            ns = [int(r["row"]["note"][1:]) for r in sorted(records, key=lambda r: (r["kpartition"], r["offset"]))
                  if r["row"]["id"] == key and r["row"]["note"].startswith("k")]
            self.assertEqual(ns, sorted(ns), f"key {key}: {ns}")
        print(f"\n  produce errors: {len(records)} messages, librdkafka retried {retries} times", flush=True)


# ---------------------------------------------------------------------------------------------
# 4. kill -9 under load.

class KafkaCrashTest(KafkaExportCase):
    """test_export.CrashTest's writers and checks, with the stream evs and the table tlog
    exporting to Kafka (topics surge.evs, surge.tlog)."""

    def run_cycles(self, cycles, mode="sync"):
        seed = int(os.environ.get("SURGE_DURABILITY_SEED") or random.randrange(10 ** 6))
        rng = random.Random(seed)
        self.create_topics({"surge.evs": 3, "surge.tlog": 3})
        targets = {"out": self.kafka_target(topic="surge.{stream}")}
        server = self.start_export(targets, mode=mode)
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
                except Exception as e:
                    with lock:
                        problems.append(f"writer {w} died: {e!r}")

            threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(CRASH_WORKERS)]
            seconds = 0.5 if final else rng.uniform(0.7, 1.3)
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()
            acked_at_kill = None
            if not final:
                with server.client() as c:  # what Kafka had acknowledged just before the kill
                    state, res = outcome_of(lambda: c.call("@Statistics", "EXPORT"))
                    if state == "ok":
                        acked_at_kill = sum(r["acked_seq"] for r in as_dicts(res))
                server.kill9()
            for t in threads:
                t.join(CALL_TIMEOUT + 5)
            for c in clients:
                c.close()
            self.assertFalse(any(t.is_alive() for t in threads), "a writer hung")
            if not final:
                self.assertEqual(server.proc.returncode, -signal.SIGKILL, server.output()[-3000:])
                server = self.start_export(targets, mode=mode)
                with server.client() as db:
                    present = [r[0] for r in db.sql("SELECT id FROM ledger").rows]
                with lock:
                    ok_ledger[:] = present
            print(f"  {mode} cycle {cycle} (seed {seed}): {'' if final else 'kill -9 after '}{seconds:.2f} s; "
                  f"{dict(sorted((f'{k}/{s}', n) for (k, s), n in tally.items()))}"
                  f"{'' if acked_at_kill is None else f'; {acked_at_kill} rows acknowledged by Kafka at the kill'}",
                  flush=True)
            tally.clear()
        self.assertEqual(problems, [])

        db = self.connect(server)
        ledger = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM ledger").rows}
        tlog = {r[0]: (r[1], r[2]) for r in db.sql("SELECT id, writer, payload FROM tlog").rows}
        self.wait_acked(db, {"evs": len(ledger), "tlog": len(tlog)})
        self.close_clients()
        self.assertEqual(server.stop(), 0)
        records = self.kafka_records("surge.evs", "evs") + self.kafka_records("surge.tlog", "tlog")
        return calls, ledger, tlog, records, seed

    def test_sync_kill9_under_load(self):
        print(flush=True)
        calls, ledger, tlog, records, seed = self.run_cycles(3)
        # The bookkeeping of test_export's CrashTest (acknowledged rows all there, none of a
        # failed call, none outside recovery's tables, repeats exact, seqs gapless).
        test_export.CrashTest.check_history(self, "sync", calls, ledger, tlog, records, seed, lost_ok_allowed=False)
        for rec in records:
            self.assertEqual(rec["key"], str(rec["row"]["id"]), rec["file"])
        order = self.check_kafka_order(records, f"sync kill -9 (seed {seed})", exact=False)
        self.assertGreater(len(order), 0)


if __name__ == "__main__":
    for flag in ("--surged", "--kafka-mock"):
        if flag in sys.argv:
            i = sys.argv.index(flag)
            if flag == "--surged":
                test_durability.SURGED = sys.argv[i + 1]
            else:
                KAFKA_MOCK = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    if not test_durability.SURGED or not os.path.exists(test_durability.SURGED) or not KAFKA_MOCK or \
            not os.path.exists(KAFKA_MOCK):
        sys.exit("usage: test_export_kafka.py --surged PATH --kafka-mock PATH")
    unittest.main(verbosity=2)
