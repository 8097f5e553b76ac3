"""A stand-in Mastodon server for the integration tests: it serves the recorded payloads in payloads/ over HTTP on
127.0.0.1, with the published API's paging (min_id, since_id, max_id, limit), its Error entity, Idempotency-Key,
and the streaming API as Server-Sent Events. It records every request so tests can check what the connector sent.

No Mastodon server can run in the test environment; this replays what the published API documents instead.
Standard library only.
"""
import copy
import html
import http.server as http_server
import json
import os
import queue
import socket
import threading
import time
import urllib.parse

PAYLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "payloads")


def payload(name):
    with open(os.path.join(PAYLOADS, name), encoding="utf-8") as f:
        return json.load(f)


def id_key(value):
    return (len(value), value)


def page(items, params, limit_default=20):
    """The API's paging over items (any order): newest first, like the server answers."""
    items = sorted(items, key=lambda i: id_key(i["id"]), reverse=True)
    limit = min(int(params.get("limit", limit_default)), 40)
    if "max_id" in params:
        items = [i for i in items if id_key(i["id"]) < id_key(params["max_id"])]
    if "min_id" in params:  # the page just after min_id: the oldest newer ones
        newer = [i for i in items if id_key(i["id"]) > id_key(params["min_id"])]
        return newer[-limit:] if limit else []
    if "since_id" in params:
        items = [i for i in items if id_key(i["id"]) > id_key(params["since_id"])]
    return items[:limit]


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.at = time.monotonic()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"{self.method} {self.path} {self.query}"


