#include "runner/output_tail.hpp"

#include <algorithm>

namespace agentq::runner {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string sanitize_text(std::string_view text, std::size_t max_bytes) {
  std::string clean;
  clean.reserve(std::min(text.size(), max_bytes + 16));
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') { ++i; continue; }
    std::size_t len = utf8_sequence(text, i);
    if (len == 0) {
      clean += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      clean.append(text.substr(i, len));
      i += len;
    }
  }
  if (clean.size() <= max_bytes) return clean;
  std::size_t start = clean.size() - max_bytes;
  // Step forward past continuation bytes to the start of a character.
  while (start < clean.size() && (static_cast<unsigned char>(clean[start]) & 0xC0) == 0x80) ++start;
  return clean.substr(start);
}

output_tail::output_tail(std::size_t max_lines, std::size_t max_bytes)
    : m_max_lines(std::max<std::size_t>(max_lines, 1)), m_max_bytes(max_bytes) {}

void output_tail::add_line(std::string line) {
  std::lock_guard lock(m_mutex);
  ++m_total;
  m_bytes += line.size() + 1;
  m_lines.push_back(std::move(line));
  // Keep enough lines for both last_lines(max_lines) and tail_text(): drop
  // from the front only while both stay satisfied.
  while (m_lines.size() > m_max_lines && m_bytes - (m_lines.front().size() + 1) >= m_max_bytes) {
    m_bytes -= m_lines.front().size() + 1;
    m_lines.pop_front();
  }
}

std::string output_tail::last_line() const {
  std::lock_guard lock(m_mutex);
  return m_lines.empty() ? std::string() : m_lines.back();
}

std::string output_tail::last_lines(std::size_t n) const {
  std::lock_guard lock(m_mutex);
  std::size_t first = m_lines.size() > n ? m_lines.size() - n : 0;
  std::string out;
  for (std::size_t i = first; i < m_lines.size(); ++i) {
    if (!out.empty()) out += '\n';
    out += m_lines[i];
  }
  return out;
}

std::string output_tail::tail_text() const {
  std::lock_guard lock(m_mutex);
  std::string out;
  std::size_t bytes = 0;
  std::size_t first = m_lines.size();
  while (first > 0 && bytes + m_lines[first - 1].size() + 1 <= m_max_bytes) {
    --first;
    bytes += m_lines[first].size() + 1;
  }
  for (std::size_t i = first; i < m_lines.size(); ++i) {
    if (!out.empty()) out += '\n';
    out += m_lines[i];
  }
  return out;
}

std::size_t output_tail::line_count() const {
  std::lock_guard lock(m_mutex);
  return m_total;
}

}  // namespace agentq::runner
