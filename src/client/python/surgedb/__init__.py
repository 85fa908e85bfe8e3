"""SurgeDB's Python client: call stored procedures over gRPC.

    import surgedb
    with surgedb.connect("127.0.0.1:21212") as db:
        db.call("@AdHoc", "CREATE TABLE kv (k VARCHAR(64) NOT NULL PRIMARY KEY, v BIGINT)")
        db.call("kv.insert", "a", 1)
        print(db.call("kv.select", "a").rows)     # [('a', 1)]

Generated protocol modules (surge.v1.surge_pb2, surge_pb2_grpc) must be importable: the build
writes them to build/python (add it to PYTHONPATH), or install them next to this package.
"""
from .client import Client, Error, Response, Table, connect, Decimal, Timestamp

__all__ = ["Client", "Error", "Response", "Table", "connect", "Decimal", "Timestamp"]
