"""Test bolts written against the protocol by hand, one behaviour per argument:
exit_after N   passes numbers on, then exits with status 3 after N tuples;
deaf           never answers a heartbeat;
stderr         writes a line to stderr, then behaves;
garbage        answers the first tuple with a plain print;
undeclared     emits to a stream nobody declared;
stranger       acks an id it was never given;
flood          writes one endless line;
slow S         takes S seconds over each tuple (acking each), answering heartbeats late;
silent         writes its pid to silent.pid and never answers the handshake."""
import json
import os
import sys
import time


def read():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        line = line.rstrip("\n")
        if line == "end":
            return json.loads("\n".join(lines))
        lines.append(line)


def send(message):
    sys.stdout.write(json.dumps(message) + "\nend\n")
    sys.stdout.flush()


mode = sys.argv[1]
limit = float(sys.argv[2]) if len(sys.argv) > 2 else 0
if mode == "silent":
    with open("silent.pid", "w") as f:
        f.write(str(os.getpid()))
    while True:
        time.sleep(60)
hello = read()
open(os.path.join(hello["pidDir"], str(os.getpid())), "w").close()
send({"pid": os.getpid()})
if mode == "stderr":
    sys.stderr.write("hello from the bolt's stderr\n")
    sys.stderr.flush()
seen = 0
while True:
    tup = read()
    if tup.get("stream") == "__heartbeat":
        if mode != "deaf":
            send({"command": "sync"})
        continue
    seen += 1
    if mode == "garbage":
        print("just printing, not speaking the protocol")
        print("end")
        sys.stdout.flush()
        continue
    if mode == "undeclared":
        send({"command": "emit", "stream": "nowhere", "tuple": tup["tuple"], "need_task_ids": False})
        continue
    if mode == "stranger":
        send({"command": "ack", "id": "no-such-id"})
        continue
    if mode == "flood":
        while True:
            sys.stdout.write("x" * 65536)
    if mode == "slow":
        time.sleep(limit)
    send({"command": "emit", "anchors": [tup["id"]], "tuple": tup["tuple"], "need_task_ids": False})
    send({"command": "ack", "id": tup["id"]})
    if mode == "exit_after" and seen >= limit:
        sys.exit(3)
