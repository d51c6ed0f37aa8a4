"""A Storm bolt in plain Python: no library, just the multi-lang protocol.

Tributary (like Storm) starts this program once per task and talks to it over stdin and
stdout. Every message is one JSON value followed by a line "end":

1. The first message is the handshake (configuration, context, a folder for a pid
   file); answer it with {"pid": ...}.
2. Then tuples arrive: {"id", "comp", "stream", "task", "tuple": [values]}. Emit with
   {"command": "emit", "anchors": [id], "tuple": [...]}, then ack (or fail) the id.
3. A tuple on the stream "__heartbeat" asks "are you alive?": answer {"command": "sync"}.

This one splits each sentence into words, lower-cased, like the built-in split.
"""
import json
import os
import sys


def read_message():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:  # Tributary closed our input: the run is over.
            sys.exit(0)
        line = line.rstrip("\n")
        if line == "end":
            return json.loads("\n".join(lines))
        lines.append(line)


def send(message):
    sys.stdout.write(json.dumps(message) + "\nend\n")
    sys.stdout.flush()


handshake = read_message()
open(os.path.join(handshake["pidDir"], str(os.getpid())), "w").close()
send({"pid": os.getpid()})

while True:
    tup = read_message()
    if tup["stream"] == "__heartbeat":
        send({"command": "sync"})
        continue
    for word in str(tup["tuple"][0]).lower().split():
        # need_task_ids false: we do not need to hear which tasks got the word.
        send({"command": "emit", "anchors": [tup["id"]], "tuple": [word], "need_task_ids": False})
    send({"command": "ack", "id": tup["id"]})
