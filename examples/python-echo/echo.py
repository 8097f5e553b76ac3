#!/usr/bin/env python3
"""python-echo: an out-of-process Relais plugin in Python, standard library only.

It speaks the protocol of docs/protocol.md on stdin/stdout: one JSON object per line.
- As a source: it listens on 127.0.0.1:<port>; the body of each POST becomes a message it emits. The HTTP answer
  is 202 once the host has accepted the message, 503 when the host refused it (try again later).
- As a sink: it writes "<prefix><rendered text>" to the host's log for each delivery and answers ok.
Write only protocol lines to stdout; anything for people goes to stderr or through the "log" operation.
"""
import http.server
import json
import sys
import threading


class Host:
    """The host, as the plugin sees it: requests with replies, and fire-and-forget notices."""

    def __init__(self):
        self.out_lock = threading.Lock()
        self.lock = threading.Lock()
        self.next_id = 1
        self.waiting = {}  # id -> [Event, reply]

    def send(self, obj):
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with self.out_lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def call(self, obj, timeout=30):
        with self.lock:
            rid = self.next_id
            self.next_id += 1
            slot = self.waiting[rid] = [threading.Event(), None]
        self.send(dict(obj, id=rid))
        slot[0].wait(timeout)
        with self.lock:
            self.waiting.pop(rid, None)
        return slot[1]

    def answered(self, reply):
        with self.lock:
            slot = self.waiting.get(reply["reply"])
        if slot:
            slot[1] = reply
            slot[0].set()

    def emit(self, message):
        reply = self.call({"op": "emit", "message": message})
        return reply["code"] if reply else -2

    def log(self, text, level="info"):
        self.send({"op": "log", "level": level, "text": text})

    def counter(self, name, value=1):
        self.send({"op": "metric", "kind": "counter", "name": name, "value": value})


class Echo:
    def __init__(self, host, config):
        self.host = host
        self.port = int(config.get("port", 0))
        self.channel = config.get("channel", "echo")
        self.prefix = config.get("prefix", "echo: ")
        self.server = None
        self.delivered = 0

    def start(self):
        if not self.port:
            return
        plugin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8", "replace")
                code = plugin.host.emit({"text": body, "channel": plugin.channel, "author": "python-echo"})
                self.send_response(202 if code == 0 else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.host.log(f"listening on 127.0.0.1:{self.port}")

    def deliver(self, message, delivery):
        self.host.log(self.prefix + delivery.get("rendered", ""))
        self.host.counter("echoed")
        self.delivered += 1
        return {"status": "ok", "native_id": f"echo-{self.delivered}"}

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def main():
    host = Host()
    plugin = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if "reply" in req:
            host.answered(req)
            continue
        op, reply = req.get("op"), {"ok": True}
        try:
            if op == "create":
                plugin = Echo(host, req.get("config", {}))
            elif op == "start":
                plugin.start()
            elif op == "deliver":
                reply = plugin.deliver(req["message"], req.get("delivery", {}))
            elif op == "stop":
                plugin.stop()
            else:
                reply = {"ok": False, "error": f"unknown op {op}"}
        except Exception as e:  # a failure is an answer, never a crash
            reply = {"status": "retry", "error": str(e)} if op == "deliver" else {"ok": False, "error": str(e)}
        if "id" in req:
            host.send(dict(reply, reply=req["id"]))
    if plugin:
        plugin.stop()


if __name__ == "__main__":
    main()
