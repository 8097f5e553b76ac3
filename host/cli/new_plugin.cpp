// `relais new-plugin NAME [--lang cpp|python] [--dir D]`: writes a ready-to-build plugin project outside the Relais
// tree. C++: a connector, CMake with find_package(relais), a README and a Catch2 test driving it through FakeHost.
// Python: an out-of-process plugin (docs/protocol.md) and its manifest.
#include "cli/commands.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace relais {
namespace {

const char *const cpp_cmake = R"~~(# @NAME@ — a Relais connector, built against an installed Relais SDK:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/relais/is/installed
#   cmake --build build && (cd build && ctest) && cmake --install build
cmake_minimum_required(VERSION 3.16)
project(relais-@NAME@ VERSION 0.1.0 LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

find_package(relais CONFIG REQUIRED)
# Builds relais-@NAME@.so; `cmake --install` puts it where the installed host looks for plugins.
relais_add_plugin(@NAME@ SOURCES src/plugin.cpp)

include(CTest)
if(BUILD_TESTING)
  find_package(Catch2 REQUIRED)
  # The test compiles the plugin's source and drives it through the real ABI with relais::testing::FakeHost.
  add_executable(test-@NAME@ tests/plugin_test.cpp src/plugin.cpp)
  if(TARGET Catch2::Catch2WithMain)
    target_link_libraries(test-@NAME@ PRIVATE relais::sdk Catch2::Catch2WithMain)
  else()
    target_link_libraries(test-@NAME@ PRIVATE relais::sdk Catch2::Catch2)
    target_compile_definitions(test-@NAME@ PRIVATE CATCH_CONFIG_MAIN)
  endif()
  include(Catch)
  catch_discover_tests(test-@NAME@)
endif()
)~~";

const char *const cpp_plugin = R"~~(// @NAME@ — a Relais connector. Start here: docs/plugin-guide.md of Relais explains every piece.
//
// As a sink it writes each message it is given to the host's log, after a prefix.
// As a source it emits a heartbeat message every `heartbeat` (off by default).
#include <relais/plugin.hpp>

class @CLASS@ : public relais::Plugin {
public:
    // Read and check the config here; throw relais::ConfigError for a bad value. Do not connect: `relais check`
    // constructs plugins too. Connect in start().
    explicit @CLASS@(relais::Host &host)
        : Plugin(host), prefix_(host.config_string("prefix")), heartbeat_ms_(host.config_duration_ms("heartbeat", 0)) {
        if (prefix_.size() > 100) throw relais::ConfigError("prefix", "is longer than 100 characters; shorten it");
    }

    void start() override {
        if (heartbeat_ms_ > 0)
            host().timer_start(heartbeat_ms_, heartbeat_ms_, [this] {
                relais::Message m;
                m.channel = "heartbeat";
                m.text = "@NAME@ is alive";
                if (host().emit(m) != RELAIS_OK) host().log_warn("the host did not accept the heartbeat; next time");
            });
    }

    // Called for one destination from one host thread at a time. Answer ok (with the network's id), retry (a
    // temporary failure; the host tries again) or failed (permanent; the host keeps it as a dead letter).
    relais::DeliverResult deliver(const relais::Message &, const relais::Delivery &d) override {
        if (d.rendered.empty()) return relais::DeliverResult::failed("nothing to write: the message is empty");
        host().log_info(prefix_ + d.rendered);
        host().counter_add("delivered");
        return relais::DeliverResult::ok("@NAME@-" + std::to_string(++count_));
    }

    void stop() override {} // timers are cancelled by the SDK after this returns

private:
    std::string prefix_;
    uint64_t heartbeat_ms_;
    uint64_t count_ = 0;
};

// The config keys: the one declaration the host checks configs against and `relais plugins --keys` prints.
static const relais_config_key @SNAKE@_keys[] = {
    {"prefix", RELAIS_CONFIG_STRING, "@NAME@: ", 0, "written before each message in the log"},
    {"heartbeat", RELAIS_CONFIG_DURATION, "0", 0, "emit a heartbeat message this often (0: never)"},
};

RELAIS_PLUGIN(@CLASS@, "@NAME@", "0.1.0", "Logs what it is given; emits a heartbeat if asked",
              RELAIS_CAP_SOURCE | RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, @SNAKE@_keys)
)~~";

const char *const cpp_test = R"~~(// Drives the plugin through the real C ABI with the SDK's FakeHost: no daemon needed.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif

