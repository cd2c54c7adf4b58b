#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""make bench: the overhead budget of issue 5, measured in one run.

  python3 tools/bench/bench.py [--build build] [--out docs/BENCH.md]
        [--rounds N] [--quick]
        [--only overhead,replay,sustained,agent,footprint,h2,h2replay,go]

Runs as root. Everything talks to 127.0.0.1 only; every loop is bounded;
every process it starts is stopped on exit (also on Ctrl-C), so the BPF
programs it attached go away with them. Writes the results table to --out
and the raw numbers to bench-raw.json beside it.

1. overhead   fixed client workloads (tools/bench/loadgen.c), each run
              untraced, with the floor (tools/bench/floor.bpf.c: empty
              programs on the tracer's hooks) and with httptrace-bpf on the
              whole host; conditions interleaved, their order rotated every
              round; medians.
2. replay     ht_bench_replay pinned to one CPU: correlator + JSON output.
3. sustained  paced keep-alive load at rising rates, traced with
              -p server -p client; the highest rate with every request seen,
              none incomplete, no record lost.
   agent      the same load at 5,000, 10,000 and 20,000 req/s with the
              tracer as a fleet agent (--quiet, --metrics-addr, spans to
              an OTLP receiver), each beside the JSON run of the same
              rate: CPU per 1,000 req/s, peak RSS, every timeline counted
              in /metrics and received as a span.
4. footprint  peak RSS of the daemon (VmHWM, highest over every run here),
              BPF map memory (bpftool), start to "Tracing" on the whole host.
5. h2         HTTP/2: h2load against nghttpd (TLS and h2c), untraced,
              floor and tracer as in 1, requests/s and latency; h2replay:
              an h2load run recorded with --record, replayed with
              ht_bench_replay --from: records/s, frames/s, streams/s.
6. go         Go HTTPS (tools/bench/go: net/http and crypto/tls, client
              and server), HTTP/1.1 keep-alive and HTTP/2, untraced, floor
              and tracer as in 1; every request's timelines counted in
              the tracer's JSON; BPF time per program, beside the C TLS
              library's.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TARGETS = {
    "ratio": 1.25,          # tracer added / floor added, (a) (b) (c)
    "nonhttp_pct": 3.0,     # (d) within 3 % of untraced
    "replay_eps": 2e6,      # events per second, one core
    "sustained_rps": 20000,
    "rss_mib": 20.0,
    "start_ms": 300.0,
}

EXIT_RE = re.compile(r"(\d+) requests, (\d+) incomplete, (\d+) records lost")

procs = []  # every process we started, stopped at exit

MAP_TYPES = {"1": "hash", "2": "array", "5": "percpu_hash",
             "6": "percpu_array", "9": "lru_hash", "10": "lru_percpu_hash",
             "27": "ringbuf"}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=3)
            except Exception:
                try:
                    p.kill()
                    p.wait(timeout=3)
                except Exception:
                    pass
    procs.clear()


def on_signal(sig, frame):
    cleanup()
    sys.exit(128 + sig)


def start(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGINT, timeout=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in procs:
        procs.remove(p)


class Daemon:
    """The tracer or the floor loader: started, ready when a line on stderr
    says so, stderr collected, peak RSS read before it is stopped."""

    def __init__(self, cmd, ready_word, stdout=subprocess.DEVNULL):
        self.cmd = cmd
        self.lines = []
        self.ready = threading.Event()
        self.t0 = time.monotonic()
        self.p = start(cmd, stdout=stdout, stderr=subprocess.PIPE,
                       text=True, bufsize=1)
        self.ready_s = None
        self.word = ready_word
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line.rstrip("\n"))
            if self.word in line and not self.ready.is_set():
                self.ready_s = time.monotonic() - self.t0
                self.ready.set()

    def wait_ready(self, timeout=30):
        if not self.ready.wait(timeout):
            stop(self.p, signal.SIGKILL)
            raise RuntimeError(f"{self.cmd[0]} not ready: "
                               + " | ".join(self.lines[-5:]))

    def status(self, field):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])  # kB
        except OSError:
            pass
        return None

    def map_mmap_rss(self):
        """kB of RSS in BPF map mappings (the ring buffer: its data pages
        are mapped twice, and both count once touched)."""
        total, cur = 0, False
        try:
            with open(f"/proc/{self.p.pid}/smaps") as f:
                for line in f:
                    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                        cur = line.rstrip().endswith("anon_inode:bpf-map")
                    elif cur and line.startswith("Rss:"):
                        total += int(line.split()[1])
        except OSError:
            return None
        return total

    def cpu_ticks(self):
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            return None

    def stop(self):
        hwm = self.status("VmHWM")
        mem = {k: self.status(k) for k in ("VmRSS", "RssAnon", "RssFile",
                                            "RssShmem")}
        mem["bpf_map_mmap_rss"] = self.map_mmap_rss()
        stop(self.p)
        self.th.join(timeout=5)
        m = None
        for line in self.lines:
            m = EXIT_RE.search(line) or m
        res = {"vmhwm_kb": hwm, "rc": self.p.returncode, "mem_kb": mem}
        if m:
            res.update(requests=int(m.group(1)), incomplete=int(m.group(2)),
                       lost=int(m.group(3)))
        return res


def children_cpu_s():
    """CPU seconds (user + system) of the children waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def cpu_ticks_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def task_cpu_ns(pid):
    """CPU time of all threads of process pid, ns (schedstat: finer than
    the clock ticks of /proc/PID/stat); None when it is gone."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread that ended meanwhile
    return total


def prog_names():
    """BPF program names by id, from bpftool."""
    return {p.get("id"): p.get("name", "?") for p in bpftool_json("prog", "show")
            if isinstance(p, dict)}


def prog_stats_each(pid):
    """Per BPF program process pid holds: {prog_id: (run_time_ns,
    run_cnt)}."""
    return {int(p.get("prog_id", -1)): (int(p.get("run_time_ns", 0)),
                                        int(p.get("run_cnt", 0)))
            for p in bpf_fdinfos(pid, "prog", "prog_id")}


def stable_path(hook):
    """PATH:OFFSET with /proc/PID/root/... as the file's own path when
    that is the same file: the floor starts later, maybe after that
    process (someone's short-lived `go` command) is gone."""
    path, _, off = hook.rpartition(":")
    m = re.match(r"^/proc/\d+/root(/.*)$", path)
    if m:
        try:
            a, b = os.stat(path), os.stat(m.group(1))
            if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
                return f"{m.group(1)}:{off}"
        except OSError:
            pass
    return hook


def present(floor_args):
    """The floor's arguments without the uprobes on files gone since the
    hooks were listed (a process in a container that ended)."""
    out = []
    for opt, val in zip(floor_args[::2], floor_args[1::2]):
        if opt in ("--uprobe", "--uretprobe") and not os.path.exists(
                val.rpartition(":")[0]):
            continue
        out += [opt, val]
    return out


AGENT_OTLP_RE = re.compile(r"otlp: (\d+) spans sent, (\d+) dropped "
                           r"\(queue full\), (\d+) failed")
AGENT_QUEUE_RE = re.compile(r"(\d+) timelines not sent to (\S+): its queue")


class AgentExports:
    """What the agent exports to, for the agent trials: an OTLP receiver
    (tests/lib/otlp_receiver.py counting spans only: decoding each in
    Python would be the bottleneck) and a /metrics scrape."""

    def __init__(self):
        sys.path.insert(0, os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "..", "..", "tests", "lib"))
        from otlp_receiver import OtlpReceiver
        self.rx = OtlpReceiver(count_only=True).start()
        self.metrics_port = free_port()
        self.spans_before = 0

    def args(self):
        self.spans_before = self.rx.span_count
        return ["--quiet", "--metrics-addr",
                f"127.0.0.1:{self.metrics_port}", "--otlp-endpoint",
                f"http://127.0.0.1:{self.rx.port}"]

    def scrape(self):
        """{metric name: sum over its series} from /metrics, or None."""
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/metrics",
                    timeout=10) as r:
                text = r.read().decode()
        except OSError as e:
            log(f"agent: /metrics scrape failed: {e}")
            return None
        sums = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name = re.split(r"[{ ]", line, 1)[0]
            try:
                sums[name] = sums.get(name, 0) + float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
        return sums

    def verdict(self, lines, scraped, seen):
        """Every timeline exported: sent as a span and received, none
        dropped or failed, each counted in a duration histogram."""
        sent = dropped = failed = None
        queue_full = {}
        for line in lines:
            m = AGENT_OTLP_RE.search(line)
            if m:
                sent, dropped, failed = (int(x) for x in m.groups())
            m = AGENT_QUEUE_RE.search(line)
            if m:
                queue_full[m.group(2)] = int(m.group(1))
        received = self.rx.span_count - self.spans_before
        counted = None
        if scraped is not None:
            counted = int(scraped.get(
                "http_client_request_duration_seconds_count", 0) +
                scraped.get("http_server_request_duration_seconds_count", 0))
        v = {"spans_sent": sent, "spans_dropped": dropped,
             "spans_failed": failed, "spans_received": received,
             "queue_full": queue_full, "histogram_count": counted,
             "receiver_errors": len(self.rx.errors)}
        v["exported"] = bool(
            seen and sent == seen and received == seen and dropped == 0
            and failed == 0 and not queue_full and counted == seen
            and not self.rx.errors)
        log(f"agent: spans sent {sent}, received {received}, dropped "
            f"{dropped}, failed {failed}; histogram count {counted} "
            f"(expect {seen})")
        return v

    def stop(self):
        self.rx.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_json(cmd, timeout=120):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): "
                           f"{out.stderr.strip()[-300:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bpftool_json(*args):
    try:
        out = subprocess.run(["bpftool", "-j", *args], capture_output=True,
                             text=True, timeout=30)
        return json.loads(out.stdout or "[]")
    except Exception:
        return []


def hooks_of(pid):
    """What process pid has attached: (kind, name) pairs from bpftool perf."""
    hooks = set()
    for e in bpftool_json("perf"):
        if e.get("pid") != pid:
            continue
        kind = e.get("fd_type")
        if kind in ("uprobe", "uretprobe", "kprobe", "kretprobe"):
            name = f"{e.get('filename', e.get('func', '?'))}:{e.get('offset', 0)}"
        else:
            name = e.get("tracepoint", "?")
        hooks.add((kind, name))
    return hooks


def bpf_fdinfos(pid, kind, id_key):
    """/proc/PID/fdinfo of each BPF object of one kind ("map", "prog")
    process pid holds, as dicts, once per object (id_key: map_id,
    prog_id) however many fds it has."""
    seen = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{fd}") != f"anon_inode:bpf-{kind}":
                continue
            info = {}
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    info[k.strip()] = v.strip()
        except OSError:
            continue
        if info.get(id_key) in seen:
            continue
        seen.add(info.get(id_key))
        yield info


def prog_stats(pid):
    """Summed run_time_ns and run_cnt of the BPF programs process pid
    holds (the kernel counts while kernel.bpf_stats_enabled is 1)."""
    progs = list(bpf_fdinfos(pid, "prog", "prog_id"))
    return (sum(int(p.get("run_time_ns", 0)) for p in progs),
            sum(int(p.get("run_cnt", 0)) for p in progs))


def foreign_hooks(own_pids):
    """BPF programs other people have on perf hooks right now (their
    tracers slow every syscall on the host, ours included)."""
    return sorted({(e.get("pid"), e.get("fd_type")) for e in bpftool_json("perf")
                   if e.get("pid") not in own_pids},
                  key=str)


