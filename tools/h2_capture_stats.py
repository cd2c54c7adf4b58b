#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How much of the HTTP/2 in a recording (--record FILE) the capture kept.

Follows the frames of every HTTP/2 connection in the recording, per
direction from the connection's first byte, and counts the header blocks
(HEADERS or PUSH_PROMISE and their CONTINUATIONs) and frame headers that
lie beyond the captured part of their record, for the capture the
recording was made with and for smaller caps (--cap N: each record's
capture cut to N, which is what the kernel would have sent).

The decoder's view is simulated as src/proto/http2/h2_frame.h states its
contract: a frame header not captured loses the direction's frame
boundaries until a record that is frames exactly; a header block cut
short, or one after such a loss, leaves the HPACK table unknown for the
rest of the direction ("blocks after damage" are decoded against an
incomplete table).

Ring-buffer bytes are what the data records of those connections take:
as recorded (cut to the cap), and as they would with DATA payloads left
out (their 9-byte frame headers kept), the "elided" column.

    tools/h2_capture_stats.py [--cap N]... [--comm NAME] FILE...
"""
import argparse
import collections
import struct
import sys

HEADER_SIZE = 32
ITEM_HEADER = struct.Struct("<III")
RECORD = 1
EV_DATA, EV_CONNECT_START, EV_ACCEPT, EV_TLS_DATA = 4, 1, 3, 8
# struct ht_data_event, up to data[]
DATA_EVENT = struct.Struct("<QIII4x16sIiQIBBHQqII")
DATA_HDR_LEN = DATA_EVENT.size
assert DATA_HDR_LEN == 88
HT_DATA_ELIDED = 0x1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_PUSH_PROMISE, H2_CONTINUATION = 0, 1, 5, 9
H2_SETTINGS = 4
END_HEADERS = 0x4


def ring_size(payload):
    """A ring-buffer record: an 8-byte header, rounded up to 8."""
    return 8 + (payload + 7) // 8 * 8


class Rec:
    __slots__ = ("seq", "dir", "ret", "cap", "data", "comm", "elided",
                 "known")

    def get(self, p, n):
        """Bytes p..p+n of the record, or None where not captured."""
        for at, b in self.known:
            if at <= p and p + n <= at + len(b):
                return b[p - at:p - at + n]
        return None

    def has(self, s, e, cap):
        if not self.elided:
            return e <= min(self.cap, cap)
        return self.get(s, e - s) is not None


def expand(data, ret):
    """An HT_DATA_ELIDED record's kept bytes, as [(offset, bytes)]."""
    n = struct.unpack_from("<I", data, len(data) - 4)[0]
    kept_len = len(data) - 4 - 8 * n
    runs = [struct.unpack_from("<II", data, kept_len + 8 * i)
            for i in range(n)]
    out, p, k = [], 0, 0
    for at, ln in runs:
        out.append((p, data[k:k + at - p]))
        k += at - p
        p = at + ln
    out.append((p, data[k:kept_len]))
    return out


def read_recording(path):
    """{conn key: [Rec]} of the data records, and their comm."""
    conns = collections.defaultdict(lambda: {"plain": [], "tls": []})
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
        if head[:8] != b"HTRECORD":
            sys.exit("%s: not a recording" % path)
        version = struct.unpack_from("<I", head, 8)[0]
        # 4 added to connection records and a cgroup item kind, neither
        # read here; the data records are laid out as in 3
        if version not in (3, 4):
            sys.exit("%s: format %d, only 3 and 4 are read"
                     % (path, version))
        while True:
            ih = f.read(ITEM_HEADER.size)
            if len(ih) < ITEM_HEADER.size:
                break
            kind, size, _ = ITEM_HEADER.unpack(ih)
            pad = (8 - (ITEM_HEADER.size + size) % 8) % 8
            payload = f.read(size + pad)[:size]
            if kind != RECORD or len(payload) < 8:
                continue
            ev_type = struct.unpack_from("<I", payload, 8)[0]
            if ev_type not in (EV_DATA, EV_TLS_DATA):
                continue
            (_, _, tgid, _, comm, c_tgid, c_fd, c_gen, seq, direction,
             _, _, _, ret, captured, _) = DATA_EVENT.unpack_from(payload)
            if ret <= 0:
                continue
            r = Rec()
            r.seq, r.dir, r.ret, r.cap = seq, direction, ret, captured
            data = payload[DATA_HDR_LEN:DATA_HDR_LEN + captured]
            flags = struct.unpack_from("<H", payload, 62)[0]
            r.elided = bool(flags & HT_DATA_ELIDED)
            r.known = expand(data, ret) if r.elided else [(0, data)]
            r.data = data if not r.elided else r.known[0][1]
            r.comm = comm.split(b"\0")[0].decode(errors="replace")
            conns[(c_tgid, c_fd, c_gen)][
                "tls" if ev_type == EV_TLS_DATA else "plain"].append(r)
    out = {}
    for key, c in conns.items():
        recs = c["tls"] or c["plain"]  # TLS: the plaintext only
        recs.sort(key=lambda r: r.seq)
        out[key] = (recs, bool(c["tls"]))
    return out


