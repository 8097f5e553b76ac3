// UTF-8 checks for text that comes from the outside.
#pragma once

#include <string>
#include <string_view>

namespace relais {
bool valid_utf8(std::string_view s);
// Replaces each invalid sequence with U+FFFD, so nothing downstream chokes on it and nothing else is lost.
std::string repair_utf8(std::string_view s);
} // namespace relais
