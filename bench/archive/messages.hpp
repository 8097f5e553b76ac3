// The archive benchmark's corpus: messages of 20 to 60 words drawn from a Zipf vocabulary of 50,000 words, with
// authors, channels and a few tags. Message i is the same on every run and every machine for a given seed.
#pragma once

#include "corpus.hpp"

#include <relais/message.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace relais::bench {

class ArchiveCorpus {
public:
    explicit ArchiveCorpus(uint64_t seed);

    // Message i (0-based), and the vocabulary ranks of the distinct words of its text.
    Message message(uint64_t i, std::vector<uint32_t> *ranks = nullptr) const;

    const Vocabulary &words() const { return words_; }
    // "#veille #archive": the tags as the archive indexes them (its tag_words column).
    static std::string tag_words(const std::vector<std::string> &tags);

private:
    uint64_t seed_;
    Vocabulary words_;
    std::vector<std::string> authors_, tags_;
};

} // namespace relais::bench
