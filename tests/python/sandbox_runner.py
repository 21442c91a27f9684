#!/usr/bin/env python3
"""A small, faithful TeleClaude sandbox runner for our tests (issue 15).

It speaks the protocol of TeleClaude's own runner and behaves as it does
(public repository InstruktAI/TeleClaude, teleclaude/events/sandbox/:
protocol.py, runner.py, __main__.py), written from that description with the
standard library only (no pydantic, no TeleClaude install):

* configuration from SANDBOX_SOCKET_PATH and SANDBOX_CARTRIDGES_DIR;
  SIGTERM / SIGINT stop it;
* an asyncio Unix-socket server; per connection one request frame is read and
  one response frame written, then the connection is closed;
* a frame is a 4-byte big-endian unsigned length + UTF-8 JSON; a frame over
  4 MiB is refused (incoming: the connection is closed without an answer);
* request {cartridge_name, envelope (to_stream_dict), catalog_snapshot}; a
  request without cartridge_name or envelope is an error: no answer;
* cartridge_name "__ping__": {envelope: null, error: null, duration_ms: 0.0}
  without touching the disk;
* otherwise {cartridges_dir}/{name}.py is loaded into a fresh module on every
  request (no cache), its callable `process` is awaited as
  process(envelope, context) within 10 s; the answer is
  {envelope: result.to_stream_dict() or null, error: null, duration_ms};
  a timeout answers error "timeout", any exception error str(exc).
The envelope object mirrors teleclaude/events/envelope.py's EventEnvelope
(attributes, from_stream_dict / to_stream_dict; payload must be a dict;
actions validated and written back as ActionDescriptor.model_dump() writes
them, with outcome_shape); the context has `catalog` (built from the
snapshot: get / list_all return schema objects with attributes, the first of
a repeated event type wins) and `db` None, as in runner.py.

Not mirrored: cartridges cannot import teleclaude.* (the real runner runs in
a TeleClaude install), levels and visibilities are plain int / str rather
than EventLevel / EventVisibility, and there is no pydantic API
(model_copy, model_extra). TeleClaude's own runner can replace this one in
the tests: TM_SANDBOX_RUNNER (doc/cartridges.md).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import struct
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path

MAX_FRAME_BYTES = 4 * 1024 * 1024
HEADER = ">I"
HEADER_SIZE = struct.calcsize(HEADER)
CARTRIDGE_TIMEOUT = 10.0


class FrameTooLargeError(Exception):
    pass


def normalize_actions(actions):
    """dict[str, ActionDescriptor] | None as pydantic validates and model_dump()s
    it: description and produces required strings, outcome_shape a str->str
    dict or None (added when absent), other keys dropped."""
    if actions is None:
        return None
    if not isinstance(actions, dict):
        raise ValueError("1 validation error for EventEnvelope\nactions\n  Input should be a valid dictionary")
    out = {}
    for name, a in actions.items():
        if not isinstance(a, dict):
            raise ValueError(f"actions.{name}: Input should be a valid dictionary")
        for key in ("description", "produces"):
            if not isinstance(a.get(key), str):
                raise ValueError(f"actions.{name}.{key}: Field required or not a string")
        shape = a.get("outcome_shape")
        if shape is not None and not (
            isinstance(shape, dict) and all(isinstance(v, str) for v in shape.values())
        ):
            raise ValueError(f"actions.{name}.outcome_shape: Input should be a valid dictionary")
        out[name] = {"description": a["description"], "produces": a["produces"], "outcome_shape": shape}
    return out


class EventEnvelope:
    DECLARED = (
        "event", "version", "source", "timestamp", "idempotency_key", "level", "domain",
        "entity", "description", "visibility", "payload", "actions", "terminal_when",
        "resolution_shape",
    )

    def __init__(self, **fields):
        self.event = fields.pop("event")
        self.version = int(fields.pop("version", 1))
        self.source = fields.pop("source")
        self.timestamp = fields.pop("timestamp", None) or datetime.now(timezone.utc)
        self.idempotency_key = fields.pop("idempotency_key", None)
        level = int(fields.pop("level"))
        if level not in (0, 1, 2, 3):
            raise ValueError(f"{level} is not a valid EventLevel")
        self.level = level
        self.domain = fields.pop("domain", "")
        self.entity = fields.pop("entity", None)
        self.description = fields.pop("description", "")
        visibility = fields.pop("visibility", "local")
        if visibility not in ("local", "cluster", "public"):
            raise ValueError(f"{visibility!r} is not a valid EventVisibility")
        self.visibility = visibility
        payload = fields.pop("payload", None)
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):  # pydantic: dict[str, Any]
            raise ValueError("1 validation error for EventEnvelope\npayload\n  Input should be a valid dictionary")
        self.payload = payload
        self.actions = normalize_actions(fields.pop("actions", None))
        self.terminal_when = fields.pop("terminal_when", None)
        self.resolution_shape = fields.pop("resolution_shape", None)
        self.extra = fields  # extra="allow"

    @classmethod
    def from_stream_dict(cls, d):
        payload = json.loads(d["payload"]) if d.get("payload") else {}
        actions = json.loads(d["actions"]) if d.get("actions") else None
        resolution_shape = json.loads(d["resolution_shape"]) if d.get("resolution_shape") else None
        extra = json.loads(d["_extra"]) if d.get("_extra") else {}
        return cls(
            event=d["event"],
            version=int(d.get("version", "1")),
            source=d["source"],
            timestamp=datetime.fromisoformat(d["timestamp"]),
            idempotency_key=d.get("idempotency_key") or None,
            level=int(d["level"]),
            domain=d.get("domain", ""),
            entity=d.get("entity") or None,
            description=d.get("description", ""),
            visibility=d.get("visibility", "local"),
            payload=payload,
            actions=actions,
            terminal_when=d.get("terminal_when") or None,
            resolution_shape=resolution_shape,
            **extra,
        )

    def to_stream_dict(self):
        d = {
            "event": self.event,
            "version": str(self.version),
            "source": self.source,
            "timestamp": self.timestamp.isoformat(),
            "idempotency_key": self.idempotency_key or "",
            "level": str(int(self.level)),
            "domain": self.domain,
            "entity": self.entity or "",
            "description": self.description,
            "visibility": self.visibility,
            "payload": json.dumps(self.payload),
            "actions": json.dumps(normalize_actions(self.actions)) if self.actions else "",
            "terminal_when": self.terminal_when or "",
            "resolution_shape": json.dumps(self.resolution_shape) if self.resolution_shape else "",
        }
        if self.extra:
            d["_extra"] = json.dumps(self.extra)
        return d


def schema_from_dict(item):
    """An EventSchema-like object (attributes, lifecycle an object or None)."""
    lifecycle = item.get("lifecycle")
    return types.SimpleNamespace(
        event_type=item["event_type"],
        description=item["description"],
        default_level=int(item["default_level"]),
        domain=item["domain"],
        default_visibility=item.get("default_visibility", "local"),
        idempotency_fields=list(item.get("idempotency_fields", [])),
        lifecycle=types.SimpleNamespace(**lifecycle) if isinstance(lifecycle, dict) else None,
        actionable=bool(item.get("actionable", False)),
    )


class EventCatalog:
    def __init__(self, snapshot):
        self._registry = {}
        for item in snapshot:
            # runner.py: EventSchema(**item) then register(); a bad or repeated
            # entry is skipped with a warning (the first registration wins).
            try:
                schema = schema_from_dict(item)
                if schema.event_type in self._registry:
                    raise ValueError(f"Event type already registered: {schema.event_type}")
                self._registry[schema.event_type] = schema
            except Exception as e:
                print(f"Skipping catalog snapshot entry: {e}", file=sys.stderr)

    def get(self, event_type):
        return self._registry.get(event_type)

    def list_all(self):
        return [self._registry[k] for k in sorted(self._registry)]


class PipelineContext:
    def __init__(self, catalog, db):
        self.catalog = catalog
        self.db = db


def encode(obj):
    body = json.dumps(obj).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLargeError(f"Message too large: {len(body)} bytes (max {MAX_FRAME_BYTES})")
    return struct.pack(HEADER, len(body)) + body


async def read_frame(reader):
    (length,) = struct.unpack(HEADER, await reader.readexactly(HEADER_SIZE))
    if length > MAX_FRAME_BYTES:
        raise FrameTooLargeError(f"Incoming frame too large: {length} bytes (max {MAX_FRAME_BYTES})")
    return json.loads((await reader.readexactly(length)).decode("utf-8"))


def load_module(cartridges_dir, name):
    path = Path(cartridges_dir) / f"{name}.py"
    if not path.exists():
        raise FileNotFoundError(f"Cartridge not found: {path}")
    spec = importlib.util.spec_from_file_location(f"sandbox_cartridge_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot create module spec for: {path}")
    module = types.ModuleType(spec.name)
    spec.loader.exec_module(module)
    return module


def response(envelope, error, duration_ms):
    return {"envelope": envelope, "error": error, "duration_ms": duration_ms}


class SandboxRunner:
    def __init__(self, socket_path, cartridges_dir):
        self.socket_path = socket_path
        self.cartridges_dir = cartridges_dir

    async def start(self, shutdown):
        server = await asyncio.start_unix_server(self.handle, path=self.socket_path)
        print(f"SandboxRunner listening on {self.socket_path}", file=sys.stderr, flush=True)
        async with server:
            await shutdown.wait()

    async def handle(self, reader, writer):
        try:
            raw = await read_frame(reader)
            name = raw["cartridge_name"]
            envelope_dict = raw["envelope"]
            snapshot = raw.get("catalog_snapshot", [])
            if name == "__ping__":
                writer.write(encode(response(None, None, 0.0)))
                await writer.drain()
                return
            start = time.monotonic()
            try:
                module = load_module(self.cartridges_dir, name)
                process = getattr(module, "process", None)
                if not callable(process):
                    raise AttributeError(f"Cartridge {name!r} has no callable 'process'")
                envelope = EventEnvelope.from_stream_dict(envelope_dict)
                context = PipelineContext(EventCatalog(snapshot), None)
                result = await asyncio.wait_for(process(envelope, context), timeout=CARTRIDGE_TIMEOUT)
                out = response(result.to_stream_dict() if result is not None else None, None,
                               (time.monotonic() - start) * 1000)
            except TimeoutError:
                out = response(None, "timeout", (time.monotonic() - start) * 1000)
            except Exception as exc:
                print(f"Cartridge {name!r} raised: {exc}", file=sys.stderr, flush=True)
                out = response(None, str(exc), (time.monotonic() - start) * 1000)
            writer.write(encode(out))
            await writer.drain()
        except FrameTooLargeError as exc:
            print(f"Frame too large, dropping: {exc}", file=sys.stderr, flush=True)
        except Exception as exc:
            print(f"Unexpected error handling sandbox client: {exc!r}", file=sys.stderr, flush=True)
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass


def main():
    socket_path = os.environ["SANDBOX_SOCKET_PATH"]
    cartridges_dir = os.environ["SANDBOX_CARTRIDGES_DIR"]
    shutdown = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, shutdown.set)
    loop.add_signal_handler(signal.SIGINT, shutdown.set)
    try:
        loop.run_until_complete(SandboxRunner(socket_path, cartridges_dir).start(shutdown))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
