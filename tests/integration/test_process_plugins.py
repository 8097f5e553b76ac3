"""Out-of-process plugins: the Python example through a running host, supervision with no message lost, and a
library plugin run isolated (`isolate: true`)."""
import json
import os
import queue
import subprocess
import threading
import unittest

from harness import PLUGIN_DIR, RELAIS, SOURCE_DIR, Daemon, Sink, free_port, http, relais, scratch_dir, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_ECHO = os.path.join(SOURCE_DIR, "examples/python-echo")
FIXTURES = os.path.join(HERE, "process-plugins")

ECHO_CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 50ms }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: echo
    use: python-echo
    config: { port: @ECHO@, prefix: "python got: " }
  - id: team
    use: webhook
    level: internal
    config: { url: "@TEAM@", format: json }
routes:
  - name: to-python
    from: inbox
    do: [{ relay: { to: echo } }]
  - name: from-python
    from: echo
    do: [{ relay: { to: team } }]
"""

CRASH_CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 20ms, retry_max_backoff: 200ms, max_attempts: 1000 }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: other
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @OTHER@, path: /hook }
  - id: fragile
    use: crashy
    config: { record: "@RECORD@", crash_after: 300 }
  - id: team
    use: webhook
    level: internal
    config: { url: "@TEAM@", format: json }
routes:
  - name: into-the-fragile-plugin
    from: inbox
    do: [{ relay: { to: fragile } }]
  - name: the-other-route
    from: other
    do: [{ relay: { to: team } }]
"""

ISOLATED_CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: loud
    use: shout
    isolate: true
    config: { prefix: "ISOLATED: " }
routes:
  - name: shout-it
    from: inbox
    do: [{ relay: { to: loud } }]
"""


CRASH_ONCE_CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 20ms, max_attempts: 100 }
plugins:
  - id: inbox
    use: webhook
    level: internal
    config: { listen: 127.0.0.1, port: @IN@, path: /hook }
  - id: fragile
    use: crash-once
    isolate: true
routes:
  - name: to-the-fragile-library
    from: inbox
    do: [{ relay: { to: fragile } }]
"""

def source_to_team_config(source, config=""):
    """A daemon whose only route relays the process plugin `source` (its config: `config`) to a webhook at @TEAM@."""
    return f"""
host:
  data_dir: @DATA@
  admin: {{ listen: 127.0.0.1:@ADMIN@ }}
plugins:
  - id: {source}
    use: {source}
    {config}
  - id: team
    use: webhook
    level: internal
    config: {{ url: "@TEAM@", format: json }}
routes:
  - name: out
    from: {source}
    do: [{{ relay: {{ to: team }} }}]
"""


BURST_CONFIG = source_to_team_config("burst", "config: { count: 500, batch: 100 }")
LATIN1_CONFIG = source_to_team_config("latin1")

ISOLATED_FIXTURES = os.path.join(os.environ.get("RELAIS_BUILD_DIR", ""), "tests/isolated-plugins")


