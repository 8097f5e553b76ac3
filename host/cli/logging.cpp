#include "cli/logging.hpp"

#include "core/utf8.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace relais {

namespace {
// %j: the log message as a JSON string body (quotes, backslashes and control characters escaped; what is not UTF-8,
// such as a server's Latin-1 error a plugin logs, as U+FFFD: a log shipper refuses the whole line otherwise).
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg &msg, const std::tm &, spdlog::memory_buf_t &dest) override {
        std::string_view text(msg.payload.data(), msg.payload.size());
        std::string repaired;
        if (!valid_utf8(text)) text = repaired = repair_utf8(text);
        for (char c : text) {
            switch (c) {
            case '"': dest.append(std::string_view("\\\"")); break;
            case '\\': dest.append(std::string_view("\\\\")); break;
            case '\n': dest.append(std::string_view("\\n")); break;
            case '\r': dest.append(std::string_view("\\r")); break;
            case '\t': dest.append(std::string_view("\\t")); break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    dest.append(std::string_view(buf));
                } else {
                    dest.push_back(c);
                }
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscapedMessage>(); }
};
} // namespace

void setup_logging(const std::string &level, const std::string &format) {
    auto logger = spdlog::stderr_color_mt("relais");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
    if (format == "json") {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JsonEscapedMessage>('j').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%j"})");
        spdlog::set_formatter(std::move(formatter));
    } else {
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    }
    spdlog::flush_on(spdlog::level::info);
}

} // namespace relais
