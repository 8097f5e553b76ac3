// dates.hpp — the dates feeds write (RFC 822/1123 in RSS, RFC 3339 in Atom and JSON Feed) as Unix milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace relais::rss {

// "Tue, 10 Jun 2003 04:00:00 GMT", "10 Jun 03 04:00 +0200", "Tue, 10 Jun 2003 04:00:00 EST"…
std::optional<int64_t> parse_rfc822(std::string_view s);
// "2003-12-13T18:30:02Z", "2003-12-13T18:30:02.25+01:00", "2003-12-13 18:30:02", "2003-12-13"…
std::optional<int64_t> parse_rfc3339(std::string_view s);
// Either form (what feeds actually write is a mix of both); nullopt when neither reads it.
std::optional<int64_t> parse_date(std::string_view s);

} // namespace relais::rss
