// charset.hpp — bytes of a feed in its declared encoding → UTF-8, before the XML parser sees them.
#pragma once

#include <string>
#include <string_view>

namespace relais::rss {

// The encoding named in an XML declaration (`<?xml version="1.0" encoding="..."?>`), lower-cased, or empty.
std::string xml_declared_encoding(std::string_view body);

// True when the buffer starts with a UTF-16/UTF-32 byte order mark or looks like UTF-16/32 ("<\0?\0"):
// pugixml detects and converts those itself.
bool looks_like_utf16_or_32(std::string_view body);

// Windows-1252 (and ISO-8859-1, which feeds declare when they mean Windows-1252) to UTF-8.
std::string cp1252_to_utf8(std::string_view bytes);

// Any encoding glibc's iconv knows to UTF-8. Returns false when the encoding is unknown or the bytes are invalid.
bool iconv_to_utf8(std::string_view bytes, const std::string &encoding, std::string &out);

// Makes a buffer valid UTF-8: every byte that is not part of a valid sequence is read as Windows-1252 (the usual
// mistake: a feed that says UTF-8 and is not, or mixes the two).
std::string repair_utf8(std::string_view bytes);

// The charset parameter of a Content-Type header ("text/xml; charset=ISO-8859-1" → "iso-8859-1"), or empty.
std::string content_type_charset(std::string_view content_type);

// Converts a feed's bytes to UTF-8 using its XML declaration, else `http_charset` (from the Content-Type), else
// UTF-8. UTF-16/32 are left to the XML parser (see above).
// Throws std::runtime_error for an encoding that cannot be converted.
std::string feed_to_utf8(std::string_view body, const std::string &http_charset = {});

} // namespace relais::rss
