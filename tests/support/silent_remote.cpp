#include "support/silent_remote.hpp"

#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace agentq::testing {

silent_remote::silent_remote() {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listen_fd, 128) != 0)
    throw std::runtime_error("bind/listen failed");
  socklen_t length = sizeof address;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  m_port = ntohs(address.sin_port);
  if (::pipe2(m_wake, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  m_thread = std::thread([this] { run(); });
}

silent_remote::~silent_remote() {
  char byte = 0;
  (void)!::write(m_wake[1], &byte, 1);
  m_thread.join();
  for (int fd : m_connections) ::close(fd);
  ::close(m_listen_fd);
  ::close(m_wake[0]);
  ::close(m_wake[1]);
}

void silent_remote::run() {
  while (true) {
    pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        m_connections.push_back(fd);  // read nothing, write nothing, keep it open
        ++m_accepted;
      }
    }
  }
}

}  // namespace agentq::testing
