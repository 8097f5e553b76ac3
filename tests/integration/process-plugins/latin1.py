"""Test fixture for lines that are not UTF-8 (docs/protocol.md): a source that, once started, emits one message
written in Latin-1 (as a program in another language might), then one in UTF-8, and logs the host's answers."""
import json
import sys

answers = {}


def send_raw(data):
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.buffer.flush()


for line in sys.stdin:
    req = json.loads(line)
    if "reply" in req:
        answers[req["reply"]] = req.get("code")
        if len(answers) == 2:
            send_raw(json.dumps({"op": "log", "level": "info", "text": f"latin1: answers {sorted(answers.items())}"})
                     .encode())
        continue
    op = req.get("op")
    if "id" in req:
        send_raw(json.dumps({"reply": req["id"], "ok": True}).encode())
    if op == "start":
        send_raw('{"op":"emit","id":1,"message":{"text":"caf\xe9 in Latin-1","channel":"c"}}'.encode("latin-1"))
        send_raw(json.dumps({"op": "emit", "id": 2, "message": {"text": "café in UTF-8", "channel": "c"}}).encode())