#include <relais/testing/fake_host.hpp>

extern "C" const relais_plugin_info *relais_plugin_entry(void);

using relais::testing::FakeHost;

TEST_CASE("a delivery is written to the log with the prefix") {
    FakeHost host(relais_plugin_entry(), {{"prefix", "> "}});
    host.start();
    relais::Message m;
    m.text = "hello";
    auto result = host.deliver(m);
    CHECK(result.status == RELAIS_DELIVERED);
    CHECK(result.native_id == "@NAME@-1");
    REQUIRE(host.logs().size() == 1);
    CHECK(host.logs()[0].second == "> hello");
    CHECK(host.metric("delivered") == 1);
}

TEST_CASE("an empty message is refused for good") {
    FakeHost host(relais_plugin_entry(), {});
    host.start();
    CHECK(host.deliver(relais::Message{}).status == RELAIS_FAILED);
}

TEST_CASE("the heartbeat is emitted on each timer tick") {
    FakeHost host(relais_plugin_entry(), {{"heartbeat", "1m"}});
    host.start();
    host.run_timers();
    REQUIRE(host.emitted().size() == 1);
    CHECK(host.emitted()[0].text == "@NAME@ is alive");
}

TEST_CASE("a bad config is refused with the key's name") {
    FakeHost::Config bad{{"heartbeat", "soon"}};
    CHECK_THROWS_WITH(FakeHost(relais_plugin_entry(), bad),
                      "create failed: heartbeat: expected a duration such as 30s, 5m or 1h, got \"soon\"");
}
)~~";

const char *const cpp_readme = R"~~(# @NAME@

A Relais connector, as written by `relais new-plugin @NAME@`: a sink that writes each message to the host's log
after a prefix, and a source that emits a heartbeat when asked. Replace it with your network's client.

## Build, test, install

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=/where/relais/is/installed   # finds relais::sdk and relais_add_plugin()
cmake --build build
(cd build && ctest --output-on-failure)
cmake --install build --prefix /where/relais/is/installed          # → lib/relais/plugins/relais-@NAME@.so
```

`relais plugins` then lists `@NAME@`. Without installing, point the host at the build folder:
`relais run -c relais.yaml --plugin-dir build`.

## Config keys

| Key | Type | Default | Description |
|---|---|---|---|
| `prefix` | string | `@NAME@: ` | written before each message in the log |
| `heartbeat` | duration | `0` | emit a heartbeat message this often (0: never) |

```yaml
plugins:
  - id: my-@NAME@
    use: @NAME@
    config: { prefix: "seen: ", heartbeat: 1m }
```

The test (`tests/plugin_test.cpp`) drives the plugin through the real ABI with `relais::testing::FakeHost`.
To run it in its own process, so a crash cannot take the host down, add `isolate: true` to its instance.
)~~";

const char *const py_manifest = R"~~({
  "name": "@NAME@",
  "version": "0.1.0",
  "description": "Logs what it is given (an out-of-process plugin in Python)",
  "command": ["python3", "@SNAKE@.py"],
  "capabilities": ["sink"],
  "default_level": "internal",
  "config": [
    {"name": "prefix", "type": "string", "default": "@NAME@: ", "description": "written before each message in the log"}
  ]
}
)~~";

const char *const py_script = R"~~(#!/usr/bin/env python3
"""@NAME@: a Relais plugin that runs as its own process and speaks the protocol of Relais's docs/protocol.md:
one JSON object per line on stdin/stdout. Standard library only. Write nothing else to stdout."""
import json
import sys
import threading

out_lock = threading.Lock()


def send(obj):
    with out_lock:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def log(text, level="info"):
    send({"op": "log", "level": level, "text": text})


class Plugin:
    def __init__(self, config):
        self.prefix = config.get("prefix", "@NAME@: ")
        self.count = 0

    def start(self):
        pass  # connect to your network here

    def deliver(self, message, delivery):
        self.count += 1
        log(self.prefix + delivery.get("rendered", ""))
        return {"status": "ok", "native_id": f"@NAME@-{self.count}"}

    def stop(self):
        pass


def main():
    plugin = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if "reply" in req:
            continue  # answers to our own requests (emit, kv_get...): this plugin sends none
        op, reply = req.get("op"), {"ok": True}
        try:
            if op == "create":
                plugin = Plugin(req.get("config", {}))
            elif op == "start":
                plugin.start()
            elif op == "deliver":
                reply = plugin.deliver(req["message"], req.get("delivery", {}))
            elif op == "stop":
                plugin.stop()
            else:
                reply = {"ok": False, "error": f"unknown op {op}"}
        except Exception as e:
            reply = {"status": "retry", "error": str(e)} if op == "deliver" else {"ok": False, "error": str(e)}
        if "id" in req:
            send(dict(reply, reply=req["id"]))


if __name__ == "__main__":
    main()
)~~";

const char *const py_readme = R"~~(# @NAME@

A Relais plugin in Python, as written by `relais new-plugin @NAME@ --lang python`. It runs as its own process and
talks to the host over stdin/stdout (see docs/protocol.md of Relais): the host starts it, restarts it if it dies,
and redelivers what it had not acknowledged.

## Try it

```sh
relais plugins --plugin-dir .          # lists @NAME@ (read from relais-@NAME@.plugin.json)
relais run -c relais.yaml --plugin-dir .
```

Or copy this folder's two files (`relais-@NAME@.plugin.json`, `@SNAKE@.py`) into `<prefix>/lib/relais/plugins`.

## Config keys

| Key | Type | Default | Description |
|---|---|---|---|
| `prefix` | string | `@NAME@: ` | written before each message in the log |

```yaml
plugins:
  - id: my-@NAME@
    use: @NAME@
    config: { prefix: "seen: " }
