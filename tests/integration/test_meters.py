"""Integration test of the smart-meter workload's procedures (bench/workloads/meters): the real
surged loads meters.so and the workload's schema, and the test checks each decision Report and
Silent make.

  MetersTest  Report accepts a meter's first and next readings, rejects unknown meters,
              duplicates, readings older than the last, counters that go back and impossible
              jumps (each into the rejections view), and fills skipped periods by interpolation;
              the consumption views follow. Silent alerts once per silence, "concentrator_silent"
              when every meter of a concentrator is silent, and again after a meter that reported
              falls silent once more.
  BillingTest The schema with MIGRATE TO TARGET billing (as surge-bench --billing-target makes
              it): once a day is over its readings leave for the billing target (a file target
              here), each exported once with op MIGRATE; today's stay.

    python3 test_meters.py --surged PATH/TO/surged --meters-lib PATH/TO/meters.so
"""
import csv
import glob
import os
import sys
import tempfile
import time
import unittest

import surgedb
import test_server
from test_server import Server

METERS_LIB = None
DDL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "workloads", "meters", "ddl.sql")
PERIOD = 15 * 60 * 1_000_000
DAY = 86_400_000_000


def setup_schema(db, ddl):
    db.sql(ddl)
    lib = os.path.abspath(METERS_LIB)
    db.sql(f"CREATE PROCEDURE Report PARTITION ON TABLE meters COLUMN meter_id PARAMETER 0 FROM LIBRARY '{lib}'")
    db.sql(f"CREATE PROCEDURE Silent FROM LIBRARY '{lib}'")
    for c in (0, 1):
        db.call("concentrators.insert", c, f"region-{c}")
    for m, c in ((0, 0), (1, 0), (2, 1), (3, 1)):
        db.call("meters.insert", m, c, None, None, 0)


class MetersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--ttl-interval-ms", "0", partitions=2)
        cls.db = surgedb.connect(cls.server.address)
        with open(DDL) as f:
            setup_schema(cls.db, f.read())
        # Periods on the 15-minute grid, recent enough for the readings' one-day TTL.
        cls.base = (int(time.time() * 1_000_000) // PERIOD) * PERIOD - 10 * PERIOD

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        assert cls.server.stop() == 0

    def at(self, k):
        return surgedb.Timestamp(self.base + k * PERIOD)

    def report(self, meter, k, counter):
        return self.db.call("Report", meter, self.at(k), counter).rows[0][0]

    def test_report_and_silent(self):
        db = self.db
        self.assertEqual(self.report(0, 0, 1000), 0)      # the first reading
        self.assertEqual(self.report(0, 1, 1100), 0)      # 100 Wh
        self.assertEqual(self.report(99, 1, 5), 1)        # unknown meter
        self.assertEqual(self.report(0, 1, 1100), 2)      # duplicate
        self.assertEqual(self.report(0, -1, 900), 3)      # older than the last period
        self.assertEqual(self.report(0, 2, 1050), 4)      # counter went back
        self.assertEqual(self.report(0, 2, 1100 + 30_000), 5)  # more than a meter can draw
        self.assertEqual(self.report(0, 4, 1400), 0)      # periods 2 and 3 were skipped
        rows = db.sql("SELECT period, counter, kwh, estimated FROM readings WHERE meter_id = 0 ORDER BY period").rows
        self.assertEqual([(r[1], r[2], r[3]) for r in rows],
                         [(1000, 0, 0), (1100, 100, 0), (1200, 100, 1), (1300, 100, 1), (1400, 100, 0)])
        self.assertEqual([int(r[0]) for r in rows], [self.at(k) for k in (0, 1, 2, 3, 4)])
        # Each reading knows the midnight that ends its day (when it leaves for billing).
        days = db.sql("SELECT period, billing_day FROM readings WHERE meter_id = 0 ORDER BY period").rows
        self.assertEqual([int(d) for _, d in days], [(int(p) // DAY + 1) * DAY for p, _ in days])
        self.assertEqual(db.sql("SELECT readings, kwh, estimated FROM consumption_by_meter WHERE meter_id = 0").rows,
                         [(5, 400, 2)])
        self.assertEqual(db.sql("SELECT readings, kwh FROM consumption_by_concentrator WHERE concentrator_id = 0").rows,
                         [(5, 400)])
        self.assertEqual(db.sql("SELECT reason, readings FROM rejections ORDER BY reason").rows,
                         [("counter_back", 1), ("duplicate", 1), ("out_of_order", 1), ("out_of_range", 1),
                          ("unknown_meter", 1)])
        self.assertEqual(db.sql("SELECT last_counter FROM meters WHERE meter_id = 0").rows, [(1400,)])
        # Silent at period 5: meter 0 reported at 4; 1, 2 and 3 never did, and 2 and 3 are all of
        # concentrator 1.
        self.assertEqual(db.call("Silent", self.at(5)).rows, [(3,)])
        self.assertEqual(db.sql("SELECT kind, alerts FROM alert_counts ORDER BY kind").rows,
                         [("concentrator_silent", 2), ("silent", 1)])
        self.assertEqual(db.call("Silent", self.at(5)).rows, [(0,)])  # one alert per silence
        # Meter 1 reports, then falls silent again; meter 0 has been silent since period 4.
        self.assertEqual(self.report(1, 5, 10), 0)
        self.assertEqual(db.call("Silent", self.at(8)).rows, [(2,)])
        self.assertEqual(db.sql("SELECT kind, alerts FROM alert_counts ORDER BY kind").rows,
                         [("concentrator_silent", 4), ("silent", 1)])


class BillingTest(unittest.TestCase):
    def test_finished_days_leave_for_billing(self):
        with tempfile.TemporaryDirectory() as tmp:
            billing = os.path.join(tmp, "billing")
            os.mkdir(billing)
            config = os.path.join(tmp, "surged.toml")
            with open(config, "w") as f:
                f.write(f'[export.targets.billing]\ntype = "file"\ndir = "{billing}"\nroll_seconds = 1\n')
            server = Server("--config", config, "--ttl-interval-ms", "50", partitions=2)
            try:
                db = surgedb.connect(server.address)
                with open(DDL) as f:
                    setup_schema(db, f.read().replace("/*MIGRATE_READINGS*/", "MIGRATE TO TARGET billing"))
                today = (int(time.time() * 1_000_000) // DAY) * DAY
                # Yesterday's last three periods and today's first (meters 0 and 2, two partitions).
                for m in (0, 2):
                    for k, counter in ((-3, 100), (-2, 150), (-1, 210), (0, 260)):
                        self.assertEqual(db.call("Report", m, surgedb.Timestamp(today + k * PERIOD), counter)
                                         .rows[0][0], 0)
                deadline = time.time() + 20
                want = [(0, today), (2, today)]
                while True:
                    left = [(m, int(p)) for m, p in db.sql("SELECT meter_id, period FROM readings ORDER BY meter_id")
                            .rows]
                    if left == want or time.time() > deadline:
                        break
                    time.sleep(0.05)
                self.assertEqual(left, want)
                # Billing has yesterday's six readings, once each, as MIGRATE rows.
                deadline = time.time() + 20
                while True:
                    rows = []
                    for path in glob.glob(os.path.join(billing, "readings-*.csv")):
                        with open(path, newline="") as f:
                            rows += list(csv.DictReader(f))
                    if len(rows) >= 6 or time.time() > deadline:
                        break
                    time.sleep(0.1)
                self.assertEqual({r["op"] for r in rows}, {"MIGRATE"})
                self.assertEqual(sorted((int(r["meter_id"]), int(r["counter"])) for r in rows),
                                 [(m, c) for m in (0, 2) for c in (100, 150, 210)])
                db.close()
            finally:
                self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    for flag in ("--surged", "--meters-lib"):
        if flag in sys.argv:
            i = sys.argv.index(flag)
            if flag == "--surged":
                test_server.SURGED = sys.argv[i + 1]
            else:
                METERS_LIB = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    if not test_server.SURGED or not METERS_LIB:
        sys.exit("usage: test_meters.py --surged PATH --meters-lib PATH")
    unittest.main(verbosity=2)
