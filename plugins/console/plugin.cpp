// console: prints each delivery on standard output (or error), one line each, as text or JSON.
#include <relais/message_line.hpp>

#include <relais/plugin.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace relais::console {
using namespace lines;

class Console : public Plugin {
public:
    explicit Console(Host &host) : Plugin(host), format_(read_format(host)), stream_(read_stream(host)) {}

    DeliverResult deliver(const Message &m, const Delivery &d) override {
        using namespace std::chrono;
        int64_t now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        std::string line = format_line(format_, m, d, now);
        std::lock_guard lock(mutex_); // one whole line at a time, even with several instances in one process
        errno = 0;
        bool ok = std::fwrite(line.data(), 1, line.size(), stream_) == line.size();
        ok = std::fflush(stream_) == 0 && ok;
        if (!ok) {
            int err = errno;
            std::clearerr(stream_);
            host().counter_add("write_errors");
            return DeliverResult::retry(std::string("cannot write to ") + (stream_ == stdout ? "stdout" : "stderr") +
                                            ": " + (err ? std::strerror(err) : "write failed"),
                                        1000);
        }
        host().counter_add("lines_written");
        return DeliverResult::ok();
    }

private:
    static Format read_format(Host &host) {
        std::string name = host.config_string("format", "text");
        auto f = parse_format(name);
        if (!f) throw ConfigError("format", "expected text or json, got \"" + name + "\"");
        return *f;
    }
    static std::FILE *read_stream(Host &host) {
        std::string name = host.config_string("stream", "stdout");
        if (name == "stdout") return stdout;
        if (name == "stderr") return stderr;
        throw ConfigError("stream", "expected stdout or stderr, got \"" + name + "\"");
    }

    static inline std::mutex mutex_;
    Format format_;
    std::FILE *stream_;
};

} // namespace relais::console

static const relais_config_key console_keys[] = {
    {"format", RELAIS_CONFIG_STRING, "text", 0,
     "text: \"[time] network/channel author: rendered\"; json: one JSON object a line (the message, rendered and "
     "to_channel)"},
    {"stream", RELAIS_CONFIG_STRING, "stdout", 0, "where to print: stdout or stderr"},
};

RELAIS_PLUGIN(relais::console::Console, "console", "1.0.0", "Prints each delivered message as one line",
              RELAIS_CAP_SINK, RELAIS_LEVEL_INTERNAL, console_keys)
