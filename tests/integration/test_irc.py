"""The irc connector against real IRC servers: the real daemon bridges #a and #b through two bot nicks.

ngIRCd and InspIRCd (Debian packages `ngircd` and `inspircd`, installed by scripts/setup.sh) are started by the test
on 127.0.0.1 with a free port and the configurations in plugins/irc/tests/servers/. Without them the tests fail and
say so.
"""
import http.client as http_client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SOURCE_DIR, Daemon, ServerProcess, free_port, wait_until

SERVERS = os.path.join(SOURCE_DIR, "plugins", "irc", "tests", "servers")


def find_binary(name):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}")
                                       if os.access(p, os.X_OK)), None)


class IrcServer(ServerProcess):
    """A real IRC server on 127.0.0.1:port, in a folder of its own; stop() and start() again on the same port."""

    def __init__(self, kind="ngircd", tls=False):
        self.kind = self.what = kind
        self.binary = find_binary(kind)
        if not self.binary:
            raise AssertionError(f"{kind} is not installed: the irc integration test needs a real IRC server. "
                                 f"Run scripts/setup.sh, or: apt-get install {kind}")
        self.dir = tempfile.mkdtemp(prefix=f"relais-{kind}-")
        self.port = free_port()
        with open(os.path.join(SERVERS, f"{kind}.conf.in")) as f:
            text = f.read().replace("@PORT@", str(self.port)).replace("@DIR@", self.dir)
        self.tls_port, self.cert = None, None
        if tls:  # a self-signed certificate for 127.0.0.1, and a TLS port beside the plain one
            self.tls_port = free_port()
            self.cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out",
                            self.cert], check=True, capture_output=True)
            text += f"[SSL]\n    CertFile = {self.cert}\n    KeyFile = {key}\n    Ports = {self.tls_port}\n"
        self.conf = os.path.join(self.dir, f"{kind}.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None
        self.starts = 0

    def start(self):
        if self.kind == "ngircd":
            cmd = [self.binary, "-n", "-f", self.conf]
        else:  # inspircd refuses root unless told; the tests may run as root in CI
            cmd = [self.binary, f"--config={self.conf}", "--nofork"] + (["--runasroot"] if os.geteuid() == 0 else [])
        return self.launch(cmd, self.port)


class Client:
    """A plain IRC client (standard library only) that sits in one channel and records what is said there.

    With reconnect=True it comes back by itself when the server goes away, polling every 20 ms."""

    def __init__(self, port, nick, channel, reconnect=False):
        self.port, self.nick, self.channel, self.reconnect = port, nick, channel, reconnect
        self.received = []  # (sender nick, text), in arrival order, across reconnections
        self.joined = threading.Event()
        self.joins = 0
        self.lock = threading.Lock()
        self.sock = None
        self.closing = False
        self.joined_before = {}  # nick → whether we were in the channel before that nick joined, per connection
        self._connect()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.joined.wait(10):
            raise AssertionError(f"{nick} could not join {channel}")

    def _connect(self):
        if self.sock:
            self.sock.close()
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.settimeout(None)
        sock.sendall(f"NICK {self.nick}\r\nUSER {self.nick} 0 * :test client\r\n".encode())
        self.sock = sock

    def send(self, line):
        with self.lock:
            self.sock.sendall((line + "\r\n").encode())

    def say(self, text):
        self.send(f"PRIVMSG {self.channel} :{text}")

    def say_many(self, texts):
        data = "".join(f"PRIVMSG {self.channel} :{t}\r\n" for t in texts).encode()
        with self.lock:
            self.sock.sendall(data)

    def texts_from(self, nick):
        with self.lock:
            return [t for n, t in self.received if n == nick]

    def _run(self):
        while not self.closing:
            buffer = b""
            try:
                while True:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    buffer += chunk
                    while b"\r\n" in buffer:
                        raw, buffer = buffer.split(b"\r\n", 1)
                        self._line(raw.decode("utf-8", "replace"))
            except OSError:
                pass
            self.joined.clear()
            if not self.reconnect or self.closing:
                return
            deadline = time.monotonic() + 30
            while not self.closing and time.monotonic() < deadline:
                try:
                    self._connect()
                    break
                except OSError:
                    time.sleep(0.02)

    def _line(self, line):
        prefix = ""
        if line.startswith(":"):
            prefix, line = line[1:].split(" ", 1)
        parts = line.split(" :", 1)
        words = parts[0].split()
        command, params = words[0], words[1:] + parts[1:]
        nick = prefix.split("!", 1)[0]
        if command == "PING":
            self.send(f"PONG :{params[-1] if params else ''}")
        elif command == "001":
            self.send(f"JOIN {self.channel}")
        elif command == "JOIN" and nick == self.nick:
            self.joins += 1
            self.joined.set()
        elif command == "JOIN":
            self.joined_before[nick] = self.joined.is_set()
        elif command == "PRIVMSG" and params and params[0] == self.channel:
            with self.lock:
                self.received.append((nick, params[1] if len(params) > 1 else ""))

    def close(self):
        self.closing = True
        try:
            self.sock.sendall(b"QUIT :bye\r\n")
            self.sock.close()
        except OSError:
            pass


CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 100ms, retry_max_backoff: 1s, max_attempts: 10000 }
plugins:
  - id: irca
    use: irc
    config: { server: 127.0.0.1, port: @PORT@, nick: bota, channels: @CHANNELS_A@, burst: 50, rate: 400,
              reconnect_min: 1s, reconnect_max: 2s, send_timeout: 1s }
  - id: ircb
    use: irc
    config: { server: 127.0.0.1, port: @PORT@, nick: botb, channels: ["#b"], burst: 50, rate: 400,
              reconnect_min: 1s, reconnect_max: 2s, send_timeout: 1s }
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
routes:
  - name: a-to-b
    from: irca
    do: [{ relay: { to: ircb, template: "<{author}> {text}" } }]
  - name: b-to-a
    from: ircb
    do: [{ relay: { to: irca, template: "<{author}> {text}" } }]
  - name: hook-to-b
    from: inbox
    do: [{ relay: { to: ircb } }]
