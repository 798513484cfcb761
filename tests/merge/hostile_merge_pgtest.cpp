// The merger against a remote that accepts connections and never answers:
// land() ends with agentq::git::timeout by the deadline plus a second, the
// merge stays pending (run_once() retries it later), nothing is recorded.
#include <chrono>
#include <cstdlib>

#include <catch2/catch.hpp>

#include "merge_world.hpp"
#include "support/silent_remote.hpp"

using namespace agentq;
using namespace agentq::testing;
using namespace std::chrono_literals;

TEST_CASE("a merge whose remote never answers times out and stays pending") {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"}) unsetenv(name);
  silent_remote hostile;
  merge_world w(hostile.http_url());
  auto task = w.add_task("add feature");
  w.work_on(task, {{"feature.txt", "hello\n"}});
  auto merge_id = w.approve(task);

  auto config = w.config();
  config.git_timeout = 2s;
  merger m(w.q.db.url(), config);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(m.land(merge_id), git::timeout);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 3s);
  CHECK(w.merge_row(merge_id)["status"] == "pending");
  CHECK(w.state(task) != "done");
  // The loop's pass logs it and tries again later; it finishes nothing.
  CHECK(m.run_once() == 0);
  CHECK(w.merge_row(merge_id)["status"] == "pending");
  CHECK(hostile.accepted() >= 2);
}
