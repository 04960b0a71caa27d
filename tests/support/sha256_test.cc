// The test-only SHA-256 against FIPS 180-4 / NIST example vectors.
#include "support/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lorank::testing {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                 "klmnopqrlmnopqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesEqualOneShot) {
  std::string message;
  for (int i = 0; i < 1000; ++i) message += static_cast<char>('a' + i % 26);
  const std::string want = sha256_hex(message);
  // Chunk sizes straddle the 64-byte block and the 56-byte padding boundary.
  for (std::size_t chunk : {1u, 7u, 55u, 56u, 63u, 64u, 65u, 127u}) {
    Sha256 hasher;
    for (std::size_t pos = 0; pos < message.size(); pos += chunk) {
      hasher.update(std::string_view(message).substr(pos, chunk));
    }
    EXPECT_EQ(hasher.finish_hex(), want) << "chunk " << chunk;
  }
  // Every message length around the padding boundaries.
  for (std::size_t len : {55u, 56u, 57u, 63u, 64u, 119u, 120u}) {
    Sha256 a;
    a.update(std::string_view(message).substr(0, len));
    Sha256 b;
    b.update(std::string_view(message).substr(0, 10));
    b.update(std::string_view(message).substr(10, len - 10));
    EXPECT_EQ(a.finish_hex(), b.finish_hex()) << "len " << len;
  }
}

TEST(Sha256, DoublesAreHashedAsLittleEndianBytes) {
  // 1.0 = 0x3ff0000000000000 -> bytes 00 00 00 00 00 00 f0 3f.
  const std::vector<double> one{1.0};
  EXPECT_EQ(sha256_hex_of_doubles_le(one), sha256_hex(std::string("\0\0\0\0\0\0\xf0\x3f", 8)));
}

}  // namespace
}  // namespace lorank::testing