class Frame:
    __slots__ = ("type", "flags", "hdr", "payload")

    def __init__(self):
        self.type, self.flags = None, 0  # None: header not all known
        self.hdr = []      # spans of its 9 header bytes: (rec, start, end)
        self.payload = []  # spans of its payload


def walk(recs):
    """The frames of one direction, from the records' true bytes (those
    captured in the recording). Returns (frames, preface spans, record
    starts at a frame boundary [bool], ends at one, truth_lost)."""
    frames, preface = [], []
    starts, ends = [], []
    pos_in_preface = 0
    hdr_buf = b""
    cur = None
    left = 0  # payload bytes left in cur
    if not (recs and recs[0].data.startswith(PREFACE[:14])):
        pos_in_preface = len(PREFACE)
    for i, r in enumerate(recs):
        at_boundary = (pos_in_preface == len(PREFACE) and not hdr_buf and
                       left == 0)
        starts.append(at_boundary)
        p = 0
        while p < r.ret:
            if pos_in_preface < len(PREFACE):
                n = min(len(PREFACE) - pos_in_preface, r.ret - p)
                preface.append((i, p, p + n))
                pos_in_preface += n
                p += n
                continue
            if left:
                n = min(left, r.ret - p)
                cur.payload.append((i, p, p + n))
                left -= n
                p += n
                continue
            # a frame header
            if not hdr_buf:
                cur = Frame()
                frames.append(cur)
            n = min(9 - len(hdr_buf), r.ret - p)
            cur.hdr.append((i, p, p + n))
            got = r.get(p, n)
            if got is None:
                # the recording itself lacks the bytes: no truth until
                # a record whose frames end where it does
                frames.pop()
                ends.append(False)
                return frames, preface, starts, ends, i + 1
            hdr_buf += got
            p += n
            if len(hdr_buf) == 9:
                length = int.from_bytes(hdr_buf[:3], "big")
                cur.type, cur.flags = hdr_buf[3], hdr_buf[4]
                left = length
                hdr_buf = b""
        ends.append(pos_in_preface == len(PREFACE) and not hdr_buf and
                    left == 0)
    return frames, preface, starts, ends, None


def frames_exactly(r):
    """Does record r hold whole frames only, every header known?"""
    p = 0
    while p < r.ret:
        h = r.get(p, 9)
        if h is None:
            return False
        p += 9 + int.from_bytes(h[:3], "big")
    return p == r.ret


def walk_all(recs):
    """walk() over a direction, taking frame boundaries back after the
    recording lacks bytes; returns the pieces per stretch and how many
    times the truth was lost."""
    out, lost, start = [], 0, 0
    while start < len(recs):
        part = recs[start:]
        w = walk(part)
        out.append((part, w))
        if w[4] is None:
            break
        lost += 1
        start += w[4]
        while start < len(recs) and not frames_exactly(recs[start]):
            start += 1
    return out, lost


def captured(spans, recs, cap):
    return all(recs[i].has(s, e, cap) for i, s, e in spans)


class Stats:
    FIELDS = ("conns", "records", "frames", "blocks", "blocks_cut",
              "frame_hdrs_cut", "blocks_unsynced", "blocks_after_damage",
              "blocks_whole", "ring", "ring_elided", "truth_lost")

    def __init__(self):
        for k in self.FIELDS:
            setattr(self, k, 0)

    def add(self, o):
        for k in self.FIELDS:
            setattr(self, k, getattr(self, k) + getattr(o, k))