def tracepoint_category(name):
    for root in ("/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"):
        try:
            for cat in os.listdir(root):
                if os.path.isdir(os.path.join(root, cat, name)):
                    return cat
        except OSError:
            pass
    return "syscalls"


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1048576:.1f} GiB"
    except (OSError, ValueError):
        pass
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = "?"
    return {
        "nproc": os.cpu_count(),
        "model": model,
        "memory": mem,
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%d %H:%M UTC"),
        "git": rev,
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


# --------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        b = args.build
        self.tracer = os.path.join(b, "httptrace-bpf")
        self.server = os.path.join(b, "fixtures", "ht_test_server")
        self.load = os.path.join(b, "tools", "bench", "ht_bench_load")
        self.replay = os.path.join(b, "tools", "bench", "ht_bench_replay")
        self.floor = os.path.join(b, "tools", "bench", "ht_bench_floor")
        self.tmp = tempfile.mkdtemp(prefix="ht_bench.")
        atexit.register(shutil.rmtree, self.tmp, True)
        self.raw = {"machine": machine_info(), "targets": TARGETS,
                    "hwm_kb": []}
        self.gobin = os.path.join(b, "tools", "bench", "ht_bench_go")
        self.floor_args = []
        self.h2 = None
        self.go = None

    # ---- fixtures ---------------------------------------------------------

    def start_servers(self):
        pf = os.path.join(self.tmp, "port")
        self.srv = start([self.server, "--listen", "127.0.0.1", "--port", "0",
                          "--port-file", pf, "--max-seconds", "1200"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.05)
        self.http = f"127.0.0.1:{int(open(pf).read().strip())}"
        self.tls = None
        if shutil.which("openssl"):
            cert, key = (os.path.join(self.tmp, n) for n in ("c.pem", "k.pem"))
            r = subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                 "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                capture_output=True)
            if r.returncode == 0:
                port = free_port()
                self.tls_srv = start([self.load, "tls-server", str(port), cert,
                                      key], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", port), 0.2).close()
                        self.tls = f"127.0.0.1:{port}"
                        break
                    except OSError:
                        time.sleep(0.05)
        if not self.tls:
            log("no openssl: workload (c) is skipped")

    # ---- the hooks: what the tracer attaches, mirrored by the floor --------

    def discover_hooks(self):
        # -vv: the tracer names each uprobe it placed (uprobe_multi links
        # are not listed by bpftool perf)
        d = Daemon([self.tracer, "--json", "-vv"], "Tracing")
        d.wait_ready()
        time.sleep(0.2)
        tracer_hooks = hooks_of(d.p.pid)
        for line in d.lines:
            m = re.search(r"uprobe: (\S+):(\d+) (entry|return) ", line)
            if m:
                tracer_hooks.add(("uprobe" if m.group(3) == "entry"
                                  else "uretprobe",
                                  f"{m.group(1)}:{m.group(2)}"))
        maps = self.map_memory(d.p.pid)
        res = d.stop()
        self.raw["hwm_kb"].append(res["vmhwm_kb"])
        self.raw["bpf_maps"] = maps
        self.raw["tracer_banner"] = [l for l in d.lines if "Tracing" in l]

        # what the floor attaches by itself (the static mirror)
        f = Daemon([self.floor], "Attached")
        f.wait_ready()
        mirror = hooks_of(f.p.pid)
        f.stop()
        args = []
        go_hooks = []
        tracer_hooks = {(k, stable_path(n) if k in ("uprobe", "uretprobe")
                         else n) for k, n in tracer_hooks}
        for kind, name in sorted(tracer_hooks):
            if kind in ("uprobe", "uretprobe") and self.is_go_file(name):
                # Go code gets no uretprobe (the runtime moves goroutine
                # stacks): its returns are uprobes on RET instructions
                go_hooks.append([kind, name])
                args += ["--uprobe", name]
            elif kind in ("uprobe", "uretprobe"):
                args += [f"--{kind}", name]
            elif (kind, name) in mirror:
                continue
            elif kind == "tracepoint":
                args += ["--tracepoint", f"{tracepoint_category(name)}/{name}"]
            elif kind == "raw_tracepoint":
                args += ["--raw-tp", name]
        self.floor_args = args
        f = Daemon([self.floor] + args, "Attached")
        f.wait_ready()
        floor_hooks = hooks_of(f.p.pid)
        f.stop()
        self.raw["hooks"] = {
            "tracer": sorted(map(list, tracer_hooks)),
            "floor": sorted(map(list, floor_hooks)),
            "missing_in_floor": sorted(map(list, tracer_hooks - floor_hooks)),
            "extra_in_floor": sorted(map(list, floor_hooks - tracer_hooks)),
            "floor_args": args,
        }
        if self.go:
            self.raw["go_hooks"] = go_hooks
            log(f"Go program: the tracer attached {len(go_hooks)} uprobes "
                "to ht_bench_go" + ("" if go_hooks else
                                    ": its HTTPS traffic is not decoded"))
        log(f"tracer hooks: {len(tracer_hooks)}, floor hooks: "
            f"{len(floor_hooks)}, difference: "
            f"{len(tracer_hooks ^ floor_hooks)}")

    def is_go_file(self, hook):
        """Whether a hook's PATH:OFFSET is in the Go bench program (as
        /proc/PID/root/..., /proc/PID/exe or its own path)."""
        if not self.go:
            return False
        try:
            st = os.stat(hook.rsplit(":", 1)[0])
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self.go["file_id"]

    def map_memory(self, pid):
        """The BPF maps process pid holds: /proc/PID/fdinfo of its map
        fds (memlock, map_id), names from bpftool."""
        maps = []
        for info in bpf_fdinfos(pid, "map", "map_id"):
            mid = int(info.get("map_id", -1))
            show = bpftool_json("map", "show", "id", str(mid))
            mtype = info.get("map_type")
            mtype = MAP_TYPES.get(mtype, mtype)
            maps.append({"id": mid,
                         "name": show.get("name", "?") if isinstance(show, dict) else "?",
                         "type": mtype,
                         "max_entries": int(info.get("max_entries", 0)),
                         "value_size": int(info.get("value_size", 0)),
                         "bytes_memlock": int(info.get("memlock", 0))})
        return maps

    # ---- 1. traced-program overhead -----------------------------------------

    def workloads(self):
        q = self.a.quick
        w = [("a", "keepalive", ["keepalive", self.http, str(5000 if q else 20000)]),
             ("b", "newconn", ["newconn", self.http, str(3000 if q else 12000)])]
        if self.tls:
            w.append(("c", "tls", ["tls", self.tls, str(4000 if q else 15000)]))
        w.append(("d", "nonhttp", ["nonhttp", str(5000 if q else 20000)]))
        return w

    def start_condition(self, cond, json_out=None):
        """json_out: a file for the tracer's timelines (else none are
        kept)."""
        if cond == "none":
            return None
        if cond == "floor":
            d = Daemon([self.floor] + present(self.floor_args), "Attached")
        elif json_out:
            with open(json_out, "w") as f:
                d = Daemon([self.tracer, "--json"], "Tracing", stdout=f)
        else:
            d = Daemon([self.tracer, "--json"], "Tracing")
        d.wait_ready()
        time.sleep(0.1)
        return d

    def overhead(self):
        conds = ["none", "floor", "tracer"]
        wl = self.workloads()
        runs = []
        for _, name, args in wl:  # warm-up, not recorded
            run_json([self.load] + args)
        for r in range(self.a.rounds):
            order = conds[r % 3:] + conds[:r % 3]
            for cond in order:
                d = self.start_condition(cond)
                own = {p.pid for p in procs}
                foreign = foreign_hooks(own)
                res = {}
                for key, name, args in wl:
                    out = run_json([self.load] + args)
                    res[key] = out
                    runs.append({"round": r, "cond": cond, "workload": key,
                                 "n": out["n"], "ok": out["ok"],
                                 "elapsed_ns": out["elapsed_ns"],
                                 "cpu_ns": out["cpu_ns"],
                                 "foreign_hooks": len(foreign)})
                if d:
                    st = d.stop()
                    self.raw["hwm_kb"].append(st["vmhwm_kb"])
                    runs[-1]["daemon_exit"] = st
                log(f"round {r + 1}/{self.a.rounds} {cond}: " + ", ".join(
                    f"{k} {v['elapsed_ns'] / v['n'] / 1000:.2f} us"
                    for k, v in res.items()))
        self.raw["overhead_runs"] = runs
        summary = {}
        for key, name, args in wl:
            per, cpu = {}, {}
            for cond in conds:
                sel = [x for x in runs
                       if x["workload"] == key and x["cond"] == cond]
                per[cond] = statistics.median(x["elapsed_ns"] / x["n"] for x in sel)
                cpu[cond] = statistics.median(x["cpu_ns"] / x["n"] for x in sel)
            floor_add = per["floor"] - per["none"]
            tracer_add = per["tracer"] - per["none"]
            cfloor = cpu["floor"] - cpu["none"]
            ctracer = cpu["tracer"] - cpu["none"]
            summary[key] = {
                "workload": name,
                "n": int(args[-1]),
                "untraced_ns": per["none"], "floor_ns": per["floor"],
                "tracer_ns": per["tracer"],
                "floor_added_ns": floor_add, "tracer_added_ns": tracer_add,
                "ratio": tracer_add / floor_add if floor_add > 0 else None,
                "floor_pct": 100 * floor_add / per["none"],
                "tracer_pct": 100 * tracer_add / per["none"],
                "cpu_untraced_ns": cpu["none"], "cpu_floor_ns": cpu["floor"],
                "cpu_tracer_ns": cpu["tracer"],
                "cpu_floor_added_ns": cfloor, "cpu_tracer_added_ns": ctracer,
                "cpu_ratio": ctracer / cfloor if cfloor > 0 else None,
                "cpu_floor_pct": 100 * cfloor / cpu["none"],
                "cpu_tracer_pct": 100 * ctracer / cpu["none"],
            }
        self.raw["overhead"] = summary

    def bpf_time_of(self, jobs, per_prog=False):
        """Per job (key, name, run: returns its request count), the BPF
        program time and runs per request, floor and tracer, with
        kernel.bpf_stats_enabled on for the time it takes; None when it
        cannot be set. per_prog: also each program's, by name."""
        path = "/proc/sys/kernel/bpf_stats_enabled"
        try:
            old = open(path).read().strip()
            with open(path, "w") as f:
                f.write("1")
        except OSError as e:
            log(f"bpf_stats_enabled not settable ({e}): no BPF time")
            return None
        jobs = list(jobs)
        res = {}
        try:
            for cond in ("floor", "tracer"):
                d = self.start_condition(cond)
                try:
                    self.bpf_time_cond(d, cond, jobs, per_prog, res)
                finally:
                    st = d.stop()
                self.raw["hwm_kb"].append(st["vmhwm_kb"])
        finally:
            with open(path, "w") as f:
                f.write(old)
        return res

    def bpf_time_cond(self, d, cond, jobs, per_prog, res):
        """bpf_time_of's runs under one condition, daemon d."""
        names = prog_names() if per_prog else {}
        for key, name, run in jobs:
            ns0, c0 = prog_stats(d.p.pid)
            e0 = prog_stats_each(d.p.pid) if per_prog else {}
            n = run()
            ns1, c1 = prog_stats(d.p.pid)
            r = {"ns_per_req": (ns1 - ns0) / n,
                 "runs_per_req": (c1 - c0) / n}
            if per_prog:
                progs = {}
                for prog, (ns, cnt) in prog_stats_each(d.p.pid).items():
                    ns_0, cnt_0 = e0.get(prog, (0, 0))
                    if cnt == cnt_0:
                        continue
                    nm = names.get(prog, f"id {prog}")
                    x = progs.setdefault(nm, {"ns": 0, "runs": 0})
                    x["ns"] += ns - ns_0
                    x["runs"] += cnt - cnt_0
                r["progs"] = {nm: {"ns_per_run": x["ns"] / x["runs"],
                                   "runs_per_req": x["runs"] / n}
                              for nm, x in progs.items()}
            res.setdefault(key, {"workload": name})[cond] = r

    def bpf_time(self):
        """BPF program time per request, floor and tracer, from the
        kernel's own accounting (kernel.bpf_stats_enabled): what the
        programs cost inside the traced calls, without the noise wall time
        has on a shared machine. Stats add two clock reads per program
        run, to both."""
        res = self.bpf_time_of(
            (key, name, lambda args=args: run_json([self.load] + args)["n"])
            for key, name, args in self.workloads())
        if res is None:
            return
        self.raw["bpf_time"] = res
        log("BPF time per request: " + ", ".join(
            f"{k} tracer {v['tracer']['ns_per_req'] / 1000:.2f} us / floor "
            f"{v['floor']['ns_per_req'] / 1000:.2f} us"
            for k, v in res.items()))

    # ---- 2. daemon throughput -----------------------------------------------

    def replay_bench(self):
        cpu = str((os.cpu_count() or 1) - 1)
        n = "1000000" if self.a.quick else "2000000"
        base = ["taskset", "-c", cpu, self.replay, "--records", n]
        runs = [run_json(base, timeout=300) for _ in range(3)]
        extra = {
            "no_output": run_json(base + ["--no-output"], timeout=300),
            "line_buffered": run_json(base + ["--line-buffered"],
                                      timeout=300),
            "capture_512": run_json(base + ["--capture", "512"], timeout=300),
            "text": run_json(base + ["--text"], timeout=300),
        }
        self.raw["replay"] = {
            "cpu": int(cpu), "runs": runs, "variants": extra,
            "events_per_s": statistics.median(r["events_per_s"] for r in runs),
        }
        log(f"replay: {self.raw['replay']['events_per_s'] / 1e6:.2f} M "
            "events/s (JSON, as the daemon writes to a pipe)")

    # ---- 3. sustained load ------------------------------------------------------

    def sustained_trial(self, rate, seconds, record=None, agent=None):
        """agent: an AgentExports; the tracer then runs as the agent does
        (--quiet, both exports on) instead of printing JSON to a pipe."""
        lg = start([self.load, "rate", self.http, "16", str(rate), str(seconds)],
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
        lg.stderr.readline()  # "ready"
        out_args = agent.args() if agent else ["--json"]
        d = Daemon([self.tracer] + out_args + ["-p", str(self.srv.pid), "-p",
                    str(lg.pid)] + (["--record", record] if record else []),
                   "Tracing")
        d.wait_ready()
        time.sleep(0.1)
        c0, t0 = d.cpu_ticks(), time.monotonic()
        lg.stdin.write("go\n")
        lg.stdin.flush()
        out, _ = lg.communicate(timeout=seconds + 30)
        procs.remove(lg)
        c1, t1 = d.cpu_ticks(), time.monotonic()
        time.sleep(0.5)  # the tracer polls every 100 ms; let it drain
        scraped = agent.scrape() if agent else None
        st = d.stop()
        self.raw["hwm_kb"].append(st["vmhwm_kb"])
        load = json.loads(out.strip().splitlines()[-1])
        tick = os.sysconf("SC_CLK_TCK")
        res = {"target_rate": rate, "seconds": seconds, "load": load,
               "tracer": st,
               "tracer_cpu_pct": 100.0 * (c1 - c0) / tick / (t1 - t0)
               if c0 is not None and c1 is not None else None}
        seen = st.get("requests")
        # the tracer followed: nothing lost, nothing incomplete, a client
        # and a server timeline for every request made
        res["followed"] = bool(
            load["errors"] == 0 and load["ok"] == load["sent"]
            and st.get("lost") == 0 and st.get("incomplete") == 0
            and seen == 2 * load["ok"])
        if agent:
            res["agent"] = agent.verdict(d.lines, scraped, seen)
            res["followed"] = res["followed"] and res["agent"]["exported"]
        res["load_reached"] = load["achieved_rate"] >= 0.97 * rate
        res["pass"] = res["followed"] and res["load_reached"]
        log(f"{'agent' if agent else 'sustained'} {rate}/s: achieved {load['achieved_rate']:.0f}/s, "
            f"made {load['ok']}, seen {seen} (expect {2 * load['ok']}), "
            f"incomplete {st.get('incomplete')}, lost {st.get('lost')}, "
            f"tracer CPU {res['tracer_cpu_pct'] or 0:.0f}% -> "
            f"{'pass' if res['pass'] else 'FAIL'}"
            f"{'' if res['load_reached'] else ' (load not reached)'}")
        return res

    def untraced_capacity(self, secs):
        """What this machine delivers untraced, asking for far too much."""
        lg = start([self.load, "rate", self.http, "16", "200000", str(secs)],
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
        lg.stderr.readline()
        out, _ = lg.communicate("go\n", timeout=secs + 30)
        procs.remove(lg)
        return json.loads(out.strip().splitlines()[-1])["achieved_rate"]

    def sustained(self):
        secs = 3 if self.a.quick else 4
        ladder = [5000, 10000, 20000, 30000, 40000, 60000, 80000]
        trials, lo, hi = [], 0, None
        for rate in ladder:
            t = self.sustained_trial(rate, secs)
            trials.append(t)
            if t["pass"]:
                lo = rate
                continue
            if t["followed"]:
                hi = None  # the machine, not the tracer, ran out
            else:
                hi = rate
            break
        # bisection between the last pass and the first loss
        for _ in range(0 if self.a.quick else 2):
            if not hi or hi - lo <= 2000:
                break
            mid = (lo + hi) // 2 // 1000 * 1000
            t = self.sustained_trial(mid, secs)
            trials.append(t)
            if t["pass"]:
                lo = mid
            elif t["followed"]:
                break
            else:
                hi = mid
        followed = [t["load"]["achieved_rate"] for t in trials if t["followed"]]
        cap = self.untraced_capacity(secs)
        log(f"untraced capacity: {cap:.0f} req/s")
        self.raw["sustained"] = {
            "trials": trials,
            "best_rate": int(max(followed)) if followed else 0,
            "first_loss": hi,
            "untraced_capacity": cap,
        }

    def agent(self):
        """The fleet agent (--quiet, /metrics served, spans sent to an
        OTLP receiver) at the sustained-load rates, each rate also run
        with JSON to a pipe just before it: the baseline beside it."""
        ax = AgentExports()
        try:
            secs = 3 if self.a.quick else 4
            rates = [TARGETS["sustained_rps"]] if self.a.quick else \
                [5000, 10000, TARGETS["sustained_rps"]]
            trials = []
            for rate in rates:
                base = self.sustained_trial(rate, secs)
                ag = self.sustained_trial(rate, secs, agent=ax)
                # the footprint row is the default daemon's; the agent's
                # RSS is reported beside its own baseline
                self.raw["hwm_kb"].pop()
                trials.append({"rate": rate, "json": base, "agent": ag})
            self.raw["agent"] = {"trials": trials}
        finally:
            ax.stop()

    def replay_file(self, path):
        """A recording replayed pinned to one CPU: 5 runs (a recording
        replays in a fraction of a second, so one slow moment of a shared
        machine moves a run by a third), and one without output; the
        file is removed."""
        cpu = str((os.cpu_count() or 1) - 1)
        base = ["taskset", "-c", cpu, self.replay, "--from", path]
        runs = [run_json(base, timeout=300) for _ in range(5)]
        res = {"file_bytes": os.path.getsize(path), "runs": runs,
               "no_output": run_json(base + ["--no-output"], timeout=300),
               "events_per_s": statistics.median(r["events_per_s"]
                                                 for r in runs)}
        os.unlink(path)
        return res

    def replay_recorded(self):
        """Throughput on real streams, recorded with --record: the
        sustained-load trial at the target rate (keep-alive), and a new
        connection per request (whole host)."""
        path = os.path.join(self.a.build, "bench-sustained.htrec")
        rate = TARGETS["sustained_rps"]
        t = self.sustained_trial(rate, 3 if self.a.quick else 4, record=path)
        self.raw["hwm_kb"].pop()  # --record's own buffer is not the default
        rec = self.replay_file(path)
        rec.update({"rate": rate, "trial_followed": t["followed"]})
        self.raw.setdefault("replay", {})["recorded"] = rec

        path = os.path.join(self.a.build, "bench-newconn.htrec")
        n = 3000 if self.a.quick else 12000
        d = Daemon([self.tracer, "--json", "--record", path], "Tracing")
        d.wait_ready()
        run_json([self.load, "newconn", self.http, str(n)])
        time.sleep(0.3)
        st = d.stop()
        nc = self.replay_file(path)
        nc.update({"n": n, "tracer_exit": st})
        self.raw["replay"]["recorded_newconn"] = nc
        log("replay of recorded streams: keep-alive "
            f"{rec['events_per_s'] / 1e6:.2f} M events/s, new connections "
            f"{nc['events_per_s'] / 1e6:.2f} M events/s")

    # ---- 5. HTTP/2 ------------------------------------------------------------

    def start_h2_servers(self):
        """nghttpd, TLS and h2c, serving a 1 KiB file, pinned to CPU 0
        (h2load gets the last CPU). False when nghttp2's tools are
        missing (tools/install-deps.sh installs them)."""
        ngd, h2l = shutil.which("nghttpd"), shutil.which("h2load")
        if not ngd or not h2l or not shutil.which("openssl"):
            log("no nghttpd, h2load or openssl: the HTTP/2 benches are "
                "skipped")
            return False
        d = os.path.join(self.tmp, "h2")
        www = os.path.join(d, "www")
        os.makedirs(www)
        with open(os.path.join(www, "index.html"), "wb") as f:
            f.write(bytes(ord("a") + i % 26 for i in range(1024)))
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj",
                        "/CN=localhost"], capture_output=True, check=True)
        ncpu = os.cpu_count() or 1
        pin_srv = ["taskset", "-c", "0"] if ncpu > 1 else []
        self.h2 = {"h2load": h2l, "log": os.path.join(d, "requests.log"),
                   "pin_client": (["taskset", "-c", str(ncpu - 1)]
                                  if ncpu > 1 else []),
                   "srv": {}}
        for name, extra in (("tls", [key, cert]), ("h2c", [])):
            port = free_port()
            p = start(pin_srv + [ngd, "-a", "127.0.0.1", "-d", www] +
                      (["--no-tls"] if not extra else []) + [str(port)] +
                      extra, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError(f"nghttpd ({name}) did not listen")
            scheme = "https" if extra else "http"
            self.h2["srv"][name] = (p, f"{scheme}://127.0.0.1:{port}/index.html")
        return True

    def h2_workloads(self):
        q = self.a.quick
        return [("e", "h2 TLS, 4 connections x 10 streams", "tls",
                 30000 if q else 100000, 4, 10),
                ("f", "h2c, 4 connections x 10 streams", "h2c",
                 30000 if q else 100000, 4, 10),
                ("g", "h2 TLS, 1 connection, 1 stream at a time", "tls",
                 3000 if q else 10000, 1, 1)]

    def h2load(self, srv, n, conns, streams, log_latency=True):
        """One h2load run: requests/s from its own clock, latency
        quantiles from its per-request log, client CPU (its rusage) and
        server CPU (nghttpd's /proc stat) per request."""
        h = self.h2
        p, url = h["srv"][srv]
        cmd = h["pin_client"] + [h["h2load"], "-n", str(n), "-c", str(conns),
                                 "-m", str(streams), "-t", "1"]
        if log_latency:
            cmd += ["--log-file", h["log"]]
        cmd.append(url)
        tick = os.sysconf("SC_CLK_TCK")
        s0 = cpu_ticks_of(p.pid)
        c0 = children_cpu_s()
        lp = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        procs.append(lp)
        try:
            out, err = lp.communicate(timeout=300)
        finally:
            if lp in procs:  # not when Ctrl-C's cleanup() came first
                procs.remove(lp)
        ru = children_cpu_s() - c0  # only h2load was waited for
        s1 = cpu_ticks_of(p.pid)
        m = re.search(r"finished in ([\d.]+)(m?s)", out)
        r = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, "
                      r"(\d+) succeeded, (\d+) failed, (\d+) errored, "
                      r"(\d+) timeout", out)
        if lp.returncode != 0 or not m or not r or int(r.group(3)) != n:
            raise RuntimeError(f"h2load failed ({lp.returncode}): "
                               f"{(out + err).strip()[-400:]}")
        secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        res = {"n": n, "ok": int(r.group(3)), "conns": conns,
               "streams": streams, "elapsed_ns": secs * 1e9,
               "rps": n / secs,
               "client_cpu_ns": ru * 1e9,
               "server_cpu_ns": (s1 - s0) * 1e9 / tick
               if s0 is not None and s1 is not None else None}
        if log_latency:
            lat = []
            with open(h["log"]) as f:
                for line in f:
                    cols = line.split("\t")
                    if len(cols) >= 3:
                        lat.append(int(cols[2]))
            os.unlink(h["log"])
            lat.sort()
            if lat:
                res["lat_p50_us"] = lat[len(lat) // 2]
                res["lat_p99_us"] = lat[min(len(lat) - 1,
                                            int(len(lat) * 0.99))]
        return res

    def h2_overhead(self):
        conds = ["none", "floor", "tracer"]
        wl = self.h2_workloads()
        runs = []
        for key, _, srv, n, c, m in wl:  # warm-up
            self.h2load(srv, n // 4, c, m, log_latency=False)
        for r in range(self.a.rounds):
            order = conds[r % 3:] + conds[:r % 3]
            for cond in order:
                d = self.start_condition(cond)
                own = {p.pid for p in procs}
                foreign = foreign_hooks(own)
                line = []
                for key, _, srv, n, c, m in wl:
                    out = self.h2load(srv, n, c, m)
                    out.update(round=r, cond=cond, workload=key,
                               foreign_hooks=len(foreign))
                    runs.append(out)
                    line.append(f"{key} {out['rps']:.0f} req/s")
                if d:
                    st = d.stop()
                    self.raw["hwm_kb"].append(st["vmhwm_kb"])
                    runs[-1]["daemon_exit"] = st
                log(f"h2 round {r + 1}/{self.a.rounds} {cond}: " +
                    ", ".join(line))
        summary = {}
        for key, name, srv, n, c, m in wl:
            s = {"workload": name, "n": n, "conns": c, "streams": m}
            for cond in conds:
                sel = [x for x in runs
                       if x["workload"] == key and x["cond"] == cond]
                s[cond] = load_medians(sel, "client_cpu_ns")
            base = s["none"]["ns_per_req"]
            fa = s["floor"]["ns_per_req"] - base
            ta = s["tracer"]["ns_per_req"] - base
            s.update(floor_added_ns=fa, tracer_added_ns=ta,
                     ratio=ta / fa if fa > 0 else None)
            summary[key] = s
        self.raw["h2_overhead_runs"] = runs
        self.raw["h2_overhead"] = summary
        self.raw["h2_foreign_hooks_seen"] = sum(
            1 for x in runs if x["foreign_hooks"])

    def h2_bpf_time(self):
        """As bpf_time, for the HTTP/2 workloads."""
        def run(srv, n, c, m):
            self.h2load(srv, n, c, m, log_latency=False)
            return n

        res = self.bpf_time_of(
            (key, name, lambda srv=srv, n=n, c=c, m=m: run(srv, n, c, m))
            for key, name, srv, n, c, m in self.h2_workloads())
        if res is None:
            return
        self.raw["h2_bpf_time"] = res

    def h2_replay(self):
        """h2load traffic recorded on the whole host with the largest
        capture, replayed: the daemon's records/s, and frames/s and
        streams/s counted by ht_bench_replay's own walk of the
        recording. 8 streams at a time per connection: with more,
        nghttpd's writes pass 16 KiB, and a frame header past the
        capture ends the walk of that direction."""
        n = 5000 if self.a.quick else 20000
        res = {}
        for srv in ("tls", "h2c"):
            path = os.path.join(self.a.build, f"bench-h2-{srv}.htrec")
            d = Daemon([self.tracer, "--json", "--max-capture", "16384",
                        "--record", path], "Tracing")
            d.wait_ready()
            load = self.h2load(srv, n, 8, 8, log_latency=False)
            time.sleep(0.3)
            st = d.stop()
            rec = self.replay_file(path)
            rec.update({"n": n, "conns": 8, "streams": 8,
                        "load": load, "tracer_exit": st})
            res[srv] = rec
            r = rec["runs"][0]
            if not r["h2_frames"] or r["h2_lost_dirs"]:
                log(f"h2 replay ({srv}): {r['h2_frames']} frames walked, "
                    f"{r['h2_lost_dirs']} directions lost to the capture: "
                    "frames/s undercounts")
            log(f"h2 replay ({srv}): {rec['events_per_s'] / 1e6:.2f} M "
                f"records/s, {r['h2_frames']} frames, {r['h2_streams']} "
                f"streams, {r['timelines']} timelines")
        self.raw["h2_replay"] = res

    # ---- 6. Go HTTPS ------------------------------------------------------------

    def start_go_server(self):
        """ht_bench_go's HTTPS server (HTTP/1.1 and h2 by ALPN) pinned to
        CPU 0 as nghttpd is, started before the tracer's hooks are
        looked at, so that the tracer finds it running and the floor
        mirrors what it attached. False when the program is missing."""
        if not os.path.exists(self.gobin) or not shutil.which("openssl"):
            log(f"no {self.gobin} (make bench-tools builds it with the "
                "host's go) or no openssl: the Go benches are skipped")
            return False
        d = os.path.join(self.tmp, "go")
        os.makedirs(d)
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj",
                        "/CN=localhost"], capture_output=True, check=True)
        ncpu = os.cpu_count() or 1
        pin_srv = ["taskset", "-c", "0"] if ncpu > 1 else []
        pf = os.path.join(d, "port")
        p = start(pin_srv + [self.gobin, "server", "-cert", cert, "-key", key,
                             "-port-file", pf, "-max-seconds", "3600"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(pf):
                break
            if p.poll() is not None:
                raise RuntimeError(f"ht_bench_go server exited ({p.returncode})")
            time.sleep(0.05)
        else:
            raise RuntimeError("ht_bench_go server did not listen")
        st = os.stat(self.gobin)
        self.go = {"srv": p, "dir": d,
                   "url": f"https://127.0.0.1:{int(open(pf).read())}/",
                   "file_id": (st.st_dev, st.st_ino),
                   "pin_client": (["taskset", "-c", str(ncpu - 1)]
                                  if ncpu > 1 else [])}
        return True

    def go_workloads(self):
        q = self.a.quick
        return [("h", "Go HTTPS HTTP/1.1, 1 keep-alive connection", "h1",
                 1000 if q else 3000, 1, 1),
                ("i", "Go HTTPS HTTP/2, 4 connections x 10 streams", "h2",
                 3000 if q else 10000, 4, 10)]

    def go_client(self, proto, n, conns, streams, daemon=None):
        """One ht_bench_go client run: its JSON line, plus its pid, the
        server's CPU time and the daemon's (tracer or floor) over it."""
        g = self.go
        cmd = g["pin_client"] + [self.gobin, "client", "-url", g["url"],
                                 "-n", str(n), "-proto", proto, "-conns",
                                 str(conns), "-streams", str(streams)]
        s0 = task_cpu_ns(g["srv"].pid)
        d0 = task_cpu_ns(daemon.p.pid) if daemon else None
        p = start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True)
        try:
            out, err = p.communicate(timeout=300)
        finally:
            if p in procs:  # not when Ctrl-C's cleanup() came first
                procs.remove(p)
        s1 = task_cpu_ns(g["srv"].pid)
        d1 = task_cpu_ns(daemon.p.pid) if daemon else None
        if p.returncode != 0 or not out.strip():
            raise RuntimeError(f"ht_bench_go client failed ({p.returncode}): "
                               f"{(out + err).strip()[-400:]}")
        res = json.loads(out.strip().splitlines()[-1])
        res["pid"] = p.pid  # taskset execs it: the same process
        res["server_cpu_ns"] = (s1 - s0 if s0 is not None and s1 is not None
                                else None)
        res["daemon_cpu_ns"] = (d1 - d0 if d0 is not None and d1 is not None
                                else None)
        return res

    def go_count_timelines(self, path, runs):
        """The tracer's timelines for the Go clients of runs (by pid) and
        for the server: how many, how many complete with TLS decoded and
        a 200; also per workload (the server's by HTTP version, one
        workload each). Whole-host tracing, so other processes' lines are
        skipped."""
        srv = self.go["srv"].pid
        by_pid = {r["pid"]: r for r in runs}
        by_version = {{"h1": "HTTP/1.1", "h2": "HTTP/2"}[r["proto"]]:
                      r["workload"] for r in runs}
        count = {"client": 0, "client_ok": 0, "server": 0, "server_ok": 0,
                 "not_decoded": 0, "incomplete": 0, "tls_libs": {},
                 "by_workload": {r["workload"]: {
                     "made": 0, "client_ok": 0, "server_ok": 0}
                     for r in runs}}
        for r in runs:
            count["by_workload"][r["workload"]]["made"] += r["made"]
        with open(path) as f:
            for line in f:
                try:
                    t = json.loads(line)
                except ValueError:
                    continue
                pid = t.get("pid")
                if pid == srv:
                    side = "server"
                    wk = by_version.get((t.get("http") or {}).get("version"))
                elif pid in by_pid:
                    side = "client"
                    wk = by_pid[pid]["workload"]
                else:
                    continue
                count[side] += 1
                tls = t.get("tls") or {}
                lib = tls.get("lib") or "none"
                count["tls_libs"][lib] = count["tls_libs"].get(lib, 0) + 1
                if not tls or not tls.get("decoded"):
                    count["not_decoded"] += 1
                    continue
                if not t.get("complete"):
                    count["incomplete"] += 1
                    continue
                if (t.get("http") or {}).get("status") == 200:
                    count[side + "_ok"] += 1
                    if wk:
                        count["by_workload"][wk][side + "_ok"] += 1
        count["made"] = sum(r["made"] for r in runs)
        return count

    def go_overhead(self):
        conds = ["none", "floor", "tracer"]
        wl = self.go_workloads()
        runs = []
        checks = []
        for key, _, proto, n, c, m in wl:  # warm-up
            self.go_client(proto, max(n // 4, 100), c, m)
        for r in range(self.a.rounds):
            order = conds[r % 3:] + conds[:r % 3]
            for cond in order:
                jpath = os.path.join(self.go["dir"], "timelines.json")
                d = self.start_condition(
                    cond, json_out=jpath if cond == "tracer" else None)
                own = {p.pid for p in procs}
                foreign = foreign_hooks(own)
                line, these = [], []
                try:
                    for key, _, proto, n, c, m in wl:
                        out = self.go_client(proto, n, c, m, daemon=d)
                        out.update(round=r, cond=cond, workload=key,
                                   foreign_hooks=len(foreign))
                        runs.append(out)
                        these.append(out)
                        line.append(f"{key} {out['rps']:.0f} req/s")
                except BaseException:
                    if d:
                        d.stop()
                    raise
                if d:
                    time.sleep(0.3)  # the tracer polls every 100 ms
                    st = d.stop()
                    self.raw["hwm_kb"].append(st["vmhwm_kb"])
                    runs[-1]["daemon_exit"] = st
                if cond == "tracer":
                    cnt = self.go_count_timelines(jpath, these)
                    cnt.update(round=r, tracer_exit=st)
                    checks.append(cnt)
                    os.unlink(jpath)
                    line.append(f"timelines: client {cnt['client_ok']}, "
                                f"server {cnt['server_ok']} of "
                                f"{cnt['made']} made")
                log(f"go round {r + 1}/{self.a.rounds} {cond}: " +
                    ", ".join(line))
        summary = {}
        for key, name, proto, n, c, m in wl:
            s = {"workload": name, "n": n, "conns": c, "streams": m,
                 "proto": proto}
            for cond in conds:
                sel = [x for x in runs
                       if x["workload"] == key and x["cond"] == cond]
                s[cond] = load_medians(sel, "cpu_ns")
                if cond != "none":
                    s[cond]["daemon_cpu_ns"] = statistics.median(
                        x["daemon_cpu_ns"] / x["n"] for x in sel)
                    s[cond]["daemon_cpu_pct"] = statistics.median(
                        100 * x["daemon_cpu_ns"] / x["elapsed_ns"]
                        for x in sel)
            base = s["none"]["ns_per_req"]
            fa = s["floor"]["ns_per_req"] - base
            ta = s["tracer"]["ns_per_req"] - base
            s.update(floor_added_ns=fa, tracer_added_ns=ta,
                     ratio=ta / fa if fa > 0 else None)
            summary[key] = s
        self.raw["go_overhead_runs"] = runs
        self.raw["go_overhead"] = summary
        self.raw["go_foreign_hooks_seen"] = sum(
            1 for x in runs if x["foreign_hooks"])
        self.raw["go_check"] = self.go_verdict(checks)
        log("go: " + self.raw["go_check"]["words"])

    def go_verdict(self, checks):
        """Every Go request traced: a client and a server timeline, each
        complete, TLS plaintext decoded, status 200, in every tracer
        round; and the Go uprobes were there at all."""
        tot = {k: sum(c[k] for c in checks)
               for k in ("client", "client_ok", "server", "server_ok",
                         "not_decoded", "incomplete", "made")}
        libs = {}
        for c in checks:
            for k, v in c["tls_libs"].items():
                libs[k] = libs.get(k, 0) + v
        lost = sum((c["tracer_exit"] or {}).get("lost", 0) or 0
                   for c in checks)
        hooks = self.raw.get("go_hooks")
        counts_ok = (bool(checks) and lost == 0 and
                     all(c["client_ok"] == c["made"] == c["server_ok"]
                         for c in checks))
        ok = counts_ok and bool(hooks)
        if ok:
            words = ("every request traced: a complete client and server "
                     f"timeline each, {tot['made']:,} requests made over "
                     f"{len(checks)} tracer rounds")
        elif counts_ok:
            words = ("every request traced, but the tracer listed no "
                     "uprobe on ht_bench_go when it started, where the "
                     "floor's are copied from: the floor lacks the Go "
                     "probes and is not a floor for Go")
        elif not tot["client_ok"] and not tot["server_ok"]:
            words = ("NOT a measurement of Go tracing: no Go request's TLS "
                     "was decoded, " +
                     (f"though the tracer attached {len(hooks)} uprobes to "
                      "ht_bench_go" if hooks else
                      "and the tracer attached no uprobe to ht_bench_go "
                      "(no Go crypto/tls probes in this build)") +
                     "; the floor and tracer rows carry the other hooks "
                     "only")
        else:
            wk = {}
            for c in checks:
                for k, v in c["by_workload"].items():
                    w = wk.setdefault(k, {"made": 0, "client_ok": 0,
                                          "server_ok": 0})
                    for x in w:
                        w[x] += v[x]
            words = ("NOT every request traced: of "
                     f"{tot['made']:,} requests made, complete decoded "
                     f"timelines: {tot['client_ok']:,} client, "
                     f"{tot['server_ok']:,} server; by workload: " +
                     ", ".join(f"({k}) client {w['client_ok']:,}, server "
                               f"{w['server_ok']:,} of {w['made']:,}"
                               for k, w in sorted(wk.items())) +
                     "; rounds short of some: " +
                     ", ".join(str(c["round"] + 1) for c in checks
                               if not c["client_ok"] == c["made"] ==
                               c["server_ok"]))
        words += (f" (timelines seen: {tot['client']:,} client, "
                  f"{tot['server']:,} server; TLS not decoded "
                  f"{tot['not_decoded']:,}, incomplete {tot['incomplete']:,}"
                  f", records lost {lost:,}; TLS libraries named: " +
                  (", ".join(f"{k} {v:,}" for k, v in sorted(libs.items()))
                   or "none") + ")")
        return dict(tot, ok=ok, hooks=len(hooks or []), lost=lost,
                    tls_libs=libs, words=words, rounds=checks)

    def go_bpf_time(self):
        """As bpf_time, for the Go workloads, with each program's time per
        run; and the C TLS workload (c) beside them, for the cost of a Go
        uprobe against a TLS library's."""
        jobs = [(key, name,
                 lambda p=proto, n=n, c=c, m=m: self.go_client(p, n, c, m)["n"])
                for key, name, proto, n, c, m in self.go_workloads()]
        if self.tls:
            args = next(a for k, _, a in self.workloads() if k == "c")
            jobs.append(("c", "tls (OpenSSL)",
                         lambda: run_json([self.load] + args)["n"]))
        res = self.bpf_time_of(jobs, per_prog=True)
        if res is None:
            return
        self.raw["go_bpf_time"] = res
        log("go BPF time per request: " + ", ".join(
            f"{k} tracer {v['tracer']['ns_per_req'] / 1000:.2f} us / floor "
            f"{v['floor']['ns_per_req'] / 1000:.2f} us"
            for k, v in res.items()))

    # ---- 4. footprint ---------------------------------------------------------------

    def footprint(self):
        times = []
        for _ in range(3 if self.a.quick else 5):
            d = Daemon([self.tracer, "--json"], "Tracing")
            d.wait_ready()
            times.append(d.ready_s * 1000)
            st = d.stop()
            self.raw["hwm_kb"].append(st["vmhwm_kb"])
        self.raw["start_ms"] = {"runs": times,
                                "median": statistics.median(times),
                                "max": max(times)}
        log(f"start to Tracing: median {statistics.median(times):.0f} ms")


# --------------------------------------------------------------------------

def fmt_us(ns):
    return f"{ns / 1000:.2f}"


def bpf_budget(raw, key, s):
    """Whether the tracer's programs alone fit in what the target allows
    over the floor: tracer added <= 1.25 x floor added leaves
    0.25 x floor added for everything the tracer does more, and the
    extra BPF time (kernel accounting, low noise) is part of that. A
    wall-time pass that this contradicts is noise. Returns (ok, words)."""
    t = raw.get("bpf_time", {}).get(key)
    if not t:
        return True, ""
    extra = t["tracer"]["ns_per_req"] - t["floor"]["ns_per_req"]
    budget = (TARGETS["ratio"] - 1) * s["floor_added_ns"]
    if extra <= budget:
        return True, ""
    return False, (f"**the tracer's extra BPF time alone, {fmt_us(extra)} "
                   f"µs, is over the {fmt_us(max(budget, 0))} µs the "
                   "target leaves**; ")


def bpf_note(raw, key):
    t = raw.get("bpf_time", {}).get(key)
    if not t:
        return ""
    return (f"; BPF time: tracer {fmt_us(t['tracer']['ns_per_req'])} µs, "
            f"floor {fmt_us(t['floor']['ns_per_req'])} µs")


def write_report(raw, path):
    m = raw["machine"]
    rows = []

    def row(what, target, measured, ok, note=""):
        verdict = "—" if ok is None else ("pass" if ok else "**miss**")
        rows.append(f"| {what} | {target} | {measured} | {verdict} | {note} |")

    ov = raw.get("overhead", {})
    for key, label in (("a", "(a) plaintext keep-alive"),
                       ("b", "(b) new connection per request"),
                       ("c", "(c) HTTPS keep-alive (OpenSSL)")):
        s = ov.get(key)
        if not s:
            if "overhead" in raw:
                row(f"added cost per request {label}", "≤ 1.25 × floor",
                    "not run", None, "no openssl")
            continue
        r = s["ratio"]
        bpf_ok, bpf_why = bpf_budget(raw, key, s)
        row(f"added cost per request {label}", "≤ 1.25 × floor",
            f"{r:.2f} × floor" if r is not None else "floor ≤ 0 (noise)",
            (r is not None and r <= TARGETS["ratio"] and bpf_ok),
            bpf_why +
            f"wall: tracer {s['tracer_added_ns'] / 1000:+.2f} µs, floor "
            f"{s['floor_added_ns'] / 1000:+.2f} µs on "
            f"{fmt_us(s['untraced_ns'])} µs; client CPU: "
            + (f"{s['cpu_ratio']:.2f} × floor" if s["cpu_ratio"] else "—")
            + bpf_note(raw, key))
    if "d" in ov:
        s = ov["d"]
        t = raw.get("bpf_time", {}).get("d")
        bpf_pct = (100 * t["tracer"]["ns_per_req"] / s["untraced_ns"]
                   if t else None)
        bpf_ok = bpf_pct is None or bpf_pct <= TARGETS["nonhttp_pct"]
        row("cost to programs it does not trace (d)", "≤ 3 % over untraced",
            f"{s['tracer_pct']:+.1f} %",
            s["tracer_pct"] <= TARGETS["nonhttp_pct"] and bpf_ok,
            ("" if bpf_ok else
             f"**the tracer's BPF time alone is {bpf_pct:.1f} % of the "
             "untraced round**, so the wall figure is within noise; ") +
            f"floor alone {s['floor_pct']:+.1f} %; CPU time: tracer "
            f"{s['cpu_tracer_pct']:+.1f} %, floor {s['cpu_floor_pct']:+.1f} %"
            + (f"; BPF time: tracer {fmt_us(t['tracer']['ns_per_req'])} µs"
               if t else ""))
    rp = raw.get("replay", {})
    for key, label, note in (
            ("recorded", "recorded keep-alive stream",
             "the 20,000 req/s trial of section 3, recorded"),
            ("recorded_newconn", "recorded new-connection stream",
             "a new connection per request, recorded"),
            (None, "synthetic mixed stream",
             "bigger records: bodies, chunked, pipelined; see section 2")):
        r = rp.get(key) if key else rp
        if not r or "events_per_s" not in r:
            continue
        e = r["events_per_s"]
        row(f"correlator + JSON output, one core: {label}",
            "≥ 2.0 M events/s", f"{e / 1e6:.2f} M events/s",
            e >= TARGETS["replay_eps"],
            note + "; output as the daemon's to a pipe")
    if "sustained" in raw:
        su = raw["sustained"]
        b = su["best_rate"]
        row("zero-loss sustained rate (plaintext)", "≥ 20,000 req/s",
            f"{b:,} req/s", b >= TARGETS["sustained_rps"],
            (f"first rate with loss: {su['first_loss']:,}/s" if su["first_loss"]
             else "no loss at any rate tried: the load generator ran out "
                  "of CPU first") +
            f"; untraced the machine does {su['untraced_capacity']:,.0f}/s")
    ag = raw.get("agent", {}).get("trials", [])
    top = [t for t in ag if t["rate"] == TARGETS["sustained_rps"]]
    if top:
        t = top[0]["agent"]
        row("zero loss as a fleet agent, both exports on",
            f"{TARGETS['sustained_rps']:,} req/s",
            f"{t['load']['achieved_rate']:,.0f} req/s, "
            + ("every timeline exported" if t["followed"] else
               "**not every timeline followed and exported**"),
            t["pass"], agent_note(top[0]))
    for key, s in sorted(raw.get("h2_overhead", {}).items()):
        r = s["ratio"]
        t = raw.get("h2_bpf_time", {}).get(key)
        row(f"added cost per request ({key}) {s['workload']}",
            "(none set)",
            f"{r:.2f} × floor" if r is not None else "floor ≤ 0 (noise)",
            None,
            f"wall: tracer {s['tracer_added_ns'] / 1000:+.2f} µs, floor "
            f"{s['floor_added_ns'] / 1000:+.2f} µs on "
            f"{fmt_us(s['none']['ns_per_req'])} µs; "
            f"{s['none']['rps']:,.0f} → {s['tracer']['rps']:,.0f} req/s"
            + (f"; BPF time: tracer {fmt_us(t['tracer']['ns_per_req'])} µs, "
               f"floor {fmt_us(t['floor']['ns_per_req'])} µs" if t else "")
            + "; section 5")
    for key, s in sorted(raw.get("go_overhead", {}).items()):
        r = s["ratio"]
        t = raw.get("go_bpf_time", {}).get(key)
        row(f"added cost per request ({key}) {s['workload']}",
            "(none set)",
            f"{r:.2f} × floor" if r is not None else "floor ≤ 0 (noise)",
            None,
            ("**no Go TLS decoded: not Go tracing**; "
             if not (raw.get("go_check", {}).get("client_ok") or
                     raw.get("go_check", {}).get("server_ok")) else "") +
            f"wall: tracer {s['tracer_added_ns'] / 1000:+.2f} µs, floor "
            f"{s['floor_added_ns'] / 1000:+.2f} µs on "
            f"{fmt_us(s['none']['ns_per_req'])} µs; "
            f"{s['none']['rps']:,.0f} / {s['floor']['rps']:,.0f} / "
            f"{s['tracer']['rps']:,.0f} req/s untraced / floor / tracer; "
            f"tracer CPU {fmt_us(s['tracer']['daemon_cpu_ns'])} µs per "
            f"request ({s['tracer']['daemon_cpu_pct']:.0f} % of a CPU)"
            + (f"; BPF time: tracer {fmt_us(t['tracer']['ns_per_req'])} µs, "
               f"floor {fmt_us(t['floor']['ns_per_req'])} µs" if t else "")
            + "; section 6")
    if raw.get("go_error"):
        row("Go HTTPS section", "runs to the end", "failed", False,
            raw["go_error"].replace("|", "/").replace("\n", " "))
    gc = raw.get("go_check")
    if gc:
        row("Go HTTPS requests with a complete timeline (client and server)",
            "every request", f"{min(gc['client_ok'], gc['server_ok']):,} of "
            f"{gc['made']:,}", gc["ok"], gc["words"] + "; section 6")
    for srv, label in (("tls", "h2 over TLS"), ("h2c", "h2c")):
        rec = raw.get("h2_replay", {}).get(srv)
        if not rec:
            continue
        r = median_run(rec["runs"])
        row(f"correlator + JSON output, one core: recorded {label} stream",
            "(none set)",
            f"{r['h2_frames_per_s'] / 1e6:.2f} M frames/s", None,
            f"{rec['events_per_s'] / 1e6:.2f} M records/s, "
            f"{r['h2_streams_per_s'] / 1e6:.2f} M streams/s; section 5")
    hwm = [h for h in raw.get("hwm_kb", []) if h]
    if hwm:
        mib = max(hwm) / 1024
        row("peak RSS while tracing", "≤ 20 MiB", f"{mib:.1f} MiB",
            mib <= TARGETS["rss_mib"], f"highest VmHWM of {len(hwm)} tracer "
            "runs" + (f"; at the highest sustained rate: {raw['rss_note']}"
                      if raw.get("rss_note") else ""))
    if "bpf_maps" in raw:
        tot = sum(x["bytes_memlock"] or 0 for x in raw["bpf_maps"])
        row("BPF map memory", "(no target)", f"{tot / 1048576:.1f} MiB", None,
            f"{len(raw['bpf_maps'])} maps, bytes_memlock")
    if "start_ms" in raw:
        s = raw["start_ms"]
        row("start to attached, whole host", "≤ 300 ms",
            f"{s['median']:.0f} ms", s["median"] <= TARGETS["start_ms"],
            f"median of {len(s['runs'])}; max {s['max']:.0f} ms")

    L = []
    L.append("# Benchmarks\n")
    L.append("Written by `make bench` (tools/bench/bench.py); do not edit by "
             "hand. Raw numbers: [bench-raw.json](bench-raw.json). Targets "
             "from issue 5.\n")
    L.append(f"- machine: {m['nproc']} CPUs, {m['model']}, {m['memory']}")
    L.append(f"- kernel: {m['kernel']}")
    L.append(f"- date: {m['date']}, tree {m['git']}")
    L.append(f"- load average at start: {' '.join(m['loadavg_start'])}, "
             f"at end: {' '.join(m.get('loadavg_end', ['?']))}")
    if raw.get("foreign_hooks_seen"):
        L.append(f"- **other BPF tracers were attached during "
                 f"{raw['foreign_hooks_seen']} of the overhead runs** "
                 "(someone else's tests): numbers are noisy")
    L.append("")
    L.append("| what | target | measured | verdict | notes |")
    L.append("|---|---|---|---|---|")
    L += rows
    L.append("")

    if ov:
        L.append("## 1. Traced-program overhead\n")
        L.append(f"Median of {raw['rounds']} interleaved rounds; times per "
                 "request (per round of I/O for (d)), µs.\n")
        L.append("| workload | n per run | untraced | floor | tracer | "
                 "floor added | tracer added | tracer / floor |")
        L.append("|---|---|---|---|---|---|---|---|")
        for pre, label in (("", "wall time"), ("cpu_", "client CPU time")):
            for key in sorted(ov):
                s = ov[key]
                r = s[pre + "ratio"]
                L.append(f"| ({key}) {s['workload']}, {label} | {s['n']} | "
                         f"{fmt_us(s[pre + 'untraced_ns'])} | "
                         f"{fmt_us(s[pre + 'floor_ns'])} | "
                         f"{fmt_us(s[pre + 'tracer_ns'])} | "
                         f"{fmt_us(s[pre + 'floor_added_ns'])} "
                         f"({s[pre + 'floor_pct']:+.1f} %) | "
                         f"{fmt_us(s[pre + 'tracer_added_ns'])} "
                         f"({s[pre + 'tracer_pct']:+.1f} %) | "
                         f"{'%.2f' % r if r is not None else '—'} |")
        L.append("")
        L.append("Client CPU time is the client process's own (user + "
                 "system, all its threads) over the timed loop: the probes "
                 "run inside its syscalls, so it sees their cost without "
                 "the waiting a busy machine adds to wall time. The server's "
                 "share is not in it.\n")
        bt = raw.get("bpf_time")
        if bt:
            L.append("BPF program time per request (per round for (d)), "
                     "both ends, from the kernel's accounting "
                     "(`kernel.bpf_stats_enabled`, one run each after the "
                     "rounds): what the programs themselves cost, free of "
                     "the wall-time noise of a shared machine.\n")
            L.append("| workload | floor µs | tracer µs | tracer / floor | "
                     "program runs per request |")
            L.append("|---|---|---|---|---|")
            for key in sorted(bt):
                t = bt[key]
                f, tr = t["floor"]["ns_per_req"], t["tracer"]["ns_per_req"]
                L.append(f"| ({key}) {t['workload']} | {fmt_us(f)} | "
                         f"{fmt_us(tr)} | "
                         f"{tr / f if f > 0 else float('nan'):.1f} | "
                         f"{t['tracer']['runs_per_req']:.1f} |")
            L.append("")
        h = raw.get("hooks", {})
        L.append(f"Hooks: the tracer attached {len(h.get('tracer', []))}, the "
                 f"floor {len(h.get('floor', []))}; missing in the floor: "
                 f"{h.get('missing_in_floor') or 'none'}; extra in the floor: "
                 f"{h.get('extra_in_floor') or 'none'}. Uprobes the tracer "
                 "attached: " + (", ".join(
                     f"{k} {n}" for k, n in h.get("tracer", [])
                     if k.startswith("u")) or "none") + ".\n")
    if "replay" in raw:
        rp = raw["replay"]
        v = rp["variants"]
        L.append("## 2. Daemon throughput (replay)\n")
        r0 = rp["runs"][0]
        L.append(f"{r0['records']:,} synthetic records per run "
                 f"({r0['bytes'] / r0['records']:.0f} bytes each on average, "
                 f"{r0['timelines']:,} timelines, {r0['incomplete']} "
                 f"incomplete), pinned to CPU {rp['cpu']}; events/s from "
                 "process CPU time (user + system).\n")
        L.append("| variant | events/s | µs per timeline |")
        L.append("|---|---|---|")

        def vr(name, r):
            L.append(f"| {name} | {r['events_per_s'] / 1e6:.2f} M | "
                     f"{r['cpu_s'] / max(r['timelines'], 1) * 1e6:.2f} |")
        for i, r in enumerate(rp["runs"]):
            vr(f"JSON, as the daemon to a pipe, run {i + 1}", r)
        vr("JSON, line-buffered (as the daemon to a terminal)",
           v["line_buffered"])
        vr("text", v["text"])
        vr("no output (correlator only)", v["no_output"])
        vr("JSON, 512-byte capture", v["capture_512"])
        L.append("")
        def recorded(rec, what):
            """A recorded stream's paragraph and rows; what says where it
            came from."""
            r0 = rec["runs"][0]
            L.append(f"{what} ({r0['records']:,} records, "
                     f"{r0['bytes'] / max(r0['records'], 1):.0f} bytes each "
                     f"on average, {r0['timelines']:,} timelines, "
                     f"{r0['incomplete']} incomplete), replayed with "
                     "`ht_bench_replay --from`.\n")
            L.append("| variant | events/s | µs per timeline |")
            L.append("|---|---|---|")
            for i, r in enumerate(rec["runs"]):
                vr(f"JSON, as the daemon to a pipe, run {i + 1}", r)
            vr("no output (correlator only)", rec["no_output"])
            L.append("")
        rec = rp.get("recorded")
        if rec:
            recorded(rec, "Recorded keep-alive stream: the sustained-load "
                     f"trial at {rec['rate']:,} req/s below, run with "
                     "`--record`; the trial " +
                     ("followed every request" if rec["trial_followed"]
                      else "did NOT follow every request"))
        nc = rp.get("recorded_newconn")
        if nc:
            recorded(nc, "Recorded new-connection stream: `ht_bench_load "
                     f"newconn` ({nc['n']:,} connections, each one `GET /`) "
                     "traced on the whole host with `--record`")
    if "sustained" in raw:
        L.append("## 3. Sustained load\n")
        L.append("`ht_bench_load rate`: 16 keep-alive connections to "
                 "ht_test_server, paced; traced with `-p server -p client` "
                 "(both sides: every request gives two timelines).\n")
        L.append("| target req/s | achieved | made | seen (expect 2×) | "
                 "incomplete | lost | tracer CPU | tracer RSS | followed |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for t in raw["sustained"]["trials"]:
            ld, st = t["load"], t["tracer"]
            L.append(f"| {t['target_rate']:,} | {ld['achieved_rate']:,.0f} | "
                     f"{ld['ok']:,} | {st.get('requests', 0):,} | "
                     f"{st.get('incomplete', '?')} | {st.get('lost', '?')} | "
                     f"{t['tracer_cpu_pct'] or 0:.0f} % | "
                     f"{(st.get('vmhwm_kb') or 0) / 1024:.1f} MiB | "
                     f"{'yes' if t['followed'] else 'no'}"
                     f"{'' if t['load_reached'] else ' (load not reached)'} |")
        L.append("")
        L.append(f"Untraced, asking for 200,000 req/s, the machine delivered "
                 f"{raw['sustained']['untraced_capacity']:,.0f} req/s.\n")
    if ag:
        write_agent(ag, L)
    if "bpf_maps" in raw:
        L.append("## 4. Footprint\n")
        L.append("BPF maps held by the tracer (whole host, default options):\n")
        L.append("| map | type | max_entries | value_size | memlock bytes |")
        L.append("|---|---|---|---|---|")
        for x in sorted(raw["bpf_maps"], key=lambda x: -(x["bytes_memlock"] or 0)):
            L.append(f"| {x['name']} | {x['type']} | {x['max_entries']} | "
                     f"{x['value_size']} | {x['bytes_memlock']:,} |")
        L.append("")
        mems = [t["tracer"].get("mem_kb") for t in
                raw.get("sustained", {}).get("trials", []) if t["tracer"].get("mem_kb")]
        if mems:
            mk = mems[-1]
            L.append("Daemon memory at the end of the last sustained trial "
                     "(kB): " + ", ".join(f"{k} {v}" for k, v in mk.items()) +
                     ".\n")
        if "start_ms" in raw:
            L.append("Start to the \"Tracing\" line, whole host, ms: " +
                     ", ".join(f"{t:.0f}" for t in raw["start_ms"]["runs"]) +
                     ".\n")
    if "h2_overhead" in raw or "h2_replay" in raw:
        write_h2(raw, L)
    if "go_overhead" in raw:
        write_go(raw, L)
    L.append(METHOD)
    with open(path, "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(os.path.dirname(path) or ".", "bench-raw.json"),
              "w") as f:
        json.dump(raw, f, indent=1, sort_keys=True)
        f.write("\n")


def cpu_per_krps(t):
    """Tracer CPU (% of one core) per 1,000 req/s achieved."""
    r = t["load"]["achieved_rate"]
    return t["tracer_cpu_pct"] / (r / 1000) if t["tracer_cpu_pct"] and r \
        else None


def agent_note(pair):
    a, j = pair["agent"], pair["json"]
    ca, cj = cpu_per_krps(a), cpu_per_krps(j)
    return (f"CPU per 1,000 req/s: agent {ca or 0:.2f} %, JSON to a pipe "
            f"{cj or 0:.2f} %; peak RSS: agent "
            f"{(a['tracer'].get('vmhwm_kb') or 0) / 1024:.1f} MiB, JSON "
            f"{(j['tracer'].get('vmhwm_kb') or 0) / 1024:.1f} MiB")


def write_agent(trials, L):
    L.append("## 3b. As a fleet agent\n")
    L.append("The load of section 3; the tracer with `--quiet "
             "--metrics-addr 127.0.0.1:PORT --otlp-endpoint "
             "http://127.0.0.1:PORT` (spans to tests/lib/otlp_receiver.py, "
             "which counts them; /metrics scraped once after the load), "
             "each rate run first with `--json` to a pipe as its "
             "baseline. CPU is the tracer's, in % of one core, over the "
             "load's seconds.\n")
    L.append("| req/s | output | achieved | seen | tracer CPU | "
             "CPU per 1,000 req/s | peak RSS | spans sent / received | "
             "dropped / failed | histogram count | followed |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for pair in trials:
        for kind in ("json", "agent"):
            t = pair[kind]
            ld, st = t["load"], t["tracer"]
            v = t.get("agent") or {}
            cpk = cpu_per_krps(t)
            L.append(
                f"| {pair['rate']:,} | {kind} | {ld['achieved_rate']:,.0f} | "
                f"{st.get('requests', 0):,} | {t['tracer_cpu_pct'] or 0:.0f} % "
                f"| {cpk or 0:.2f} % | "
                f"{(st.get('vmhwm_kb') or 0) / 1024:.1f} MiB | "
                + (f"{v['spans_sent']} / {v['spans_received']} | "
                   f"{v['spans_dropped']} / {v['spans_failed']} | "
                   f"{v['histogram_count']} | " if v else "— | — | — | ")
                + f"{'yes' if t['followed'] else 'no'}"
                f"{'' if t['load_reached'] else ' (load not reached)'} |")
    L.append("")


def median_run(runs):
    """The run of median records/s (its frames/s and streams/s go with
    it)."""
    return sorted(runs, key=lambda r: r["events_per_s"])[len(runs) // 2]


def load_medians(sel, client_cpu):
    """A load section's runs of one workload and condition, as the
    medians its tables show; client_cpu names the client's CPU field."""
    def med(f):
        return statistics.median(f(x) for x in sel)
    return {
        "rps": med(lambda x: x["rps"]),
        "ns_per_req": med(lambda x: x["elapsed_ns"] / x["n"]),
        "lat_p50_us": med(lambda x: x["lat_p50_us"]),
        "lat_p99_us": med(lambda x: x["lat_p99_us"]),
        "client_cpu_ns": med(lambda x: x[client_cpu] / x["n"]),
        "server_cpu_ns": med(lambda x: x["server_cpu_ns"] / x["n"]),
    }


def load_table(ov):
    """The untraced / floor / tracer table of a load section (HTTP/2,
    Go): one row per workload."""
    rows = ["| workload | n per run | req/s untraced / floor / tracer | "
            "µs per request untraced / floor / tracer | floor added | "
            "tracer added | tracer / floor |",
            "|---|---|---|---|---|---|---|"]
    for key, s in sorted(ov.items()):
        n, f, t = s["none"], s["floor"], s["tracer"]
        base = n["ns_per_req"]
        r = s["ratio"]
        rows.append(f"| ({key}) {s['workload']} | {s['n']:,} | "
                    f"{n['rps']:,.0f} / {f['rps']:,.0f} / "
                    f"{t['rps']:,.0f} | "
                    f"{fmt_us(base)} / {fmt_us(f['ns_per_req'])} / "
                    f"{fmt_us(t['ns_per_req'])} | "
                    f"{fmt_us(s['floor_added_ns'])} "
                    f"({100 * s['floor_added_ns'] / base:+.1f} %) | "
                    f"{fmt_us(s['tracer_added_ns'])} "
                    f"({100 * s['tracer_added_ns'] / base:+.1f} %) | "
                    f"{'%.2f' % r if r is not None else '—'} |")
    return rows


def write_h2(raw, L):
    L.append("## 5. HTTP/2\n")
    ov = raw.get("h2_overhead")
    if ov:
        any_s = next(iter(ov.values()))
        L.append("`h2load -t 1` (pinned to the last CPU) against `nghttpd` "
                 "(one worker, pinned to CPU 0) serving a 1 KiB file, over "
                 "TLS and h2c; conditions as in section 1 (untraced, the "
                 "floor, the tracer on the whole host: both ends traced), "
                 f"median of {raw['rounds']} interleaved rounds. Time per "
                 "request is h2load's wall time over its requests (with "
                 "concurrent streams that is 1 / throughput, not latency); "
                 "latency is h2load's per-request time (`--log-file`): the "
                 "median over the rounds of each run's p50, and of its "
                 "p99.\n")
        if raw.get("h2_foreign_hooks_seen"):
            L.append(f"**Other BPF tracers were attached during "
                     f"{raw['h2_foreign_hooks_seen']} of these runs**: "
                     "numbers are noisy.\n")
        L.extend(load_table(ov))
        L.append("")
        L.append("| workload | latency p50 µs untraced / floor / tracer | "
                 "p99 µs | h2load CPU µs per request | nghttpd CPU µs per "
                 "request |")
        L.append("|---|---|---|---|---|")
        for key, s in sorted(ov.items()):
            c = [s[x] for x in ("none", "floor", "tracer")]
            L.append(f"| ({key}) | "
                     + " / ".join(f"{x['lat_p50_us']:.0f}" for x in c) + " | "
                     + " / ".join(f"{x['lat_p99_us']:.0f}" for x in c) + " | "
                     + " / ".join(fmt_us(x["client_cpu_ns"]) for x in c)
                     + " | "
                     + " / ".join(fmt_us(x["server_cpu_ns"]) for x in c)
                     + " |")
        L.append("")
        L.append("CPU time is each process's own (user + system) over the "
                 "run, h2load's including its connection setup; both ends "
                 "are traced, so the probes run in both.\n")
        bt = raw.get("h2_bpf_time")
        if bt:
            L.append("BPF program time per request, both ends, as in "
                     "section 1 (one run each after the rounds):\n")
            L.append("| workload | floor µs | tracer µs | tracer / floor | "
                     "program runs per request |")
            L.append("|---|---|---|---|---|")
            for key in sorted(bt):
                t = bt[key]
                f, tr = t["floor"]["ns_per_req"], t["tracer"]["ns_per_req"]
                L.append(f"| ({key}) | {fmt_us(f)} | {fmt_us(tr)} | "
                         f"{tr / f if f > 0 else float('nan'):.1f} | "
                         f"{t['tracer']['runs_per_req']:.2f} |")
            L.append("")
        ex = [x["daemon_exit"] for x in raw.get("h2_overhead_runs", [])
              if x["cond"] == "tracer" and "daemon_exit" in x]
        if ex:
            made = sum(x["n"] for x in raw.get("h2_overhead_runs", [])
                       if x["cond"] == "tracer")
            L.append("The tracer's exit lines over the rounds (default "
                     "capture): "
                     f"{sum(e.get('requests', 0) for e in ex):,} timelines "
                     f"for {made:,} requests traced at both ends, "
                     f"{sum(e.get('incomplete', 0) for e in ex):,} "
                     "incomplete, "
                     f"{sum(e.get('lost', 0) for e in ex):,} records lost.\n")
    rp = raw.get("h2_replay")
    if rp:
        L.append("Daemon throughput on recorded HTTP/2: one `h2load` run per "
                 "stream (8 connections × 8 concurrent streams, 1 KiB responses: "
                 "nghttpd's writes stay within the 16 KiB capture) traced on "
                 "the whole host with `--record --max-capture 16384`, "
                 "replayed with `ht_bench_replay --from` pinned to one CPU "
                 "as in section 2. Frames and streams are counted by the "
                 "bench's own walk of the recorded bytes (both ends: each "
                 "frame is seen by its writer and its reader), not by the "
                 "daemon, so they are the same measure whatever the "
                 "daemon's HTTP/2 decoder does; streams (likewise at "
                 "both ends) are request HEADERS on new stream ids. The rates are these counts "
                 "over the replay's CPU time.\n")
        L.append("| stream | requests | records | MiB | h2 connections | "
                 "frames (HEADERS / DATA) | streams | timelines | "
                 "frame walks lost | tracer exit |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for srv, label in (("tls", "h2 over TLS"), ("h2c", "h2c")):
            rec = rp.get(srv)
            if not rec:
                continue
            r = rec["runs"][0]
            st = rec["tracer_exit"]
            L.append(f"| {label} | {rec['n']:,} | {r['records']:,} | "
                     f"{rec['file_bytes'] / 1048576:.1f} | {r['h2_conns']} | "
                     f"{r['h2_frames']:,} ({r['h2_headers_frames']:,} / "
                     f"{r['h2_data_frames']:,}) | {r['h2_streams']:,} | "
                     f"{r['timelines']:,} | {r['h2_lost_dirs']} | "
                     f"{st.get('requests', '?')} timelines, "
                     f"{st.get('lost', '?')} lost |")
        L.append("")
        L.append("| stream, variant | records/s | frames/s | streams/s | "
                 "timelines/s |")
        L.append("|---|---|---|---|---|")
        for srv, label in (("tls", "h2 over TLS"), ("h2c", "h2c")):
            rec = rp.get(srv)
            if not rec:
                continue
            for i, r in enumerate(rec["runs"] + [rec["no_output"]]):
                v = (f"JSON, run {i + 1}" if i < len(rec["runs"])
                     else "no output")
                L.append(f"| {label}, {v} | {r['events_per_s'] / 1e6:.2f} M "
                         f"| {r['h2_frames_per_s'] / 1e6:.2f} M | "
                         f"{r['h2_streams_per_s'] / 1e6:.2f} M | "
                         f"{r['timelines_per_s'] / 1e3:.1f} k |")
        L.append("")


def write_go(raw, L):
    L.append("## 6. Go HTTPS\n")
    ov = raw["go_overhead"]
    gc = raw.get("go_check", {})
    L.append("`ht_bench_go` (tools/bench/go: Go's own net/http and "
             "crypto/tls, built with the host's Go) as client, pinned to "
             "the last CPU, and as HTTPS server (HTTP/1.1 and h2 by ALPN, "
             "1 KiB responses), pinned to CPU 0: one executable, so the "
             "tracer's uprobes on its crypto/tls serve both ends. "
             "Conditions as in section 1 (untraced, the floor, the tracer "
             "on the whole host), median of "
             f"{raw['rounds']} interleaved rounds. Each connection's "
             "handshake and first request come before the timed part. "
             "Time per request is the client's wall time over its "
             "requests (1 / throughput with concurrent streams); latency "
             "is the client's own per-request time: the median over the "
             "rounds of each run's p50 and p99.\n")
    hooks = raw.get("go_hooks")
    if not (gc.get("client_ok") or gc.get("server_ok")):
        L.append("**No Go request's TLS was decoded" +
                 (f" (the tracer attached {len(hooks)} uprobes to "
                  "ht_bench_go)" if hooks else
                  ": the tracer attached no uprobe to ht_bench_go (this "
                  "build has no Go crypto/tls probes), so it saw only "
                  "encrypted bytes") +
                 ". The floor and tracer rows measure the other hooks "
                 "alone: they are not a measurement of Go tracing.**\n")
    elif not hooks:
        L.append("**The tracer listed no uprobe on ht_bench_go when it "
                 "started: the floor lacks the Go probes.**\n")
    else:
        L.append(f"The tracer attached {len(hooks)} uprobes to ht_bench_go "
                 "(function entries and each RET), mirrored by the floor "
                 "as plain uprobes.\n")
    if raw.get("go_foreign_hooks_seen"):
        L.append(f"**Other BPF tracers were attached during "
                 f"{raw['go_foreign_hooks_seen']} of these runs**: "
                 "numbers are noisy.\n")
    L.extend(load_table(ov))
    L.append("")
    L.append("| workload | latency p50 µs untraced / floor / tracer | "
             "p99 µs | client CPU µs per request | server CPU µs per "
             "request | tracer CPU µs per request (% of a CPU) |")
    L.append("|---|---|---|---|---|---|")
    for key, s in sorted(ov.items()):
        c = [s[x] for x in ("none", "floor", "tracer")]
        t = s["tracer"]
        L.append(f"| ({key}) | "
                 + " / ".join(f"{x['lat_p50_us']:.0f}" for x in c) + " | "
                 + " / ".join(f"{x['lat_p99_us']:.0f}" for x in c) + " | "
                 + " / ".join(fmt_us(x["client_cpu_ns"]) for x in c) + " | "
                 + " / ".join(fmt_us(x["server_cpu_ns"]) for x in c) + " | "
                 + f"{fmt_us(t['daemon_cpu_ns'])} "
                 f"({t['daemon_cpu_pct']:.0f} %) |")
    L.append("")
    L.append("CPU time is each process's own, all threads, over the timed "
             "part (the tracer's from /proc/PID/task/*/schedstat, while "
             "it wrote its JSON to a file); both ends are traced, so the "
             "probes run in both.\n")
    if gc:
        L.append("Timelines: the tracer's JSON of each round, counted for "
                 "the client's and the server's pid (with each connection's "
                 "first request): " + gc["words"] + ".\n")
    bt = raw.get("go_bpf_time")
    if bt:
        L.append("BPF program time per request, both ends, as in section 1 "
                 "(one run each after the rounds; (c) is section 1's "
                 "OpenSSL keep-alive workload, for comparison):\n")
        L.append("| workload | floor µs | tracer µs | tracer / floor | "
                 "program runs per request |")
        L.append("|---|---|---|---|---|")
        for key in sorted(bt):
            t = bt[key]
            f, tr = t["floor"]["ns_per_req"], t["tracer"]["ns_per_req"]
            L.append(f"| ({key}) {t['workload']} | {fmt_us(f)} | "
                     f"{fmt_us(tr)} | "
                     f"{tr / f if f > 0 else float('nan'):.1f} | "
                     f"{t['tracer']['runs_per_req']:.2f} |")
        L.append("")
        keys = sorted(bt)
        names = sorted({nm for k in keys for c in ("tracer", "floor")
                        for nm in bt[k][c].get("progs", {})})
        if names:
            L.append("Per program: runs per request and ns per run, "
                     "in each workload, programs run at least once per 20 "
                     "requests (the floor's are empty programs: "
                     "any_uprobe is the bare cost of a program on a "
                     "uprobe). The uprobe itself, the trap and the kernel's "
                     "work around it, is in neither.\n")
            L.append("| program | " + " | ".join(
                f"({k}) runs/req | ({k}) ns/run" for k in keys) + " |")
            L.append("|---|" + "---|---|" * len(keys))
            for cond in ("tracer", "floor"):
                for nm in names:
                    cells = []
                    for k in keys:
                        x = bt[k][cond].get("progs", {}).get(nm)
                        cells += ([f"{x['runs_per_req']:.2f}",
                                   f"{x['ns_per_run']:.0f}"] if x
                                  else ["—", "—"])
                    # whole host: a hook hit by other processes now and
                    # then is not part of the request
                    if all(c == "—" or float(c) < 0.05
                           for c in cells[::2]):
                        continue
                    L.append(f"| {cond}: {nm} | " + " | ".join(cells) + " |")
            L.append("")
        parts = []
        for k in keys:
            ups = [(nm, x) for nm, x in
                   sorted(bt[k]["tracer"].get("progs", {}).items())
                   if nm.startswith(("uprobe", "uretprobe"))
                   and x["runs_per_req"] >= 0.05]
            if ups:
                parts.append(f"({k}) " + ", ".join(
                    f"{nm} {x['ns_per_run']:.0f} ns ({x['runs_per_req']:.1f} "
                    "per request)" for nm, x in ups))
        hits = []
        for k in keys:
            s = ov.get(k)
            up = bt[k]["floor"].get("progs", {}).get("any_uprobe")
            if not s or not up or up["runs_per_req"] < 1:
                continue
            added = sum(s["floor"][c] - s["none"][c]
                        for c in ("client_cpu_ns", "server_cpu_ns"))
            hits.append(f"({k}) {fmt_us(added / up['runs_per_req'])} µs "
                        f"({up['runs_per_req']:.1f} hits per request)")
        if hits:
            L.append("The floor's added CPU time (client + server) per "
                     "request over its uprobe hits per request, the most a "
                     "Go uprobe hit with an empty program costs (the "
                     "syscall hooks' share is in it too): " +
                     "; ".join(hits) + ".\n")
        if parts:
            L.append("The tracer's uprobe programs, time per run: " +
                     "; ".join(parts) + ". Go's returns are plain uprobes "
                     "on the RET instructions (uprobe_go_tls_ret), the C "
                     "libraries' are uretprobes.\n")


METHOD = """## Method

- **Workloads** (`tools/bench/loadgen.c`, one process each run, timed
  inside the process around the request loop): (a) one keep-alive
  connection to `ht_test_server`, sequential `GET /`; (b) connect, `GET /`,
  close, repeated; (c) an OpenSSL client, one TLS 1.3 connection, sequential
  `GET /` (handshake outside the timed loop) to a small OpenSSL server in the
  same program; (d) per round: write 4 KiB to a file and read it back, a UDP
  datagram to itself, a 64-byte binary (non-HTTP) echo over TCP through a
  helper thread, a pipe round trip.
- **Conditions**: untraced; the floor (`tools/bench/floor.bpf.c`, empty
  programs: the static mirror of `bpf/httptrace.bpf.c`'s SEC() list plus
  generic empty uprobes at every file offset `bpftool perf` shows the
  running tracer attached, so TLS library probes are mirrored as soon as
  the tracer has them); `httptrace-bpf --json > /dev/null` on the whole
  host (both ends of the loopback traffic are traced, as the floor's
  programs fire on both). Each round runs all three, in an order rotated
  every round, each running every workload; one warm-up run first.
- **Per-request added time** = median(condition) − median(untraced);
  ratio = tracer added / floor added. With small floors the ratio is
  sensitive to noise: look at the µs too.
- **BPF time**: after the rounds, the floor and the tracer once more
  each, with `kernel.bpf_stats_enabled=1`: the run time the kernel
  accounts to the daemon's programs (`run_time_ns` in /proc/PID/fdinfo of
  its program fds) over each workload, divided by its requests. It
  counts the programs only: not the uprobe and tracepoint machinery
  around them (the same for both), nor what the daemon's own work costs
  the machine.
- **Replay**: `ht_bench_replay` builds records outside the timed region
  (see the top of `tools/bench/replay.c` for the mix) and pushes them
  through the daemon's own objects (`PURE_OBJS`): correlator, parser,
  reorder buffer, JSON output to /dev/null buffered and flushed every 256
  records, as the daemon writing to a pipe or file flushes after each
  ring-buffer poll (to a terminal it writes each line: that row is there
  too). The recorded streams are `httptrace-bpf --record` files of real
  runs on this machine (the 20,000 req/s keep-alive trial; `newconn`
  traced on the whole host), replayed with `--from`: records are read
  into memory first, outside the timed region.
- **Sustained**: rates tried from 5,000 req/s up until one fails, then two
  bisection steps. Pass = every request answered, achieved ≥ 97 % of the
  target, and the tracer's exit line says 0 lost, 0 incomplete and twice
  as many requests as were made.
- **Footprint**: VmHWM read from /proc just before each tracer run is
  stopped (the highest is reported); map memory is `bytes_memlock` of the
  maps `bpftool map show` lists as held by the tracer; start time is from
  spawning `httptrace-bpf` to its "Tracing" line on stderr.
- **HTTP/2** (section 5): `h2load -n N -c C -m M -t 1` against
  `nghttpd -d DIR` (TLS with a fresh P-256 certificate, and `--no-tls`),
  the client pinned to the last CPU and the server to CPU 0 (the tracer
  and the floor are not pinned); a run counts only when every request
  succeeded. One warm-up run of each workload first.
- **Go HTTPS** (section 6): `ht_bench_go client -n N -proto h1|h2
  -conns C -streams M` against `ht_bench_go server`, pinned as in
  section 5; C connections (one `http.Transport` each), M goroutines
  each; a run counts only when every request got a 200 and its 1 KiB.
  In the tracer's rounds its JSON goes to a file, read after it stopped:
  a request counts as traced when the client's and the server's
  timelines are both complete, with TLS decoded and status 200. The
  Go uprobes are found by the file they are on (the bench program);
  none means the section measured no Go tracing, and it says so.
- Loopback only; every process started is stopped at the end (also on
  Ctrl-C). Numbers from a shared, busy machine are noisy: compare within
  one run, not across runs.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="docs/BENCH.md")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true",
                    help="smaller runs, for trying the machinery")
    ap.add_argument("--only",
                    default="overhead,replay,sustained,agent,footprint,"
                    "h2,h2replay,go")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (sudo make bench)")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    atexit.register(cleanup)
    if not os.path.isdir("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       check=False)
    only = set(args.only.split(","))
    b = Bench(args)
    b.raw["rounds"] = args.rounds
    t0 = time.monotonic()
    try:
        if "replay" in only:
            b.replay_bench()
        if "go" in only:
            b.start_go_server()
        if only & {"overhead", "sustained", "agent", "footprint", "h2",
                   "go"}:
            b.start_servers()
        # the floor's hooks: for the sections that run the floor
        if only & {"overhead", "footprint", "h2", "go"}:
            b.discover_hooks()
        if "overhead" in only:
            b.overhead()
            b.raw["foreign_hooks_seen"] = sum(
                1 for x in b.raw["overhead_runs"] if x["foreign_hooks"])
            b.bpf_time()
        if "sustained" in only:
            b.sustained()
        if "agent" in only:
            b.agent()
        if "replay" in only and "sustained" in only:
            b.replay_recorded()
        if only & {"h2", "h2replay"} and b.start_h2_servers():
            if "h2" in only:
                b.h2_overhead()
                b.h2_bpf_time()
            if "h2replay" in only:
                b.h2_replay()
        if "go" in only and b.go:
            # a Go program the probes broke is a finding, not the end of
            # the other sections
            try:
                b.go_overhead()
                b.go_bpf_time()
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                b.raw["go_error"] = str(e)
                log(f"go: FAILED: {e}")
        if "footprint" in only:
            b.footprint()
    finally:
        cleanup()
        b.raw["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        b.raw["elapsed_s"] = round(time.monotonic() - t0, 1)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        write_report(b.raw, args.out)
        log(f"wrote {args.out} ({b.raw['elapsed_s']} s)")


if __name__ == "__main__":
    main()
