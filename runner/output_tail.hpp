#pragma once
// What a runner remembers of an agent command's output: the latest line (the
// heartbeat's progress), the last lines (a short summary) and the last bytes
// (a long answer, such as a verdict's reasons). Thread-safe: the reader
// thread appends while the lease keeper and the job read.

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace agentq::runner {

// Text the server accepts: valid UTF-8 (invalid bytes become U+FFFD), no NUL
// bytes, at most max_bytes long. When cut, the END is kept (the last words of
// a command are the ones that matter), starting on a character boundary.
std::string sanitize_text(std::string_view text, std::size_t max_bytes);

class output_tail {
 public:
  explicit output_tail(std::size_t max_lines = 20, std::size_t max_bytes = 60 * 1024);

  void add_line(std::string line);

  std::string last_line() const;               // "" before the first line
  std::string last_lines(std::size_t n) const;  // joined with '\n'
  std::string tail_text() const;               // up to max_bytes, whole lines
  std::size_t line_count() const;              // lines seen in total

 private:
  mutable std::mutex m_mutex;
  std::size_t m_max_lines;
  std::size_t m_max_bytes;
  std::deque<std::string> m_lines;  // the last lines, within m_max_bytes
  std::size_t m_bytes = 0;
  std::size_t m_total = 0;
};

}  // namespace agentq::runner
