// Garbage, truncations and bit flips for the decoders that read what the network sends: no crash, no hang.
#include "car.hpp"
#include "cbor_value.hpp"
#include "frame.hpp"
#include "frame_builder.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace bluesky;
using namespace bluesky::testing;

TEST_CASE("fuzz: parse_frame on every truncation of a real frame fails cleanly") {
    std::string frame = commit_frame(7, "did:plc:alice", "3kabc", post_record("hello @acme.test", "did:plc:acme"));
    std::string error;
    REQUIRE(parse_frame(frame, error));
    int parsed_with_post = 0;
    for (size_t n = 0; n < frame.size(); ++n) {
        auto event = parse_frame(std::string_view(frame).substr(0, n), error);
        if (event && !event->posts.empty()) ++parsed_with_post;
    }
    CHECK(parsed_with_post == 0); // a cut frame never yields a post
}

TEST_CASE("fuzz: parse_frame on bit flips and random bytes never crashes") {
    std::mt19937 rng(20261126);
    std::string frame = commit_frame(7, "did:plc:alice", "3kabc", post_record("hello", "did:plc:acme"));
    std::string error;
    for (int round = 0; round < 20000; ++round) {
        std::string input = frame;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) input[rng() % input.size()] ^= static_cast<char>(1u << (rng() % 8));
        (void)parse_frame(input, error);
    }
    for (int round = 0; round < 20000; ++round) {
        std::string input;
        size_t n = rng() % 200;
        for (size_t i = 0; i < n; ++i) input += static_cast<char>(rng() % 256);
        (void)parse_frame(input, error);
        (void)read_car(input, error);
        size_t pos = 0;
        (void)read_cid(input, pos, error);
    }
}

TEST_CASE("fuzz: CBOR headers that announce huge lengths in a few bytes are refused") {
    std::mt19937 rng(7);
    const char majors[] = {'\x5b', '\x7b', '\x9b', '\xbb', '\x5a', '\x7a', '\x9a', '\xba'}; // 8- and 4-byte lengths
    std::string error;
    for (int round = 0; round < 2000; ++round) {
        std::string input(1, majors[rng() % 8]);
        size_t width = (input[0] & 0x1f) == 0x1b ? 8 : 4;
        for (size_t i = 0; i < width; ++i) input += static_cast<char>(rng() % 256);
        for (size_t i = rng() % 16; i > 0; --i) input += static_cast<char>(rng() % 256);
        CHECK_FALSE(decode_cbor(input, error));
    }
}