def children(pid):
    """Command lines of the live child processes of `pid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    out.append(f.read().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            pass
    return out


class ProcessPlugins(unittest.TestCase):
    def test_python_plugin_receives_and_emits_through_the_host(self):
        in_port, echo_port = free_port(), free_port()
        with Sink() as team:
            text = (ECHO_CONFIG.replace("@IN@", str(in_port)).replace("@ECHO@", str(echo_port))
                    .replace("@TEAM@", team.url))
            with Daemon(text, extra_plugin_dirs=[PYTHON_ECHO]) as d:
                # Into the Python plugin: it is a sink and writes what it gets to the host's log.
                self.assertEqual(http("POST", f"http://127.0.0.1:{in_port}/hook", {"text": "hello python"})[0], 202)
                wait_until(lambda: "python got: hello python" in d.logs(), 10, "the Python plugin's log line")
                # Out of the Python plugin: what it is told is emitted and routed to the team's webhook.
                wait_until(lambda: http("POST", f"http://127.0.0.1:{echo_port}/", b"from python", timeout=2)[0] == 202,
                           10, "the Python plugin to accept a message")
                wait_until(lambda: any(b.get("text") == "from python" for b in team.bodies()), 10,
                           "the emitted message at the team's webhook")
                body = next(b for b in team.bodies() if b.get("text") == "from python")
                self.assertEqual(body.get("source"), "echo")
                self.assertEqual(body.get("network"), "python-echo")

    def test_crash_in_the_middle_of_1000_messages_loses_nothing_and_other_routes_flow(self):
        in_port, other_port = free_port(), free_port()
        record = os.path.join(scratch_dir("crashy"), "record.txt")
        with Sink() as team:
            text = (CRASH_CONFIG.replace("@IN@", str(in_port)).replace("@OTHER@", str(other_port))
                    .replace("@RECORD@", record).replace("@TEAM@", team.url))
            with Daemon(text, extra_plugin_dirs=[FIXTURES]) as d:
                hook, other = f"http://127.0.0.1:{in_port}/hook", f"http://127.0.0.1:{other_port}/hook"
                for i in range(1000):
                    self.assertEqual(http("POST", hook, {"text": f"m-{i:04d}"})[0], 202)
                    if i % 20 == 0:
                        self.assertEqual(http("POST", other, {"text": f"other-{i // 20:02d}"})[0], 202)

                def recorded():
                    if not os.path.exists(record):
                        return set()
                    with open(record) as f:
                        return set(f.read().split())
                wait_until(lambda: len(recorded()) >= 1000, 60, "all 1000 messages at the restarted plugin")
                self.assertEqual(recorded(), {f"m-{i:04d}" for i in range(1000)})
                wait_until(lambda: len(team.bodies()) >= 50, 20, "the other route's 50 messages")
                self.assertEqual(sorted(b["text"] for b in team.bodies()), [f"other-{i:02d}" for i in range(50)])
                logs = d.logs()
                self.assertIn("exited with status 3; restarting it", logs)
                self.assertIn("plugin process crashy restarted", logs)
                self.assertEqual(d.metric("relais_plugin_process_restarts", instance="fragile"), 1.0)

    def test_library_plugin_runs_isolated_in_a_child_process(self):
        in_port = free_port()
        with Daemon(ISOLATED_CONFIG.replace("@IN@", str(in_port))) as d:
            self.assertEqual(http("POST", f"http://127.0.0.1:{in_port}/hook", {"text": "far away"})[0], 202)
            wait_until(lambda: "ISOLATED: far away" in d.logs(), 10, "the isolated shout line")
            runners = [c for c in children(d.proc.pid) if "plugin-runner" in c]
            self.assertEqual(len(runners), 1, children(d.proc.pid))
            self.assertIn("relais-shout.so", runners[0])

    def test_emits_sent_without_waiting_share_commits_and_keep_their_order(self):
        with Sink() as team:
            with Daemon(BURST_CONFIG.replace("@TEAM@", team.url), extra_plugin_dirs=[FIXTURES]) as d:
                wait_until(lambda: len(team.received) >= 600, 60, "the 500 emits and the batch of 100")
                self.assertEqual([b["text"] for b in team.bodies()],
                                 [f"one-{i:04d}" for i in range(500)] + [f"batch-{i:04d}" for i in range(100)])
                wait_until(lambda: "burst: 501 answers, codes [0]" in d.logs(), 10, "an answer 0 to every emit")
                # One commit an emit would be 501 at least (deliveries' outcomes add their own).
                commits = d.metric("relais_outbox_commits_total")
                self.assertLess(commits, 400, f"{commits:.0f} commits for 501 emits")
                print(f"\n500 emits and a batch of 100 from a process: {commits:.0f} commits in all")

    def test_a_line_that_is_not_utf8_is_taken_with_replacement_characters_not_dropped(self):
        with Sink() as team:
            with Daemon(LATIN1_CONFIG.replace("@TEAM@", team.url), extra_plugin_dirs=[FIXTURES]) as d:
                wait_until(lambda: len(team.received) >= 2, 20, "both messages")
                self.assertEqual([b["text"] for b in team.bodies()], ["caf\ufffd in Latin-1", "café in UTF-8"])
                wait_until(lambda: "latin1: answers [(1, 0), (2, 0)]" in d.logs(), 10, "both emits accepted")
                self.assertNotIn("not a JSON object", d.logs())

    def test_the_runner_hands_emits_over_without_waiting_for_each_answer(self):
        # This test plays the host's side of the protocol against `relais plugin-runner` with the webhook library:
        # two posts in flight reach the host as two emits before the first is answered (emit_async over the
        # protocol), so an isolated source's messages can share commits as they do in the host.
        port = free_port()
        runner = subprocess.Popen([RELAIS, "plugin-runner", "--library", os.path.join(PLUGIN_DIR, "relais-webhook.so")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(json.loads(l)) for l in runner.stdout], daemon=True).start()

        def send(obj):
            runner.stdin.write(json.dumps(obj) + "\n")
            runner.stdin.flush()

        def next_request(what):  # what the runner asks of the host, past its logs and metrics
            while True:
                try:
                    msg = lines.get(timeout=10)
                except queue.Empty:
                    raise AssertionError(f"the runner sent no {what} within 10 s")
                if msg.get("op") not in ("log", "metric"):
                    return msg

        try:
            send({"op": "create", "id": 1, "protocol": 1, "instance": "inbox", "data_dir": scratch_dir("runner"),
                  "config": {"listen": "127.0.0.1", "port": port, "path": "/hook"}})
            self.assertEqual(next_request("answer to create"), {"reply": 1, "ok": True})
            send({"op": "start", "id": 2})
            self.assertEqual(next_request("answer to start"), {"reply": 2, "ok": True})
            statuses = []
            posts = [threading.Thread(target=lambda i=i: statuses.append(
                http("POST", f"http://127.0.0.1:{port}/hook", {"text": f"post {i}"}, timeout=20)[0])) for i in (1, 2)]
            for t in posts:
                t.start()
            emits = [next_request("first emit"), next_request("second emit, before the first was answered")]
            self.assertEqual([e["op"] for e in emits], ["emit", "emit"])
            self.assertEqual(sorted(e["message"]["text"] for e in emits), ["post 1", "post 2"])
            for e in emits:
                send({"reply": e["id"], "code": 0})
            for t in posts:
                t.join()
            self.assertEqual(statuses, [202, 202])
            send({"op": "stop", "id": 3})
            self.assertEqual(next_request("answer to stop"), {"reply": 3, "ok": True})
        finally:
            runner.stdin.close()
            try:
                runner.wait(10)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()

    def test_a_crashing_isolated_library_does_not_take_the_host_down(self):
        if not os.path.exists(os.path.join(ISOLATED_FIXTURES, "relais-crash-once.so")):
            self.skipTest("the relais-crash-once fixture is not built")
        in_port = free_port()
        with Daemon(CRASH_ONCE_CONFIG.replace("@IN@", str(in_port)), extra_plugin_dirs=[ISOLATED_FIXTURES]) as d:
            hook = f"http://127.0.0.1:{in_port}/hook"
            for text in ["before", "crash", "after"]:
                self.assertEqual(http("POST", hook, {"text": text})[0], 202)
            for text in ["before", "crash", "after"]:
                wait_until(lambda: f"crash-once got: {text}" in d.logs(), 15, f"the delivery of {text!r}")
            self.assertTrue(d.running(), "the host went down with its plugin")
            self.assertIn("was killed by signal 11; restarting it", d.logs())
            # The host still answers, and its other services run.
            self.assertEqual(http("GET", d.admin("/healthz"))[0], 200)

    def test_an_isolated_plugin_printing_to_stdout_does_not_break_the_protocol(self):
        in_port = free_port()
        config = ISOLATED_CONFIG.replace("@IN@", str(in_port)).replace("use: shout", "use: console").replace(
            '{ prefix: "ISOLATED: " }', "{ format: text, stream: stdout }")
        with Daemon(config) as d:
            for i in range(3):
                self.assertEqual(http("POST", f"http://127.0.0.1:{in_port}/hook", {"text": f"printed-{i}"})[0], 202)
            wait_until(lambda: all(f"printed-{i}" in d.logs() for i in range(3)), 10, "the console lines")
            self.assertNotIn("not a JSON object", d.logs())
            self.assertNotIn("restarting", d.logs())

    def test_bad_manifests_are_refused_with_a_reason(self):
        folder = scratch_dir("manifests")
        with open(os.path.join(folder, "relais-nocmd.plugin.json"), "w") as f:
            f.write('{"name": "nocmd", "capabilities": ["sink"]}')
        with open(os.path.join(folder, "relais-wrong.plugin.json"), "w") as f:
            f.write('{"name": "other", "command": "x", "capabilities": ["sink"]}')
        with open(os.path.join(folder, "relais-arch.plugin.json"), "w") as f:
            f.write('{"name": "arch", "command": "x", "capabilities": ["archive"]}')
        out = relais("plugins", "--plugin-dir", folder)
        text = out.stdout + out.stderr
        self.assertIn("needs \"command\"", text)
        self.assertIn("does not match the file name", text)
        self.assertIn("an archive cannot run as a process", text)

    def test_a_command_that_cannot_run_is_reported_at_start(self):
        folder = scratch_dir("missing")
        with open(os.path.join(folder, "relais-ghost.plugin.json"), "w") as f:
            f.write('{"name": "ghost", "command": "/nonexistent/ghost-plugin", "capabilities": ["sink"]}')
        config = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
plugins:
  - id: ghost
    use: ghost
"""
        d = Daemon(config, extra_plugin_dirs=[folder])
        d.start(expect_healthy=False)
        try:
            wait_until(lambda: "ghost-plugin" in d.logs(), 10, "the start error in the log")
            self.assertIn("cannot run /nonexistent/ghost-plugin", d.logs())
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()
