// A small SHA-256 (FIPS 180-4) for fingerprinting long test streams without pulling in
// OpenSSL. Test-only; not constant-time and not meant for anything secret.
#ifndef LORANK_TESTS_SUPPORT_SHA256_H_
#define LORANK_TESTS_SUPPORT_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lorank::testing {

// Incremental hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  // Appends bytes to the message.
  void update(std::span<const std::uint8_t> bytes);
  // Appends the bytes of `text`.
  void update(std::string_view text);
  // Pads, returns the 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();
  // finish() as 64 lowercase hex digits.
  std::string finish_hex();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// One-shot hex digest of `text`.
std::string sha256_hex(std::string_view text);

// Hex digest of `values` serialised as little-endian IEEE-754 float64 bytes (NumPy's
// `arr.astype('<f8').tobytes()`), independent of the host byte order.
std::string sha256_hex_of_doubles_le(std::span<const double> values);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_SHA256_H_
