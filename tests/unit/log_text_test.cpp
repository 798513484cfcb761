// Log text from input: one line per message whatever a field holds, and no
// URL credentials in any line or message.
#include <sstream>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "core/safe_log_formatter.hpp"

using namespace agentq;

TEST_CASE("control characters are escaped and nothing else changes", "[log]") {
  CHECK(escape_control("plain text: ünïcode \"quoted\" \\") == "plain text: ünïcode \"quoted\" \\");
  CHECK(escape_control("title\nlevel=error event=forged") == "title\\nlevel=error event=forged");
  CHECK(escape_control("a\rb\tc") == "a\\rb\\tc");
  CHECK(escape_control(std::string("nul") + '\0' + "bell\a esc\x1b[31m del\x7f") ==
        "nul\\x00bell\\x07 esc\\x1b[31m del\\x7f");
  CHECK(escape_control("") == "");
}

TEST_CASE("credentials in URLs are masked", "[log]") {
  CHECK(redact_credentials("cannot fetch from repository 'demo' (https://bob:hunter2@example.com/"
                           "d.git): 401") ==
        "cannot fetch from repository 'demo' (https://***@example.com/d.git): 401");
  CHECK(redact_credentials("ssh://git:pa:ss@host/x and http://tok@h/y") ==
        "ssh://***@host/x and http://***@h/y");
  CHECK(redact_credentials("git@example.com:team/demo.git /srv/a@b") ==
        "git@example.com:team/demo.git /srv/a@b");
  CHECK(log_safe("https://u:p@h/x\nforged") == "https://***@h/x\\nforged");
}

TEST_CASE("every line through the safe formatter is one line without credentials", "[log]") {
  std::ostringstream text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
  spdlog::logger logger("test", sink);
  logger.set_formatter(
      std::make_unique<safe_log_formatter>("%l %v", spdlog::pattern_time_type::local));
  logger.info("event=claimed title=\"{}\"", "fix it\n2026-01-01 error [agentq-worker] forged");
  logger.warn("event=repo_unreachable error=\"{}\"", "https://bob:hunter2@example.com/d.git\r\n");
  logger.flush();
  CHECK(text.str() ==
        "info event=claimed title=\"fix it\\n2026-01-01 error [agentq-worker] forged\"\n"
        "warning event=repo_unreachable error=\"https://***@example.com/d.git\\r\\n\"\n");
}
