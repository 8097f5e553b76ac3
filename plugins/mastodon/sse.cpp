// sse.cpp — the event-stream line rules: CR, LF or CRLF ends a line; ':' starts a comment; a blank line dispatches.
#include "sse.hpp"

namespace relais::mastodon {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
    std::vector<SseEvent> out;
    for (char c : bytes) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (c == '\n') continue;
        }
        if (c == '\r' || c == '\n') {
            skip_lf_ = c == '\r';
            if (overlong_)
                overlong_ = false;
            else
                line(partial_, out);
            partial_.clear();
            continue;
        }
        if (overlong_) continue;
        if (partial_.size() >= max_line_) {
            partial_.clear();
            overlong_ = true;
            ++dropped_;
            continue;
        }
        partial_ += c;
    }
    return out;
}

void SseParser::line(std::string_view l, std::vector<SseEvent> &out) {
    if (l.empty()) {
        if (has_data_) out.push_back(std::move(current_));
        current_ = SseEvent{};
        has_data_ = false;
        return;
    }
    if (l.front() == ':') return; // a comment: Mastodon's heartbeat
    size_t colon = l.find(':');
    std::string_view field = l.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
        current_.event = value.empty() ? "message" : std::string(value);
    } else if (field == "data") {
        if (has_data_) current_.data += '\n';
        current_.data.append(value);
        has_data_ = true;
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) current_.id = std::string(value);
    }
    // `retry` and unknown fields are ignored: the connector keeps its own reconnection delay.
}

} // namespace relais::mastodon
