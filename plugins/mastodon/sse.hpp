// sse.hpp — Server-Sent Events (the WHATWG event-stream format) read incrementally from arbitrary chunks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace relais::mastodon {

struct SseEvent {
    std::string event = "message"; // the `event:` field; "message" when absent
    std::string data;              // the `data:` lines joined with '\n'
    std::string id;
};

class SseParser {
public:
    // A line longer than this is dropped whole (and counted), so a server cannot make the buffer grow for ever.
    explicit SseParser(size_t max_line = 4 << 20) : max_line_(max_line) {}

    // Takes the next bytes of the stream; returns the events they complete, in order.
    std::vector<SseEvent> feed(std::string_view bytes);

    size_t dropped_lines() const { return dropped_; }

private:
    void line(std::string_view l, std::vector<SseEvent> &out);

    size_t max_line_;
    std::string partial_;
    bool skip_lf_ = false;  // the last chunk ended with '\r': a '\n' first in the next one is the same break
    bool overlong_ = false; // discarding the rest of an overlong line
    size_t dropped_ = 0;
    SseEvent current_;
    bool has_data_ = false;
};

} // namespace relais::mastodon