```
)~~";

std::string fill(std::string text, const std::string &name) {
    std::string snake = name, camel;
    for (char &c : snake)
        if (c == '-') c = '_';
    bool up = true;
    for (char c : name) {
        if (c == '-') {
            up = true;
            continue;
        }
        camel += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        up = false;
    }
    if (!camel.empty() && std::isdigit(static_cast<unsigned char>(camel[0]))) camel = "Plugin" + camel;
    const std::vector<std::pair<std::string, std::string>> subs = {{"@NAME@", name}, {"@CLASS@", camel},
                                                                   {"@SNAKE@", snake}};
    for (const auto &[from, to] : subs)
        for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
            text.replace(at, from.size(), to);
    return text;
}

} // namespace

int cmd_new_plugin(const std::string &name, const std::string &lang, const std::string &dir_option) {
    static const std::regex pattern("[a-z][a-z0-9-]*");
    if (!std::regex_match(name, pattern)) {
        std::fprintf(stderr, "relais new-plugin: '%s' is not a valid plugin name: use lower-case letters, digits "
                             "and -, starting with a letter (e.g. my-chat)\n", name.c_str());
        return 2;
    }
    if (lang != "cpp" && lang != "python") {
        std::fprintf(stderr, "relais new-plugin: --lang %s is not known: write cpp or python\n", lang.c_str());
        return 2;
    }
    fs::path dir = dir_option.empty() ? fs::path(name) : fs::path(dir_option);
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
        std::fprintf(stderr, "relais new-plugin: %s exists and is not empty: choose another --dir\n", dir.c_str());
        return 1;
    }
    std::string snake = fill("@SNAKE@", name);
    std::vector<std::pair<std::string, const char *>> files;
    if (lang == "cpp")
        files = {{"CMakeLists.txt", cpp_cmake}, {"src/plugin.cpp", cpp_plugin}, {"tests/plugin_test.cpp", cpp_test},
                 {"README.md", cpp_readme}};
    else
        files = {{"relais-" + name + ".plugin.json", py_manifest}, {snake + ".py", py_script}, {"README.md", py_readme}};
    for (const auto &[rel, text] : files) {
        fs::path path = dir / rel;
        fs::create_directories(path.parent_path(), ec);
        std::ofstream out(path);
        out << fill(text, name);
        if (!out) {
            std::fprintf(stderr, "relais new-plugin: cannot write %s\n", path.c_str());
            return 1;
        }
        std::printf("wrote %s\n", path.c_str());
    }
    if (lang == "python") fs::permissions(dir / (snake + ".py"), fs::perms::owner_exec | fs::perms::group_exec |
                                              fs::perms::others_exec, fs::perm_options::add, ec);
    if (lang == "cpp")
        std::printf("next: cmake -S %s -B %s/build -DCMAKE_PREFIX_PATH=<relais prefix> && cmake --build %s/build && "
                    "(cd %s/build && ctest)\n", dir.c_str(), dir.c_str(), dir.c_str(), dir.c_str());
    else
        std::printf("next: relais plugins --plugin-dir %s\n", dir.c_str());
    return 0;
}

} // namespace relais
