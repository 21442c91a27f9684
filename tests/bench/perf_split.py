#!/usr/bin/env python3
"""Where each process of a mesh hop spends its CPU (doc/scaling.md section 4).

  mesh_bench mesh_hop --perf_record=/tmp/mesh.data   # its note lists NAME=PID,...
  perf script -i /tmp/mesh.data -F comm,pid,tid,ip,sym,dso \\
    | tests/bench/perf_split.py redis=11,a_egress=12,...

Reads `perf script` samples (with call chains) on stdin and prints, per
process, the share of its samples by where they landed: SQLite, the kernel's
file I/O for it (by syscall), sockets, malloc/free, memcpy, gRPC + protobuf,
Redis's own code, and our code (JSON, envelope copies, stream codec, other).
Kernel samples are attributed to the first user-space frame that called in.
"""
import collections
import re
import sys

FILE_IO = re.compile(r"pwrite|pread|fsync|fdatasync|ftruncate|lseek|__libc_open")
SOCKETS = re.compile(r"recv|send|writev|readv|__libc_write|__libc_read|epoll|poll")
FUTEX = re.compile(r"futex|pthread_cond|pthread_mutex|sem_")


def kernel_category(frames):
    for sym, dso in frames[1:]:
        if "kernel" in dso:
            continue
        m = FILE_IO.search(sym)
        if m:
            return "kernel: file I/O " + m.group(0)
        if SOCKETS.search(sym):
            return "kernel: sockets/epoll"
        if FUTEX.search(sym):
            return "kernel: futex (thread hand-offs)"
        return "kernel: other"
    if any("page_fault" in s for s, _ in frames):
        return "kernel: page faults"
    return "kernel: other"


def category(frames):
    if not frames:
        return "unknown"
    sym, dso = frames[0]
    if "kernel" in dso:
        return kernel_category(frames)
    if "sqlite" in dso:
        return "sqlite"
    if "jemalloc" in dso:
        return "malloc/free"
    if "libc" in dso:
        if re.search(r"malloc|free|_int_|tcache", sym):
            return "malloc/free"
        if re.search(r"mem(move|cpy|set|chr|cmp)|str(len|chr|cmp)", sym):
            return "memcpy/memchr"
        if re.search(r"pthread|lll_", sym):
            return "mutex"
        return "libc other (incl. syscall entry)"
    if re.search(r"grpc|protobuf|gpr|upb", dso):
        return "gRPC + protobuf"
    if "absl" in dso:
        return "absl"
    if "hiredis" in dso:
        return "hiredis"
    if "stdc++" in dso:
        return "libstdc++"
    if "redis" in dso:  # redis-server (Debian links it as redis-check-rdb)
        return "redis (server code)"
    if "telec" in dso:
        if re.search(r"json::|Json|Escape|byte_scan", sym):
            return "ours: JSON"
        if re.search(r"StreamEntry|DecodeEnvelopeStream|EncodeEnvelopeStream", sym):
            return "ours: stream codec"
        if "Envelope" in sym:
            return "ours: envelope copies"
        return "ours: other"
    return "other (%s)" % dso


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    names = dict(
        (pid, name) for name, pid in (p.split("=", 1) for p in sys.argv[1].split(",") if p))
    per = collections.defaultdict(collections.Counter)
    pid, frames = None, []

    def flush():
        if pid is not None:
            per[names.get(pid, "pid " + pid)][category(frames)] += 1

    for line in sys.stdin:
        if not line.strip():
            continue
        if not line[0].isspace():  # "comm  pid/tid": a new sample
            flush()
            m = re.search(r"\s(\d+)/(\d+)\s*$", line.rstrip() + " ")
            pid, frames = (m.group(1) if m else None), []
            continue
        m = re.match(r"\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m:
            frames.append((m.group(1), m.group(2)))
    flush()
    total = sum(sum(c.values()) for c in per.values())
    for name, counts in sorted(per.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(counts.values())
        print("== %s: %d samples, %.1f%% of all" % (name, n, 100.0 * n / total))
        for cat, k in counts.most_common(12):
            print("   %5.1f%%  %s" % (100.0 * k / n, cat))


if __name__ == "__main__":
    main()
