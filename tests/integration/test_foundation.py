"""The Foundation's promises, checked against the real daemon, real plugins and real HTTP peers."""
import json
import os
import signal
import unittest

from harness import FIXTURE_DIR, Daemon, Sink, WebSocket, free_port, http, relais, scratch_dir, wait_until

CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 50ms, max_attempts: 5 }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook, max_body: 4096 }
  - id: team
    use: webhook
    level: internal
    config: { url: "@TEAM@", format: json }
  - id: outside
    use: webhook
    level: public
    config: { url: "@OUTSIDE@", format: slack }
  - id: archive
    use: archive-sqlite
  - id: news
    use: rss
    config: { feeds: ["@FEED@"], interval: 1s }
routes:
  - name: watch
    from: [inbox, news]
    when: { keywords: [rivalcorp] }
    do: [{ relay: { to: team, template: "{author} wrote: {text}" } }]
  - name: archive-tagged
    when: { tags_any: [veille] }
    do: [archive]
  - name: publish
    from: inbox
    when: { tags_any: [publish] }
    do: [{ relay: { to: outside } }]
"""


class Foundation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.team = Sink()
        cls.outside = Sink()
        cls.in_port = free_port()
        feed = os.path.join(scratch_dir("feed"), "not-a-feed.xml")
        with open(feed, "w") as f:
            f.write("this is not XML at all <<<")
        text = (CONFIG.replace("@IN@", str(cls.in_port)).replace("@TEAM@", cls.team.url)
                .replace("@OUTSIDE@", cls.outside.url).replace("@FEED@", feed))
        cls.daemon = Daemon(text)
        cls.daemon.start()
        cls.hook = f"http://127.0.0.1:{cls.in_port}/hook"

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.team.close()
        cls.outside.close()

    def post(self, payload, **kw):
        return http("POST", self.hook, payload, **kw)

    def test_tagged_message_is_archived_and_found_by_cli_and_http(self):
        self.assertEqual(self.post({"text": "Lyon office for Acme #veille", "author": "alice"})[0], 202)
        self.assertEqual(self.post({"text": "lunch is at noon, untagged archivecheck", "author": "bob"})[0], 202)

        def found():
            status, _, body = http("GET", self.daemon.admin("/api/v1/archive/search?q=veille"))
            return status == 200 and json.loads(body)["count"] >= 1 and json.loads(body)
        result = wait_until(found, 10, "the archive to find #veille")
        self.assertIn("Lyon office", result["results"][0]["text"])
        self.assertEqual(result["results"][0]["source"], "inbox")

        cli = relais("archive", "search", "-c", self.daemon.config_path, "veille")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("Lyon office", cli.stdout)

        status, _, body = http("GET", self.daemon.admin("/api/v1/archive/search?q=archivecheck"))
        self.assertEqual(json.loads(body)["count"], 0, "an untagged message must not be archived")

    def test_keyword_is_relayed_with_the_template_and_others_are_not(self):
        self.assertEqual(self.post({"text": "the weather is fine", "author": "carol"})[0], 202)
        self.assertEqual(self.post({"text": "RivalCorp hires", "author": "carol"})[0], 202)
        wait_until(lambda: any(b.get("rendered") == "carol wrote: RivalCorp hires" for b in self.team.bodies()),
                   10, "the relayed message at the sink")
        texts = [b.get("text") for b in self.team.bodies()]
        self.assertNotIn("the weather is fine", texts)

    def test_confidential_message_never_reaches_a_public_destination(self):
        before = self.daemon.metric("relais_confidentiality_refusals_total", destination="outside")
        self.assertEqual(self.post({"text": "Q3 numbers #publish", "author": "dave", "level": "confidential"})[0], 202)
        wait_until(lambda: self.daemon.metric("relais_confidentiality_refusals_total", destination="outside") > before,
                   10, "the refusal to be counted")
        self.assertIn("refused to deliver", self.daemon.logs())
        # An internal post on the same route is refused too: only an explicit as_level may publish outward.
        self.assertEqual(self.post({"text": "internal news #publish", "author": "dave"})[0], 202)
        wait_until(lambda: self.daemon.metric("relais_confidentiality_refusals_total", destination="outside") > before + 1,
                   10, "the second refusal")
        self.assertEqual(self.outside.bodies(), [])

    def test_bad_input_is_refused_clearly_and_the_daemon_carries_on(self):
        status, _, body = self.post(b'{"text": "broken', headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("error", json.loads(body))
        status, _, body = self.post(b'{"text": "bad \xff byte"}', headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("UTF-8", json.loads(body)["error"])
        status, _, _ = self.post({"text": "x" * 10000})
        self.assertEqual(status, 413)
        status, _, _ = self.post(b"[1, 2]", headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        # The feed that is not XML is reported by name, and nothing stops.
        wait_until(lambda: "not-a-feed.xml" in self.daemon.logs(), 10, "the broken feed to be reported")
        self.assertTrue(self.daemon.running())
        self.assertEqual(self.post({"text": "rivalcorp still flows", "author": "erin"})[0], 202)
        wait_until(lambda: any(b.get("rendered") == "erin wrote: rivalcorp still flows" for b in self.team.bodies()),
                   10, "a good message after the bad ones")

    def test_admin_endpoints(self):
        status, _, body = http("GET", self.daemon.admin("/healthz"))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        plugins = json.loads(http("GET", self.daemon.admin("/api/v1/plugins"))[2])
        self.assertIn("webhook", [p["name"] for p in plugins["plugins"]])
        routes = json.loads(http("GET", self.daemon.admin("/api/v1/routes"))[2])
        self.assertEqual([r["name"] for r in routes["routes"]], ["watch", "archive-tagged", "publish"])
        self.assertIn("# TYPE relais_messages_received_total counter", self.daemon.metrics())
        self.assertEqual(http("GET", self.daemon.admin("/nope"))[0], 404)

    def test_explain_names_the_routes_a_message_takes(self):
        msg = json.dumps({"text": "RivalCorp news #veille", "tags": ["veille"], "author": "alice"})
        out = relais("explain", "-c", self.daemon.config_path, "--source", "inbox", "--message", msg)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("route 'watch': matched", out.stdout)
        self.assertIn("route 'archive-tagged': matched", out.stdout)
        self.assertIn("route 'publish': no match, no tag in [publish]", out.stdout)
        self.assertIn("→ team", out.stdout)


class Lifecycle(unittest.TestCase):
    def test_sigterm_finishes_queued_deliveries_and_exits_cleanly(self):
        with Sink() as sink:
            port = free_port()
            d = Daemon(CONFIG.replace("@IN@", str(port)).replace("@TEAM@", sink.url).replace("@OUTSIDE@", sink.url)
                       .replace("@FEED@", "/nonexistent/feed.xml"))
            d.start()
            for i in range(50):
                self.assertEqual(http("POST", f"http://127.0.0.1:{port}/hook",
                                      {"text": f"rivalcorp {i}", "author": "a"})[0], 202)
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertEqual([b["text"] for b in sink.bodies()], [f"rivalcorp {i}" for i in range(50)])
            self.assertIn("stopped", d.logs())


class ConfigCheck(unittest.TestCase):
    def test_three_mistakes_are_reported_with_their_positions(self):
        d = Daemon("""plugins:
  - id: inbox
    use: webhok
  - id: archive
    use: archive-sqlite
