#include "store/repo_merge_lock.hpp"

#include <agentq/sql.hpp>

#include "store/store_impl.hpp"

namespace agentq {

struct repo_merge_lock::held_lock {
  explicit held_lock(const std::string& database_url) : conn(database_url), tx(conn) {}

  pqxx::connection conn;
  pqxx::work tx;  // open until the guard ends; never committed
};

repo_merge_lock::repo_merge_lock(std::int64_t repo_id, std::unique_ptr<held_lock> held)
    : m_repo_id(repo_id), m_held(std::move(held)) {}

repo_merge_lock::repo_merge_lock(repo_merge_lock&&) noexcept = default;

repo_merge_lock& repo_merge_lock::operator=(repo_merge_lock&& other) noexcept {
  if (this != &other) {
    release();
    m_repo_id = other.m_repo_id;
    m_held = std::move(other.m_held);
  }
  return *this;
}

repo_merge_lock::~repo_merge_lock() { release(); }

void repo_merge_lock::release() noexcept {
  if (!m_held) return;
  try {
    m_held->tx.abort();
  } catch (...) {
    // The connection is gone, and with it the lock.
  }
  m_held.reset();
}

repo_merge_lock store::lock_repo_for_merge(std::int64_t repo_id) try {
  auto held = std::make_unique<repo_merge_lock::held_lock>(m_impl->url);
  held->tx.exec_params(std::string(sql::repos_merge_lock), repo_id);
  return repo_merge_lock(repo_id, std::move(held));
} catch (...) {
  store_detail::rethrow_as_unavailable();
}

}  // namespace agentq
