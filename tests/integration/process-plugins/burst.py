"""Test fixture for emits that share commits (docs/protocol.md): a source that, once started, sends `count` emits
without waiting for their answers, then one emit_batch of `batch` messages, and logs what the host answered."""
import json
import sys
import threading

out_lock = threading.Lock()
config, answers = {}, {}


def send(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def burst():
    count, batch = int(config["count"]), int(config["batch"])
    for i in range(count):
        send({"op": "emit", "id": 1000 + i, "message": {"text": f"one-{i:04d}", "channel": "c"}})
    send({"op": "emit_batch", "id": 999,
          "messages": [{"text": f"batch-{i:04d}", "channel": "c"} for i in range(batch)]})


for line in sys.stdin:
    req = json.loads(line)
    if "reply" in req:
        answers[req["reply"]] = req.get("code")
        if len(answers) == int(config["count"]) + 1:
            codes = sorted(set(answers.values()))
            send({"op": "log", "level": "info", "text": f"burst: {len(answers)} answers, codes {codes}"})
        continue
    op = req.get("op")
    if op == "create":
        config = req["config"]
    if "id" in req:
        send({"reply": req["id"], "ok": True})
    if op == "start":
        threading.Thread(target=burst, daemon=True).start()
