#pragma once
// A hostile git remote: a TCP listener on 127.0.0.1 that accepts every
// connection and never writes a byte (a wedged git host does exactly this).
// Connections stay open until the listener is destroyed.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace agentq::testing {

class silent_remote {
 public:
  silent_remote();
  ~silent_remote();
  silent_remote(const silent_remote&) = delete;
  silent_remote& operator=(const silent_remote&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/r.git"; }
  std::string git_url() const { return "git://127.0.0.1:" + std::to_string(m_port) + "/r.git"; }
  // Connections accepted so far.
  int accepted() const { return m_accepted.load(); }

 private:
  void run();

  int m_listen_fd = -1;
  int m_wake[2] = {-1, -1};
  std::uint16_t m_port = 0;
  std::atomic<int> m_accepted{0};
  std::vector<int> m_connections;
  std::thread m_thread;
};

}  // namespace agentq::testing
