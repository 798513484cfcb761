#pragma once
// An spdlog formatter that passes each message through log_safe (control
// characters escaped, URL credentials masked) before the pattern lays it out:
// one place that covers every log line of a program, whatever its fields
// hold. Header-only: agentq_core itself does not link spdlog.

#include <memory>
#include <string>

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>

#include "core/log_text.hpp"

namespace agentq {

class safe_log_formatter final : public spdlog::formatter {
 public:
  explicit safe_log_formatter(std::unique_ptr<spdlog::formatter> layout)
      : m_layout(std::move(layout)) {}
  safe_log_formatter(const std::string& pattern, spdlog::pattern_time_type time_type)
      : m_layout(std::make_unique<spdlog::pattern_formatter>(pattern, time_type)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string clean = log_safe(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg safe = msg;
    safe.payload = clean;
    m_layout->format(safe, dest);
    // Colour sinks read where the level's colour goes from the message they passed.
    msg.color_range_start = safe.color_range_start;
    msg.color_range_end = safe.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<safe_log_formatter>(m_layout->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> m_layout;
};

}  // namespace agentq
