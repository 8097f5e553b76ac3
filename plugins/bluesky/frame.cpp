#include "frame.hpp"

#include "car.hpp"
#include "cbor_value.hpp"

namespace bluesky {

namespace {

constexpr std::string_view kPostCollection = "app.bsky.feed.post/";

void read_facets(const Value &record, Post &post) {
    const Value *facets = record.get("facets");
    if (!facets || facets->type != Value::Type::array) return;
    for (const Value &facet : facets->items) {
        const Value *features = facet.get("features");
        if (!features || features->type != Value::Type::array) continue;
        for (const Value &feature : features->items) {
            std::string_view type = feature.text("$type");
            if (type == "app.bsky.richtext.facet#mention" && !feature.text("did").empty())
                post.mention_dids.emplace_back(feature.text("did"));
            else if (type == "app.bsky.richtext.facet#link" && !feature.text("uri").empty())
                post.links.emplace_back(feature.text("uri"));
            else if (type == "app.bsky.richtext.facet#tag" && !feature.text("tag").empty())
                post.tags.emplace_back(feature.text("tag"));
        }
    }
}

void read_post(const Value &record, Post &post) {
    post.text = record.text("text");
    post.created_at = record.text("createdAt");
    read_facets(record, post);
    if (const Value *tags = record.get("tags"); tags && tags->type == Value::Type::array)
        for (const Value &t : tags->items)
            if (t.type == Value::Type::text) post.tags.push_back(t.data);
    if (const Value *langs = record.get("langs"); langs && langs->type == Value::Type::array)
        for (const Value &l : langs->items)
            if (l.type == Value::Type::text) post.langs.push_back(l.data);
    if (const Value *reply = record.get("reply"); reply && reply->type == Value::Type::map) {
        if (const Value *parent = reply->get("parent")) post.reply_parent_uri = parent->text("uri");
        if (const Value *root = reply->get("root")) post.reply_root_uri = root->text("uri");
    }
}

void read_commit(const Value &body, Event &event, std::string_view blocks) {
    const Value *ops = body.get("ops");
    if (!ops || ops->type != Value::Type::array) return;
    std::optional<Car> car;
    std::string car_error;
    bool car_read = false;
    for (const Value &op : ops->items) {
        std::string_view path = op.text("path");
        if (op.text("action") != "create" || path.substr(0, kPostCollection.size()) != kPostCollection) continue;
        if (!car_read) {
            car = read_car(blocks, car_error);
            car_read = true;
        }
        std::string rkey(path.substr(kPostCollection.size()));
        const Value *cid = op.get("cid");
        if (!car || !cid || cid->type != Value::Type::link) {
            event.skipped.push_back(std::string(path) + ": " + (car ? "no CID in the op" : car_error));
            continue;
        }
        auto block = car->blocks.find(cid->data);
        if (block == car->blocks.end()) {
            event.skipped.push_back(std::string(path) + ": its block is not in the commit");
            continue;
        }
        std::string error;
        auto record = decode_cbor(block->second, error);
        if (!record || record->value.type != Value::Type::map) {
            event.skipped.push_back(std::string(path) + ": " + (record ? "the record is not a map" : error));
            continue;
        }
        if (record->value.text("$type") != "app.bsky.feed.post") continue;
        Post post;
        post.author_did = event.repo;
        post.rkey = rkey;
        post.uri = "at://" + event.repo + "/" + std::string(path);
        post.cid = cid_to_string(cid->data);
        read_post(record->value, post);
        event.posts.push_back(std::move(post));
    }
}

} // namespace

std::optional<Event> parse_frame(std::string_view frame, std::string &error) {
    auto header = decode_cbor(frame, error);
    if (!header) {
        error = "frame header: " + error;
        return std::nullopt;
    }
    if (header->value.type != Value::Type::map) {
        error = "frame header is not a map";
        return std::nullopt;
    }
    auto body = decode_cbor(frame.substr(header->consumed), error);
    if (!body) {
        error = "frame body: " + error;
        return std::nullopt;
    }
    if (body->value.type != Value::Type::map) {
        error = "frame body is not a map";
        return std::nullopt;
    }
    const Value &b = body->value;
    Event event;
    auto op = header->value.number("op");
    if (op == -1) {
        event.kind = Event::Kind::error;
        event.type = b.text("error");
        event.message = b.text("message");
        return event;
    }
    if (op != 1) {
        error = "frame header without op 1 or -1";
        return std::nullopt;
    }
    event.type = header->value.text("t");
    event.seq = b.number("seq").value_or(0);
    if (event.type == "#commit") {
        event.kind = Event::Kind::commit;
        event.repo = b.text("repo");
        if (event.repo.empty()) {
            error = "#commit without repo";
            return std::nullopt;
        }
        const Value *blocks = b.get("blocks");
        read_commit(b, event, blocks && blocks->type == Value::Type::bytes ? std::string_view(blocks->data) : "");
    } else if (event.type == "#identity" || event.type == "#handle") {
        event.kind = Event::Kind::identity;
        event.repo = b.text("did");
        event.handle = b.text("handle");
    } else if (event.type == "#info") {
        event.kind = Event::Kind::info;
        event.message = std::string(b.text("name")) + (b.text("message").empty() ? "" : ": ") +
                        std::string(b.text("message"));
    }
    return event;
}

} // namespace bluesky
