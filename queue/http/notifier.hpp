#pragma once
// The notifier: one dedicated connection doing LISTEN agentq_claimable (the
// schema's trigger sends it, payload = the queue, whenever a task becomes
// queued, awaiting_review or done, on any server) and passing each queue name
// on. When the connection breaks it reconnects with a pause and reports
// `on_reconnect`, since notifications sent meanwhile are lost.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace agentq {

class notifier {
 public:
  using on_queue = std::function<void(const std::string& queue)>;
  using on_reconnect = std::function<void()>;

  notifier(std::string database_url, on_queue queue_callback, on_reconnect reconnect_callback,
           std::chrono::milliseconds retry_pause = std::chrono::milliseconds(500));
  ~notifier();

  void start();
  void stop();
  bool listening() const { return m_listening; }

 private:
  void loop();

  std::string m_url;
  on_queue m_on_queue;
  on_reconnect m_on_reconnect;
  std::chrono::milliseconds m_retry_pause;
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_listening{false};
  std::thread m_thread;
};

}  // namespace agentq