routes:
  - name: r
    from: inbox
    when: { regex: "(unclosed" }
    do: [{ relay: { to: archiv } }]
""")
        out = relais("check", "-c", d.config_path)
        self.assertEqual(out.returncode, 2)
        lines = [l for l in out.stderr.splitlines() if l.startswith(d.config_path)]
        self.assertEqual(len(lines), 3, out.stderr)
        self.assertIn(":3:10: unknown plugin 'webhok' (did you mean 'webhook'?)", lines[0])
        self.assertIn(":9:20: route 'r' regex \"(unclosed\": missing )", lines[1])
        self.assertIn(":10:25: route 'r' relay to: unknown plugin instance 'archiv' (did you mean 'archive'?)", lines[2])

    def test_plugin_config_mistakes_are_placed_at_the_key(self):
        d = Daemon("""plugins:
  - id: news
    use: rss
    config:
      feeds: ["configs/demo/feed.xml"]
      intervall: 5m
""")
        out = relais("check", "-c", d.config_path)
        self.assertEqual(out.returncode, 2)
        self.assertIn(":6:7: unknown key 'intervall' in config of 'news' (plugin rss) (did you mean 'interval'?)", out.stderr)

    def test_a_valid_configuration_passes(self):
        d = Daemon(CONFIG.replace("@IN@", "0").replace("@TEAM@", "http://127.0.0.1:9/x")
                   .replace("@OUTSIDE@", "http://127.0.0.1:9/y").replace("@FEED@", "feed.xml"))
        out = relais("check", "-c", d.config_path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("OK (5 plugin instance(s), 3 route(s))", out.stdout)


@unittest.skipUnless(FIXTURE_DIR, "needs the ABI fixtures (RELAIS_FIXTURE_DIR)")
class AbiChecks(unittest.TestCase):
    def test_plugins_lists_refusals_with_both_abi_versions(self):
        out = relais("plugins", "--plugin-dir", FIXTURE_DIR)
        self.assertIn("relais-abi-major-2.so: built for plugin ABI 2.0, but this host speaks ABI 1.3", out.stdout)
        self.assertIn("relais-abi-minor-newer.so: built for plugin ABI 1.4, newer than this host's ABI 1.3", out.stdout)
        self.assertIn("relais-not-a-plugin.so: not a Relais plugin", out.stdout)
        self.assertRegex(out.stdout, r"abi-minor-older\s+1\.0\.0\s+1\.0")
        self.assertEqual(out.returncode, 1)

    def test_run_refuses_a_plugin_of_another_major(self):
        d = Daemon("host: { data_dir: @DATA@, admin: { listen: 127.0.0.1:@ADMIN@ } }\n"
                   "plugins:\n  - id: x\n    use: abi-major-2\n", extra_plugin_dirs=[FIXTURE_DIR])
        d.start(expect_healthy=False)
        code = d.proc.wait(20)
        d.stop()
        self.assertNotEqual(code, 0)
        self.assertIn("unknown plugin 'abi-major-2': it was refused: built for plugin ABI 2.0, but this host speaks "
                      "ABI 1.3", d.logs())


class ApiBridge(unittest.TestCase):
    def test_post_api_message_reaches_another_api_websocket(self):
        a_port, b_port = free_port(), free_port()
        config = f"""
