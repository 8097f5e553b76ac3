"""The mastodon connector in the real daemon, against a replay server.

No Mastodon server can run in the test environment, so plugins/mastodon/tests/replay_server.py stands in for one: it
serves payloads recorded in the shape the published API documents (Status, Notification, Account, Error), pages them
with min_id/since_id/limit like the API, streams Server-Sent Events like the streaming API, and records each request
so the tests can check what the connector sent.
"""
import datetime
import json
import os
import sys
import time
import unittest

from harness import SOURCE_DIR, Daemon, Sink, free_port, http, wait_until

sys.path.insert(0, os.path.join(SOURCE_DIR, "plugins", "mastodon", "tests"))
from replay_server import ReplayServer, payload  # noqa: E402

TOKEN = "test-token"


def config(server_url, masto, sink_url=None, inbox_port=None, extra_routes=""):
    """A daemon with one mastodon instance (config `masto`, a YAML flow map body), an HTTP sink and a webhook inbox."""
    plugins = f"""
  - id: masto
    use: mastodon
    dedupe: off
    config: {{ server: "{server_url}", token: {TOKEN}, interval: 1s, timeout: 2s, reconnect: 200ms, {masto} }}"""
    routes = ""
    if sink_url:
        plugins += f"""
  - id: out
    use: webhook
    level: confidential
    config: {{ url: "{sink_url}" }}"""
        routes += """
  - name: masto-to-out
    from: masto
    do: [{ relay: { to: out } }]"""
    if inbox_port:
        plugins += f"""
  - id: inbox
    use: webhook
    config: {{ listen: 127.0.0.1, port: {inbox_port}, path: /hook }}"""
        routes += """
  - name: inbox-to-masto
    from: inbox
    do: [{ relay: { to: masto } }]"""
    return f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
  delivery: {{ retry_backoff: 100ms, retry_max_backoff: 1s, max_attempts: 50 }}
