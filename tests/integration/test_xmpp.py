"""The xmpp connector against a real Prosody: the real daemon bridges XMPP rooms with each other and with IRC.

Prosody 0.12 (Debian package `prosody`) is started by the test on 127.0.0.1 with free ports, a temporary data folder
and the configuration in plugins/xmpp/tests/servers/prosody/; its users are registered with prosodyctl. The IRC
side is a real ngIRCd, as in test_irc.py; a small scripted server sends what Prosody never would (broken XML).
Without them the tests fail and say so.
"""
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from harness import SOURCE_DIR, Daemon, ServerProcess, free_port, relais, wait_until
from test_irc import Client as IrcClient, IrcServer, post

SERVERS = os.path.join(SOURCE_DIR, "plugins", "xmpp", "tests", "servers", "prosody")
DOMAIN, MUC = "localhost", "conference.localhost"
USERS = ("alice", "bob", "carol", "bridge-a", "bridge-b")
STREAM = "{http://etherx.jabber.org/streams}"
CLIENT = "{jabber:client}"
MUC_USER = "{http://jabber.org/protocol/muc#user}"


def room(name):
    return f"{name}@{MUC}"


class Prosody(ServerProcess):

    what = "prosody"
    """A real Prosody on 127.0.0.1 in a folder of its own; stop() and start() again keep its ports and data."""

    def __init__(self, tls=False):
        self.binary = shutil.which("prosody") or "/usr/bin/prosody"
        if not os.access(self.binary, os.X_OK):
            raise AssertionError("prosody is not installed: the xmpp integration test needs a real XMPP server. "
                                 "Run scripts/setup.sh, or: apt-get install prosody")
        self.dir = tempfile.mkdtemp(prefix="relais-prosody-")
        self.port, self.http_port = free_port(), free_port()
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "certs"))
        self.tls_port, self.cert = None, None
        if tls:  # a self-signed certificate for localhost: STARTTLS on the c2s port, and a direct TLS port
            self.tls_port = free_port()
            self.cert = os.path.join(self.dir, "certs", "localhost.crt")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                            "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,DNS:conference.localhost",
                            "-keyout", os.path.join(self.dir, "certs", "localhost.key"), "-out", self.cert],
                           check=True, capture_output=True)
        with open(os.path.join(SERVERS, "prosody.cfg.lua.in")) as f:
            text = (f.read().replace("@DIR@", self.dir).replace("@C2S_PORT@", str(self.port))
                    .replace("@HTTP_PORT@", str(self.http_port))
                    .replace("@DIRECT_TLS_PORTS@", str(self.tls_port) if tls else ""))
        self.conf = os.path.join(self.dir, "prosody.cfg.lua")
        with open(self.conf, "w") as f:
            f.write(text)
        registering = [subprocess.Popen(["prosodyctl", "--config", self.conf, "register", u, DOMAIN, "secret"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for u in USERS]
        for p in registering:
            out = p.communicate(timeout=30)[0]
            if p.returncode != 0:
                raise AssertionError(f"prosodyctl register failed: {out.decode(errors='replace')}")
        self.proc, self.starts = None, 0

    def start(self):
        return self.launch([self.binary, "--config", self.conf, "-F"], self.port, timeout=15)


class XmppClient:
    """A minimal XMPP client (standard library only): SASL PLAIN on plaintext, one room joined, what is said there
    recorded. With reconnect=True it comes back by itself when the server goes away, polling every 20 ms."""

    def __init__(self, port, user, room_jid, nick=None, reconnect=False):
        self.port, self.user, self.room, self.nick = port, user, room_jid, nick or user
        self.reconnect = reconnect
        self.received = []  # (nick, body), in arrival order, across reconnections
        self.chats = []  # direct messages: (sender's bare JID, body)
        self.stanzas = []  # every room message: dict(nick, body, id, stanza_id, reply, replace)
        self.errors = []
        self.lock = threading.Lock()
        self.joined = threading.Event()
        self.closing = False
        self.sock = None
        self.joined_before = {}  # nick → whether we were in the room before that nick joined, per connection
        self._connect()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.joined.wait(10):
            raise AssertionError(f"{user} could not join {room_jid}: {self.errors}")

    # --- the stream -------------------------------------------------------------------------------------------
    def _open(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.sock.sendall(f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' xmlns='jabber:client' "
                          f"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>".encode())

    def _stanzas(self):
        """Reads until at least one top-level element is complete; yields them."""
        while True:
            out = []
            for event, elem in self.parser.read_events():
                if event == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        out.append(elem)
            if out:
                return out
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.parser.feed(chunk)

    def _expect(self, tag):
        return self._expect_any(tag)

    def _expect_any(self, *tags):
        while True:
            for elem in self._stanzas():
                if any(elem.tag.endswith("}" + t) for t in tags):
                    return elem

    def _connect(self):
        if self.sock:
            self.sock.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self._open()
        self._expect("features")
        token = base64.b64encode(f"\0{self.user}\0secret".encode()).decode()
        self.sock.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"
                          .encode())
        answer = self._expect_any("success", "failure")
        if answer.tag.endswith("failure"):
            raise AssertionError(f"{self.user} could not log in: {ET.tostring(answer).decode()}")
        self._open()
        self._expect("features")
        # A resource of its own: two clients of one account must not log each other out.
        self.sock.sendall(f"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                          f"<resource>test-{id(self)}</resource></bind></iq>".encode())
        self._expect("iq")
        self.sock.settimeout(None)
        self.send("<presence/>")
        self.join_room()

    def join_room(self, nick=None):
        self.nick = nick or self.nick
        self.send(f"<presence to={quoteattr(self.room + '/' + self.nick)}><x xmlns='http://jabber.org/protocol/muc'>"
                  f"<history maxstanzas='0'/></x></presence>")

    def send(self, raw):
        with self.lock:
            self.sock.sendall(raw.encode())

    def message(self, text, extra=""):
        return f"<message to={quoteattr(self.room)} type='groupchat'><body>{escape(text)}</body>{extra}</message>"

    def say(self, text, extra=""):
        self.send(self.message(text, extra))

    def say_many(self, texts):
        self.send("".join(self.message(t) for t in texts))

    def texts_from(self, nick):
        with self.lock:
            return [t for n, t in self.received if n == nick]

    def _run(self):
        while not self.closing:
            try:
                while True:
                    for elem in self._stanzas():
                        self._stanza(elem)
            except (OSError, ConnectionError, ET.ParseError):
                pass
            self.joined.clear()
            if not self.reconnect or self.closing:
                return
            deadline = time.monotonic() + 30
            while not self.closing and time.monotonic() < deadline:
                try:
                    self._connect()
                    break
                except (OSError, ConnectionError, AssertionError, ET.ParseError):
                    time.sleep(0.02)

    def _stanza(self, elem):
        frm = elem.get("from", "")
        bare, _, resource = frm.partition("/")
        if elem.tag == CLIENT + "presence" and bare == self.room:
            if elem.get("type") == "error":
                self.errors.append(ET.tostring(elem).decode())
            codes = [s.get("code") for s in elem.iter(MUC_USER + "status")]
            if "110" in codes and elem.get("type") != "unavailable":
                self.joined.set()
            elif elem.get("type") != "unavailable":
                self.joined_before.setdefault(resource, self.joined.is_set())
        elif elem.tag == CLIENT + "message" and elem.get("type") == "chat":
            body = elem.find(CLIENT + "body")
            if body is not None:
                with self.lock:
                    self.chats.append((bare, body.text or ""))
        elif elem.tag == CLIENT + "message" and elem.get("type") == "groupchat" and bare == self.room:
            body = elem.find(CLIENT + "body")
            if body is not None and resource:
                sid = elem.find("{urn:xmpp:sid:0}stanza-id")
                reply = elem.find("{urn:xmpp:reply:0}reply")
                replace = elem.find("{urn:xmpp:message-correct:0}replace")
                with self.lock:
                    self.received.append((resource, body.text or ""))
                    self.stanzas.append({"nick": resource, "body": body.text or "", "id": elem.get("id"),
                                         "stanza_id": sid.get("id") if sid is not None else None,
                                         "reply": reply.get("id") if reply is not None else None,
                                         "replace": replace.get("id") if replace is not None else None})

    def find(self, nick, body):
        with self.lock:
            return next((m for m in self.stanzas if m["nick"] == nick and m["body"] == body), None)

    def close(self):
        self.closing = True
        try:
            self.sock.sendall(b"</stream:stream>")
            self.sock.close()
        except OSError:
            pass


BRIDGE = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 100ms, retry_max_backoff: 1s, max_attempts: 10000 }
plugins:
  - id: xa
    use: xmpp
    config: { jid: bridge-a@localhost, password: secret, server: 127.0.0.1, port: @PORT@, tls: plaintext,
              nick: bridge, rooms: @ROOMS_A@, max_length: @MAX@, reconnect_min: 500ms, reconnect_max: 1s,
              send_timeout: 1s, ping_interval: @PING@ }
  - id: xb
    use: xmpp
    config: { jid: bridge-b@localhost, password: secret, server: 127.0.0.1, port: @PORT@, tls: plaintext,
              nick: bridge, rooms: ["b@conference.localhost"], max_length: @MAX_B@, reconnect_min: 500ms,
              reconnect_max: 1s,
              send_timeout: 1s, ping_interval: @PING@ }
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
routes:
  - name: a-to-b
    from: xa
    do: [{ relay: { to: "xb/b@conference.localhost", template: "<{author}> {text}" } }]
  - name: b-to-a
    from: xb
    do: [{ relay: { to: "xa/a@conference.localhost", template: "<{author}> {text}" } }]
  - name: hook-to-b
    from: inbox
    do: [{ relay: { to: "xb/b@conference.localhost" } }]
"""


class XmppBridge(unittest.TestCase):
    def setUp(self):
        self.server = Prosody().start()
        self.clients = []
        self.daemon = None
        self.in_port = free_port()
        self.irc = None

    def tearDown(self):
        for c in self.clients:
            c.close()
        result = getattr(self._outcome, "result", None)
        failed = bool(result and (result.errors or result.failures))
        if self.daemon and self.daemon.running():
            self.daemon.stop()
        if failed and self.daemon:
            print("\n--- relais log ---\n" + self.daemon.logs()[-8000:])
            print("--- prosody log ---\n" + self.server.logs()[-3000:])
        self.server.close()
        if self.irc:
            self.irc.close()

    def client(self, user, room_name, nick=None, reconnect=False):
        c = XmppClient(self.server.port, user, room(room_name), nick, reconnect)
        self.clients.append(c)
        return c

    def bridge(self, rooms_a='["a@conference.localhost"]', max_a=10000, max_b=10000, ping="60s"):
        self.daemon = Daemon(BRIDGE.replace("@PORT@", str(self.server.port)).replace("@IN@", str(self.in_port))
                             .replace("@ROOMS_A@", rooms_a).replace("@MAX@", str(max_a))
                             .replace("@MAX_B@", str(max_b)).replace("@PING@", ping))
        self.daemon.start()
        wait_until(lambda: self.daemon.logs().count("xmpp: joined ") >= 2, 20, "both bridges in their rooms")

    def test_burst_of_1000_between_rooms_in_order_without_history_or_loop(self):
        alice = self.client("alice", "a")
        bob = self.client("bob", "b")
        alice.say("said before the bridge joined")  # history the room replays on join: never relayed
        time.sleep(0.2)
        self.bridge()
        n = 1000
        started = time.monotonic()
        alice.say_many([f"burst {i}" for i in range(n)])
        wait_until(lambda: len(bob.texts_from("bridge")) >= n, 90, f"{n} messages in room b")
        elapsed = time.monotonic() - started
        self.assertEqual(bob.texts_from("bridge"), [f"<alice> burst {i}" for i in range(n)],
                         "all of them, once each, in order")
        # Room b relays to room a, but the bridge's own posts in b are not new messages: no loop.
        bob.say("hello from b")
        wait_until(lambda: alice.texts_from("bridge") == ["<bob> hello from b"], 20, "the message in room a")
        time.sleep(1.0)
        self.assertEqual(alice.texts_from("bridge"), ["<bob> hello from b"], "nothing relayed to b came back to a")
        self.assertEqual(len(bob.texts_from("bridge")), n, "bob's message did not come back to b")
        print(f"\n{n} messages room a → room b in {elapsed:.2f}s, in order, none lost, none looped")

    def test_replies_and_corrections_cross_the_bridge(self):
        alice = self.client("alice", "a")
        bob = self.client("bob", "b")
        self.bridge()
        alice.send(alice.message("the meeting is at 10").replace("type='groupchat'", "type='groupchat' id='m-1'"))
        original_b = wait_until(lambda: bob.find("bridge", "<alice> the meeting is at 10"), 10, "the original in b")
        original_a = wait_until(lambda: alice.find("alice", "the meeting is at 10"), 10, "alice's own copy")
        self.assertTrue(original_a["stanza_id"] and original_b["stanza_id"], "the rooms give stanza-ids")
        # XEP-0308: alice corrects her message (by its id); the bridge corrects its own copy in b (by the id it sent).
        alice.say("the meeting is at 11", "<replace xmlns='urn:xmpp:message-correct:0' id='m-1'/>")
        edit = wait_until(lambda: bob.find("bridge", "<alice> the meeting is at 11"), 10, "the correction in b")
        self.assertEqual(edit["replace"], original_b["id"])
        # XEP-0461: a reply names the room's stanza-id; in b it names the stanza-id of the bridge's copy.
        alice.say("see you there", f"<reply xmlns='urn:xmpp:reply:0' id='{original_a['stanza_id']}'/>")
        reply = wait_until(lambda: bob.find("bridge", "<alice> see you there"), 10, "the reply in b")
        self.assertEqual(reply["reply"], original_b["stanza_id"])

    def test_a_server_that_stops_answering_is_left_and_reconnected(self):
        alice = self.client("alice", "a", reconnect=True)
        bob = self.client("bob", "b", reconnect=True)
        self.bridge(ping="1s")
        self.server.proc.send_signal(signal.SIGSTOP)  # the socket stays open, nothing answers
        try:
            wait_until(lambda: self.daemon.logs().count("did not answer a ping") >= 2, 10, "the pings to go unanswered")
        finally:
            self.server.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: self.daemon.logs().count("xmpp: joined ") >= 4, 20, "both bridges back in their rooms")
        wait_until(lambda: alice.joined.is_set(), 10, "alice in room a")
        alice.say("after the freeze")
        wait_until(lambda: "<alice> after the freeze" in bob.texts_from("bridge"), 10, "the bridge working again")

    def test_direct_chats_both_ways(self):
        alice = self.client("alice", "a")
        carol = self.client("carol", "a", nick="carol")
        self.daemon = Daemon(f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
plugins:
  - id: xa
    use: xmpp
    config: {{ jid: bridge-a@localhost, password: secret, server: 127.0.0.1, port: {self.server.port},
              tls: plaintext, nick: bridge, rooms: ["a@conference.localhost"], direct: ["carol@localhost"] }}
  - id: inbox
    use: webhook
    config: {{ listen: 127.0.0.1, port: {self.in_port}, path: /hook }}
routes:
  - name: carol-to-room
    from: xa/carol@localhost
    do: [{{ relay: {{ to: "xa/a@conference.localhost", template: "(direct) <{{author}}> {{text}}" }} }}]
  - name: hook-to-carol
    from: inbox
    do: [{{ relay: {{ to: "xa/carol@localhost" }} }}]
""").start()
        wait_until(lambda: "xmpp: joined a@conference.localhost" in self.daemon.logs(), 20, "the bridge in room a")
        carol.send("<message to='bridge-a@localhost' type='chat'><body>psst</body></message>")
        alice.send("<message to='bridge-a@localhost' type='chat'><body>not relayed</body></message>")
        wait_until(lambda: alice.texts_from("bridge") == ["(direct) <carol> psst"], 10, "carol's message in room a")
        self.assertEqual(post(self.in_port, {"text": "for carol only", "author": "feed"}), 202)
        wait_until(lambda: ("bridge-a@localhost", "for carol only") in carol.chats, 10, "the direct message")
        time.sleep(0.5)
        self.assertEqual(alice.texts_from("bridge"), ["(direct) <carol> psst"], "alice is not in `direct`")

    def test_server_restart_mid_stream_loses_nothing(self):
        alice = self.client("alice", "a")
        bob = self.client("bob", "b", reconnect=True)
        self.bridge()
        total, kill_at = 300, 100
        accepted = []
        for i in range(total):
            if i == kill_at:
                self.server.stop()  # every client and both bridges lose the server, mid-stream
                wait_until(lambda: self.daemon.logs().count("xmpp: disconnected from") >= 2, 10,
                           "the bridges to notice")
            if i == kill_at + 100:
                self.server.start()  # back after 100 messages were accepted while it was down
            self.assertEqual(post(self.in_port, {"text": f"stream {i}", "author": "feed"}), 202)
            accepted.append(f"stream {i}")
            time.sleep(0.01 if kill_at <= i < kill_at + 100 else 0.003)
        wait_until(lambda: len(set(bob.texts_from("bridge")) & set(accepted)) == total, 60,
                   "every accepted message in room b after the restart")
        got = bob.texts_from("bridge")
        first_seen = []
        for t in got:
            if t not in first_seen:
                first_seen.append(t)
        self.assertEqual(first_seen, accepted, "every message, in order")
        self.assertGreaterEqual(self.daemon.logs().count("xmpp: joined b@conference.localhost"), 2, "rejoined b")
        self.assertFalse(bob.joined_before.get("bridge") is False,
                         "bob rejoined b after the bridge: the test could not see everything it said")
        # The source side came back too: bridge-a rejoined room a and relays again (alice left with the server).
        alice2 = self.client("alice", "a", nick="alice2")
        alice2.say("after the restart")
        wait_until(lambda: "<alice2> after the restart" in bob.texts_from("bridge"), 20, "a message from a again")
        print(f"\n{total} messages across a Prosody restart: all delivered in order, "
              f"{len(got) - len(first_seen)} repeated")

    def test_bad_input_is_logged_and_the_bridge_carries_on(self):
        alice = self.client("alice", "a")
        bob = self.client("bob", "b")
        squatter = self.client("carol", "a", nick="bridge")  # the bridge's nick is taken in room a
        owner = self.client("alice", "members", nick="owner")  # a members-only room: it refuses the bridge
        owner.send("<iq to='members@conference.localhost' type='set' id='cfg'>"
                   "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
                   "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
                   "<field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>")
        time.sleep(0.3)
        # closed@ was never created and only admins create rooms: that room refuses the bridge too.
        self.bridge(rooms_a='["a@conference.localhost", "closed@conference.localhost", '
                            '"members@conference.localhost"]', max_a=1000, max_b=3000)
        logs = self.daemon.logs()
        self.assertIn("xmpp: the nick bridge is in use in a@conference.localhost; trying bridge_", logs)
        wait_until(lambda: "xmpp: cannot join closed@conference.localhost" in self.daemon.logs(), 10,
                   "the refusal in the log")
        self.assertRegex(self.daemon.logs(), r"cannot join closed@conference\.localhost as bridge: not-allowed")
        wait_until(lambda: "xmpp: cannot join members@conference.localhost as bridge: registration-required"
                   in self.daemon.logs(), 10, "the members-only refusal in the log")

        alice.say("a reply without an id", "<reply xmlns='urn:xmpp:reply:0'/>")
        wait_until(lambda: "a XEP-0461 <reply/> without an id" in self.daemon.logs(), 10, "the malformed stanza")
        alice.say("x" * 5000)
        wait_until(lambda: "is 5000 bytes, over max_length 1000: cut to it" in self.daemon.logs(), 10,
                   "the over-long message in the log")
        wait_until(lambda: any(t == "<alice> " + "x" * 1000 for t in bob.texts_from("bridge")), 10, "the cut text")
        # A delivery longer than max_length is split, never dropped.
        before = len(bob.texts_from("bridge"))
        self.assertEqual(post(self.in_port, {"text": "word " * 1000, "author": "feed"}), 202)
        wait_until(lambda: len(bob.texts_from("bridge")) >= before + 2, 10, "the long delivery, split")
        pieces = bob.texts_from("bridge")[before:]
        self.assertEqual(len(pieces), 2)
        self.assertTrue(all(len(p.encode()) <= 3000 for p in pieces))
        self.assertEqual("".join(pieces).split(), ["word"] * 1000, "every word, in order")

        alice.say("still relayed")
        wait_until(lambda: "<alice> still relayed" in bob.texts_from("bridge"), 10, "the bridge working anyway")
        self.assertNotIn("a reply without an id", "".join(bob.texts_from("bridge")))
        self.assertTrue(self.daemon.running())
        squatter.close()


class XmppTls(unittest.TestCase):
    """Logins over STARTTLS and direct TLS, the certificate checked against tls_ca; one that does not trust it."""

    def test_starttls_and_direct_tls_and_a_certificate_it_does_not_trust(self):
        server = Prosody(tls=True).start()
        common = f"jid: bridge-a@localhost, password: secret, server: 127.0.0.1, nick: bridge"
        daemon = Daemon(f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
plugins:
  - id: starttls
    use: xmpp
    config: {{ {common}, port: {server.port}, tls_ca: "{server.cert}", rooms: ["a@conference.localhost"] }}
  - id: direct
    use: xmpp
    config: {{ jid: bridge-b@localhost, password: secret, server: 127.0.0.1, nick: bridge, port: {server.tls_port},
              tls: direct, tls_ca: "{server.cert}", rooms: ["b@conference.localhost"] }}
  - id: untrusting
    use: xmpp
    config: {{ jid: carol@localhost, password: secret, server: 127.0.0.1, port: {server.port}, nick: carol,
              rooms: ["c@conference.localhost"] }}
routes:
  - name: a-to-b
    from: starttls
    do: [{{ relay: {{ to: direct, template: "<{{author}}> {{text}}" }} }}]
""")
        clients = []
        try:
            alice = XmppClient(server.port, "alice", room("a"))
            bob = XmppClient(server.port, "bob", room("b"))
            clients += [alice, bob]
            daemon.start()
            wait_until(lambda: daemon.logs().count("xmpp: joined ") >= 2, 20, "both bridges in their rooms")
            self.assertIn(f"[starttls] xmpp: connected to 127.0.0.1:{server.port} as bridge-a@localhost/relais (TLS)",
                          daemon.logs())
            self.assertIn(f"[direct] xmpp: connected to 127.0.0.1:{server.tls_port} as bridge-b@localhost/relais (TLS)",
                          daemon.logs())
            alice.say("over tls")
            wait_until(lambda: bob.texts_from("bridge") == ["<alice> over tls"], 20, "the message through TLS")
            # The system's CAs do not know the self-signed certificate: a clear error, retried, never logged in.
            wait_until(lambda: "[untrusting] xmpp: could not connect" in daemon.logs(), 20, "the refusal in the log")
            self.assertRegex(daemon.logs(), r"\[untrusting\] xmpp: could not connect .*TLS handshake failed")
            self.assertNotIn("[untrusting] xmpp: connected", daemon.logs())
        except AssertionError:
            print("\n--- relais log ---\n" + daemon.logs()[-6000:])
            raise
        finally:
            for c in clients:
                c.close()
            daemon.stop()
            server.close()


class ScriptedServer:
    """A scripted XMPP server on 127.0.0.1 that logs any client in with PLAIN, binds it, then sends `script` (raw
    bytes, one chunk after another): for what a real server never sends, such as XML that is not well-formed."""

    def __init__(self, script):
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = b""
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""

        def until(pattern):
            nonlocal buffer
            while not re.search(pattern, buffer):
                chunk = conn.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buffer += chunk
                self.received += chunk
            match = re.search(pattern, buffer)
            buffer = buffer[match.end():]
            return match

        header = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream="
                  b"'http://etherx.jabber.org/streams' id='s' from='localhost' version='1.0'>")
        try:
            conn.settimeout(10)
            until(rb"<stream:stream[^>]*>")
            conn.sendall(header + b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                  b"<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
            until(rb"</auth>")
            conn.sendall(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
            until(rb"<stream:stream[^>]*>")
            conn.sendall(header + b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                                  b"</stream:features>")
            bind_id = until(rb"<iq[^>]*id=[\"']([^\"']+)[\"'][^>]*>.*?</iq>").group(1)
            conn.sendall(b"<iq type='result' id='" + bind_id + b"'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                         b"<jid>bridge-a@localhost/relais</jid></bind></iq>")
            until(rb"<presence[^>]*a@conference.localhost/bridge")  # the connector joins its room
            conn.sendall(b"<presence from='a@conference.localhost/bridge'><x xmlns='http://jabber.org/protocol/"
                         b"muc#user'><status code='110'/></x></presence><message from='a@conference.localhost' "
                         b"type='groupchat'><subject/></message>")
            for chunk in self.script:
                time.sleep(0.2)
                conn.sendall(chunk)
            until(rb"</stream:error>|</stream:stream>")  # like a real server: the client closed, so do we
        except (OSError, ConnectionError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


class XmppMalformed(unittest.TestCase):
    def test_broken_stanzas_are_logged_and_xml_that_is_not_well_formed_reconnects(self):
        server = ScriptedServer([
            b"<message from='a@conference.localhost/eve' type='groupchat' id='1'><body>odd</body>"
            b"<replace xmlns='urn:xmpp:message-correct:0'/></message>",
            b"<message from='a@conference.localhost/eve' type='groupchat' id='2'><body>fine</body></message>",
            b"<message from='a@conference.localhost/eve' type='groupchat'><body>broken</bdy></message>"])
        sink = f"{tempfile.mkdtemp(prefix='relais-xmpp-sink-')}/out.jsonl"
        daemon = Daemon(f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
plugins:
  - id: xa
    use: xmpp
    config: {{ jid: bridge-a@localhost, password: secret, server: 127.0.0.1, port: {server.port}, tls: plaintext,
              nick: bridge, rooms: ["a@conference.localhost"], reconnect_min: 200ms, reconnect_max: 500ms }}
  - id: out
    use: file
    config: {{ path: {sink} }}
routes:
  - name: all
    from: xa
    do: [{{ relay: {{ to: out }} }}]
""")
        try:
            daemon.start()
            wait_until(lambda: "xmpp: joined a@conference.localhost" in daemon.logs(), 10, "the scripted join")
            wait_until(lambda: "skipped a message from a@conference.localhost/eve: a XEP-0308 <replace/> without an id"
                       in daemon.logs(), 10, "the broken correction in the log")
            def relayed():
                if not os.path.exists(sink):
                    return False
                with open(sink) as f:
                    return "fine" in f.read()
            wait_until(relayed, 10, "the good message relayed")
            wait_until(lambda: "[xa] xmpp: the server sent XML that is not well-formed" in daemon.logs(), 10,
                       "the broken XML in the log")
            wait_until(lambda: "[xa] xmpp: disconnected from" in daemon.logs(), 10, "the stream closed")
            wait_until(lambda: server.connections >= 2, 10, "a new connection")
            with open(sink) as f:
                texts = [line for line in f.read().splitlines() if line.strip()]
            self.assertEqual(len(texts), 1, "only the well-formed, usable message was relayed")
            self.assertNotIn("broken", texts[0])
            self.assertTrue(daemon.running())
            wait_until(lambda: daemon.logs().count("xmpp: joined a@conference.localhost") >= 2, 10, "joined again")
        except AssertionError:
            print("\n--- relais log ---\n" + daemon.logs()[-4000:])
            raise
        finally:
            daemon.stop()
            server.close()
            shutil.rmtree(os.path.dirname(sink), ignore_errors=True)


IRC_CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 100ms, retry_max_backoff: 1s }
plugins:
  - id: xmpp
    use: xmpp
    config: { jid: bridge-a@localhost, password: secret, server: 127.0.0.1, port: @PORT@, tls: plaintext,
              nick: bridge, rooms: ["a@conference.localhost"] }
  - id: irc
    use: irc
    config: { server: 127.0.0.1, port: @IRC_PORT@, nick: bridge, channels: ["#a"], burst: 50, rate: 100 }
  - id: archive
    use: archive-sqlite
