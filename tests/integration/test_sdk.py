"""The installed SDK: a plugin built out of tree against an installed prefix, loaded by the installed host."""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Daemon, free_port, http, wait_until

BUILD_DIR = os.environ.get("RELAIS_BUILD_DIR", "")

CONFIG = """
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
    config: { prefix: "SHOUTED: ", capitals: true }
routes:
  - name: shout-everything
    from: inbox
    do: [{ relay: { to: loud } }]
"""


def run(cmd, **kw):
    """Runs a command; fails the test with its output when it does not succeed."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited with {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def cmake_configure_args():
    """Generator and compiler launcher of the main build, so an out-of-tree build reuses ccache."""
    args = []
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    if shutil.which("ccache"):
        args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    return args


def install_prefix():
    """Installs the main build into a fresh prefix and returns it."""
    if not BUILD_DIR:
        raise unittest.SkipTest("RELAIS_BUILD_DIR is not set (run through ctest)")
    prefix = tempfile.mkdtemp(prefix="relais-prefix-")
    run(["cmake", "--install", BUILD_DIR, "--prefix", prefix])
    return prefix


class InstalledSdk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = install_prefix()
        cls.work = tempfile.mkdtemp(prefix="relais-oot-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_install_layout(self):
        p = self.prefix
        for rel in ["bin/relais", "include/relais/plugin.h", "include/relais/plugin.hpp",
                    "include/relais/message.hpp", "include/relais/testing/fake_host.hpp",
                    "lib/cmake/relais/relaisConfig.cmake", "lib/cmake/relais/relaisConfigVersion.cmake",
                    "lib/cmake/relais/RelaisPlugin.cmake", "lib/pkgconfig/relais.pc",
                    "lib/relais/plugins/relais-webhook.so"]:
            self.assertTrue(os.path.exists(os.path.join(p, rel)), rel + " is not installed")
        if shutil.which("pkg-config"):
            env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(p, "lib/pkgconfig"))
            cflags = run(["pkg-config", "--cflags", "relais"], env=env).stdout.strip()
            self.assertEqual(os.path.realpath(cflags[2:]), os.path.realpath(os.path.join(p, "include")))
            plugindir = run(["pkg-config", "--variable=plugindir", "relais"], env=env).stdout.strip()
            self.assertEqual(os.path.realpath(plugindir), os.path.realpath(os.path.join(p, "lib/relais/plugins")))

    def test_shout_built_out_of_tree_is_loaded_by_the_installed_host(self):
        plugins = os.path.join(self.prefix, "lib/relais/plugins")
        # The in-tree build of the example is installed too: take it away, so only the out-of-tree one can load.
        os.remove(os.path.join(plugins, "relais-shout.so"))
        build = os.path.join(self.work, "shout")
        run(["cmake", "-S", os.path.join(harness.SOURCE_DIR, "examples/shout"), "-B", build,
             "-DCMAKE_PREFIX_PATH=" + self.prefix, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", *cmake_configure_args()])
        run(["cmake", "--build", build])
        run(["cmake", "--install", build, "--prefix", self.prefix])
        self.assertTrue(os.path.exists(os.path.join(plugins, "relais-shout.so")))

        relais_bin = os.path.join(self.prefix, "bin/relais")
        listed = run([relais_bin, "plugins"]).stdout
        self.assertIn("shout", listed)

        in_port = free_port()
        saved = harness.RELAIS, harness.PLUGIN_DIR
        harness.RELAIS, harness.PLUGIN_DIR = relais_bin, ""  # the installed host, with its own plugin folder only
        try:
            with Daemon(CONFIG.replace("@IN@", str(in_port))) as d:
                status = http("POST", f"http://127.0.0.1:{in_port}/hook", {"text": "out of tree works", "author": "a"})
                self.assertEqual(status[0], 202)
                wait_until(lambda: "SHOUTED: OUT OF TREE WORKS" in d.logs(), 10, "the shout line in the log")
        finally:
            harness.RELAIS, harness.PLUGIN_DIR = saved

    def test_new_plugin_cpp_builds_and_passes_its_tests_against_the_installed_sdk(self):
        relais_bin = os.path.join(self.prefix, "bin/relais")
        project = os.path.join(self.work, "demo")
        run([relais_bin, "new-plugin", "demo", "--dir", project])
        for rel in ["CMakeLists.txt", "src/plugin.cpp", "tests/plugin_test.cpp", "README.md"]:
            self.assertTrue(os.path.exists(os.path.join(project, rel)), rel)
        build = os.path.join(project, "build")
        run(["cmake", "-S", project, "-B", build, "-DCMAKE_PREFIX_PATH=" + self.prefix, *cmake_configure_args()])
        run(["cmake", "--build", build])
        tests = run(["ctest", "--output-on-failure"], cwd=build).stdout
        self.assertIn("100% tests passed", tests)
        self.assertIn("out of 4", tests)
        listed = run([relais_bin, "plugins", "--plugin-dir", build]).stdout
        self.assertIn("demo", listed)
        # A second run into the same folder refuses to overwrite it.
        again = subprocess.run([relais_bin, "new-plugin", "demo", "--dir", project], capture_output=True, text=True)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("not empty", again.stderr)

    def test_new_plugin_python_is_found_and_delivered_to(self):
        relais_bin = os.path.join(self.prefix, "bin/relais")
        project = os.path.join(self.work, "pydemo")
        run([relais_bin, "new-plugin", "py-demo", "--lang", "python", "--dir", project])
        self.assertIn("py-demo", run([relais_bin, "plugins", "--plugin-dir", project]).stdout)
        in_port = free_port()
        config = CONFIG.replace("@IN@", str(in_port)).replace("use: shout", "use: py-demo").replace(
            '{ prefix: "SHOUTED: ", capitals: true }', '{ prefix: "PY: " }')
        saved = harness.RELAIS, harness.PLUGIN_DIR
        harness.RELAIS, harness.PLUGIN_DIR = relais_bin, ""
        try:
            with Daemon(config, extra_plugin_dirs=[project]) as d:
                status = http("POST", f"http://127.0.0.1:{in_port}/hook", {"text": "generated python", "author": "a"})
                self.assertEqual(status[0], 202)
                wait_until(lambda: "PY: generated python" in d.logs(), 10, "the generated plugin's log line")
        finally:
            harness.RELAIS, harness.PLUGIN_DIR = saved


if __name__ == "__main__":
    unittest.main()
