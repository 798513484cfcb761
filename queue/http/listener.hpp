#pragma once
// The socket side of `agentq serve` (Boost.Beast, HTTP/1.1 keep-alive): it
// accepts connections, reads requests and hands each to `on_request` as an
// exchange, then writes whatever answer the exchange gets, from any thread.
// All Beast code lives in listener.cpp; this header has none.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/handler.hpp"

namespace agentq {

// One request waiting for its answer.
class exchange {
 public:
  virtual ~exchange() = default;
  virtual const http_request& request() const = 0;
  // Sends the answer; call exactly once, from any thread.
  virtual void respond(http_reply reply) = 0;
  // Runs `gone` (on the I/O thread) if the client hangs up before the answer
  // is sent: a parked long-poll then stops waiting for it. Any thread.
  virtual void on_client_gone(std::function<void()> gone) = 0;
};

class http_listener {
 public:
  using on_request = std::function<void(std::shared_ptr<exchange>)>;

  // host: an address ("127.0.0.1", "0.0.0.0", "::"); port 0 picks a free one.
  // Throws std::runtime_error when it cannot listen. on_accept_failed runs
  // (on the I/O thread) for each accept that failed for lack of descriptors
  // or memory; accepting then pauses briefly.
  http_listener(const std::string& host, std::uint16_t port, on_request handler,
                std::function<void()> on_accept_failed = {});
  ~http_listener();

  std::uint16_t port() const;

  // Runs the I/O loop on the calling thread until stop().
  void run();
  // Runs `fn` on the I/O thread.
  void post(std::function<void()> fn);
  // Closes the listening socket; open connections keep being served, but
  // each closes after its next answer.
  void stop_accepting();
  void stop();
  // Requests read whose answer is not written yet.
  std::size_t in_flight() const;

  struct impl;  // listener.cpp's sessions share it

 private:
  std::shared_ptr<impl> m_impl;
};

}  // namespace agentq