plugins:{plugins}
routes:{routes}{extra_routes}
"""


def post_hook(port, message):
    status, _, body = http("POST", f"http://127.0.0.1:{port}/hook", message)
    assert status == 202, (status, body)


class MastodonTest(unittest.TestCase):
    def setUp(self):
        self.server = ReplayServer(TOKEN).start()
        self.sink = Sink()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()
        self.sink.close()
        self.server.stop()

    def daemon(self, text):
        d = Daemon(text)
        self.daemons.append(d)
        return d.start()

    def sink_texts(self):
        return [b["text"] for b in self.sink.bodies()]

    def test_a_mention_is_relayed_with_its_fields_and_a_direct_one_is_not(self):
        self.server.notifications = payload("notifications_mentions.json")
        d = self.daemon(config(self.server.url, "mentions: true", self.sink.url))
        wait_until(lambda: len(self.sink.bodies()) >= 2, 15, "two mentions at the sink")
        first = self.sink.bodies()[0]
        self.assertEqual(first["native_id"], "109400000000000201")
        self.assertEqual(first["author"], "Claire :blobcat:")
        self.assertEqual(first["author_id"], "claire@rival.example")
        self.assertEqual(first["text"], "@acme Vous avez vu l'appel d'offres ? #veille "
                                        "https://www.example.org/ao/2026/lyon-office\n\nDeuxième paragraphe :blobcat:"
                                        "\nnouvelle ligne & fin 🚀")
        self.assertEqual(first["links"][0], "https://rival.example/@claire/109400000000000201")
        self.assertEqual(first["tags"], ["veille"])
        self.assertEqual(first["channel"], "mentions")
        self.assertEqual(first["level"], "public")
        second = self.sink.bodies()[1]
        self.assertEqual(second["kind"], "reply")
        self.assertEqual(second["reply_to"], "109400000000000150")
        # A few more polls: nothing repeated, and the direct mention never relayed.
        polls = len(self.server.seen("GET", "/api/v1/notifications"))
        wait_until(lambda: len(self.server.seen("GET", "/api/v1/notifications")) >= polls + 2, 10, "two more polls")
        self.assertEqual(len(self.sink.bodies()), 2)
        self.assertNotIn("prix plancher", json.dumps(self.sink.bodies()))
        req = self.server.seen("GET", "/api/v1/notifications")[-1]
        self.assertEqual(req.headers["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(req.query["types[]"], "mention")
        self.assertEqual(req.query["min_id"], "3510")
        self.assertTrue(d.running())

    def test_hashtag_items_are_relayed_once_even_across_a_restart(self):
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille.json"))
        d = self.daemon(config(self.server.url, "hashtags: [veille]", self.sink.url))
        wait_until(lambda: len(self.sink.bodies()) == 3, 15, "three hashtag items")
        self.assertEqual([b["native_id"] for b in self.sink.bodies()],
                         ["109400000000000301", "109400000000000302", "109400000000000303"])
        self.assertTrue(self.sink.bodies()[1]["text"].startswith("CW: chiffres non publiés\n\n"))
        d.stop()
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille_later.json"))
        before = len(self.server.requests)
        d.start()
        wait_until(lambda: len(self.sink.bodies()) >= 5, 15, "the two later items")
        first_after_restart = [r for r in self.server.requests[before:] if r.path.startswith("/api/v1/timelines")][0]
        self.assertEqual(first_after_restart.query.get("min_id"), "109400000000000303")
        polls = len(self.server.seen("GET", "/api/v1/timelines/tag/veille"))
        wait_until(lambda: len(self.server.seen("GET", "/api/v1/timelines/tag/veille")) >= polls + 2, 10, "more polls")
        self.assertEqual([b["native_id"][-3:] for b in self.sink.bodies()], ["301", "302", "303", "304", "305"])

    def test_a_message_routed_to_mastodon_is_posted_with_its_fields(self):
        inbox = free_port()
        d = self.daemon(config(self.server.url, "post_visibility: unlisted", inbox_port=inbox))
        post_hook(inbox, {"text": "RivalCorp ouvre à Lyon #veille", "author": "alice", "language": "fr"})
        wait_until(lambda: self.server.statuses, 15, "a status posted")
        req = self.server.seen("POST", "/api/v1/statuses")[0]
        self.assertEqual(req.headers["authorization"], f"Bearer {TOKEN}")
        self.assertTrue(req.headers.get("idempotency-key"))
        self.assertEqual(req.headers["content-type"], "application/json")
        self.assertEqual(req.json(), {"status": "RivalCorp ouvre à Lyon #veille", "language": "fr",
                                      "visibility": "unlisted"})
        wait_until(lambda: d.metric("relais_plugin_statuses_sent", instance="masto") == 1, 10, "the sent metric")

    def test_a_429_is_retried_after_the_rate_limit_reset_and_then_posted_once(self):
        inbox = free_port()
        reset = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2))
        reset_at = time.monotonic() + 2
        self.server.fail_next("POST", "/api/v1/statuses", 429, payload("error_rate_limited.json"),
                              {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
        d = self.daemon(config(self.server.url, "post_visibility: public", inbox_port=inbox))
        post_hook(inbox, {"text": "after the limit"})
        wait_until(lambda: self.server.statuses, 20, "the status posted after the 429")
        attempts = self.server.seen("POST", "/api/v1/statuses")
        self.assertEqual(len(attempts), 2)
        self.assertEqual(attempts[0].headers["idempotency-key"], attempts[1].headers["idempotency-key"])
        self.assertGreater(attempts[1].at, reset_at - 0.3)  # not before X-RateLimit-Reset (the backoff is 100ms)
        self.assertIn("Too many requests", d.logs())
        self.assertEqual(len(self.server.statuses), 1)

    def test_a_refused_post_fails_with_the_servers_message(self):
        inbox = free_port()
        d = self.daemon(config(self.server.url, "post_visibility: public", inbox_port=inbox))
        post_hook(inbox, {"text": "x" * 600})
        wait_until(lambda: "Text character limit of 500 exceeded" in d.logs(), 15, "the validation error in the log")
        self.assertEqual(len(self.server.seen("POST", "/api/v1/statuses")), 1)  # a 422 is not retried

        def dead_letters():
            status, _, body = http("GET", d.admin("/api/v1/deadletters"))
            self.assertEqual(status, 200)
            return body.decode()
        # The log line comes with the failure; the dead letter is written by the outbox's next commit.
        wait_until(lambda: "Text character limit of 500 exceeded" in dead_letters(), 10,
                   lambda: f"the dead letter with the server's message (dead letters: {dead_letters()})")

    def test_malformed_payloads_are_logged_and_skipped_and_later_items_still_flow(self):
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille.json"))
        with open(os.path.join(SOURCE_DIR, "plugins/mastodon/tests/payloads/truncated_page.json"), "rb") as f:
            self.server.raw_pages["/api/v1/timelines/tag/veille"] = f.read()
        d = self.daemon(config(self.server.url, "hashtags: [veille], streaming: true", self.sink.url))
        wait_until(lambda: len(self.sink.bodies()) == 3, 15, "the page read again after the malformed one")
        self.assertIn("not valid JSON", d.logs())
        wait_until(lambda: self.server.open_streams("hashtag:veille") == 1, 10, "the hashtag stream")
        # A broken item among good ones, by polling; then a broken event, then a good one, by streaming.
        self.server.add_tag_statuses("veille", [s for s in payload("timeline_tag_malformed_item.json")])
        wait_until(lambda: len(self.sink.bodies()) == 4, 15, "the good item next to the broken one")
        self.assertIn("status 109400000000000310", d.logs())
        self.server.push("hashtag:veille", "update", "{\"id\": \"109400000000000400\", \"content\": ")
        live = dict(payload("timeline_tag_veille_later.json")[0], id="109400000000000401")
        self.server.push("hashtag:veille", "update", live)
        wait_until(lambda: len(self.sink.bodies()) == 5, 10, "the live item after the broken event")
        self.assertEqual(self.sink.bodies()[4]["native_id"], "109400000000000401")
        self.assertIn("malformed update event", d.logs())
        self.assertTrue(d.running())

    def test_streaming_relays_live_statuses_edits_and_deletes(self):
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille.json"))
        self.server.notifications = payload("notifications_mentions.json")[1:]
        d = self.daemon(config(self.server.url, "hashtags: [veille], mentions: true, streaming: true, interval: 1h",
                               self.sink.url))
        wait_until(lambda: len(self.sink.bodies()) == 4, 15, "the catch-up of both streams")
        wait_until(lambda: self.server.open_streams("hashtag:veille") == 1 and self.server.open_streams("user") == 1,
                   10, "both streams")
        self.assertEqual(self.server.seen("GET", "/api/v1/streaming/user")[0].headers["authorization"],
                         f"Bearer {TOKEN}")
        later = payload("timeline_tag_veille_later.json")
        self.server.push("hashtag:veille", "update", later[1])
        wait_until(lambda: len(self.sink.bodies()) == 5, 10, "a live status")
        self.server.push("hashtag:veille", "status.update", payload("status_edited.json"))
        wait_until(lambda: len(self.sink.bodies()) == 6, 10, "an edit")
        edit = self.sink.bodies()[5]
        self.assertEqual((edit["kind"], edit["reply_to"]), ("edit", "109400000000000303"))
        self.assertEqual(edit["text"], "Quarterly numbers are out (corrected) #veille")
        self.server.push("hashtag:veille", "delete", "109400000000000304")
        wait_until(lambda: len(self.sink.bodies()) == 7, 10, "a delete")
        self.assertEqual((self.sink.bodies()[6]["kind"], self.sink.bodies()[6]["reply_to"]),
                         ("delete", "109400000000000304"))
        mention = payload("notifications_mentions.json")[0]
        self.server.push("user", "update", later[0])  # the home timeline: not watched
        self.server.push("user", "notification", mention)
        wait_until(lambda: len(self.sink.bodies()) == 8, 10, "a live mention")
        self.assertEqual(self.sink.bodies()[7]["native_id"], "109400000000000203")
        time.sleep(0.5)
        self.assertEqual(len(self.sink.bodies()), 8)
        # The first poll and the catch-up when the stream opened; with interval 1h, no other.
        self.assertEqual(len(self.server.seen("GET", "/api/v1/timelines/tag/veille")), 2)

    def test_a_server_that_vanishes_and_comes_back_loses_nothing(self):
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille.json"))
        d = self.daemon(config(self.server.url, "hashtags: [veille], streaming: true", self.sink.url))
        wait_until(lambda: len(self.sink.bodies()) == 3, 15, "the first items")
        wait_until(lambda: self.server.open_streams("hashtag:veille") == 1, 10, "the stream")
        self.server.stop()
        wait_until(lambda: "the #veille stream" in d.logs() and "tried again at the next poll" in d.logs(), 15,
                   "the outage in the log")
        self.assertEqual(http("GET", d.admin("/healthz"))[0], 200)
        self.server.add_tag_statuses("veille", payload("timeline_tag_veille_later.json"))
        self.server.start()
        wait_until(lambda: len(self.sink.bodies()) == 5, 20, "what was said during the outage")
        wait_until(lambda: self.server.open_streams("hashtag:veille") == 1, 15, "the stream back")
        self.server.push("hashtag:veille", "update", dict(payload("timeline_tag_veille_later.json")[0],
                                                          id="109400000000000306"))
        wait_until(lambda: len(self.sink.bodies()) == 6, 10, "a live item after the outage")
        self.assertEqual([b["native_id"][-3:] for b in self.sink.bodies()], ["301", "302", "303", "304", "305", "306"])

    def test_an_invalid_token_is_reported_clearly(self):
        d = self.daemon(config(self.server.url, "mentions: true", self.sink.url).replace(f"token: {TOKEN}",
                                                                                         "token: wrong"))
        wait_until(lambda: "The access token is invalid" in d.logs(), 15, "the 401 in the log")
        self.assertIn("check `token`", d.logs())
        self.assertTrue(d.running())


if __name__ == "__main__":
    unittest.main()
