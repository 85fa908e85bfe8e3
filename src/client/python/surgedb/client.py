"""The client (see the package docstring)."""
from __future__ import annotations

import concurrent.futures as _futures
import datetime as _dt
import decimal as _decimal
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Sequence

import grpc

from surge.v1 import surge_pb2 as pb
from surge.v1 import surge_pb2_grpc as pb_grpc

Decimal = _decimal.Decimal


class Timestamp(int):
    """A TIMESTAMP parameter or result: microseconds since the epoch (UTC)."""

    @staticmethod
    def from_datetime(d: _dt.datetime) -> "Timestamp":
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        delta = d - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return Timestamp((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)

    def to_datetime(self) -> _dt.datetime:
        return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=int(self))


_STATUS_NAMES = {v: k for k, v in pb.StatusCode.items()}


class Error(Exception):
    """A call that did not succeed: status is the StatusCode name (SQL_ERROR, OVERLOADED, ...)."""

    def __init__(self, status: str, message: str, sqlstate: str = ""):
        super().__init__(f"{status}: {message}" + (f" [{sqlstate}]" if sqlstate else ""))
        self.status = status
        self.message = message
        self.sqlstate = sqlstate


@dataclass
class Table:
    columns: List[str]
    types: List[str]
    rows: List[tuple]


@dataclass
class Response:
    tables: List[Table] = field(default_factory=list)
    server_micros: int = 0
    txn_id: int = 0

    @property
    def rows(self) -> List[tuple]:
        """The rows of the first (usually only) result table."""
        return self.tables[0].rows if self.tables else []

    @property
    def modified(self) -> int:
        """Rows changed by a DML statement (its result is one row with the count)."""
        return int(self.rows[0][0]) if self.rows else 0


def _encode(value: Any) -> pb.Value:
    v = pb.Value()
    if value is None:
        v.null = pb.TYPE_UNSPECIFIED
    elif isinstance(value, bool):
        v.boolean = value
    elif isinstance(value, Timestamp):
        v.timestamp = int(value)
    elif isinstance(value, _dt.datetime):
        v.timestamp = int(Timestamp.from_datetime(value))
    elif isinstance(value, int):
        v.int = value
    elif isinstance(value, float):
        setattr(v, "float", value)
    elif isinstance(value, _decimal.Decimal):
        v.decimal = str(value)
    elif isinstance(value, str):
        v.varchar = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        v.varbinary = bytes(value)
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as a SurgeDB parameter")
    return v


def _decode_table(t: pb.Table) -> Table:
    n = t.row_count
    columns = [c.name for c in t.columns]
    types = [pb.Type.Name(c.type) for c in t.columns]
    cols: List[list] = []
    for c, data in zip(t.columns, t.data):
        if c.type in (pb.FLOAT,):
            vals = list(data.floats)
        elif c.type == pb.DECIMAL:
            vals = [_decimal.Decimal(s) if s else None for s in data.strings]
        elif c.type == pb.VARCHAR:
            vals = list(data.strings)
        elif c.type == pb.VARBINARY:
            vals = list(data.binaries)
        elif c.type == pb.TIMESTAMP:
            vals = [Timestamp(x) for x in data.ints]
        elif c.type == pb.BOOLEAN:
            vals = [bool(x) for x in data.ints]
        else:
            vals = list(data.ints)
        if data.nulls:
            nulls = data.nulls
            vals = [None if nulls[i >> 3] & (1 << (i & 7)) else x for i, x in enumerate(vals)]
        if len(vals) != n:
            raise Error("INTERNAL", f"column {c.name} has {len(vals)} values for {n} rows")
        cols.append(vals)
    rows = list(zip(*cols)) if cols else [() for _ in range(n)]
    return Table(columns, types, rows)


def _transport_error(e: grpc.RpcError) -> Error:
    # Connection refused, deadline, message too large...
    return Error("UNAVAILABLE" if e.code() == grpc.StatusCode.UNAVAILABLE else e.code().name, e.details() or str(e))


def _response(r: pb.Response) -> Response:
    if r.status.code != pb.OK:
        raise Error(_STATUS_NAMES.get(r.status.code, str(r.status.code)), r.status.message, r.status.sqlstate)
    return Response([_decode_table(t) for t in r.results], r.server_micros, r.txn_id)


class Client:
    """A connection to one surged. Thread-safe; calls may run concurrently."""

    def __init__(self, address: str = "127.0.0.1:21212", timeout: Optional[float] = 30.0):
        self._channel = grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", 64 << 20),
        ])
        self._stub = pb_grpc.SurgeStub(self._channel)
        self._timeout = timeout
        self._handles = itertools.count(1)

    def call(self, procedure: str, *params: Any) -> Response:
        """Calls a procedure; raises Error unless it succeeded."""
        inv = pb.Invocation(procedure=procedure, params=[_encode(p) for p in params],
                            client_handle=next(self._handles))
        try:
            r = self._stub.Call(inv, timeout=self._timeout)
        except grpc.RpcError as e:  # connection refused, deadline, message too large...
            raise _transport_error(e) from None
        return _response(r)

    def call_async(self, procedure: str, *params: Any) -> "_futures.Future[Response]":
        """Starts a call and returns at once: a concurrent.futures.Future whose result() is the
        Response, or raises Error. Many may be outstanding; they run concurrently."""
        inv = pb.Invocation(procedure=procedure, params=[_encode(p) for p in params],
                            client_handle=next(self._handles))
        out: _futures.Future = _futures.Future()
        rpc = self._stub.Call.future(inv, timeout=self._timeout)

        def done(f):
            try:
                out.set_result(_response(f.result()))
            except grpc.RpcError as e:
                out.set_exception(_transport_error(e))
            except Error as e:
                out.set_exception(e)

        rpc.add_done_callback(done)
        return out

    def sql(self, text: str, *params: Any) -> Response:
        """Ad-hoc SQL (@AdHoc)."""
        return self.call("@AdHoc", text, *params)

    def call_many(self, calls: Iterable[Sequence[Any]], batch: int = 500) -> List[Any]:
        """Sends (procedure, *params) calls over one stream in batches; returns, in call order, a
        Response for each success and an Error for each failure (nothing is raised for them). If
        the connection fails midway, each unanswered call gets an UNAVAILABLE Error."""
        calls = list(calls)

        def batches():
            for start in range(0, len(calls), batch):
                invs = []
                for i, c in enumerate(calls[start:start + batch], start):
                    invs.append(pb.Invocation(procedure=c[0], params=[_encode(p) for p in c[1:]],
                                              client_handle=i))
                yield pb.InvocationBatch(invocations=invs)

        out: List[Any] = [None] * len(calls)
        missing = Error("UNAVAILABLE", "the server closed the stream before this call reached it; it did not run")
        try:
            for rb in self._stub.Stream(batches(), timeout=self._timeout):
                for r in rb.responses:
                    try:
                        out[r.client_handle] = _response(r)
                    except Error as e:
                        out[r.client_handle] = e
        except grpc.RpcError as e:
            # The connection or stream failed: calls without an answer may or may not have run.
            code = e.code()
            status = code.name if code in (grpc.StatusCode.RESOURCE_EXHAUSTED,
                                           grpc.StatusCode.DEADLINE_EXCEEDED) else "UNAVAILABLE"
            missing = Error(status, f"the stream failed before this call was answered ({code.name}: "
                            f"{e.details()}); it may or may not have run")
        for i, r in enumerate(out):
            if r is None:
                out[i] = missing
        return out

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(address: str = "127.0.0.1:21212", timeout: Optional[float] = 30.0) -> Client:
    return Client(address, timeout)
