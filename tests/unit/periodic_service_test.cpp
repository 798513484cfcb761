// The one shape of the server's background services: run_once() on a thread
// every interval, a log line only when it did work, failures logged and
// retried, a stop that does not wait out the interval.
#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "services/periodic_service.hpp"

using namespace agentq;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

// Waits (up to 10 s) until `done` holds; answers whether it did.
template <typename F>
bool eventually(F done) {
  const auto until = clock_type::now() + 10s;
  while (!done()) {
    if (clock_type::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The default logger writes into a string while the test runs.
struct captured_log {
  captured_log() {
    previous = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_pattern("%n %l %v");
    spdlog::set_default_logger(logger);
  }
  ~captured_log() { spdlog::set_default_logger(previous); }
  std::string lines() {
    spdlog::default_logger()->flush();
    return text.str();
  }
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous;
};

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("periodic service: stop() is prompt while the loop waits out a long interval",
          "[periodic]") {
  std::atomic<int> looks{0};
  periodic_service service({"slow", 10s, "look", "did"}, [&] { return ++looks, 0; });
  service.start();
  REQUIRE(eventually([&] { return looks.load() == 1; }));  // the first look is immediate
  CHECK(service.running());
  // Now the loop waits 10 s for its next look; stop() must not.
  const auto asked = clock_type::now();
  service.stop();
  const auto took = clock_type::now() - asked;
  CHECK(took < 5s);  // half the interval: a stop that slept it out would fail
  CHECK_FALSE(service.running());
  CHECK(looks.load() == 1);
  // Stopped means stopped: no look comes later.
  std::this_thread::sleep_for(50ms);
  CHECK(looks.load() == 1);
}

TEST_CASE("periodic service: looks every interval and logs only the looks that did work",
          "[periodic]") {
  captured_log log;
  std::atomic<int> looks{0};
  periodic_service service({"tidy", 5ms, "tidy the shelves", "tidied shelves"}, [&] {
    int n = ++looks;
    return n == 3 ? 7 : 0;  // only the third look finds something
  });
  service.start();
  REQUIRE(eventually([&] { return looks.load() >= 6; }));
  service.stop();
  const auto text = log.lines();
  INFO(text);
  CHECK(count_of(text, "tidy info tidied shelves count=7") == 1);
  CHECK(count_of(text, "info") == 1);  // idle looks are silent
}

TEST_CASE("periodic service: a failed look is logged with what it attempted and retried",
          "[periodic]") {
  captured_log log;
  std::atomic<int> looks{0};
  periodic_service service({"reaper", 5ms, "return expired claims", "returned"}, [&]() -> int {
    if (++looks == 1) throw std::runtime_error("the database is away");
    return 0;
  });
  service.start();
  // The thread survived the failure and looked again on the next interval.
  REQUIRE(eventually([&] { return looks.load() >= 3; }));
  CHECK(service.running());
  service.stop();
  const auto text = log.lines();
  INFO(text);
  CHECK(count_of(text, "reaper warning return expired claims failed, will retry in 5 ms") == 1);
  CHECK(text.find("the database is away") != std::string::npos);
}

TEST_CASE("periodic service: start() twice runs one loop and start() after stop() runs again",
          "[periodic]") {
  std::atomic<int> looks{0};
  periodic_service service({"twice", 10s, "look", "did"}, [&] { return ++looks, 0; });
  service.start();
  service.start();
  REQUIRE(eventually([&] { return looks.load() >= 1; }));
  std::this_thread::sleep_for(20ms);
  CHECK(looks.load() == 1);  // one loop, waiting its interval
  service.stop();
  service.start();
  REQUIRE(eventually([&] { return looks.load() == 2; }));
  // The destructor stops it (no hang for 10 s).
}