host: {{ data_dir: @DATA@, admin: {{ listen: 127.0.0.1:@ADMIN@ }} }}
plugins:
  - {{ id: left, use: api, config: {{ port: {a_port}, token: s3cret }} }}
  - {{ id: right, use: api, config: {{ port: {b_port} }} }}
routes:
  - name: bridge
    from: left
    do: [{{ relay: {{ to: right, template: "{{author}}: {{text}}" }} }}]
"""
        with Daemon(config):
            ws = WebSocket("127.0.0.1", b_port, "/api/websocket")
            try:
                status, _, _ = http("POST", f"http://127.0.0.1:{a_port}/api/message",
                                    {"text": "hello", "username": "alice", "gateway": "g"})
                self.assertEqual(status, 401, "the token is required")
                for i in range(20):
                    status, _, body = http("POST", f"http://127.0.0.1:{a_port}/api/message",
                                           {"text": f"hello {i}", "username": "alice", "channel": "api"},
                                           headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"})
                    self.assertEqual(status, 200, body)
                got = []
                while len(got) < 20:
                    m = json.loads(ws.recv())
                    if m.get("event") == "api_connected":
                        continue
                    got.append(m)
                self.assertEqual([m["text"] for m in got], [f"alice: hello {i}" for i in range(20)])
                self.assertEqual(got[0]["username"], "alice")
            finally:
                ws.close()


if __name__ == "__main__":
    unittest.main()
