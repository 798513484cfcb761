#include "core/secrets.hpp"

#include <array>
#include <random>
#include <stdexcept>

#include <mbedtls/sha256.h>

namespace agentq {
namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string generate_token() {
  std::random_device source;  // libstdc++: getrandom(2) / /dev/urandom
  std::array<unsigned char, 32> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    auto word = source();
    for (std::size_t j = 0; j < 4; ++j) bytes[i + j] = static_cast<unsigned char>(word >> (8 * j));
  }
  return "aq_" + to_hex(bytes.data(), bytes.size());
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  if (mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                         digest.data(), 0) != 0)
    throw std::runtime_error("sha256 failed");
  return to_hex(digest.data(), digest.size());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace agentq
