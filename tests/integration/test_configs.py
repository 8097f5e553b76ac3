"""Every configuration shipped in configs/ passes `relais check`."""
import glob
import os
import unittest

from harness import SOURCE_DIR, relais


class ShippedConfigs(unittest.TestCase):
    def test_every_shipped_configuration_is_valid(self):
        files = sorted(glob.glob(os.path.join(SOURCE_DIR, "configs", "**", "*.yaml"), recursive=True))
        self.assertGreaterEqual(len(files), 4)
        env = {"PARTNER_HOOK_SECRET": "x", "CHAT_WEBHOOK_URL": "https://chat.example/hooks/abc",
               "RELAIS_API_TOKEN": "t"}
        os.environ.update(env)
        for f in files:
            with self.subTest(config=os.path.relpath(f, SOURCE_DIR)):
                out = relais("check", "-c", f, cwd=SOURCE_DIR)
                self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
