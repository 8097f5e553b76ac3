// The firehose decoders: CBOR values, varints, CIDs, CAR archives and whole subscribeRepos frames.
#include "car.hpp"
#include "cbor_value.hpp"
#include "frame.hpp"
#include "frame_builder.hpp"

#include <catch2/catch.hpp>

using namespace bluesky;
using namespace bluesky::testing;

TEST_CASE("decode_cbor reads maps, text, integers, links, and says how much it read") {
    std::string first = serialize(map({{"op", unum(1)}, {"t", text("#commit")}, {"cid", link(fake_cid('x'))}}));
    std::string data = first + serialize(unum(7));
    std::string error;
    auto d = decode_cbor(data, error);
    REQUIRE(d);
    CHECK(d->consumed == first.size());
    CHECK(d->value.number("op") == 1);
    CHECK(d->value.text("t") == "#commit");
    REQUIRE(d->value.get("cid"));
    CHECK(d->value.get("cid")->type == Value::Type::link);
    CHECK(d->value.get("cid")->data == fake_cid('x'));
    auto negative = decode_cbor(std::string("\x38\x63", 2), error); // -100
    REQUIRE(negative);
    CHECK(negative->value.integer == -100);
}

TEST_CASE("decode_cbor refuses what is not DAG-CBOR, with a reason") {
    std::string error;
    CHECK_FALSE(decode_cbor("", error));
    CHECK_FALSE(decode_cbor(std::string("\xa1\x01\x02", 3), error)); // an integer map key
    CHECK(error.find("not text") != std::string::npos);
    CHECK_FALSE(decode_cbor(std::string("\xc1\x00", 2), error)); // tag 1
    CHECK(error.find("tag 1") != std::string::npos);
    CHECK_FALSE(decode_cbor(std::string("\x7a\xff\xff\xff\xff", 5), error)); // a 4 GiB string, truncated
    CHECK_FALSE(decode_cbor(std::string("\x9b\xff\xff\xff\xff\xff\xff\xff\xff", 9), error)); // 2^64 items
    std::string deep(100, '\x81'); // 100 nested arrays
    deep += '\x00';
    CHECK_FALSE(decode_cbor(deep, error));
}

TEST_CASE("varints and CIDs") {
    size_t pos = 0;
    CHECK(read_varint(varint(300), pos) == 300);
    CHECK(pos == 2);
    pos = 0;
    CHECK_FALSE(read_varint(std::string("\x80\x80", 2), pos));
    pos = 0;
    CHECK_FALSE(read_varint(std::string(10, '\xff'), pos));

    std::string error;
    pos = 0;
    auto cid = read_cid(fake_cid('a') + "rest", pos, error);
    REQUIRE(cid);
    CHECK(cid->version == 1);
    CHECK(cid->codec == 0x71);
    CHECK(cid->hash_code == 0x12);
    CHECK(cid->digest == std::string(32, 'a'));
    CHECK(pos == 36);
    pos = 0;
    CHECK_FALSE(read_cid(fake_cid('a').substr(0, 20), pos, error));
    CHECK(error.find("does not fit") != std::string::npos);
    pos = 0;
    CHECK_FALSE(read_cid(std::string("\x02\x71\x12\x01\x00", 5), pos, error));
    CHECK(error.find("version 2") != std::string::npos);
}

TEST_CASE("cid_to_string gives the base32 text form records quote") {
    // The CID of the empty dag-cbor map... any fixed vector: 0x01 0x71 0x12 0x20 + 32 zero bytes.
    std::string cid = std::string("\x01\x71\x12\x20", 4) + std::string(32, '\0');
    CHECK(cid_to_string(cid) == "bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

TEST_CASE("read_car finds every block by its CID") {
    std::string error;
    auto car_bytes = car({{fake_cid('1'), "one"}, {fake_cid('2'), "two"}});
    auto parsed = read_car(car_bytes, error);
    REQUIRE(parsed);
    CHECK(parsed->blocks.size() == 2);
    CHECK(parsed->blocks.at(fake_cid('2')) == "two");
    CHECK_FALSE(read_car(car_bytes.substr(0, car_bytes.size() - 1), error));
    CHECK(error.find("past the end") != std::string::npos);
    CHECK_FALSE(read_car("\x05\xa0", error));
}

TEST_CASE("parse_frame reads a #commit that creates a post, with its mention") {
    std::string frame = commit_frame(42, "did:plc:alice", "3kabc", post_record("@acme hello", "did:plc:acme"));
    std::string error;
    auto event = parse_frame(frame, error);
    REQUIRE(event);
    CHECK(event->kind == Event::Kind::commit);
    CHECK(event->seq == 42);
    CHECK(event->repo == "did:plc:alice");
    REQUIRE(event->posts.size() == 1);
    const Post &p = event->posts[0];
    CHECK(p.uri == "at://did:plc:alice/app.bsky.feed.post/3kabc");
    CHECK(p.rkey == "3kabc");
    CHECK(p.text == "@acme hello");
    CHECK(p.mention_dids == std::vector<std::string>{"did:plc:acme"});
    CHECK(p.cid.rfind("bafyrei", 0) == 0);
    CHECK(event->skipped.empty());
}

TEST_CASE("parse_frame: a post whose block is missing is skipped with a reason, other events are read") {
    std::string frame = commit_frame(1, "did:plc:a", "k", post_record("x"));
    // Point the op at a block the CAR does not hold by rewriting the op's CID digest byte.
    std::string needle = std::string(32, 'p');
    frame.replace(frame.find(needle), 32, std::string(32, 'q'));
    std::string error;
    auto event = parse_frame(frame, error);
    REQUIRE(event);
    CHECK(event->posts.empty());
    REQUIRE(event->skipped.size() == 1);
    CHECK(event->skipped[0].find("not in the commit") != std::string::npos);

    std::string identity = serialize(map({{"op", unum(1)}, {"t", text("#identity")}})) +
                           serialize(map({{"seq", unum(9)}, {"did", text("did:plc:a")}, {"handle", text("a.test")}}));
    auto id = parse_frame(identity, error);
    REQUIRE(id);
    CHECK(id->kind == Event::Kind::identity);
    CHECK(id->handle == "a.test");
    CHECK(id->seq == 9);

    std::string failure = serialize(map({{"op", cbor_build_negint8(0)}})) +
                          serialize(map({{"error", text("FutureCursor")}, {"message", text("too far")}}));
    auto err = parse_frame(failure, error);
    REQUIRE(err);
    CHECK(err->kind == Event::Kind::error);
    CHECK(err->type == "FutureCursor");
}

TEST_CASE("parse_frame refuses a header without a body, and a body that is not a map") {
    std::string header = serialize(map({{"op", unum(1)}, {"t", text("#commit")}}));
    std::string error;
    CHECK_FALSE(parse_frame(header, error));
    CHECK(error.find("frame body") != std::string::npos);
    CHECK_FALSE(parse_frame(header + serialize(unum(3)), error));
    CHECK_FALSE(parse_frame(header + serialize(map({{"seq", unum(3)}})), error)); // #commit without repo
}
