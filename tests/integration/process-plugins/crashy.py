"""Test fixture for the supervision of out-of-process plugins (docs/protocol.md).

A sink that appends each delivered text to the file `record`, and at delivery number `crash_after` of its first
life exits abruptly without answering (a marker file in its data folder makes it crash only once).
"""
import json
import os
import sys

config, record, count, data_dir = {}, None, 0, "."
for line in sys.stdin:
    req = json.loads(line)
    op, reply = req.get("op"), {"ok": True}
    if op == "create":
        config = req["config"]
        data_dir = req.get("data_dir", ".")
    elif op == "start":
        record = open(config["record"], "a")
    elif op == "deliver":
        count += 1
        marker = os.path.join(data_dir, "crashed-once")
        if count == int(config.get("crash_after", 0)) and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)  # in flight: the host must deliver this one again
        record.write(req["delivery"]["rendered"] + "\n")
        record.flush()
        reply = {"status": "ok", "native_id": f"c-{count}"}
    if "id" in req:
        sys.stdout.write(json.dumps(dict(reply, reply=req["id"])) + "\n")
        sys.stdout.flush()
