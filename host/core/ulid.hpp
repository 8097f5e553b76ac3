// Message ids: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32), sortable by creation time and
// strictly increasing within one process.
#pragma once

#include <string>

namespace relais {
std::string new_ulid();
}
