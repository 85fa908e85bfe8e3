#!/usr/bin/env python3
"""Snapshot benchmark: write speed, partition pause and recovery time for a large table.

Starts a surged (use a release build), fills a partitioned table with --rows rows (BIGINT key,
INTEGER, VARCHAR, DECIMAL, TIMESTAMP; about 50 bytes a row encoded) by INSERT ... SELECT from a
cross join, takes a snapshot with @SnapshotSave and reads its figures from @Statistics SNAPSHOT,
then kills the server with SIGKILL, restarts it and times the recovery (snapshot verify + load).

    PYTHONPATH=build-rel/python:src/client/python \\
        /usr/bin/python3 bench/snapshot_bench.py --surged build-rel/src/server/surged --rows 10000000
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import surgedb


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, surged, data_dir, partitions, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [surged, "--port", str(self.port), "--partitions", str(partitions), "--data-dir", data_dir,
             "--command-log", "async", "--snapshot-interval", "0", "--snapshot-log-mb", "0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while True:
            try:
                self.client = surgedb.connect(f"127.0.0.1:{self.port}", timeout=600)
                self.client.call("@Ping")
                break
            except surgedb.Error:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"surged did not start:\n{open(log_path).read()[-3000:]}")
                time.sleep(0.02)
        self.ready_seconds = time.monotonic() - self.started

    def kill9(self):
        self.client.close()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.client.close()
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--surged", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--data-dir", help="kept afterwards (default: a temporary directory, removed)")
    args = ap.parse_args()
    side = 10_000
    if args.rows % side != 0:
        sys.exit(f"--rows must be a multiple of {side}")
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="surge-snapshot-bench-")
    log = os.path.join(tempfile.gettempdir(), "surge-snapshot-bench.log")
    try:
        srv = Server(args.surged, data_dir, args.partitions, log)
        c = srv.client
        c.call("@AdHoc", "CREATE TABLE n (i INTEGER NOT NULL PRIMARY KEY)")
        c.call("@AdHoc", "CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, grp INTEGER NOT NULL, "
                         "name VARCHAR(32), amount DECIMAL, ts TIMESTAMP)")
        c.call("@AdHoc", "PARTITION TABLE big ON COLUMN id")
        c.call("@AdHoc", "INSERT INTO n VALUES " + ",".join(f"({i})" for i in range(side)))
        t0 = time.monotonic()
        step = 100  # 100 x 10,000 rows per statement
        for lo in range(0, args.rows // side, step):
            hi = min(lo + step, args.rows // side)
            c.call("@AdHoc", "INSERT INTO big SELECT a.i * 10000 + b.i, b.i % 1000, 'name-' || CAST(b.i AS VARCHAR), "
                             f"b.i * 0.25, NOW() FROM n a, n b WHERE a.i >= {lo} AND a.i < {hi}")
        load = time.monotonic() - t0
        print(f"loaded {args.rows:,} rows in {load:.1f} s")

        t0 = time.monotonic()
        saved = c.call("@SnapshotSave").rows[0]
        wall = time.monotonic() - t0
        st = c.call("@Statistics", "SNAPSHOT").tables[0]
        row = dict(zip(st.columns, st.rows[0]))
        rows, size = int(saved[4]), int(saved[5])
        secs = float(row["last_seconds"])
        print(f"snapshot: {rows:,} rows, {size / 2**20:.0f} MiB in {secs:.2f} s "
              f"({rows / secs / 1e6:.2f} M rows/s, {size / secs / 2**20:.0f} MiB/s; call answered after {wall:.2f} s); "
              f"partitions paused {float(row['last_pause_ms']):.3f} ms for the cut")

        srv.kill9()
        srv = Server(args.surged, data_dir, args.partitions, log)
        text = open(log).read()
        m = re.search(r"snapshot loaded in ([0-9.]+) s", text)
        count = srv.client.call("@AdHoc", "SELECT COUNT(*) FROM big").rows[0][0]
        if count != args.rows:
            sys.exit(f"recovered {count} rows of big, expected {args.rows}")
        print(f"recovery after kill -9: snapshot verified and loaded in {m.group(1) if m else '?'} s; "
              f"serving {srv.ready_seconds:.2f} s after the start ({args.rows / float(m.group(1)) / 1e6:.2f} M rows/s)")
        srv.stop()
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