class ReplayServer:
    """One Mastodon server. stop() closes it (streams included); start() opens it again on the same port."""

    def __init__(self, token="test-token"):
        self.token = token
        self.lock = threading.Lock()
        self.connections = set()
        self.requests = []
        self.tags = {}            # hashtag → statuses
        self.notifications = []
        self.accounts = {}        # acct → (account, statuses)
        self.statuses = {}        # id → status posted through the API
        self.by_key = {}          # Idempotency-Key → status id
        self.overrides = []       # (method, path prefix, status, headers, body bytes), used once each, in order
        self.raw_pages = {}       # path → body bytes served once instead of the real page
        self.streams = []         # (stream name, queue) of the open streaming connections
        self.next_id = 109500000000000000
        self.port = 0
        self.server = None

    # -- what the tests change --------------------------------------------------------------------------------
    def add_tag_statuses(self, tag, statuses):
        with self.lock:
            self.tags.setdefault(tag, []).extend(copy.deepcopy(statuses))

    def fail_next(self, method, path_prefix, status, body=None, headers=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
        with self.lock:
            self.overrides.append((method, path_prefix, status, headers or {}, data))

    def push(self, stream, event, data):
        """Sends one event to every open connection of `stream` ("user" or "hashtag:TAG")."""
        text = data if isinstance(data, str) else json.dumps(data)
        with self.lock:
            targets = [q for name, q in self.streams if name == stream]
        for q in targets:
            q.put(f"event: {event}\ndata: {text}\n\n")
        return len(targets)

    def open_streams(self, stream):
        with self.lock:
            return sum(1 for name, _ in self.streams if name == stream)

    def seen(self, method, path_prefix):
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # -- life ---------------------------------------------------------------------------------------------------
    def start(self):
        replay = self

        class Handler(http_server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # the head and the body of an answer are written separately

            # Kept-alive connections are tracked so that stop() closes them, as a server that goes away does.
            def setup(self):
                super().setup()
                with replay.lock:
                    replay.connections.add(self.connection)

            def finish(self):
                with replay.lock:
                    replay.connections.discard(self.connection)
                super().finish()

            def do_GET(self):
                replay._handle(self, "GET")

            def do_POST(self):
                replay._handle(self, "POST")

            def do_PUT(self):
                replay._handle(self, "PUT")

            def do_DELETE(self):
                replay._handle(self, "DELETE")

            def log_message(self, *args):
                pass

        http_server.ThreadingHTTPServer.allow_reuse_address = True
        http_server.ThreadingHTTPServer.daemon_threads = True
        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if not self.server:
            return
        self.closing.set()
        with self.lock:
            for _, q in self.streams:
                q.put(None)
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server = None
        deadline = time.monotonic() + 5
        while self.streams and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- answers ------------------------------------------------------------------------------------------------
    def _handle(self, h, method):
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        multi = urllib.parse.parse_qs(parsed.query)
        body = h.rfile.read(int(h.headers.get("Content-Length", 0) or 0))
        req = Request(method, parsed.path, query, {k.lower(): v for k, v in h.headers.items()}, body)
        with self.lock:
            self.requests.append(req)
            override = next((o for o in self.overrides if o[0] == method and parsed.path.startswith(o[1])), None)
            if override:
                self.overrides.remove(override)
            raw = self.raw_pages.pop(parsed.path, None)
        if override:
            return self._send(h, override[2], override[4], override[3])
        if raw is not None:
            return self._send(h, 200, raw)
        needs_token = not parsed.path.startswith("/api/v1/timelines/tag/")
        if needs_token and req.headers.get("authorization") != f"Bearer {self.token}":
            return self._json(h, 401, payload("error_unauthorized.json"))
        path = parsed.path
        if method == "GET" and path.startswith("/api/v1/streaming/"):
            return self._stream(h, path, query)
        if method == "GET" and path.startswith("/api/v1/timelines/tag/"):
            tag = urllib.parse.unquote(path.rsplit("/", 1)[1]).lower()
            with self.lock:
                items = list(self.tags.get(tag, []))
            return self._json(h, 200, page(items, query))
        if method == "GET" and path == "/api/v1/notifications":
            types = multi.get("types[]", [])
            with self.lock:
                items = [n for n in self.notifications if not types or n["type"] in types]
            return self._json(h, 200, page(items, query, 15))
        if method == "GET" and path == "/api/v1/accounts/lookup":
            with self.lock:
                found = self.accounts.get(query.get("acct", ""))
            return self._json(h, 200, found[0]) if found else self._json(h, 404, payload("error_not_found.json"))
        if method == "POST" and path == "/api/v1/statuses":
            return self._post_status(h, req)
        if path.startswith("/api/v1/statuses/") and method in ("PUT", "DELETE"):
            sid = path.rsplit("/", 1)[1]
            with self.lock:
                status = self.statuses.get(sid)
                if status and method == "DELETE":
                    del self.statuses[sid]
                elif status:
                    status["content"] = "<p>" + html.escape(req.json().get("status", "")) + "</p>"
                    status["edited_at"] = "2026-11-26T10:05:00.000Z"
            if not status:
                return self._json(h, 404, payload("error_not_found.json"))
            return self._json(h, 200, status)
        return self._json(h, 404, {"error": "Record not found"})

    def _post_status(self, h, req):
        try:
            form = req.json()
        except ValueError:
            return self._json(h, 422, {"error": "Validation failed: the body is not JSON"})
        text = form.get("status", "")
        if not text:
            return self._json(h, 422, {"error": "Validation failed: Text can't be blank"})
        if len(text) > 500:
            return self._json(h, 422, payload("error_validation.json"))
        key = req.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.by_key:
                return self._json(h, 200, self.statuses[self.by_key[key]])
            self.next_id += 1
            status = payload("status_created.json")
            status.update(id=str(self.next_id), content="<p>" + html.escape(text) + "</p>",
                          visibility=form.get("visibility", "public"), language=form.get("language"),
                          in_reply_to_id=form.get("in_reply_to_id"),
                          url=f"https://mastodon.example/@acme/{self.next_id}")
            self.statuses[status["id"]] = status
            if key:
                self.by_key[key] = status["id"]
        return self._json(h, 200, status)

    def _stream(self, h, path, query):
        if path == "/api/v1/streaming/user":
            name = "user"
        elif path == "/api/v1/streaming/hashtag" and query.get("tag"):
            name = "hashtag:" + query["tag"].lower()
        else:
            return self._json(h, 404, {"error": "Unknown stream type"})
        q = queue.Queue()
        with self.lock:
            self.streams.append((name, q))
        try:
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Cache-Control", "no-store")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()

            def chunk(text):
                data = text.encode()
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                h.wfile.flush()

            chunk(":)\n")
            last_beat = time.monotonic()
            while not self.closing.is_set():
                try:
                    item = q.get(timeout=0.2)
                except queue.Empty:
                    if time.monotonic() - last_beat > 1:
                        chunk(":thump\n")
                        last_beat = time.monotonic()
                    continue
                if item is None:
                    break
                chunk(item)
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except OSError:
            pass  # the client went away
        finally:
            with self.lock:
                self.streams = [s for s in self.streams if s[1] is not q]

    def _json(self, h, status, value):
        return self._send(h, status, json.dumps(value, ensure_ascii=False).encode())

    def _send(self, h, status, data, headers=None):
        try:
            h.send_response(status)
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass
