"""Delivery that loses nothing: the real daemon, killed, restarted, facing a sink that is down, rate-limits or refuses."""
import http.client as http_client
import json
import os
import random
import re
import signal
import sqlite3
import threading
import time
import unittest

from harness import SOURCE_DIR, Daemon, Sink, free_port, http, relais, wait_until

RELAY = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 50ms, retry_max_backoff: 1s, max_attempts: @ATTEMPTS@ }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: sink
    use: webhook
    level: internal
    config: { url: "@SINK@", format: json, timeout: 5s }
routes:
  - name: everything
    from: inbox
    do: [{ relay: { to: sink } }]
"""


def relay_config(in_port, sink_url, attempts=1000):
    return (RELAY.replace("@IN@", str(in_port)).replace("@SINK@", sink_url)
            .replace("@ATTEMPTS@", str(attempts)))


class Poster:
    """Posts to the webhook over one keep-alive connection, retrying each message until it is accepted."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def post(self, payload, deadline=60.0):
        body = json.dumps(payload).encode()
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                if self.conn is None:
                    self.conn = http_client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.request("POST", "/hook", body, {"Content-Type": "application/json"})
                response = self.conn.getresponse()
                response.read()
                if response.status == 202:
                    return
                if response.status not in (503,):
                    raise AssertionError(f"webhook answered {response.status}")
            except (OSError, http_client.HTTPException):
                self.close()
            time.sleep(0.02)
        raise AssertionError(f"message {payload.get('id')} not accepted within {deadline}s")

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


def delivered_texts_by_channel(sink):
    by_channel = {}
    for b in sink.bodies():
        by_channel.setdefault(b["channel"], []).append(b["text"])
    return by_channel


class KillNine(unittest.TestCase):
    # The sender posts until the last kill is done (at most MAX_MESSAGES): every one of them must arrive once.
    MAX_MESSAGES = int(os.environ.get("RELAIS_KILL_TEST_MESSAGES", "200000"))
    KILLS = int(os.environ.get("RELAIS_KILL_TEST_KILLS", "20"))

    def test_kill_9_at_random_moments_loses_and_repeats_nothing(self):
        rng = random.Random(20261126)
        with Sink() as sink:
            in_port = free_port()
            daemon = Daemon(relay_config(in_port, sink.url))
            daemon.start()
            poster = Poster(in_port)
            done, kills_over = threading.Event(), threading.Event()
            failure, sent = [], [0]

            def send():
                try:
                    for i in range(self.MAX_MESSAGES):
                        if kills_over.is_set():
                            break
                        poster.post({"id": f"m{i}", "text": f"message {i}", "channel": f"c{i % 3}", "author": "a"})
                        sent[0] = i + 1
                except Exception as e:  # reported by the main thread
                    failure.append(e)
                finally:
                    done.set()

            sender = threading.Thread(target=send)
            sender.start()
            kills = 0
            while kills < self.KILLS and not done.is_set():
                time.sleep(rng.uniform(0.05, 0.35))
                daemon.proc.send_signal(signal.SIGKILL)
                daemon.proc.wait()
                kills += 1
                daemon.log.close()
                daemon.start()
            time.sleep(0.2)  # a few more after the last restart
            kills_over.set()
            sender.join(300)
            poster.close()
            self.assertFalse(failure, failure)
            self.assertEqual(kills, self.KILLS, "the sender finished before every kill: raise MAX_MESSAGES")
            messages = sent[0]
            wait_until(lambda: len(sink.received) >= messages, 120,
                       lambda: f"every message at the sink ({len(sink.received)} of {messages} there)")
            time.sleep(0.5)  # anything extra would arrive now
            texts = [b["text"] for b in sink.bodies()]
            self.assertEqual(len(texts), messages, "each message exactly once")
            self.assertEqual(len(set(texts)), messages)
            self.assertEqual(set(texts), {f"message {i}" for i in range(messages)})
            for channel, got in delivered_texts_by_channel(sink).items():
                numbers = [int(t.split()[1]) for t in got]
                self.assertEqual(numbers, sorted(numbers), f"order kept in {channel}")
            daemon.stop()
            print(f"\n{messages} messages, {kills} kill -9, {sink.duplicates} redelivery(ies) absorbed by the "
                  f"Idempotency-Key, 0 lost, 0 repeated")


class SinkOutage(unittest.TestCase):
    DOWN_SECONDS = float(os.environ.get("RELAIS_OUTAGE_SECONDS", "60"))

    def test_sink_down_then_rate_limiting_loses_nothing_and_honours_retry_after(self):
        sink_port = free_port()
        sink = Sink(port=sink_port, start=False)  # nothing listens yet: connection refused
        in_port = free_port()
        with Daemon(relay_config(in_port, f"http://127.0.0.1:{sink_port}/in")) as daemon:
            poster = Poster(in_port)
            for i in range(30):
                poster.post({"id": f"o{i}", "text": f"outage {i}", "channel": "c", "author": "a"})
            poster.close()
            time.sleep(self.DOWN_SECONDS)
            self.assertEqual(sink.received, [])
            self.assertGreater(daemon.metric("relais_deliveries_total", destination="sink", result="retried"), 0)
            sink.answers = [(429, {"Retry-After": "2"})] * 3
            sink.start()
            wait_until(lambda: len(sink.received) == 30, 60, "the backlog after the outage")
            self.assertEqual([b["text"] for b in sink.bodies()], [f"outage {i}" for i in range(30)])
            times = [t for t, _ in sink.attempts]
            gaps = [times[i + 1] - times[i] for i in range(3)]
            for gap in gaps:
                self.assertGreaterEqual(gap, 1.9, f"a retry came {gap:.2f}s after a 429 asking for 2s")
            print(f"\nafter 429 + Retry-After: 2, the next attempts came after {', '.join(f'{g:.2f}s' for g in gaps)}")
        sink.close()


class DeadLetters(unittest.TestCase):
    def test_a_message_that_always_fails_becomes_a_dead_letter_and_can_be_replayed(self):
        with Sink() as sink:
            in_port = free_port()
            with Daemon(relay_config(in_port, sink.url, attempts=3)) as daemon:
                sink.answers = [(400, {})] + [(500, {})] * 3
                poster = Poster(in_port)
                poster.post({"id": "d1", "text": "refused for good", "channel": "c"})
                poster.post({"id": "d2", "text": "fails three times", "channel": "c"})
                poster.post({"id": "d3", "text": "goes through", "channel": "c"})
                wait_until(lambda: len(sink.received) == 1, 20, "the third message")
                self.assertEqual(sink.bodies()[0]["text"], "goes through")

                def dead_letters():  # written by the outbox's next commit after each failure
                    listed = relais("deadletter", "list", "-c", daemon.config_path, "--json")
                    self.assertEqual(listed.returncode, 0, listed.stderr)
                    return json.loads(listed.stdout)["dead_letters"]
                dead = wait_until(lambda: (lambda d: d if len(d) == 2 else None)(dead_letters()), 10,
                                  lambda: f"two dead letters (listed: {dead_letters()})")
                self.assertIn("HTTP 400", dead[0]["error"])
                self.assertIn("gave up after 3 attempts", dead[1]["error"])

                shown = relais("deadletter", "show", str(dead[0]["id"]), "-c", daemon.config_path, "--json")
                self.assertEqual(json.loads(shown.stdout)["message"]["text"], "refused for good")

                # The sink is fixed: replay both, one by id through the CLI, the other through the admin API.
                replay = relais("deadletter", "replay", str(dead[0]["id"]), "-c", daemon.config_path)
                self.assertEqual(replay.returncode, 0, replay.stderr)
                status, _, _ = http("POST", daemon.admin(f"/api/v1/deadletters/{dead[1]['id']}/replay"), b"")
                self.assertEqual(status, 200)
                wait_until(lambda: len(sink.received) == 3, 20, "the replayed dead letters")
                self.assertEqual(sorted(b["text"] for b in sink.bodies()),
                                 ["fails three times", "goes through", "refused for good"])
                self.assertEqual(json.loads(http("GET", daemon.admin("/api/v1/deadletters"))[2])["count"], 0)


class IdsAcrossRestarts(unittest.TestCase):
    def test_an_edit_and_a_reply_after_a_restart_reach_the_right_message(self):
        with Sink() as sink:
            in_port = free_port()
            daemon = Daemon(relay_config(in_port, sink.url))
            daemon.start()
            Poster(in_port).post({"id": "orig-1", "text": "the original", "channel": "c"})
            wait_until(lambda: len(sink.received) == 1, 10, "the original")
            daemon.stop()
            daemon.log.close()
            daemon.start()
            poster = Poster(in_port)
            poster.post({"id": "reply-1", "kind": "reply", "reply_to": "orig-1", "text": "an answer", "channel": "c"})
            poster.post({"id": "edit-1", "kind": "edit", "reply_to": "orig-1", "text": "the original, edited",
                         "channel": "c"})
            wait_until(lambda: len(sink.received) == 3, 10, "the reply and the edit")
            bodies = sink.bodies()
            self.assertEqual(bodies[1]["delivery"]["reply_to"], "sink-1")
            self.assertEqual(bodies[2]["delivery"]["reply_to"], "sink-1")
            self.assertEqual(bodies[2]["kind"], "edit")
            daemon.stop()


class Room:
    """A chat room: what is posted into it is shown to its members and, like a chat server's outgoing webhook,
    sent on to Relais's inbound hook for that room."""

    def __init__(self, name):
        self.name = name
        self.sink = Sink()
        self.hook_port = free_port()
        self.shown = 0

    def watch(self):
        def forward():
            while not self.stop:
                with self.sink.lock:
                    new = self.sink.received[self.shown:]
                    self.shown += len(new)
                for i, (_, _, body) in enumerate(new):
                    b = json.loads(body)
                    http("POST", f"http://127.0.0.1:{self.hook_port}/hook",
                         {"id": f"{self.name}-echo-{self.shown - len(new) + i}", "text": b["rendered"],
                          "author": "relais-bot", "channel": self.name})
                time.sleep(0.01)
        self.stop = False
        self.thread = threading.Thread(target=forward, daemon=True)
        self.thread.start()

    def say(self, i, text):
        """A member posts in the room: the room's hook sends it to Relais."""
        status = http("POST", f"http://127.0.0.1:{self.hook_port}/hook",
                      {"id": f"{self.name}-user-{i}", "text": text, "author": "member", "channel": self.name})[0]
        assert status == 202, status

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sink.close()


class NoLoops(unittest.TestCase):
    def test_two_rooms_bridged_both_ways_do_not_echo(self):
        a, b = Room("a"), Room("b")
        config = f"""
host: {{ data_dir: @DATA@, admin: {{ listen: 127.0.0.1:@ADMIN@ }}, delivery: {{ retry_backoff: 50ms }} }}
plugins:
  - {{ id: room-a, use: webhook, level: internal, config: {{ port: {a.hook_port}, path: /hook, url: "{a.sink.url}" }} }}
  - {{ id: room-b, use: webhook, level: internal, config: {{ port: {b.hook_port}, path: /hook, url: "{b.sink.url}" }} }}
routes:
  - {{ name: a-to-b, from: room-a, do: [{{ relay: {{ to: room-b, template: "<{{author}}> {{text}}" }} }}] }}
  - {{ name: b-to-a, from: room-b, do: [{{ relay: {{ to: room-a, template: "<{{author}}> {{text}}" }} }}] }}
"""
        with Daemon(config) as daemon:
            a.watch()
            b.watch()
            for i in range(10):
                a.say(i, f"hello from a {i}")
                b.say(i, f"hello from b {i}")
            wait_until(lambda: len(a.sink.received) >= 10 and len(b.sink.received) >= 10, 20, "both rooms")
            time.sleep(1.5)  # an echo loop, if any, would show up now
            self.assertEqual(sorted(x["text"] for x in b.sink.bodies()), sorted(f"hello from a {i}" for i in range(10)))
            self.assertEqual(sorted(x["text"] for x in a.sink.bodies()), sorted(f"hello from b {i}" for i in range(10)))
            self.assertEqual(daemon.metric("relais_echoes_dropped_total"), 20)
        a.close()
        b.close()


# The outbox as a Relais before schema version 1 wrote it (tests/host/outbox-v0.sql), two deliveries waiting.
with open(os.path.join(SOURCE_DIR, "tests", "host", "outbox-v0.sql")) as f:
    OUTBOX_VERSION_0 = f.read() + """
INSERT INTO outbox VALUES (3, 'sink', 'c', 'everything', 'k3', '{"id":"m3","channel":"c","text":"waited 1"}',
  'waited 1', 0, '', 1);
INSERT INTO outbox VALUES (9, 'sink', 'c', 'everything', 'k9', '{"id":"m9","channel":"c","text":"waited 2"}',
  'waited 2', 0, '', 2);
"""


class OutboxUpgrade(unittest.TestCase):
    def write_outbox(self, daemon, script):
        os.makedirs(os.path.join(daemon.dir, "data"))
        path = os.path.join(daemon.dir, "data", "outbox.db")
        db = sqlite3.connect(path)
        db.executescript(script)
        db.close()
        return path

    def test_deliveries_waiting_in_an_earlier_outbox_leave_first_after_the_upgrade(self):
        with Sink() as sink:
            in_port = free_port()
            daemon = Daemon(relay_config(in_port, sink.url))
            path = self.write_outbox(daemon, OUTBOX_VERSION_0)
            with daemon:
                poster = Poster(in_port)
                poster.post({"id": "n1", "text": "new", "channel": "c"})
                poster.close()
                wait_until(lambda: len(sink.received) == 3, 20, "the two waiting deliveries and the new one")
                self.assertEqual([b["text"] for b in sink.bodies()], ["waited 1", "waited 2", "new"])
                self.assertIn("rewriting it once with 1024-byte pages", daemon.logs())
                daemon.stop()
                db = sqlite3.connect(path)
                self.assertEqual(db.execute("PRAGMA page_size").fetchone()[0], 1024)
                self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
                self.assertEqual(db.execute("SELECT count(*) FROM outbox").fetchone()[0], 0)
                db.close()

    def test_an_outbox_of_a_newer_relais_stops_the_start_and_says_where(self):
        daemon = Daemon(relay_config(free_port(), "http://127.0.0.1:9/in"))
        path = self.write_outbox(daemon, "PRAGMA user_version = 99;")
        daemon.start(expect_healthy=False)
        code = daemon.proc.wait(20)
        daemon.stop()
        self.assertNotEqual(code, 0)
        # Pointed at host.data_dir (line 3 of the configuration), where the folder is chosen.
        self.assertRegex(daemon.logs(), r"relais\.yaml:3:\d+: outbox " + re.escape(path) +
                         r" was written by a newer Relais \(schema 99")
        self.assertIn("1 error(s) while starting: relais did not start", daemon.logs())


if __name__ == "__main__":
    unittest.main()
