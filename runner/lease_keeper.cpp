#include "runner/lease_keeper.hpp"

#include <algorithm>

namespace agentq::runner {

using std::chrono::milliseconds;

namespace {

milliseconds beat_interval(milliseconds lease) {
  return std::max(milliseconds(500), lease / 3);
}

// After a failed attempt: soon, but not in a tight loop.
milliseconds retry_interval(milliseconds lease) {
  return std::clamp(lease / 10, milliseconds(250), milliseconds(2000));
}

}  // namespace

lease_decision decide(const heartbeat_reply& reply, lease_clock::time_point sent,
                      lease_clock::time_point now, lease_clock::time_point deadline,
                      milliseconds lease) {
  lease_decision d;
  switch (reply.outcome) {
    case heartbeat_reply::kind::renewed:
      d.what = lease_decision::action::keep;
      d.deadline = sent + lease;
      d.next_beat = sent + beat_interval(lease);
      return d;
    case heartbeat_reply::kind::refused:
      d.what = lease_decision::action::lost;
      d.deadline = deadline;
      d.why = "the server refused the heartbeat (" + reply.detail + "): the claim is gone";
      return d;
    case heartbeat_reply::kind::unavailable:
      d.deadline = deadline;
      if (now >= deadline) {
        d.what = lease_decision::action::lost;
        d.why = "the server could not be reached before the lease ran out (" + reply.detail + ")";
        return d;
      }
      d.what = lease_decision::action::retry;
      d.next_beat = std::min(now + retry_interval(lease), deadline);
      return d;
  }
  return d;
}

lease_keeper::lease_keeper(milliseconds lease, lease_clock::time_point claimed_at, beat_fn beat,
                           progress_fn progress, lost_fn on_lost, milliseconds first_lease)
    : m_lease(lease),
      m_beat(std::move(beat)),
      m_progress(std::move(progress)),
      m_on_lost(std::move(on_lost)),
      m_deadline(claimed_at + lease),
      m_first_beat(claimed_at + beat_interval(lease)) {
  // A short first lease: beat at once, so the server makes it the whole one
  // long before the short one runs out.
  if (first_lease > milliseconds(0) && first_lease < lease) {
    m_deadline = claimed_at + first_lease;
    m_first_beat = claimed_at;
    m_short_first = true;
  }
  m_thread = std::thread([this] { loop(); });
}

lease_keeper::~lease_keeper() { stop(); }

void lease_keeper::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

bool lease_keeper::lost() const {
  std::lock_guard lock(m_mutex);
  return m_lost;
}

std::string lease_keeper::lost_reason() const {
  std::lock_guard lock(m_mutex);
  return m_lost_reason;
}

bool lease_keeper::alive() const {
  std::lock_guard lock(m_mutex);
  return !m_lost && lease_clock::now() < m_deadline;
}

int lease_keeper::beats() const {
  std::lock_guard lock(m_mutex);
  return m_beats;
}

void lease_keeper::loop() {
  std::unique_lock lock(m_mutex);
  auto next = m_first_beat;
  for (;;) {
    // Wake at the next beat, or at the deadline if that comes first.
    auto wake_at = std::min(next, m_deadline);
    m_wake.wait_until(lock, wake_at, [&] { return m_stopping; });
    if (m_stopping) return;
    auto now = lease_clock::now();
    if (now < wake_at) continue;

    heartbeat_reply reply;
    // The first beat of a short first lease always goes out: claimed_at is
    // when the claim was asked for, and a long-poll may have waited longer
    // than the first lease before the server granted it; the server knows.
    const bool first_beat = m_short_first && m_beats == 0;
    if (now >= m_deadline && !first_beat) {
      reply.outcome = heartbeat_reply::kind::unavailable;
      reply.detail = "no heartbeat got through";
    } else {
      // The call may take at most until the lease would run out.
      auto limit = std::chrono::duration_cast<milliseconds>(m_deadline - now);
      if (first_beat) limit = std::max(limit, beat_interval(m_lease));
      lock.unlock();
      std::string progress = m_progress ? m_progress() : std::string();
      reply = m_beat(progress, std::max(limit, milliseconds(100)));
      lock.lock();
      if (m_stopping && reply.outcome != heartbeat_reply::kind::refused) return;
    }
    auto d = decide(reply, now, lease_clock::now(), m_deadline, m_lease);
    m_deadline = d.deadline;
    if (d.what == lease_decision::action::lost) {
      m_lost = true;
      m_lost_reason = d.why;
      lock.unlock();
      if (m_on_lost) m_on_lost(d.why);
      return;
    }
    if (d.what == lease_decision::action::keep) ++m_beats;
    next = d.next_beat;
  }
}

}  // namespace agentq::runner