"""


def post(port, payload):
    conn = http_client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/hook", json.dumps(payload).encode(), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class IrcBridge(unittest.TestCase):
    SERVER = "ngircd"

    def setUp(self):
        self.server = IrcServer(self.SERVER).start()
        self.in_port = free_port()
        self.clients = []
        self.daemon = self.make_daemon('["#a"]')

    def make_config(self, channels_a, isolate_a=False):
        config = (CONFIG.replace("@PORT@", str(self.server.port)).replace("@IN@", str(self.in_port))
                  .replace("@CHANNELS_A@", channels_a))
        if isolate_a:
            config = config.replace("  - id: irca\n    use: irc\n", "  - id: irca\n    use: irc\n    isolate: true\n")
        return config

    def make_daemon(self, channels_a, isolate_a=False):
        return Daemon(self.make_config(channels_a, isolate_a))

    def tearDown(self):
        for c in self.clients:
            c.close()
        result = getattr(self._outcome, "result", None)
        failed = bool(result and (result.errors or result.failures))
        if self.daemon.running():
            self.daemon.stop()
        if failed:
            print("\n--- relais log ---\n" + self.daemon.logs()[-6000:])
            print(f"--- {self.SERVER} log ---\n" + self.server.logs()[-3000:])
        self.server.close()

    def client(self, nick, channel, reconnect=False):
        c = Client(self.server.port, nick, channel, reconnect)
        self.clients.append(c)
        return c

    def start_bridge(self):
        alice = self.client("alice", "#a")
        bob = self.client("bob", "#b", reconnect=True)
        self.daemon.start()
        wait_until(lambda: "joined #a" in self.daemon.logs() and "joined #b" in self.daemon.logs(), 20,
                   "both bots in their channels")
        return alice, bob

    def test_nick_in_use_and_a_channel_that_refuses_the_bot(self):
        squatter = self.client("bota", "#elsewhere")  # the bot's nick is taken
        op = self.client("op", "#closed")
        op.send("MODE #closed +i")  # invite only: the bot will be refused (473)
        time.sleep(0.2)
        self.daemon = self.make_daemon('["#a", "#closed"]')
        alice, bob = self.start_bridge()
        logs = self.daemon.logs()
        self.assertIn("the nick bota is refused", logs)
        self.assertIn("trying bota_", logs)
        wait_until(lambda: "cannot join #closed" in self.daemon.logs(), 10, "the refusal in the log")
        self.assertRegex(self.daemon.logs(), r"cannot join #closed: .*\(473\)")
        alice.say("still relayed")
        wait_until(lambda: bob.texts_from("botb") == ["<alice> still relayed"], 20, "the bridge working anyway")
        self.assertTrue(self.daemon.running())
        squatter.close()

    def test_a_channel_that_refuses_the_bot_holds_back_only_its_own_deliveries(self):
        op = self.client("op", "#closed")
        op.send("MODE #closed +i")  # invite only: botb is refused there (473), its deliveries there retried
        time.sleep(0.2)
        config = (self.make_config('["#a"]')
                  .replace('nick: botb, channels: ["#b"]', 'nick: botb, channels: ["#b", "#closed"]')
                  + '  - name: a-to-closed\n    from: irca\n    do: [{ relay: { to: "ircb/#closed" } }]\n')
        self.daemon = Daemon(config)
        alice, bob = self.start_bridge()
        wait_until(lambda: "cannot join #closed" in self.daemon.logs(), 10, "the refusal in the log")
        for text in ["one", "two", "three"]:
            alice.say(text)
        # Each line goes to #b and to #closed on the same instance: #b gets every one, in order, while #closed's
        # first delivery waits for its retry (every 60 s).
        wait_until(lambda: len(bob.texts_from("botb")) >= 3, 20, "#b not held back by #closed")
        self.assertEqual(bob.texts_from("botb"), ["<alice> one", "<alice> two", "<alice> three"])
        self.assertRegex(self.daemon.logs(), r"to #closed failed .*; retrying in \d+ ms; the other channels go on")

    def test_burst_of_1000_arrives_in_order_and_nothing_comes_back(self):
        alice, bob = self.start_bridge()
        n = 1000
        started = time.monotonic()
        alice.say_many([f"burst {i}" for i in range(n)])
        wait_until(lambda: len(bob.texts_from("botb")) >= n, 120, f"{n} messages in #b")
        elapsed = time.monotonic() - started
        got = bob.texts_from("botb")
        self.assertEqual(got, [f"<alice> burst {i}" for i in range(n)], "all of them, once each, in order")
        # Bob's channel relays back to #a, but the bot's own lines in #b are not seen as new messages: no loop.
        time.sleep(1.0)
        self.assertEqual(alice.texts_from("bota"), [], "nothing relayed into #b came back to #a")
        self.assertEqual(len(bob.texts_from("botb")), n)

        # The other way: a message in #b reaches #a once and does not come back to #b.
        bob.say("hello from b")
        wait_until(lambda: alice.texts_from("bota") == ["<bob> hello from b"], 20, "the reply in #a")
        time.sleep(1.0)
        self.assertEqual(alice.texts_from("bota"), ["<bob> hello from b"])
        self.assertEqual(len(bob.texts_from("botb")), n, "no echo of bob's message in #b")
        print(f"\n{n} messages #a → #b in {elapsed:.2f}s, in order, none lost, none looped")

    def test_isolated_irc_hands_its_lines_over_in_batches_in_order(self):
        # irca in a child process (isolate: true): what it reads crosses the protocol as emit_batch requests.
        self.daemon = self.make_daemon('["#a"]', isolate_a=True)
        alice, bob = self.start_bridge()
        n = 1000
        alice.say_many([f"isolated {i}" for i in range(n)])
        wait_until(lambda: len(bob.texts_from("botb")) >= n, 120, f"{n} messages in #b")
        self.assertEqual(bob.texts_from("botb"), [f"<alice> isolated {i}" for i in range(n)])
        commits = self.daemon.metric("relais_outbox_commits_total")
        self.assertLess(commits, n / 2, "line by line, each line would be a commit of its own")
        print(f"\n{n} lines from an isolated irc source: {commits:.0f} commits")

    def test_long_and_multiline_text_is_split_on_utf8_boundaries(self):
        alice, bob = self.start_bridge()
        text = "été " * 300  # 2,100 bytes of two-byte characters
        self.assertEqual(post(self.in_port, {"text": text + "\nsecond line", "author": "x"}), 202)
        wait_until(lambda: "".join(bob.texts_from("botb")).endswith("second line"), 20, "the long text in #b")
        pieces = bob.texts_from("botb")
        self.assertGreater(len(pieces), 4)
        # Pieces are cut after a space (trailing spaces do not survive the trip): every word arrives whole, in order.
        self.assertEqual([w for p in pieces[:-1] for w in p.split()], text.split())
        self.assertTrue(all(len(p.encode()) <= 512 for p in pieces))
        self.assertEqual(pieces[-1], "second line")
        for piece in pieces:
            self.assertNotIn("\ufffd", piece, "a piece was cut inside a code point")

    def test_server_restart_mid_stream_loses_nothing(self):
        alice, bob = self.start_bridge()
        total, kill_at = 300, 100
        accepted = []
        for i in range(total):
            if i == kill_at:
                self.server.stop()  # every client and both bots lose the server, mid-stream
                wait_until(lambda: "disconnected from" in self.daemon.logs(), 10, "the bots to notice")
            if i == kill_at + 100:
                self.server.start()  # back after 100 messages were accepted while it was down
            status = post(self.in_port, {"text": f"stream {i}", "author": "feed"})
            self.assertEqual(status, 202)
            accepted.append(f"stream {i}")
            # While the server is down (about 2 s, longer than send_timeout) deliveries fail and are retried.
            time.sleep(0.02 if kill_at <= i < kill_at + 100 else 0.005)
        wait_until(lambda: len(set(bob.texts_from("botb")) & set(accepted)) == total, 90,
                   "every accepted message in #b after the restart")
        got = bob.texts_from("botb")
        first_seen = []
        for t in got:
            if t not in first_seen:
                first_seen.append(t)
        self.assertEqual(first_seen, accepted, "every message, in order")
        duplicates = len(got) - len(first_seen)
        self.assertGreaterEqual(self.daemon.logs().count("registered on"), 4, "both bots registered twice")
        self.assertFalse(bob.joined_before.get("botb") is False,
                         "bob rejoined #b after botb: the test could not see everything botb said")

        # The source side came back too: bota rejoined #a and relays again (alice left with the old server).
        alice2 = self.client("alice2", "#a")
        alice2.say("after the restart")
        wait_until(lambda: "<alice2> after the restart" in bob.texts_from("botb"), 20, "a message from #a again")
        print(f"\n{total} messages across an IRC server restart: all delivered in order, {duplicates} repeated")


class IrcTls(unittest.TestCase):
    """The bot that posts in #b talks to ngIRCd over TLS, checking the server's certificate against tls_ca."""

    def test_relay_over_tls_and_a_certificate_it_does_not_trust(self):
        server = IrcServer("ngircd", tls=True).start()
        clients = []
        daemon = Daemon(f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
plugins:
  - id: irca
    use: irc
    config: {{ server: 127.0.0.1, port: {server.port}, nick: bota, channels: ["#a"] }}
  - id: ircb
    use: irc
    config: {{ server: 127.0.0.1, port: {server.tls_port}, tls: true, tls_ca: "{server.cert}", nick: botb,
              channels: ["#b"] }}
  - id: untrusting
    use: irc
    config: {{ server: 127.0.0.1, port: {server.tls_port}, tls: true, nick: botc, channels: ["#c"] }}
routes:
  - name: a-to-b
    from: irca
    do: [{{ relay: {{ to: ircb, template: "<{{author}}> {{text}}" }} }}]
""")
        try:
            alice = Client(server.port, "alice", "#a")
            bob = Client(server.port, "bob", "#b")
            clients += [alice, bob]
            daemon.start()
            wait_until(lambda: "joined #a" in daemon.logs() and "joined #b" in daemon.logs(), 20, "both bots")
            self.assertIn(f"connected to 127.0.0.1:{server.tls_port} (TLS)", daemon.logs())
            alice.say("over tls")
            wait_until(lambda: bob.texts_from("botb") == ["<alice> over tls"], 20, "the message through TLS")
            # The system's CAs do not know the self-signed certificate: a clear error, retried, never joined.
            wait_until(lambda: "TLS handshake failed" in daemon.logs(), 20, "the refused certificate in the log")
            self.assertNotIn("joined #c", daemon.logs())
        except AssertionError:
            print("\n--- relais log ---\n" + daemon.logs()[-4000:])
            raise
        finally:
            for c in clients:
                c.close()
            daemon.stop()
            server.close()


class IrcBridgeIrcv3(IrcBridge):
    """The same bridge on InspIRCd, which offers server-time, message-tags, msgid, echo-message and batch: the bots'
    own lines come back to them (echo-message) and must not be relayed again."""

    SERVER = "inspircd"

    def test_burst_of_1000_arrives_in_order_and_nothing_comes_back(self):
        super().test_burst_of_1000_arrives_in_order_and_nothing_comes_back()
        logs = self.daemon.logs()
        self.assertNotIn("refused the capabilities", logs)

    def test_msgid_and_server_time_reach_the_message(self):
        self.daemon = Daemon(CONFIG.replace("@PORT@", str(self.server.port)).replace("@IN@", str(self.in_port))
                             .replace("@CHANNELS_A@", '["#a"]')
                             .replace('template: "<{author}> {text}" } }]\n  - name: b-to-a',
                                      'template: "{native_id}|{time}|{text}" } }]\n  - name: b-to-a'))
        alice, bob = self.start_bridge()
        before = time.time()
        alice.say("tagged")
        wait_until(lambda: any(t.endswith("|tagged") for t in bob.texts_from("botb")), 20, "the tagged message")
        native_id, stamp, _ = bob.texts_from("botb")[0].split("|")
        self.assertTrue(native_id, "the msgid tag became the native id")
        self.assertRegex(stamp, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")

    # InspIRCd keeps no state across a restart that matters here, and its invite-only refusal is the same numeric:
    # the restart and refusal cases run on ngIRCd only.
    test_server_restart_mid_stream_loses_nothing = None
    test_nick_in_use_and_a_channel_that_refuses_the_bot = None
    test_a_channel_that_refuses_the_bot_holds_back_only_its_own_deliveries = None
    test_long_and_multiline_text_is_split_on_utf8_boundaries = None


if __name__ == "__main__":
    unittest.main()
