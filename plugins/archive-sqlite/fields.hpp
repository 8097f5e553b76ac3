// fields.hpp — how the message's list fields are kept in the archive's text columns (JSON), and the form of the
// tags the full-text index reads ("#veille #archive").
#pragma once

#include <relais/message.hpp>

#include <string>
#include <utility>
#include <vector>

namespace relais::archive_sqlite {

std::string strings_to_json(const std::vector<std::string> &items);
std::vector<std::string> strings_from_json(const std::string &text);

std::string attachments_to_json(const std::vector<Attachment> &items);
std::vector<Attachment> attachments_from_json(const std::string &text);

std::string metadata_to_json(const std::vector<std::pair<std::string, std::string>> &items);
std::vector<std::pair<std::string, std::string>> metadata_from_json(const std::string &text);

// "#veille #archive": each tag with its '#', so a snippet shows "#[veille]" when a tag matched.
std::string tag_words(const std::vector<std::string> &tags);

} // namespace relais::archive_sqlite
