#!/usr/bin/env python3
"""Check a granttrack audit trail export (JSON Lines) with nothing but the file.

Usage:
  verify_audit.py AUDIT.jsonl [--manifest AUDIT.jsonl.manifest.json] [--anchor HASH@SEQ ...]

Independent of granttrack's Go code, and of everything but Python's standard
library, it recomputes every event's SHA-256 as the README's "Offline
verification" specifies, checks that each event links to the one before it
(the first to 64 zeros), that sequence numbers run 1, 2, 3 ... without a gap,
that each anchor (an export manifest's audit_head_hash@audit_head_seq) is
still in the chain, and, given the manifest, that the file is the one it
describes. It prints OK and exits 0, or prints each problem and exits 1
(2 for bad usage).
"""

import argparse
import hashlib
import json
import os
import sys

GENESIS = "0" * 64


class Number:
    """A JSON number kept as written: the hash covers its exact text."""

    def __init__(self, text):
        self.text = text


def quote(s):
    """A JSON string as Go's encoding/json writes it without HTML escaping."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif c < 0x20 or c in (0x2028, 0x2029):
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(v):
    """Canonical JSON: keys sorted, no white space, numbers as written."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Number):
        return v.text
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(quote(k) + ":" + canonical(v[k]) for k in sorted(v)) + "}"
    raise ValueError("not a JSON value: %r" % (v,))


def field(b):
    """One length-prefixed field of the hashed encoding: LENGTH ':' BYTES."""
    return str(len(b)).encode("ascii") + b":" + b


def state(v):
    """A state's hashed bytes: its canonical JSON, or nothing for null."""
    return b"" if v is None else canonical(v).encode("utf-8")


def event_hash(ev):
    actor_id = "" if ev["actor_id"] is None else canonical(ev["actor_id"])
    h = hashlib.sha256()
    h.update(field(canonical(ev["seq"]).encode("ascii")))
    h.update(field(ev["occurred_at"].encode("utf-8")))
    for part in (actor_id.encode("ascii"), ev["actor"].encode("utf-8"), ev["action"].encode("utf-8"),
                 ev["entity"].encode("utf-8"), ev["entity_id"].encode("utf-8"), state(ev["before"]),
                 state(ev["after"]), ev["request_id"].encode("utf-8")):
        h.update(field(part))
    h.update(field(bytes.fromhex(ev["prev_hash"])))
    return h.hexdigest()


KEYS = {"seq", "occurred_at", "actor_id", "actor", "action", "entity", "entity_id", "before", "after",
        "request_id", "prev_hash", "hash"}


def parse_anchor(s):
    h, sep, seq = s.strip().partition("@")
    if not sep or len(h) != 64 or not seq.isdigit():
        raise argparse.ArgumentTypeError("an anchor is HASH@SEQ: 64 hex digits, @, a sequence number")
    int(h, 16)
    return h.lower(), int(seq)


def verify(path, manifest, anchors):
    problems = []
    heads = {}  # seq -> hash, for the anchors
    prev, expect, count = GENESIS, 1, 0
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            digest.update(raw)
            if problems:
                continue  # past the first break, only the file's hash is still read
            try:
                ev = json.loads(raw.decode("utf-8"), parse_int=Number, parse_float=Number)
                if not isinstance(ev, dict) or set(ev) != KEYS:
                    raise ValueError("its keys are not the event's (%s)" % ", ".join(sorted(KEYS)))
                seq = int(canonical(ev["seq"]))
            except (ValueError, UnicodeDecodeError, KeyError, TypeError) as e:
                problems.append("line %d cannot be read: %s" % (n, e))
                continue
            count += 1
            if seq != expect:
                problems.append("line %d: expected sequence %d but found %d: an event is missing or out of order" % (n, expect, seq))
            elif ev["prev_hash"] != prev:
                problems.append("event %d: its previous hash is not the hash of event %d: events were removed or reordered" % (seq, seq - 1))
            else:
                try:
                    computed = event_hash(ev)
                except (ValueError, TypeError, AttributeError) as e:
                    problems.append("event %d cannot be hashed: %s" % (seq, e))
                    continue
                if computed != ev["hash"]:
                    problems.append("event %d: its content does not match its hash (computed %s, file %s): the event was altered" % (seq, computed, ev["hash"]))
            heads[seq] = ev["hash"]
            prev, expect = ev["hash"], seq + 1
    last = expect - 1
    for h, seq in anchors:
        if seq == 0 and h != GENESIS:
            problems.append("the anchor at sequence 0 must be the genesis hash of 64 zeros")
        elif seq > last:
            problems.append("the anchor %s@%d is past the file's last event %d: events after %d were removed" % (h, seq, last, last))
        elif seq > 0 and heads.get(seq) != h:
            problems.append("the event at sequence %d has hash %s, not the anchor's %s: the chain was rewritten from there on" % (seq, heads.get(seq), h))
    if manifest is not None:
        if digest.hexdigest() != manifest.get("sha256", "").lower():
            problems.append("the file's SHA-256 is %s, not the manifest's %s" % (digest.hexdigest(), manifest.get("sha256")))
        if manifest.get("events") != count or manifest.get("audit_head_seq") != last or manifest.get("audit_head_hash", "").lower() != prev:
            problems.append("the manifest describes %s events ending %s@%s, the file %d ending %s@%d" % (
                manifest.get("events"), manifest.get("audit_head_hash"), manifest.get("audit_head_seq"), count, prev, last))
    return problems, count, prev, last


def main(argv):
    p = argparse.ArgumentParser(description="Check a granttrack audit trail export with nothing but the file.")
    p.add_argument("file")
    p.add_argument("--manifest", help="the export's manifest (default FILE.manifest.json, if present)")
    p.add_argument("--anchor", action="append", default=[], type=parse_anchor,
                   help="HASH@SEQ from an export's manifest (audit_head_hash@audit_head_seq); repeatable")
    args = p.parse_args(argv)
    manifest_path = args.manifest or args.file + ".manifest.json"
    manifest = None
    if args.manifest or os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    problems, count, head, last = verify(args.file, manifest, args.anchor)
    if problems:
        print("NOT OK: %d problem(s)" % len(problems))
        for pr in problems:
            print("  " + pr)
        return 1
    print("OK: %d events, an intact chain, head %s@%d%s%s" % (count, head, last,
          "; %d anchor(s) held" % len(args.anchor) if args.anchor else "",
          "; the file is the manifest's" if manifest is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
