"""The README's first command: `relais run` on the embedded default configuration, with no outside server."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import PLUGIN_DIR, RELAIS, SOURCE_DIR, http, wait_until


class DefaultConfig(unittest.TestCase):
    def test_the_embedded_default_watches_the_feed_and_the_webhook_relays_and_archives(self):
        cwd = tempfile.mkdtemp(prefix="relais-default-")
        shutil.copytree(os.path.join(SOURCE_DIR, "configs"), os.path.join(cwd, "configs"))
        log = open(os.path.join(cwd, "relais.log"), "w")
        cmd = [RELAIS, "run"] + (["--plugin-dir", PLUGIN_DIR] if PLUGIN_DIR else [])
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: proc.poll() is None and self._get("http://127.0.0.1:8080/healthz") == 200, 20,
                       "the default admin server on 127.0.0.1:8080")
            # The bundled feed's RivalCorp item matches a watch keyword and is printed by the console sink.
            wait_until(lambda: "RivalCorp remporte" in open(log.name).read(), 20, "the feed item on the terminal")
            self.assertNotIn("Weather", open(log.name).read())
            # The local webhook takes a tagged post; it is archived.
            status, _, _ = http("POST", "http://127.0.0.1:8081/hook",
                                {"text": "RivalCorp opens a Lyon office #veille", "author": "alice"})
            self.assertEqual(status, 202)
            wait_until(lambda: "RivalCorp opens a [Lyon] office" in self._search(cwd, "lyon"), 20,
                       "the webhook post in the archive")
            # The feed item tagged <category>archive</category> is archived too.
            self.assertIn("Relais 0.1", self._search(cwd, "bridge"))
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(20), 0)
            log.close()
        shutil.rmtree(cwd, ignore_errors=True)

    def _get(self, url):
        try:
            return http("GET", url, timeout=1)[0]
        except OSError:
            return 0

    def _search(self, cwd, words):
        cmd = [RELAIS, "archive", "search"] + (["--plugin-dir", PLUGIN_DIR] if PLUGIN_DIR else []) + [words]
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30)
        return out.stdout + out.stderr


if __name__ == "__main__":
    unittest.main()
