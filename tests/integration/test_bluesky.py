"""The bluesky connector against a real AT Protocol stack: a did:plc directory and the reference PDS.

plugins/bluesky/tests/servers/ holds the launchers; the npm packages (@atproto/pds 0.4.217 and @did-plc/server
0.0.1, the versions that run on Node 20) are installed once per build folder into
$RELAIS_BUILD_DIR/test-servers/bluesky. Without Node or npm, or when the install fails, the tests fail and say why.
Mentions reach IRC (a real ngIRCd, as in test_irc.py); messages from a webhook become posts.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import SOURCE_DIR, Daemon, free_port, http, relais, wait_until
from test_irc import Client, IrcServer

SERVERS = os.path.join(SOURCE_DIR, "plugins", "bluesky", "tests", "servers")
BUILD_DIR = os.environ.get("RELAIS_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
INSTALL_DIR = os.path.join(BUILD_DIR, "test-servers", "bluesky")
POST = "app.bsky.feed.post"


def install_servers():
    """npm install into the build folder, once; a failure is an error with npm's own words."""
    modules = os.path.join(INSTALL_DIR, "node_modules")
    if all(os.path.isdir(os.path.join(modules, p)) for p in ("@atproto/pds", "@did-plc/server")):
        return modules
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            raise AssertionError(f"{tool} is not installed: the bluesky integration test runs a real PDS on Node 20")
    os.makedirs(INSTALL_DIR, exist_ok=True)
    shutil.copy(os.path.join(SERVERS, "package.json"), os.path.join(INSTALL_DIR, "package.json"))
    env = dict(os.environ, npm_config_nodedir="/usr")
    started = time.monotonic()
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=INSTALL_DIR, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not os.path.isdir(os.path.join(modules, "@atproto", "pds")):
        raise AssertionError(f"npm install of the bluesky test servers into {INSTALL_DIR} failed "
                             f"(exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"\nnpm install of PDS and PLC took {time.monotonic() - started:.0f}s (once per build folder)")
    return modules


def xrpc(base, nsid, body=None, token=None, params=None):
    url = f"{base}/xrpc/{nsid}" + ("?" + urllib.parse.urlencode(params) if params else "")
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{nsid}: {e.code} {e.read()[:300]!r}") from None


class Stack:
    """PLC on one free port and PDS on another, sharing a temporary folder; the PDS can be stopped and restarted."""

    def __init__(self):
        self.modules = install_servers()
        self.dir = tempfile.mkdtemp(prefix="relais-bsky-")
        self.plc_port, self.pds_port = free_port(), free_port()
        self.plc_url, self.url = f"http://127.0.0.1:{self.plc_port}", f"http://127.0.0.1:{self.pds_port}"
        os.makedirs(os.path.join(self.dir, "data", "blocks"))
        self.env = dict(os.environ, NODE_PATH=self.modules, PLC_PORT=str(self.plc_port))
        self.plc = self._spawn("plc", "plc.cjs", self.env)
        wait_until(lambda: self._up(self.plc, f"{self.plc_url}/_health"), 30, "the PLC directory")
        self.pds_env = dict(self.env, PDS_HOSTNAME="localhost", PDS_PORT=str(self.pds_port),
                            PDS_DATA_DIRECTORY=os.path.join(self.dir, "data"),
                            PDS_BLOBSTORE_DISK_LOCATION=os.path.join(self.dir, "data", "blocks"),
                            PDS_JWT_SECRET="0123456789abcdef0123456789abcdef", PDS_ADMIN_PASSWORD="admin-pass",
                            PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=
                            "5b3c6a1f0e9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa91",
                            PDS_DID_PLC_URL=self.plc_url, PDS_DEV_MODE="true", PDS_INVITE_REQUIRED="false",
                            PDS_CRAWLERS="", LOG_ENABLED="false")
        self.pds = None
        self.start_pds()

    def _spawn(self, name, script, env):
        with open(os.path.join(self.dir, f"{name}.log"), "a") as log:  # the child keeps its own descriptor
                return subprocess.Popen(["node", "-r", os.path.join(SERVERS, "loopback.cjs"),
                                     os.path.join(SERVERS, script)],
                                    env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)

    def _up(self, proc, url):
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited with {proc.returncode}:\n{self.logs()}")
        try:
            return http("GET", url, timeout=1)[0] == 200
        except OSError:
            return False

    def start_pds(self, jwt_secret=None):
        if jwt_secret:  # every session signed with the old secret becomes invalid
            self.pds_env["PDS_JWT_SECRET"] = jwt_secret
        self.pds = self._spawn("pds", "pds.cjs", self.pds_env)
        wait_until(lambda: self._up(self.pds, f"{self.url}/xrpc/_health"), 90, "the PDS")

    def stop_pds(self):
        self.pds.send_signal(signal.SIGTERM)
        try:
            self.pds.wait(15)
        except subprocess.TimeoutExpired:
            self.pds.kill()
            self.pds.wait()

    def account(self, handle):
        a = xrpc(self.url, "com.atproto.server.createAccount",
                 {"handle": handle, "email": f"{handle}@example.com", "password": "long-password-1"})
        return {"did": a["did"], "handle": a["handle"], "token": a["accessJwt"]}

    def sign_in(self, who):
        who["token"] = xrpc(self.url, "com.atproto.server.createSession",
                            {"identifier": who["handle"], "password": "long-password-1"})["accessJwt"]

    def post(self, who, text, facets=None):
        record = {"$type": POST, "text": text, "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
        if facets:
            record["facets"] = facets
        r = xrpc(self.url, "com.atproto.repo.createRecord", {"repo": who["did"], "collection": POST,
                                                              "record": record}, who["token"])
        return r["uri"].rsplit("/", 1)[1]

    def records(self, who):
        return xrpc(self.url, "com.atproto.repo.listRecords", params={"repo": who["did"], "collection": POST,
                                                                      "limit": 100})["records"]

    def logs(self):
        out = ""
        for name in ("plc.log", "pds.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path) as f:
                    out += f"--- {name} ---\n" + f.read()[-3000:]
        return out

    def close(self):
        for proc in (self.pds, self.plc):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 200ms, retry_max_backoff: 1s, max_attempts: 10000 }
plugins:
  - id: bsky
    use: bluesky
    config:
      service: @PDS@
      identifier: acmecorp.test
      app_password: "@PASSWORD@"
      plc_directory: @PLC@
      post_url_base: https://bsky.example
      timeout: 5s
      reconnect_min: 200ms
      reconnect_max: 1s
      follow: [carlwriter.test]
      keywords: [RivalCorp]
  - id: team
    use: irc
    config: { server: 127.0.0.1, port: @IRC@, nick: relais, channels: ["#veille"], burst: 50, rate: 100 }
  - id: inbox
    use: webhook
    level: public
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
routes:
  - name: bluesky-to-team
    from: bsky
    do: [{ relay: { to: team, template: "{author}: {text} <{link}>" } }]
  - name: hook-to-bluesky
    from: inbox
    do: [{ relay: { to: bsky } }]
  - name: announcements
    from: team
    when: { keywords: [announce] }
    do: [{ relay: { to: bsky, as_level: public, template: "{text}", speakers: [marie] } }]
"""


class BlueskyConnector(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()
        try:
            cls.acme = cls.stack.account("acmecorp.test")
            cls.ann = cls.stack.account("annwriter.test")
            cls.ben = cls.stack.account("benwriter.test")
            cls.carl = cls.stack.account("carlwriter.test")
            cls.password = xrpc(cls.stack.url, "com.atproto.server.createAppPassword", {"name": "relais"},
                                cls.acme["token"])["password"]
            cls.irc = IrcServer("ngircd").start()
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.irc.close()
        cls.stack.close()

    def setUp(self):
        self.in_port = free_port()
        self.daemon = Daemon(CONFIG.replace("@PDS@", self.stack.url).replace("@PLC@", self.stack.plc_url)
                             .replace("@PASSWORD@", self.password).replace("@IRC@", str(self.irc.port))
                             .replace("@IN@", str(self.in_port)))
        self.watcher = Client(self.irc.port, f"w{self.id()[-6:].replace('_', '')}", "#veille")

    def tearDown(self):
        self.watcher.close()
        result = getattr(self._outcome, "result", None)
        failed = bool(result and (result.errors or result.failures))
        if self.daemon.running():
            self.daemon.stop()
        if failed:
            print("\n--- relais log ---\n" + self.daemon.logs()[-8000:])
            print(self.stack.logs())

    def start_daemon(self):
        self.daemon.start()  # a fresh log each start
        wait_until(lambda: "watching ws://" in self.daemon.logs() and "joined #veille" in self.daemon.logs(), 30,
                   "the firehose and the IRC channel")

    def relayed(self):
        return self.watcher.texts_from("relais")

    def link(self, who, rkey):
        return f"https://bsky.example/profile/{who['handle']}/post/{rkey}"

    def hook(self, payload):
        status, _, _ = http("POST", f"http://127.0.0.1:{self.in_port}/hook", json.dumps(payload).encode(),
                            {"Content-Type": "application/json"})
        self.assertEqual(status, 202)

    def test_mentions_reach_irc_and_a_restart_loses_and_repeats_nothing(self):
        self.start_daemon()
        acme, ann, ben = self.acme, self.ann, self.ben
        expected = []
        rkey = self.stack.post(ann, "Hello @acmecorp.test, the new release is great")
        expected.append(f"annwriter.test: Hello @acmecorp.test, the new release is great <{self.link(ann, rkey)}>")
        self.stack.post(ben, "A post that mentions nobody we watch, @annwriter.test")
        # A mention written as a facet only (the text shows a display name, not the handle).
        rkey = self.stack.post(ben, "Thanks ACME team!", facets=[{
            "index": {"byteStart": 7, "byteEnd": 16},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": acme["did"]}]}])
        expected.append(f"benwriter.test: Thanks ACME team! <{self.link(ben, rkey)}>")
        # A followed account's every post, and a keyword in anyone's post.
        rkey = self.stack.post(self.carl, "Just a regular day")
        expected.append(f"carlwriter.test: Just a regular day <{self.link(self.carl, rkey)}>")
        rkey = self.stack.post(ben, "Did you see that rivalcorp opened an office?")
        expected.append(f"benwriter.test: Did you see that rivalcorp opened an office? <{self.link(ben, rkey)}>")
        wait_until(lambda: len(self.relayed()) >= 4, 30, "two mentions, a followed post and a keyword in #veille")
        self.assertEqual(self.relayed(), expected)

        # Relais is down while two more posts (one watched) are written; it catches up from the stored cursor.
        self.assertEqual(self.daemon.stop(), 0)
        rkey = self.stack.post(ann, "While you were away, @acmecorp.test: été 🎉")
        expected.append(f"annwriter.test: While you were away, @acmecorp.test: été 🎉 <{self.link(ann, rkey)}>")
        self.stack.post(ben, "still nothing for acme here")
        self.start_daemon()
        self.assertRegex(self.daemon.logs(), r"watching ws://\S+ from seq \d+")
        rkey = self.stack.post(ann, "And one after the restart @acmecorp.test")
        expected.append(f"annwriter.test: And one after the restart @acmecorp.test <{self.link(ann, rkey)}>")
        wait_until(lambda: len(self.relayed()) >= 6, 30, "the post written while Relais was down, and the next")
        time.sleep(1.5)  # time for a repeat to show up, if there were one
        self.assertEqual(self.relayed(), expected, "each watched post once, in order, none of the others")

    def test_posts_with_facets_and_a_reply_in_the_thread(self):
        self.start_daemon()
        text = "Launch day 🚀 with @annwriter.test: https://example.com/launch?x=1. #launch"
        self.hook({"text": text, "id": "hook-1", "author": "news"})
        wait_until(lambda: any(r["value"]["text"] == text for r in self.stack.records(self.acme)), 30,
                   "the post on the PDS")
        first = next(r for r in self.stack.records(self.acme) if r["value"]["text"] == text)
        rkey = first["uri"].rsplit("/", 1)[1]
        record = xrpc(self.stack.url, "com.atproto.repo.getRecord",
                      params={"repo": self.acme["did"], "collection": POST, "rkey": rkey})
        value = record["value"]
        self.assertEqual(value["text"], text)
        raw = text.encode()
        spans = {}
        for facet in value["facets"]:
            feature = facet["features"][0]
            spans[feature["$type"].split("#")[1]] = (raw[facet["index"]["byteStart"]:facet["index"]["byteEnd"]]
                                                     .decode(), feature)
        self.assertEqual(spans["mention"][0], "@annwriter.test")
        self.assertEqual(spans["mention"][1]["did"], self.ann["did"])
        self.assertEqual(spans["link"][0], "https://example.com/launch?x=1")
        self.assertEqual(spans["link"][1]["uri"], "https://example.com/launch?x=1")
        self.assertEqual(spans["tag"][0], "#launch")
        self.assertEqual(spans["tag"][1]["tag"], "launch")

        # A reply: the webhook message names the first one; the host maps it to the post's at:// URI.
        self.hook({"text": "And a follow-up", "in_reply_to": "hook-1", "author": "news"})
        wait_until(lambda: any(r["value"]["text"] == "And a follow-up" for r in self.stack.records(self.acme)), 30,
                   "the reply on the PDS")
        reply = next(r for r in self.stack.records(self.acme) if r["value"]["text"] == "And a follow-up")
        self.assertEqual(reply["value"]["reply"]["parent"], {"uri": record["uri"], "cid": record["cid"]})
        self.assertEqual(reply["value"]["reply"]["root"], {"uri": record["uri"], "cid": record["cid"]})
        # Its own posts mention Ann, not the company: nothing of it comes back to IRC.
        time.sleep(1)
        self.assertEqual(self.relayed(), [])

    def test_a_speaker_publishes_anyone_else_is_held_until_approved(self):
        self.start_daemon()
        marie = Client(self.irc.port, "marie", "#veille")
        bob = Client(self.irc.port, "bob", "#veille")
        try:
            bob.say("announce: our draft, not approved yet")
            marie.say("announce: the new office opens on Monday")
            wait_until(lambda: any(r["value"]["text"] == "announce: the new office opens on Monday"
                                   for r in self.stack.records(self.acme)), 30, "the speaker's post on Bluesky")
            wait_until(lambda: self.daemon.metric("relais_held_total") == 1, 10, "bob's post held")
            texts = [r["value"]["text"] for r in self.stack.records(self.acme)]
            self.assertNotIn("announce: our draft, not approved yet", texts)

            held = json.loads(relais("held", "list", "-c", self.daemon.config_path, "--json").stdout)["held"]
            self.assertEqual([h["rendered"] for h in held], ["announce: our draft, not approved yet"])
            self.assertIn("author 'bob (bob!~bob@127.0.0.1)' is not a speaker of route 'announcements'",
                          held[0]["error"])
            approved = relais("held", "approve", str(held[0]["id"]), "-c", self.daemon.config_path)
            self.assertEqual(approved.returncode, 0, approved.stderr)
            wait_until(lambda: any(r["value"]["text"] == "announce: our draft, not approved yet"
                                   for r in self.stack.records(self.acme)), 30, "the approved post on Bluesky")
        finally:
            marie.close()
            bob.close()

    def test_the_pds_vanishes_and_comes_back_with_the_session_gone(self):
        self.start_daemon()
        self.hook({"text": "before the outage", "author": "news"})
        wait_until(lambda: "signed in to" in self.daemon.logs(), 20, "the first sign-in")
        self.stack.stop_pds()
        wait_until(lambda: "firehose ws://" in self.daemon.logs(), 15, "the firehose to notice")
        self.hook({"text": "written while the server is down", "author": "news"})
        time.sleep(2)
        self.assertTrue(self.daemon.running())
        self.stack.start_pds(jwt_secret="fedcba9876543210fedcba9876543210")
        wait_until(lambda: self.daemon.logs().count("watching ws://") >= 2, 30, "the firehose to reconnect")
        self.stack.sign_in(self.ann)
        rkey = self.stack.post(self.ann, "Back online @acmecorp.test")
        wait_until(lambda: len(self.relayed()) >= 1, 30, "a mention after the PDS came back")
        self.assertEqual(self.relayed(), [f"annwriter.test: Back online @acmecorp.test <{self.link(self.ann, rkey)}>"])
        wait_until(lambda: any(r["value"]["text"] == "written while the server is down"
                               for r in self.stack.records(self.acme)), 30, "the post held during the outage")
        texts = [r["value"]["text"] for r in self.stack.records(self.acme)]
        self.assertEqual(texts.count("written while the server is down"), 1)
        self.assertEqual(texts.count("before the outage"), 1)
        # The old tokens are refused after the restart: the connector signed in again by itself.
        self.assertEqual(self.daemon.logs().count("signed in to"), 2, self.daemon.logs()[-3000:])


if __name__ == "__main__":
    unittest.main()
