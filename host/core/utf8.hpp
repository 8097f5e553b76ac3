// UTF-8 checks for text that comes from the outside.
#pragma once

#include <relais/message.hpp>

#include <string>
#include <string_view>

namespace relais {
bool valid_utf8(std::string_view s);
// Where the first invalid sequence starts, or std::string_view::npos.
size_t first_invalid_utf8(std::string_view s);
// Replaces each invalid sequence with U+FFFD, so nothing downstream chokes on it and nothing else is lost.
std::string repair_utf8(std::string_view s);
// The same in every string a plugin sets in a message: what the host stores or shows as JSON must read back.
void repair_utf8(Message &m);
} // namespace relais
