// A bolt in plain Node.js with no library: the multi-lang protocol by hand. It answers
// the handshake with its pid, upper-cases each word (anchored), acks it, and answers
// heartbeats with sync.
const fs = require("fs");
const path = require("path");
const readline = require("readline");

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\nend\n");
}

let lines = [];
let handshaken = false;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line !== "end") {
    lines.push(line);
    return;
  }
  const message = JSON.parse(lines.join("\n"));
  lines = [];
  if (!handshaken) {
    handshaken = true;
    fs.writeFileSync(path.join(message.pidDir, String(process.pid)), "");
    send({ pid: process.pid });
    return;
  }
  if (message.stream === "__heartbeat") {
    send({ command: "sync" });
    return;
  }
  send({ command: "emit", anchors: [message.id], tuple: [String(message.tuple[0]).toUpperCase()], need_task_ids: false });
  send({ command: "ack", id: message.id });
});
