"""Hold for approval: on a route to a public network, the named speakers publish; anyone else's post waits until
someone approves it (CLI or admin API), and a dropped one is never published. The real daemon, a real HTTP peer."""
import json
import unittest

from harness import Daemon, Sink, free_port, http, relais, wait_until

CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
plugins:
  - id: team
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: outside
    use: webhook
    level: public
    config: { url: "@SINK@", format: json, timeout: 5s }
routes:
  - name: publish
    from: team
    when: { tags_any: [publish] }
    do: [{ relay: { to: outside, as_level: public, speakers: [marie@acme.example] } }]
  - name: ask-first
    from: team
    when: { tags_any: [ask] }
    do: [{ hold: { to: outside, as_level: public } }]
"""


def post(port, author_id, text, tag):
    status, _, body = http("POST", f"http://127.0.0.1:{port}/hook",
                           json.dumps({"text": text, "author_id": author_id, "tags": [tag]}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 202, (status, body)


class HoldForApproval(unittest.TestCase):
    def test_speakers_publish_others_wait_for_approval(self):
        with Sink() as sink:
            in_port = free_port()
            config = CONFIG.replace("@IN@", str(in_port)).replace("@SINK@", sink.url)
            with Daemon(config) as daemon:
                # Only the plugins the configuration uses are loaded (here: webhook), not the whole plugin folder.
                loaded = json.loads(http("GET", daemon.admin("/api/v1/plugins"))[2])["plugins"]
                self.assertEqual([p["name"] for p in loaded], ["webhook"])
                post(in_port, "bob@acme.example", "Bob's draft announcement", "publish")
                post(in_port, "marie@acme.example", "Marie's announcement", "publish")
                post(in_port, "marie@acme.example", "even Marie asks here", "ask")
                wait_until(lambda: len(sink.received) == 1, 10, "the speaker's post")
                self.assertEqual(sink.bodies()[0]["text"], "Marie's announcement")
                wait_until(lambda: daemon.metric("relais_held_total") == 2, 10, "two held deliveries")

                listed = relais("held", "list", "-c", daemon.config_path, "--json")
                self.assertEqual(listed.returncode, 0, listed.stderr)
                held = json.loads(listed.stdout)["held"]
                self.assertEqual([h["rendered"] for h in held], ["Bob's draft announcement", "even Marie asks here"])
                self.assertIn("'bob@acme.example' is not a speaker of route 'publish'", held[0]["error"])
                self.assertIn("route 'ask-first' holds every message", held[1]["error"])
                # Held is not failed: nothing shows up among the dead letters, and a dead-letter replay cannot
                # publish a held post.
                self.assertEqual(json.loads(relais("deadletter", "list", "-c", daemon.config_path,
                                                   "--json").stdout)["count"], 0)
                self.assertNotEqual(relais("deadletter", "replay", str(held[0]["id"]), "-c",
                                           daemon.config_path).returncode, 0)
                self.assertEqual(len(sink.received), 1)

                approved = relais("held", "approve", str(held[0]["id"]), "-c", daemon.config_path)
                self.assertEqual(approved.returncode, 0, approved.stderr)
                wait_until(lambda: len(sink.received) == 2, 10, "the approved post")
                self.assertEqual(sink.bodies()[1]["text"], "Bob's draft announcement")

                status, _, _ = http("DELETE", daemon.admin(f"/api/v1/held/{held[1]['id']}"))
                self.assertEqual(status, 200)
                status, _, body = http("GET", daemon.admin("/api/v1/held"))
                self.assertEqual(json.loads(body)["count"], 0)
                status, _, _ = http("POST", daemon.admin(f"/api/v1/held/{held[1]['id']}/approve"), b"")
                self.assertEqual(status, 404)  # dropped: it can never be published
            self.assertEqual(len(sink.received), 2)

    def test_held_deliveries_survive_a_restart_and_are_approved_through_the_admin_api(self):
        with Sink() as sink:
            in_port = free_port()
            config = CONFIG.replace("@IN@", str(in_port)).replace("@SINK@", sink.url)
            daemon = Daemon(config)
            daemon.start()
            post(in_port, "bob@acme.example", "waits across a restart", "publish")
            wait_until(lambda: daemon.metric("relais_held_total") == 1, 10, "the held delivery")
            daemon.stop()
            # Daemon stopped: the CLI reads the outbox file itself.
            offline = json.loads(relais("held", "list", "-c", daemon.config_path, "--json").stdout)
            self.assertEqual(offline["count"], 1)
            daemon.start()
            try:
                status, _, body = http("GET", daemon.admin("/api/v1/held"))
                held = json.loads(body)["held"]
                self.assertEqual(len(held), 1)
                status, _, _ = http("POST", daemon.admin(f"/api/v1/held/{held[0]['id']}/approve"), b"")
                self.assertEqual(status, 200)
                wait_until(lambda: len(sink.received) == 1, 10, "the approved post")
                self.assertEqual(sink.bodies()[0]["text"], "waits across a restart")
            finally:
                daemon.stop()

    def test_explain_says_a_delivery_would_be_held(self):
        in_port = free_port()
        config = CONFIG.replace("@IN@", str(in_port)).replace("@SINK@", "http://127.0.0.1:9/none")
        daemon = Daemon(config)  # writes the configuration; explain needs no running daemon
        out = relais("explain", "-c", daemon.config_path, "--source", "team", "--message",
                     json.dumps({"text": "draft", "author_id": "bob@acme.example", "tags": ["publish"]}))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("held for approval", out.stdout)
        self.assertIn("is not a speaker", out.stdout)


if __name__ == "__main__":
    unittest.main()
