"""The rss plugin as a watch tool: messy feeds on a real HTTP server, watch themes, cross-feed dedupe, a hung feed."""
import socket
import threading
import time
import unittest
from http import server as http_server

from harness import Daemon, Sink, http, wait_until

CONFIG = """
host:
  data_dir: @DATA@
  admin: { listen: 127.0.0.1:@ADMIN@ }
  delivery: { retry_backoff: 50ms }
plugins:
  - id: news
    use: rss
    config:
      timeout: 1s
      feeds:
        - { url: "@FEEDS@/alerts.xml", name: alerts, interval: 1s }
        - { url: "@FEEDS@/press.xml", name: press, interval: 2s }
        - { url: "@HANG@/never.xml", name: stuck-feed, interval: 1s }
  - id: team
    use: webhook
    level: internal
    config: { url: "@TEAM@", format: json }
themes:
  - name: hydrogen
    keywords: [hydrogène, "pile à combustible"]
    language: fr
    from: [news]
    to: team/veille-energie
    owner: "@marie"
  - name: competitors
    keywords: [rivalcorp]
    to: team/concurrents
    owner: paul
"""

# Served as ISO-8859-1 with the charset only in the Content-Type (no encoding in the XML declaration): HTML in a
# title, a relative link, CDATA, no dates, a guid used twice.
ALERTS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Alertes</title><link>/</link><language>fr</language>
<item><guid isPermaLink="false">alert-1</guid>
  <title>Record pour l&apos;&lt;b&gt;hydrogène&lt;/b&gt; vert</title>
  <link>/articles/h2-record?utm_source=alerts&amp;utm_medium=rss</link>
  <description><![CDATA[<p>Une usine d'<i>électrolyse</i> à Lyon</p>]]></description></item>
<item><guid isPermaLink="false">alert-1</guid><title>Copie avec le même guid : hydrogène</title>
  <link>/articles/copie</link></item>
<item><guid isPermaLink="false">alert-2</guid><title>Météo du jour</title><link>/articles/meteo</link></item>
</channel></rss>
""".encode("iso-8859-1")

# Declares windows-1252 in its XML prolog (with a euro sign and curly quotes); carries the same article as the
# alerts under another guid and a link that differs only by scheme, www, tracking parameters and fragment.
PRESS = """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0"><channel><title>Revue de presse</title><link>https://presse.example/</link>
<language>fr-FR</language>
<item><guid>press-9</guid><title>“Record” pour l'hydrogène vert</title>
  <link>@BASE@/articles/h2-record?utm_campaign=press#comments</link>
  <pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
<item><guid>press-10</guid><title>RivalCorp investit 5 M€ dans une pile à combustible</title>
  <link>@BASE@/articles/rivalcorp</link><pubDate>Wed, 11 Jun 2025 04:00:00 GMT</pubDate></item>
</channel></rss>
"""


class FeedServer:
    """Serves the two feeds with ETags (a conditional GET gets a 304) and counts requests per path."""

    def __init__(self):
        self.requests = {}
        self.not_modified = 0
        self.lock = threading.Lock()
        feeds = self

        class Handler(http_server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with feeds.lock:
                    feeds.requests[self.path] = feeds.requests.get(self.path, 0) + 1
                if self.path == "/alerts.xml":
                    body, ctype = ALERTS, "application/rss+xml; charset=ISO-8859-1"
                elif self.path == "/press.xml":
                    body = PRESS.replace("@BASE@", feeds.base).encode("cp1252")
                    ctype = "text/xml"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"%s-v1"' % self.path.strip("/")
                if self.headers.get("If-None-Match") == etag:
                    with feeds.lock:
                        feeds.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path):
        with self.lock:
            return self.requests.get(path, 0)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# What the hung server serves once it recovers.
RECOVERED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Enfin</title><language>fr</language>
<item><guid>late-1</guid><title>RivalCorp rachète un fabricant d'électrolyseurs à hydrogène</title>
<link>/articles/rachat</link></item></channel></rss>
""".encode()


class HangingServer:
    """Accepts connections and never answers (a feed that times out), until `recover()`: then serves RECOVERED."""

    def __init__(self):
        self.body = None
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted = []
        self.running = True
        self.base = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)
            if self.body is not None:
                threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(self.body) + self.body)
        except OSError:
            pass
        finally:
            conn.close()

    def recover(self):
        self.body = RECOVERED

    def close(self):
        self.running = False
        self.thread.join(5)
        for c in self.accepted:
            c.close()
        self.sock.close()


class RssWatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.team = Sink()
        cls.feeds = FeedServer()
        cls.hang = HangingServer()
        text = (CONFIG.replace("@FEEDS@", cls.feeds.base).replace("@HANG@", cls.hang.base)
                .replace("@TEAM@", cls.team.url))
        cls.daemon = Daemon(text)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.team.close()
        cls.feeds.close()
        cls.hang.close()

    def deliveries(self, channel):
        return [b for b in self.team.bodies() if b.get("delivery", {}).get("channel") == channel]

    def test_watch(self):
        # Both feeds are read, and read again conditionally (ETag → 304), several times over.
        wait_until(lambda: self.feeds.count("/press.xml") >= 3 and self.feeds.count("/alerts.xml") >= 4, 30,
                   "several polls of both feeds")
        wait_until(lambda: self.feeds.not_modified >= 3, 10, "conditional GETs answered 304")
        wait_until(lambda: len(self.deliveries("concurrents")) >= 1 and len(self.deliveries("veille-energie")) >= 2,
                   10, "the theme deliveries")
        time.sleep(1.5)  # one more poll of each feed: nothing must come twice

        energy = [b["rendered"] for b in self.deliveries("veille-energie")]
        record = [r for r in energy if "Record" in r]
        # The article is in both feeds: relayed once, with the owner mentioned and the theme named.
        self.assertEqual(len(record), 1, energy)
        self.assertTrue(record[0].startswith("@marie [hydrogen] "), record[0])
        # Decoded from ISO-8859-1 or windows-1252, HTML stripped from the title, the relative link resolved.
        if "“Record”" in record[0]:  # the press feed's copy came first
            self.assertIn("“Record” pour l'hydrogène vert", record[0])
        else:
            self.assertIn("Record pour l'hydrogène vert — Une usine d'électrolyse à Lyon", record[0])
            self.assertNotIn("<", record[0])
        self.assertIn(self.feeds.base + "/articles/h2-record", record[0])
        # Both themes see the item that has both keywords, each in its room with its owner.
        self.assertTrue(any("RivalCorp investit 5 M€ dans une pile à combustible" in r for r in energy), energy)
        competitors = [b["rendered"] for b in self.deliveries("concurrents")]
        self.assertEqual(len(competitors), 1, competitors)
        self.assertTrue(competitors[0].startswith("@paul [competitors] RivalCorp"), competitors[0])
        self.assertTrue(competitors[0].endswith(self.feeds.base + "/articles/rivalcorp"), competitors[0])
        # The guid used twice in one feed is one item (the first), and what matches no theme goes nowhere.
        self.assertFalse(any("Copie avec le même guid" in r for r in energy), energy)
        self.assertFalse(any("Météo" in b["rendered"] for b in self.team.bodies()))
        # Every delivery is unique.
        self.assertEqual(len(self.team.bodies()), 3, [b["rendered"] for b in self.team.bodies()])

        # The hung feed: named in a clear error, logged once (not at every retry), while the others flowed.
        # Polls of one feed never overlap: a third connection means the second attempt has timed out.
        wait_until(lambda: len(self.hang.accepted) >= 3, 20, "the stuck feed to time out twice")
        logs = self.daemon.logs()
        errors = [l for l in logs.splitlines() if "stuck-feed" in l and "timed out" in l]
        self.assertEqual(len(errors), 1, logs)
        self.assertIn("waiting for the response", errors[0])
        self.assertIn("next try in", errors[0])
        self.assertTrue(self.daemon.running())
        self.assertEqual(http("GET", self.daemon.admin("/healthz"))[0], 200)

        # Nothing is lost: once the feed answers, its item comes through (after the backoff) and the recovery is
        # logged once.
        self.hang.recover()
        wait_until(lambda: len(self.deliveries("concurrents")) >= 2, 30, "the recovered feed's item")
        time.sleep(1.5)
        late = [b["rendered"] for b in self.team.bodies() if "rachète" in b["rendered"]]
        self.assertEqual(sorted(late), sorted([
            "@marie [hydrogen] RivalCorp rachète un fabricant d'électrolyseurs à hydrogène "
            + self.hang.base + "/articles/rachat",
            "@paul [competitors] RivalCorp rachète un fabricant d'électrolyseurs à hydrogène "
            + self.hang.base + "/articles/rachat"]))
        logs = self.daemon.logs()
        self.assertEqual(logs.count('feed "stuck-feed" (' + self.hang.base + "/never.xml) is readable again"), 1, logs)
        self.assertEqual(len([l for l in logs.splitlines() if "stuck-feed" in l and "timed out" in l]), 1, logs)


if __name__ == "__main__":
    unittest.main()
