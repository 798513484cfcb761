// The lease rules: the pure decision, then the keeper's thread with a
// scripted heartbeat function and a real child process it must kill.
#include <atomic>
#include <csignal>
#include <thread>

#include <catch2/catch.hpp>

#include "runner/agent_process.hpp"
#include "runner/lease_keeper.hpp"
#include "runner_support.hpp"

using namespace agentq::runner;
using namespace agentq::testing;
using namespace std::chrono_literals;
using kind = heartbeat_reply::kind;

TEST_CASE("a renewed heartbeat extends the lease from when it was sent", "[lease]") {
  auto t0 = lease_clock::now();
  auto d = decide({kind::renewed, ""}, t0 + 10s, t0 + 11s, t0 + 30s, 30s);
  CHECK(d.what == lease_decision::action::keep);
  CHECK(d.deadline == t0 + 40s);   // sent + lease, not answered + lease
  CHECK(d.next_beat == t0 + 20s);  // a third of the lease later
}

TEST_CASE("a 409 (or any refusal) means the lease is lost at once", "[lease]") {
  auto t0 = lease_clock::now();
  auto d = decide({kind::refused, "409 stale_token"}, t0, t0, t0 + 300s, 300s);
  CHECK(d.what == lease_decision::action::lost);
  CHECK(d.why.find("409 stale_token") != std::string::npos);
}

TEST_CASE("an unreachable server is retried only while the lease lasts", "[lease]") {
  auto t0 = lease_clock::now();
  auto before = decide({kind::unavailable, "refused"}, t0 + 5s, t0 + 5s, t0 + 30s, 30s);
  CHECK(before.what == lease_decision::action::retry);
  CHECK(before.deadline == t0 + 30s);  // unchanged: nothing was renewed
  CHECK(before.next_beat > t0 + 5s);
  CHECK(before.next_beat <= t0 + 30s);
  auto after = decide({kind::unavailable, "refused"}, t0 + 29s, t0 + 30s, t0 + 30s, 30s);
  CHECK(after.what == lease_decision::action::lost);
  CHECK(after.why.find("could not be reached") != std::string::npos);
}

TEST_CASE("the keeper kills the command's group when a heartbeat is refused", "[lease]") {
  scratch_dir dir;
  agent_process process({"sleep 600 & echo $! > bg.pid; echo working; sleep 600", dir.path(), {}, {}});
  std::atomic<int> calls{0};
  std::string seen_progress;
  std::mutex m;
  lease_keeper keeper(
      1500ms, lease_clock::now(),
      [&](const std::string& progress, std::chrono::milliseconds) {
        {
          std::lock_guard lock(m);
          seen_progress = progress;
        }
        // First beat renewed, second refused (the task was cancelled).
        return ++calls == 1 ? heartbeat_reply{kind::renewed, ""}
                            : heartbeat_reply{kind::refused, "409 stale_token"};
      },
      [&] { return process.output().last_line(); },
      [&](const std::string&) { process.kill_group(SIGKILL); });

  std::optional<exit_status> status;
  while (!(status = process.wait_for(10s))) {
  }
  CHECK(status->signal == SIGKILL);
  CHECK(keeper.lost());
  CHECK(keeper.lost_reason().find("409") != std::string::npos);
  CHECK(calls == 2);
  CHECK(keeper.beats() == 1);
  {
    std::lock_guard lock(m);
    CHECK(seen_progress == "working");
  }
  int bg = std::stoi(read_text(dir / "bg.pid"));
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (process_alive(bg) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(20ms);
  CHECK_FALSE(process_alive(bg));
}

TEST_CASE("the keeper gives up when no heartbeat gets through before the lease ends", "[lease]") {
  std::atomic<bool> lost_called{false};
  std::atomic<int> calls{0};
  lease_keeper keeper(
      900ms, lease_clock::now(),
      [&](const std::string&, std::chrono::milliseconds) {
        ++calls;
        return heartbeat_reply{kind::unavailable, "connection refused"};
      },
      {}, [&](const std::string&) { lost_called = true; });
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (!lost_called && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(20ms);
  CHECK(lost_called);
  CHECK(keeper.lost());
  CHECK_FALSE(keeper.alive());
  CHECK(calls >= 1);  // it kept trying until the end
}

TEST_CASE("a stopped keeper neither beats nor declares the lease lost", "[lease]") {
  std::atomic<int> calls{0};
  std::atomic<bool> lost_called{false};
  {
    lease_keeper keeper(
        30s, lease_clock::now(),
        [&](const std::string&, std::chrono::milliseconds) {
          ++calls;
          return heartbeat_reply{kind::refused, "409"};
        },
        {}, [&](const std::string&) { lost_called = true; });
    keeper.stop();
    CHECK_FALSE(keeper.lost());
    CHECK(keeper.alive());
  }
  CHECK(calls == 0);
  CHECK_FALSE(lost_called);
}

// The short first lease (docs/api.md "Claims"): the keeper heartbeats at once
// instead of after lease/3, so the server makes it the whole lease long
// before the short one ends; even when the long-poll that brought the claim
// waited longer than the first lease (claimed_at is when it was asked for).
TEST_CASE("with a short first lease the first heartbeat goes out at once", "[lease]") {
  for (auto asked_ago : {0s, 20s}) {
    INFO("claim asked for " << asked_ago.count() << " s ago");
    std::atomic<int> calls{0};
    std::atomic<bool> lost_called{false};
    lease_keeper keeper(
        300s, lease_clock::now() - asked_ago,
        [&](const std::string&, std::chrono::milliseconds) {
          ++calls;
          return heartbeat_reply{kind::renewed, ""};
        },
        {}, [&](const std::string&) { lost_called = true; }, 10s);
    auto give_up = std::chrono::steady_clock::now() + 60s;
    while (keeper.beats() == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(10ms);
    CHECK(keeper.beats() == 1);  // the first beat; the next one is lease/3 away
    CHECK_FALSE(lost_called);
    CHECK(keeper.alive());
    keeper.stop();
  }
}