routes:
  - name: archive-tagged
    when: { tags_any: [veille] }
    do: [archive]
  - name: xmpp-to-irc
    from: xmpp
    do: [{ relay: { to: irc, template: "<{author}> {text}" } }]
  - name: irc-to-xmpp
    from: irc
    do: [{ relay: { to: xmpp, template: "[irc] {author}: {text}" } }]
"""


class XmppIrc(unittest.TestCase):
    def test_room_and_channel_both_ways_and_the_archive(self):
        server, irc = Prosody().start(), IrcServer("ngircd").start()
        clients = []
        daemon = Daemon(IRC_CONFIG.replace("@PORT@", str(server.port)).replace("@IRC_PORT@", str(irc.port)))
        try:
            alice = XmppClient(server.port, "alice", room("a"))
            dave = IrcClient(irc.port, "dave", "#a")
            clients += [alice, dave]
            daemon.start()
            wait_until(lambda: "xmpp: joined a@conference.localhost" in daemon.logs() and "joined #a" in daemon.logs(),
                       20, "the bridge in the room and the channel")
            alice.say("RivalCorp opens a Lyon office #veille")
            wait_until(lambda: dave.texts_from("bridge") == ["<alice> RivalCorp opens a Lyon office #veille"], 20,
                       "the room's message in the channel")
            dave.say("noted, thanks")
            wait_until(lambda: alice.texts_from("bridge") == ["[irc] dave: noted, thanks"], 20,
                       "the channel's message in the room")
            time.sleep(1.0)
            self.assertEqual(dave.texts_from("bridge"), ["<alice> RivalCorp opens a Lyon office #veille"], "no loop")
            self.assertEqual(alice.texts_from("bridge"), ["[irc] dave: noted, thanks"], "no loop")

            def archived():
                cli = relais("archive", "search", "-c", daemon.config_path, "veille")
                return cli.returncode == 0 and "Lyon office" in cli.stdout and cli
            cli = wait_until(archived, 10, "relais archive search veille to find the post")
            self.assertIn("alice", cli.stdout)
        except AssertionError:
            print("\n--- relais log ---\n" + daemon.logs()[-6000:])
            raise
        finally:
            for c in clients:
                c.close()
            daemon.stop()
            server.close()
            irc.close()


if __name__ == "__main__":
    unittest.main()