def simulate(recs, walked, cap, st):
    frames, preface, starts, ends, stop = walked
    elided = [0] * len(recs)
    for i, s, e in preface:
        elided[i] += e - s
    for f in frames:
        for i, s, e in f.hdr:
            elided[i] += e - s
        if f.type != H2_DATA:
            for i, s, e in f.payload:
                elided[i] += e - s
    for n in elided[:stop if stop is not None else len(recs)]:
        st.ring_elided += ring_size(DATA_HDR_LEN + n)

    # records a frame's header lies in, to find the frames of a record
    rec_frames = collections.defaultdict(list)
    for f in frames:
        if f.hdr:
            rec_frames[f.hdr[0][0]].append(f)

    def resyncs_at(i):
        """Is record i frames exactly, every header captured?"""
        if not starts[i] or i >= len(ends) or not ends[i]:
            return False
        return all(captured(f.hdr, recs, cap) for f in rec_frames[i])

    synced, table_ok = True, True
    in_block = None  # the block's state: whole so far
    for f in frames:
        st.frames += 1
        first_rec = f.hdr[0][0]
        if not synced and f.hdr[0][1] == 0 and resyncs_at(first_rec):
            synced, table_ok = True, False
        is_block_start = getattr(f, "type", None) in (H2_HEADERS,
                                                      H2_PUSH_PROMISE)
        if is_block_start:
            st.blocks += 1
        if not synced:
            if is_block_start:
                st.blocks_unsynced += 1
            continue
        if not captured(f.hdr, recs, cap):
            st.frame_hdrs_cut += 1
            synced = False
            if is_block_start:
                st.blocks_unsynced += 1
            elif in_block is not None:
                st.blocks_cut += 1
            in_block = None
            table_ok = False
            continue
        if is_block_start:
            in_block = {"whole": True, "table_ok": table_ok}
        if in_block is not None and f.type in (H2_HEADERS, H2_PUSH_PROMISE,
                                               H2_CONTINUATION):
            if not captured(f.payload, recs, cap):
                in_block["whole"] = False
            if f.flags & END_HEADERS:
                if not in_block["whole"]:
                    st.blocks_cut += 1
                    table_ok = False
                elif not in_block["table_ok"]:
                    st.blocks_after_damage += 1
                else:
                    st.blocks_whole += 1
                in_block = None


def is_h2(dirs):
    for recs in dirs.values():
        d = recs[0].data if recs else b""
        if d.startswith(PREFACE[:14]):
            return True
        if len(d) >= 9 and d[3] == H2_SETTINGS and d[4] == 0 and \
                d[5:9] == b"\0\0\0\0":
            return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=int, action="append",
                    help="simulate this capture cap (repeatable); "
                    "default: 4096 and 16384")
    ap.add_argument("--comm", help="only connections of this process name")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    caps = a.cap or [4096, 16384]
    print("%-34s %6s %5s %7s %7s %6s %6s %7s %6s %7s %6s %10s %10s" % (
        "recording", "cap", "conns", "records", "frames", "blocks",
        "cut", "hdrcut", "unsync", "damaged", "whole", "ring", "elided"))
    for path in a.files:
        conns = read_recording(path)
        name = path.rsplit("/", 1)[-1]
        for cap in caps:
            per = collections.defaultdict(Stats)
            for key, (recs, tls) in sorted(conns.items()):
                comm = recs[0].comm if recs else ""
                if a.comm and comm != a.comm:
                    continue
                dirs = collections.defaultdict(list)
                for r in recs:
                    dirs[r.dir].append(r)
                if not is_h2(dirs):
                    continue
                label = "%s %s" % (comm, "tls" if tls else "h2c")
                per[label].conns += 1
                for d in sorted(dirs):
                    stretches, lost = walk_all(dirs[d])
                    st = per[label]
                    st.truth_lost += lost
                    st.records += len(dirs[d])
                    covered = set()
                    for part, w in stretches:
                        simulate(part, w, cap, st)
                        base = len(dirs[d]) - len(part)
                        upto = w[4] if w[4] is not None else len(part)
                        covered.update(range(base, base + upto))
                    for i, r in enumerate(dirs[d]):
                        n = ring_size(DATA_HDR_LEN + (
                            r.cap if r.elided else min(r.cap, cap, r.ret)))
                        st.ring += n
                        if i not in covered:
                            st.ring_elided += n
            for label, tot in sorted(per.items()):
                print("%-34s %6d %5d %7d %7d %6d %6d %7d %6d %7d %6d "
                      "%10d %10d%s"
                      % ((name + ":" + label)[-34:], cap, tot.conns,
                         tot.records, tot.frames, tot.blocks,
                         tot.blocks_cut, tot.frame_hdrs_cut,
                         tot.blocks_unsynced, tot.blocks_after_damage,
                         tot.blocks_whole, tot.ring, tot.ring_elided,
                         "  (recording lacks frame headers %d times)" %
                         tot.truth_lost if tot.truth_lost else ""))

if __name__ == "__main__":
    main()
