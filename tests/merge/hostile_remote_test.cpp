// A remote that accepts the TCP connection and never answers (issue 9): the
// gateway's network git ends at its deadline with agentq::git::timeout, and
// through the git executor it never holds up work on a healthy repository.
// Real sockets (silent_remote), real git child processes, real repositories.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "git/git_executor.hpp"
#include "git/repo_gateway.hpp"
#include "git_fixture.hpp"
#include "support/silent_remote.hpp"

using agentq::git::git_executor;
using agentq::git::git_executor_config;
using agentq::git::repo_gateway;
using agentq::git::repo_ref;
using agentq::testing::git_fixture;
using agentq::testing::silent_remote;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto git_timeout = 2s;

// The listener is on 127.0.0.1: no proxy may stand in for it.
void no_proxy() {
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                           "all_proxy"})
    unsetenv(name);
}

std::vector<std::filesystem::path> lock_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> found;
  std::error_code error;
  if (!std::filesystem::exists(dir)) return found;
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir, error))
    if (entry.path().filename().string().ends_with(".lock")) found.push_back(entry.path());
  return found;
}

// Runs `call`, which must throw agentq::git::timeout; answers how long it took.
template <typename Call>
clock_type::duration times_out(Call call, const std::string& repo_name) {
  const auto start = clock_type::now();
  try {
    call();
    FAIL("no timeout");
  } catch (const agentq::git::timeout& e) {
    std::string message = e.what();
    INFO(message);
    CHECK(message.find("'" + repo_name + "'") != std::string::npos);
    CHECK(message.find("s3cret") == std::string::npos);
  }
  return clock_type::now() - start;
}

}  // namespace

TEST_CASE("network git against a silent remote ends with a timeout at the deadline") {
  no_proxy();
  git_fixture g;
  silent_remote hostile;
  repo_gateway gateway(g.cache(), git_timeout);
  const std::string secret_url_http =
      "http://someone:s3cret@127.0.0.1:" + std::to_string(hostile.port()) + "/r.git";
  for (const auto& url : {secret_url_http, hostile.git_url()}) {
    INFO(url);
    repo_ref repo{"hostile", url};
    auto took = times_out([&] { gateway.branch_tip_is(repo, "agentq/1/1", std::string(40, 'a')); },
                          "hostile");
    CHECK(took >= git_timeout - 50ms);
    CHECK(took < git_timeout + 1s);
    took = times_out([&] { gateway.diff_stats(repo, "main", std::string(40, 'a'), "agentq/1/1"); },
                     "hostile");
    CHECK(took < git_timeout + 1s);
    // What the merger does first.
    took = times_out([&] { gateway.fetch(repo, {"main", "agentq/1/1"}); }, "hostile");
    CHECK(took < git_timeout + 1s);
    took = times_out([&] { gateway.delete_task_branches(repo, 1, "main"); }, "hostile");
    CHECK(took < git_timeout + 1s);
    // A killed git leaves no lock in the mirror.
    CHECK(lock_files(gateway.mirror_path(repo)).empty());
  }
  CHECK(hostile.accepted() >= 8);  // the network really was tried
}

TEST_CASE("a silent remote holds only its own executor slots: healthy checks run meanwhile") {
  no_proxy();
  git_fixture g;
  auto work = g.commit("agentq/2/1", "main", {{"a.txt", "a\n"}}, "healthy work");
  silent_remote hostile;
  repo_gateway gateway(g.cache(), git_timeout);
  git_executor executor(git_executor_config{4, 2});
  repo_ref bad{"hostile", hostile.http_url()};
  repo_ref good{"proj", g.origin()};

  std::mutex mutex;
  std::vector<clock_type::time_point> hostile_answers;
  int hostile_timeouts = 0, hostile_other = 0;
  std::string other_error;  // what a check that did not time out said
  const auto start = clock_type::now();
  const auto hostile_deadline = start + git_timeout;
  for (int i = 0; i < 16; ++i) {
    auto record = [&](bool timed_out, const std::string& error = "") {
      std::lock_guard lock(mutex);
      hostile_answers.push_back(clock_type::now());
      (timed_out ? hostile_timeouts : hostile_other)++;
      if (!timed_out) other_error = error;
    };
    executor.post(
        repo_gateway::remote_key(bad), hostile_deadline,
        [&, record, i](clock_type::time_point deadline) {
          try {
            gateway.branch_tip_is(bad, "agentq/1/" + std::to_string(i), std::string(40, 'a'),
                                  deadline);
            record(false);
          } catch (const agentq::git::timeout&) {
            record(true);
          } catch (const std::exception& e) {
            record(false, e.what());
          }
        },
        [record] { record(true); });
  }

  // 50 checks a second against the healthy repository while the hostile
  // ones hang: for 1.5 s (75 checks), each with the same 2 s timeout.
  struct healthy_check {
    clock_type::time_point posted, answered;
    bool right = false, answered_at_all = false;
  };
  std::vector<healthy_check> healthy(75);
  for (std::size_t i = 0; i < healthy.size(); ++i) {
    std::this_thread::sleep_until(start + i * 20ms);
    healthy[i].posted = clock_type::now();
    executor.post(
        repo_gateway::remote_key(good), healthy[i].posted + git_timeout,
        [&, i](clock_type::time_point deadline) {
          bool right = gateway.branch_tip_is(good, "agentq/2/1", work, deadline);
          std::lock_guard lock(mutex);
          healthy[i].answered = clock_type::now();
          healthy[i].right = right;
          healthy[i].answered_at_all = true;
        },
        [&, i] {
          std::lock_guard lock(mutex);
          healthy[i].answered = clock_type::now();
        });
  }
  std::this_thread::sleep_until(hostile_deadline + 1s);

  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < healthy.size(); ++i) {
    INFO("healthy check " << i);
    CHECK(healthy[i].answered_at_all);
    CHECK(healthy[i].right);
    // None waited for the hostile remote's slots.
    CHECK(healthy[i].answered < hostile_deadline);
  }
  INFO("a hostile check that did not time out said: " << other_error);
  CHECK(hostile_timeouts == 16);
  CHECK(hostile_other == 0);
  REQUIRE(hostile_answers.size() == 16);
  for (auto when : hostile_answers) CHECK(when < hostile_deadline + 1s);
}
