// SHA-256 against the FIPS 180-2 example messages (appendix B) and the one-million-'a' vector, and
// incremental hashing in odd pieces against one piece.
#include "core/error.hpp"
#include "io/sha256.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace atomfp;

TEST(Sha256, MatchesTheStandardsExamples) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecesAndFilesGiveTheDigestOfTheWhole) {
    std::string text;
    for (int i = 0; i < 5000; ++i) text.push_back(static_cast<char>((i * 7919) % 251));
    Sha256 pieces;
    for (std::size_t at = 0, size = 1; at < text.size(); at += size, size = size % 97 + 13) {
        pieces.update(text.data() + at, std::min(size, text.size() - at));
    }
    const std::string whole = sha256_hex(text);
    EXPECT_EQ(pieces.hex_digest(), whole);
    const std::string path = ::testing::TempDir() + "atomfp_sha256.bin";
    std::ofstream(path, std::ios::binary) << text;
    EXPECT_EQ(sha256_of_file(path), whole);
    std::remove(path.c_str());
    EXPECT_THROW(sha256_of_file(path), Error);
}
