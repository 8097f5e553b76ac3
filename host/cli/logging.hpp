#pragma once
#include <string>
namespace relais {
// Logs to stderr, as human-readable lines or as JSON lines (one object per line, message escaped).
void setup_logging(const std::string &level, const std::string &format);
}
