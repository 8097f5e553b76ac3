// entities.hpp — the API's JSON entities (Status, Account, Notification, Error) as the connector reads them, and a
// status as a relais::Message. Parsing throws PayloadError naming what is wrong; a caller skips that item only.
#pragma once

#include "config.hpp"

#include <relais/message.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace relais::mastodon {

class PayloadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Account {
    std::string id, acct, username, display_name, url;
};

struct Media {
    std::string type, url, description;
};

struct Status {
    std::string id;
    int64_t created_at_ms = 0;
    std::string edited_at;
    std::string in_reply_to_id;
    bool sensitive = false;
    std::string spoiler_text;
    std::string visibility;
    std::string language;
    std::string uri, url;
    std::string content; // HTML
    Account account;
    std::vector<Media> media;
    std::vector<std::string> mention_accts;
    std::vector<std::string> tags;
    std::shared_ptr<Status> reblog; // a boost: the boosted status
};

struct Notification {
    std::string id, type;
    Account account;
    std::optional<Status> status;
};

// The whole body as JSON; PayloadError when it is not.
boost::json::value parse_json(std::string_view body);
// The items of a JSON array body; PayloadError when it is not an array.
boost::json::array parse_array(std::string_view body);

Account parse_account(const boost::json::value &v);
Status parse_status(const boost::json::value &v);
Notification parse_notification(const boost::json::value &v);

// The message of an Error entity ({"error": …, "error_description": …}), or a short excerpt of a body that is not one.
std::string error_message(std::string_view body);

// "2019-12-08T03:48:33.901Z" → Unix milliseconds; nullopt when it is not such a time.
std::optional<int64_t> parse_iso_time(std::string_view s);

// Mastodon ids are decimal strings that grow with time: a longer id is newer.
bool id_newer(std::string_view a, std::string_view b);

// The level a status of this visibility gets: public and unlisted → public, private → internal, direct → confidential.
Level level_of(std::string_view visibility);

// A status as the message the connector emits, or nullopt when the config says it is not to be emitted
// (visibility not listed, or a content warning with content_warning: skip). `why` tells which.
std::optional<Message> to_message(const Status &s, const MastodonConfig &config, const std::string &channel,
                                  std::string *why = nullptr);

} // namespace relais::mastodon
