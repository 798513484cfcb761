#include "store/claimable_listener.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <agentq/sql.hpp>

namespace agentq {
namespace {

class receiver final : public pqxx::notification_receiver {
 public:
  receiver(pqxx::connection_base& conn, const claimable_listener::on_queue& callback)
      : pqxx::notification_receiver(conn, "agentq_claimable"), m_callback(callback) {}
  void operator()(const std::string& payload, int) override { m_callback(payload); }

 private:
  const claimable_listener::on_queue& m_callback;
};

}  // namespace

claimable_listener::claimable_listener(std::string database_url, on_queue queue_callback,
                   on_reconnect reconnect_callback, std::chrono::milliseconds retry_pause)
    : m_url(std::move(database_url)), m_on_queue(std::move(queue_callback)),
      m_on_reconnect(std::move(reconnect_callback)), m_retry_pause(retry_pause) {}

claimable_listener::~claimable_listener() { stop(); }

void claimable_listener::start() { m_thread = std::thread([this] { loop(); }); }

void claimable_listener::stop() {
  m_stopping = true;
  if (m_thread.joinable()) m_thread.join();
}

void claimable_listener::loop() {
  bool was_down = false;
  while (!m_stopping) {
    try {
      pqxx::connection conn(m_url);
      receiver listen(conn, m_on_queue);
      conn.get_notifs();  // issues the LISTEN now
      m_listening = true;
      if (was_down) {
        spdlog::info("event=notifier_reconnected");
        m_on_reconnect();  // anything may have become claimable meanwhile
      }
      was_down = false;
      // Wake up now and then to see whether we are stopping; the socket wait
      // costs nothing in between.
      // A dead connection may look idle: probe it every few seconds.
      for (int ticks = 1; !m_stopping; ++ticks) {
        conn.await_notification(0, 250000);
        if (ticks % 12 == 0) pqxx::nontransaction(conn).exec(std::string(sql::server_ping));
      }
    } catch (const std::exception& e) {
      m_listening = false;
      if (!was_down) spdlog::warn("event=notifier_down error=\"{}\"", e.what());
      was_down = true;
      auto until = std::chrono::steady_clock::now() + m_retry_pause;
      while (!m_stopping && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  m_listening = false;
}

}  // namespace agentq
