// The git executor (queue/git/git_executor.hpp): its per-remote cap, its
// deadlines for queued jobs, and stop(). Real threads; the work functions
// count what runs at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "git/git_executor.hpp"

using agentq::git::git_executor;
using agentq::git::git_executor_config;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// A latch the test opens: work functions wait on it.
class gate {
 public:
  void wait() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_open; });
  }
  void open() {
    std::lock_guard lock(m_mutex);
    m_open = true;
    m_cv.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_open = false;
};

}  // namespace

TEST_CASE("never more than per_remote jobs of one remote run at once") {
  git_executor executor(git_executor_config{4, 2});
  std::atomic<int> running{0}, most{0}, done{0}, expired{0};
  std::atomic<int> other_done{0};
  const auto deadline = clock_type::now() + 30s;
  for (int i = 0; i < 20; ++i) {
    executor.post(
        "ssh://busy-host", deadline,
        [&](clock_type::time_point) {
          int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(20ms);
          --running;
          ++done;
        },
        [&] { ++expired; });
  }
  // Another remote's jobs are not held back by the busy one's queue.
  for (int i = 0; i < 4; ++i)
    executor.post("local:/elsewhere", deadline, [&](clock_type::time_point) { ++other_done; },
                  [&] { ++expired; });
  for (int i = 0; i < 500 && done + other_done < 24; ++i) std::this_thread::sleep_for(10ms);
  CHECK(done == 20);
  CHECK(other_done == 4);
  CHECK(expired == 0);
  CHECK(most == 2);  // reached, never exceeded
}

TEST_CASE("a job still queued at its deadline is answered expired and never runs") {
  git_executor executor(git_executor_config{4, 1});
  gate stuck;
  std::promise<void> first_started;
  const auto start = clock_type::now();
  // The one slot of this remote is stuck until the test opens the gate.
  executor.post(
      "http://slow", start + 30s,
      [&](clock_type::time_point) {
        first_started.set_value();
        stuck.wait();
      },
      [] {});
  first_started.get_future().wait();

  std::atomic<bool> ran{false};
  std::promise<clock_type::time_point> expired_at;
  const auto deadline = clock_type::now() + 300ms;
  executor.post(
      "http://slow", deadline, [&](clock_type::time_point) { ran = true; },
      [&] { expired_at.set_value(clock_type::now()); });
  auto answer = expired_at.get_future();
  REQUIRE(answer.wait_for(5s) == std::future_status::ready);
  auto when = answer.get();
  CHECK(when >= deadline);
  CHECK(when < deadline + 500ms);  // answered at the deadline, not when the slot frees
  stuck.open();
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(ran);
}

TEST_CASE("a running job gets the job's own deadline") {
  git_executor executor;
  const auto deadline = clock_type::now() + 7s;
  std::promise<clock_type::time_point> seen;
  executor.post("local:x", deadline, [&](clock_type::time_point d) { seen.set_value(d); }, [] {});
  auto future = seen.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  CHECK(future.get() == deadline);
}

TEST_CASE("stop() answers queued jobs as expired, and a stopped executor runs nothing") {
  auto executor = std::make_unique<git_executor>(git_executor_config{1, 1});
  gate stuck;
  std::promise<void> started;
  executor->post(
      "a", clock_type::now() + 30s,
      [&](clock_type::time_point) {
        started.set_value();
        stuck.wait();
      },
      [] {});
  started.get_future().wait();
  std::atomic<int> expired{0}, ran{0};
  for (int i = 0; i < 3; ++i)
    executor->post("b", clock_type::now() + 30s, [&](clock_type::time_point) { ++ran; },
                   [&] { ++expired; });
  std::thread stopper([&] { executor->stop(); });
  for (int i = 0; i < 200 && expired < 3; ++i) std::this_thread::sleep_for(5ms);
  CHECK(expired == 3);  // before the running job ends
  stuck.open();
  stopper.join();
  executor->post("b", clock_type::now() + 30s, [&](clock_type::time_point) { ++ran; },
                 [&] { ++expired; });
  CHECK(expired == 4);
  CHECK(ran == 0);
}
