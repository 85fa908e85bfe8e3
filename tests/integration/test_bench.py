"""surge-bench against the real surged: each workload, closed and open loop, briefly. Checks that
the benchmark runs, answers every call and reports what it did (not how fast; figures are in
docs/performance.md). Run by ctest:
  python3 test_bench.py --surged PATH/TO/surged --bench PATH/TO/surge-bench
"""
import re
import subprocess
import sys
import unittest

import surgedb
import test_server
from test_server import Server

BENCH = None


class BenchTest(unittest.TestCase):
    def run_bench(self, server, workload, *args):
        out = subprocess.run([BENCH, workload, "--servers", server.address, "--duration", "1", *args],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        lines = out.stdout.strip().splitlines()
        last = re.fullmatch(r"throughput: (\d+) txn/s", lines[-1])
        self.assertIsNotNone(last, out.stdout)
        calls = re.search(r"^calls: (\d+) ok, (\d+) failed", out.stdout, re.M)
        self.assertIsNotNone(calls, out.stdout)
        self.assertEqual(int(calls.group(2)), 0, out.stdout + out.stderr)
        self.assertGreater(int(calls.group(1)), 0)
        self.assertGreater(int(last.group(1)), 0)
        self.assertRegex(out.stdout, r"latency ms: p50 [\d.]+  p95 [\d.]+  p99 [\d.]+  p99\.9 [\d.]+")
        return out.stdout, int(calls.group(1))

    def test_voter_closed_then_open_loop(self):
        server = Server()
        try:
            _, closed = self.run_bench(server, "voter", "--inflight", "200")
            out, opened = self.run_bench(server, "voter", "--rate", "3000", "--cpu-scheduling", "normal")
            self.assertIn("open loop at 3000 calls/s", out)
            # Open loop sends on a schedule: about rate x duration calls.
            self.assertGreater(opened, 2000)
            self.assertLess(opened, 4000)
            with surgedb.connect(server.address) as db:
                votes = db.sql("SELECT COUNT(*) FROM votes").rows[0][0]
                by_phone = db.sql("SELECT SUM(num_votes) FROM v_votes_by_phone_number").rows[0][0]
            # Every vote is a call that answered OK; a few calls reject a vote (no such
            # contestant, over the limit) without inserting.
            self.assertGreater(votes, (closed + opened) * 9 // 10)
            self.assertLessEqual(votes, closed + opened)
            self.assertEqual(by_phone, votes)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_kv_and_meters(self):
        server = Server()
        try:
            self.run_bench(server, "kv", "--keys", "2000", "--inflight", "100")
            self.run_bench(server, "meters", "--meters", "2000", "--concentrators", "20", "--inflight", "100")
            with surgedb.connect(server.address) as db:
                self.assertEqual(db.sql("SELECT COUNT(*) FROM kv").rows, [(2000,)])
        finally:
            self.assertEqual(server.stop(), 0)

    def test_bad_arguments_are_refused_with_usage(self):
        for args in (["nope"], ["voter", "--cpu-scheduling", "fifo"], ["voter", "--duration", "0"]):
            out = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn("usage: surge-bench", out.stderr)


if __name__ == "__main__":
    for flag in ("--surged", "--bench"):
        if flag in sys.argv:
            i = sys.argv.index(flag)
            if flag == "--surged":
                test_server.SURGED = sys.argv[i + 1]
            else:
                BENCH = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    if not test_server.SURGED or not BENCH:
        sys.exit("usage: test_bench.py --surged PATH --bench PATH")
    unittest.main(verbosity=2)
