"""Runs the real relais daemon against real local peers, for the integration tests.

Everything listens on 127.0.0.1 with ports the kernel picks; every wait is bounded.
"""
import atexit
import base64
import fcntl
import hashlib
import http.server as http_server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

RELAIS = os.environ.get("RELAIS_BIN", "relais")
PLUGIN_DIR = os.environ.get("RELAIS_PLUGIN_DIR", "")
FIXTURE_DIR = os.environ.get("RELAIS_FIXTURE_DIR", "")
SOURCE_DIR = os.environ.get("RELAIS_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


_ports_handed_out = {}  # port -> the open file whose lock claims it, for as long as this process lives
_PORT_CLAIMS = os.path.join(tempfile.gettempdir(), "relais-test-ports")
atexit.register(lambda: [claim.close() for claim in _ports_handed_out.values()])


def free_port():
    # The kernel may offer a port again once its probe socket is closed, so a test asking for two ports (or one for
    # the daemon's admin API after its own) could get the same one twice, and so could two test processes running at
    # once (ctest -j): a port is claimed by a lock on a file named after it, held until this process ends, and never
    # handed out twice.
    os.makedirs(_PORT_CLAIMS, exist_ok=True)
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _ports_handed_out:
            continue
        claim = open(os.path.join(_PORT_CLAIMS, str(port)), "a")
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another test process has it
            claim.close()
            continue
        _ports_handed_out[port] = claim
        return port


def wait_until(predicate, timeout=10.0, what="condition"):
    """`what` names the condition in the failure; a callable gives it then, with what was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")


def http(method, url, body=None, headers=None, timeout=5.0):
    """One request; returns (status, headers, body bytes). Never raises on HTTP errors."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "Content-Type" not in (headers or {}):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def relais(*args, timeout=60, cwd=None):
    """Runs a relais subcommand to completion; returns CompletedProcess with text output."""
    cmd = [RELAIS, *args]
    if PLUGIN_DIR and args and args[0] in ("run", "check", "plugins", "explain", "archive"):
        pos = 2 if args[0] == "archive" else 1
        cmd = [RELAIS, *args[:pos], "--plugin-dir", PLUGIN_DIR, *args[pos:]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)


# Daemons not yet cleaned up. A daemon used as a context manager removes its folder when its block ends well and
# keeps it (saying where) when it fails; the others are stopped and removed when the test process ends, unless
# RELAIS_KEEP_TEST_DIRS is set.
_daemons = []
_scratch_dirs = []


@atexit.register
def _clean_up():
    for d in _daemons:
        if d.running():
            d.proc.kill()
            d.proc.wait()
    if not os.environ.get("RELAIS_KEEP_TEST_DIRS"):
        for folder in [d.dir for d in _daemons] + _scratch_dirs:
            shutil.rmtree(folder, ignore_errors=True)


def scratch_dir(what):
    """A fresh folder for a test's files, removed when the test process ends."""
    folder = tempfile.mkdtemp(prefix="relais-it-%s-" % what)
    _scratch_dirs.append(folder)
    return folder


class Daemon:
    """A relais daemon on a config written to a fresh folder. Use as a context manager."""

    def __init__(self, config_text, extra_plugin_dirs=(), cwd=None):
        self.dir = tempfile.mkdtemp(prefix="relais-it-")
        _daemons.append(self)
        self.admin_port = free_port()
        self.config_path = os.path.join(self.dir, "relais.yaml")
        text = config_text.replace("@DATA@", os.path.join(self.dir, "data")).replace("@ADMIN@", str(self.admin_port))
        with open(self.config_path, "w") as f:
            f.write(text)
        self.log_path = os.path.join(self.dir, "relais.log")
        self.extra_plugin_dirs = list(extra_plugin_dirs)
        self.cwd = cwd or self.dir
        self.proc = None

    def start(self, expect_healthy=True):
        cmd = [RELAIS, "run", "-c", self.config_path]
        for d in ([PLUGIN_DIR] if PLUGIN_DIR else []) + self.extra_plugin_dirs:
            cmd += ["--plugin-dir", d]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.cwd)
        if expect_healthy:
            wait_until(self._healthy, 20, "the daemon's /healthz")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"relais exited with {self.proc.returncode}:\n{self.logs()}")
        try:
            return http("GET", self.admin("/healthz"), timeout=1)[0] == 200
        except OSError:
            return False

    def admin(self, path):
        return f"http://127.0.0.1:{self.admin_port}{path}"

    def metrics(self):
        return http("GET", self.admin("/metrics"))[2].decode()

    def metric(self, name, **labels):
        """The value of one series in /metrics, 0 when absent."""
        want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
        for line in self.metrics().splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("relais did not stop within %ss of SIGTERM" % timeout)
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self in _daemons:
            _daemons.remove(self)
        if exc[0]:
            print("relais folder kept for a look: %s" % self.dir, file=sys.stderr)
        elif not os.environ.get("RELAIS_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)


class ServerProcess:
    """A real server a test runs in a folder of its own (self.dir): launch() starts it and waits for its port,
    stop() and launch() again keep the folder, close() removes it. Subclasses set dir, and proc = None, starts = 0."""

    what = "server"

    def launch(self, cmd, port, timeout=10):
        self.starts += 1
        self.log = open(os.path.join(self.dir, f"{self.what}-{self.starts}.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.what} exited with {self.proc.returncode}: {self.logs()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_until(listening, timeout, f"{self.what} to listen")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def logs(self):
        out = ""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name)) as f:
                    out += f.read()
        return out

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Sink:
    """A real HTTP server that records what is POSTed to it.

    By default it answers 200 with {"id": "<n>"} and, like an API that honours Idempotency-Key, treats a repeated
    key as the same post (answered with the same id, not recorded twice). `answers` queues (status, headers) for the
    next requests; `attempts` logs every request with its arrival time.
    """

    def __init__(self, port=0, start=True):
        self.received = []  # (path, headers, body bytes) of accepted posts, in arrival order
        self.attempts = []  # (monotonic time, status answered)
        self.duplicates = 0  # posts whose Idempotency-Key was seen before
        self.by_key = {}
        self.lock = threading.Lock()
        self.answers = []
        self.port = port
        self.server = None
        self.holder = None
        if start:
            self.start()
        else:
            # Nothing listens yet (connection refused), but the port stays ours: other tests running in parallel
            # pick free ports too, and one of their servers must not answer in its place meanwhile.
            self.holder = socket.socket()  # without SO_REUSEADDR: no other socket may bind it
            self.holder.bind(("127.0.0.1", port))
            self.port = self.holder.getsockname()[1]

    def start(self):
        sink = self
        if self.holder:
            self.holder.close()
            self.holder = None

        class Handler(http_server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # It writes the head and the body of an answer separately: without TCP_NODELAY the body would wait
            # for the client's delayed ACK (40 ms) on a kept-alive connection.
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                with sink.lock:
                    status, headers = sink.answers.pop(0) if sink.answers else (200, {})
                    sink.attempts.append((time.monotonic(), status))
                    if status < 300:
                        if key and key in sink.by_key:
                            sink.duplicates += 1
                            native = sink.by_key[key]
                        else:
                            native = f"sink-{len(sink.received) + 1}"
                            sink.received.append((self.path, dict(self.headers), body))
                            if key:
                                sink.by_key[key] = native
                payload = json.dumps({"id": native} if status < 300 else {"error": "refused"}).encode()
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the daemon was killed while waiting for the answer: it will send again

            def log_message(self, *args):
                pass

        http_server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/in"

    def bodies(self):
        with self.lock:
            return [json.loads(b) for _, _, b in self.received]

    def close(self):
        if self.holder:
            self.holder.close()
            self.holder = None
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class WebSocket:
    """A minimal RFC 6455 client (text frames only), enough to read what a daemon pushes."""

    def __init__(self, host, port, path, headers=None, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("the server closed the WebSocket handshake")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n")[0]
        if b" 101 " not in status:
            raise AssertionError(f"WebSocket upgrade refused: {status!r}")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if accept not in head:
            raise AssertionError("bad Sec-WebSocket-Accept")

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("WebSocket closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self):
        """The next text message (control frames are skipped)."""
        while True:
            b0, b1 = self._read(2)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(length)
            if mask:
                data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise EOFError("WebSocket closed by the server")
            if opcode in (0x1, 0x0):
                return data.decode()

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        self.sock.sendall(header + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(data)))

    def close(self):
        self.sock.close()
