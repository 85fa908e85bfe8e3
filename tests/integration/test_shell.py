"""surgesql against the real surged: scripts with exact outputs and exit codes, and an interactive
session through a pseudo-terminal (multi-line statement, tab completion, Ctrl-C, history). Run by
ctest:  python3 test_shell.py --surged PATH/surged --surgesql PATH/surgesql
"""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

import test_server
from test_server import Server

SURGESQL = None


class ShellTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(partitions=2)
        cls.tmp = tempfile.TemporaryDirectory()
        out = cls.run_shell(input="""
            CREATE TABLE people (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(30),
                                 score DECIMAL, seen TIMESTAMP);
            PARTITION TABLE people ON COLUMN id;
            CREATE TABLE regions (code VARCHAR(4) NOT NULL PRIMARY KEY, label VARCHAR(40));
            CREATE PROCEDURE Rename PARTITION ON TABLE people COLUMN id PARAMETER 1 AS
                UPDATE people SET name = ? WHERE id = ?;
            INSERT INTO people VALUES (1, 'Ann', 1.5, '2026-01-02 03:04:05');
            INSERT INTO people VALUES (2, NULL, -3, NULL);
            INSERT INTO regions VALUES ('EU', 'Europe; the west end');
        """)
        assert out.returncode == 0, out.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        assert cls.server.stop() == 0

    @classmethod
    def run_shell(cls, *args, input=None, servers=None):
        return subprocess.run([SURGESQL, "--servers", servers or cls.server.address, *args], input=input,
                              capture_output=True, text=True, timeout=60)

    def script(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_script_results_exactly(self):
        path = self.script("report.sql", """-- a report
SELECT id, name, score, seen FROM people
 ORDER BY id;
exec people.select 1;
exec Rename 'Bea', 2;  SELECT name FROM people WHERE id = 2;
exec Rename 'Ann', 1
""")
        r = self.run_shell("-f", path)
        self.assertEqual(r.stderr, "")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, """\
 id | name | score           | seen
----+------+-----------------+----------------------------
  1 | Ann  |  1.500000000000 | 2026-01-02 03:04:05.000000
  2 | NULL | -3.000000000000 | NULL
(2 rows)

 id | name | score          | seen
----+------+----------------+----------------------------
  1 | Ann  | 1.500000000000 | 2026-01-02 03:04:05.000000
(1 row)

(1 row affected)
 name
------
 Bea
(1 row)

(1 row affected)
""")
        self.run_shell("-e", "exec Rename NULL 2;")

    def test_first_failure_stops_the_script_with_its_line(self):
        path = self.script("fail.sql", "SELECT 1 AS one;\n\nSELECT nope\n  FROM people;\nINSERT INTO regions VALUES ('XX', 'never');\n")
        r = self.run_shell("-f", path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, " one\n-----\n   1\n(1 row)\n\n")
        self.assertEqual(r.stderr, f'{path}:3: ERROR: SQL_ERROR 42703: column "nope" does not exist at 1:8\n')
        r = self.run_shell("--output", "csv", "-e", "SELECT COUNT(*) AS n FROM regions WHERE code = 'XX';")
        self.assertEqual(r.stdout, "n\n0\n")

    def test_continue_on_error(self):
        r = self.run_shell("--continue-on-error", input="SELECT nope;\nexec nosuch 1;\nexec people.select abc;\n"
                           "INSERT INTO regions VALUES ('YY', 'after errors');\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.splitlines(), [
            'stdin:1: ERROR: SQL_ERROR 42703: column "nope" does not exist at 1:8',
            'stdin:2: ERROR: UNKNOWN_PROCEDURE 42883: procedure "nosuch" does not exist',
            "stdin:3: ERROR: exec people.select: argument 1: \"abc\" is not a number, NULL, TRUE/FALSE, "
            "TIMESTAMP '...' or X'...'; quote strings: 'abc'",
        ])
        self.assertEqual(r.stdout, "(1 row affected)\n")
        self.run_shell("-e", "DELETE FROM regions WHERE code = 'YY'")

    def test_output_formats(self):
        q = "SELECT code, label, NULL AS n, '' AS e FROM regions ORDER BY code;"
        self.assertEqual(self.run_shell("--output", "csv", "-e", q).stdout,
                         'code,label,n,e\nEU,Europe; the west end,,""\n')
        self.assertEqual(self.run_shell("--output", "tsv", "-e", q).stdout,
                         "code\tlabel\tn\te\nEU\tEurope; the west end\t\\N\t\n")
        self.assertEqual(self.run_shell("--output", "json", "-e", q).stdout,
                         '[\n{"code":"EU","label":"Europe; the west end","n":null,"e":""}\n]\n')
        # set output in a script; several results; exact decimals and timestamps in JSON.
        r = self.run_shell("-e", "set output json\nSELECT id, score, seen FROM people WHERE id = 1; "
                                 "SELECT COUNT(*) AS n FROM people;")
        self.assertEqual(r.stdout, '[\n{"id":1,"score":1.500000000000,"seen":"2026-01-02 03:04:05.000000"}\n]\n'
                                   '[\n{"n":2}\n]\n')

    def test_commands(self):
        r = self.run_shell("-e", "describe PEOPLE\nshow tables\nexplain SELECT * FROM people WHERE id = 1;\n"
                                 "explainproc Rename\nshow partitions")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn("""\
Table people, partitioned on id
 column_name | type           | nullable | default
-------------+----------------+----------+---------
 id          | INTEGER        | NO       | NULL
 name        | VARCHAR(30)    | YES      | NULL
 score       | DECIMAL(38,12) | YES      | NULL
 seen        | TIMESTAMP      | YES      | NULL
Indexes:
 index_name  | kind    | uniqueness  | key
-------------+---------+-------------+-----
 people_pkey | ORDERED | PRIMARY KEY | id
""", out)
        self.assertIn("""\
 table_name | table_type  | partition_column
------------+-------------+------------------
 people     | PARTITIONED | id
 regions    | REPLICATED  | NULL
(2 rows)
""", out)
        self.assertIn('INDEX SCAN of "people" using "people_pkey" (key1 = 1)\n', out)
        self.assertIn('UPDATE', out)
        self.assertRegex(out, r" partition_id \| tables \| tuples \| memory_bytes\n[-+]+\n +0 \| +2 \| +\d+ \| +\d+\n"
                              r" +1 \| +2 \| +\d+ \| +\d+\n\(2 rows\)")
        r = self.run_shell("-e", "CREATE STREAM clicks PARTITION ON COLUMN id (id INTEGER NOT NULL, url VARCHAR(100));\n"
                                 "show streams\ndescribe clicks\nDROP STREAM clicks;\nshow streams")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("""\
 stream_name | partition_column | export_target | column_count
-------------+------------------+---------------+--------------
 clicks      | id               | NULL          |            2
(1 row)
""", r.stdout)
        self.assertIn("""\
Stream clicks, partitioned on id
 column_name | type         | nullable | default
-------------+--------------+----------+---------
 id          | INTEGER      | NO       | NULL
 url         | VARCHAR(100) | YES      | NULL
""", r.stdout)
        self.assertTrue(r.stdout.rstrip().endswith("(0 rows)"), r.stdout)
        r = self.run_shell("--continue-on-error", "-e", "describe nosuch; show nonsense; set timing maybe;"
                                                       " explainproc; file /no/such/file.sql")
        self.assertEqual(r.stderr.splitlines(), [
            '-e:1: ERROR: describe: no table, view or stream named "nosuch"',
            "-e:1: ERROR: show nonsense: show tables, views, streams, procedures or partitions",
            '-e:1: ERROR: set timing: on or off, not "maybe"',
            "-e:1: ERROR: usage: explainproc PROC",
            "-e:1: ERROR: file /no/such/file.sql: cannot open it",
        ])
        self.assertIn("explainproc PROC", self.run_shell("-e", "help").stdout)

    def test_file_and_batch(self):
        inner = self.script("inner.sql", "SELECT label FROM regions WHERE code = 'EU';\n")
        outer = self.script("outer.sql", f"file {inner}\nSELECT 2 AS two;\n")
        r = self.run_shell("-f", outer)
        self.assertEqual(r.stdout, " label\n----------------------\n Europe; the west end\n(1 row)\n\n"
                                   " two\n-----\n   2\n(1 row)\n\n")
        # A failing batch of DDL changes nothing: the first table is not created either.
        bad = self.script("bad_batch.sql", "CREATE TABLE batch_a (id INTEGER NOT NULL PRIMARY KEY);\n"
                                           "CREATE TABLE people (id INTEGER);\n")
        r = self.run_shell("-e", f"file -batch {bad}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists", r.stderr)
        good = self.script("good_batch.sql", "CREATE TABLE batch_b (id INTEGER NOT NULL PRIMARY KEY);\n"
                                             "CREATE INDEX batch_b_id ON batch_b (id);\n")
        r = self.run_shell("-e", f"file -batch {good}\nshow tables")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"Batch of 2 statements from {good} done.\n", r.stdout)
        self.assertIn(" batch_b ", r.stdout)
        self.assertNotIn("batch_a", r.stdout)
        mixed = self.script("mixed_batch.sql", "SELECT 1;\nshow tables\n")
        r = self.run_shell("-e", f"file -batch {mixed}")
        self.assertEqual(r.stderr, f'{mixed}:2: ERROR: file -batch: "show" is a shell command; a batch holds SQL '
                                   f'statements only\n')
        self.run_shell("-e", "DROP TABLE batch_b")

    def test_startup_errors(self):
        r = self.run_shell("-e", "SELECT 1;", servers="127.0.0.1:1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot connect to a SurgeDB server:\n  127.0.0.1:1:", r.stderr)
        r = self.run_shell("--output", "xml")
        self.assertEqual((r.returncode, r.stderr.splitlines()[0]),
                         (2, 'surgesql: --output is table, csv, tsv or json, not "xml"'))
        r = self.run_shell("--user", "bob")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no users or authentication", r.stderr)
        r = self.run_shell("-f", "/no/such.sql")
        self.assertEqual((r.returncode, r.stderr), (2, "surgesql: cannot open /no/such.sql: No such file or directory\n"))

    def test_interactive_session_in_a_terminal(self):
        home = tempfile.mkdtemp(dir=self.tmp.name)
        env = dict(os.environ, TERM="xterm", HOME=home, INPUTRC="/dev/null", LC_ALL="C.UTF-8")
        env.pop("SURGESQL_HISTORY", None)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        def controlling_terminal():  # as a login shell has it: Ctrl-C becomes SIGINT
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen([SURGESQL, "--servers", self.server.address], stdin=slave, stdout=slave,
                                stderr=slave, env=env, close_fds=True, preexec_fn=controlling_terminal)
        os.close(slave)
        screen = ""

        def read_until(pattern, timeout=20):
            nonlocal screen
            deadline = time.time() + timeout
            while True:
                m = re.search(pattern, screen)
                if m:
                    found = screen[:m.end()]
                    screen = screen[m.end():]
                    return found
                if time.time() > deadline:
                    self.fail(f"no {pattern!r} on the screen; it shows:\n{screen}")
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        data = os.read(master, 65536).decode("utf-8", "replace")
                    except OSError:
                        data = ""
                    # Terminal control sequences are not what a person reads.
                    screen += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r", "", data)

        def type_(text):
            os.write(master, text.encode())

        try:
            read_until(r"connected to .*, 2 partitions\.")
            read_until(r"surgesql> ")
            type_("SELECT id,\r")
            read_until(r"\.\.\.> ")  # continuation prompt: the statement goes on
            type_("  name FROM peo\t")
            read_until(r"FROM people ")  # completed from @SystemCatalog
            type_("WHERE id < 3 ORDER BY id;\r")
            shown = read_until(r"\(2 rows\)")
            self.assertIn(" id | name\n----+------\n  1 | Ann\n  2 | NULL\n", shown)
            read_until(r"Time: [\d.]+ ms \(server [\d.]+ ms\)")
            type_("describe reg\t\r")
            read_until(r"Table regions, replicated")
            # Ctrl-C drops the statement being typed, string and all.
            type_("SELECT 'abc\r")
            read_until(r"\.\.\.> ")
            type_("\x03")
            read_until(r"surgesql> ")
            type_("SELECT 5 AS five;\r")
            shown = read_until(r"\(1 row\)")
            self.assertIn(" five\n------\n    5\n", shown)
            # Two tabs list the procedures that match.
            type_("exec people.\t\t")
            shown = read_until(r"people\.upsert")
            for name in ("people.delete", "people.insert", "people.select", "people.update"):
                self.assertIn(name, shown)
            type_("\x15")  # Ctrl-U: clear the line
            type_("CREATE TABLE fresh (id INTEGER);\r")
            read_until(r"OK")
            type_("SELECT * FROM fre\t")  # names are re-read after DDL
            read_until(r"FROM fresh ")
            type_(";\r")
            read_until(r"\(0 rows\)")
            type_("DROP TABLE fresh;\r")
            read_until(r"OK")
            type_("quit\r")
            self.assertEqual(proc.wait(20), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        with open(os.path.join(home, ".surgesql_history")) as f:
            history = f.read()
        self.assertIn("SELECT 5 AS five;", history)
        self.assertNotIn("'abc", history)
        self.assertEqual(os.stat(os.path.join(home, ".surgesql_history")).st_mode & 0o777, 0o600)


if __name__ == "__main__":
    for flag in ("--surged", "--surgesql"):
        if flag in sys.argv:
            i = sys.argv.index(flag)
            globals()[flag[2:].upper()] = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    test_server.SURGED = globals().get("SURGED")
    if not test_server.SURGED or not SURGESQL:
        sys.exit("usage: test_shell.py --surged PATH --surgesql PATH")
    unittest.main(verbosity=2)
