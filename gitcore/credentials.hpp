#pragma once
// The one set of credential rules for git remotes, for libgit2 (the runners,
// the server's in-process work) and for the git CLI (the server's network
// git, which runs in a child process it can kill; queue/git/git_process.hpp).
// Everything comes from the environment (docs/agents.md) and is never logged:
//
//   https://  AGENTQ_GIT_USERNAME (default: the URL's user, else
//             x-access-token) and AGENTQ_GIT_PASSWORD (a password or token)
//   ssh       AGENTQ_GIT_SSH_KEY (private key file), optional
//             AGENTQ_GIT_SSH_PUBKEY and AGENTQ_GIT_SSH_PASSPHRASE; without a
//             key file the ssh-agent at SSH_AUTH_SOCK. The user is
//             AGENTQ_GIT_USERNAME, else the URL's user, else git.
//
// A key with a passphrase works through libgit2 only: the git CLI runs ssh
// in batch mode (it must never wait for a prompt); load such a key into an
// ssh-agent for the server.

#include <string>
#include <utility>
#include <vector>

#include <git2.h>

namespace agentq::git {

// Per connection: which kinds of credential were handed out already. libgit2
// asks again when the remote refused one; handing out the same again would
// loop, so the second request for a kind is a refusal.
struct credential_state {
  unsigned int tried = 0;
};

// A git_credential_acquire_cb; `payload` is a credential_state*.
int provide_credentials(git_credential** out, const char* url, const char* username_from_url,
                        unsigned int allowed, void* payload);

// The git CLI's share of the rules: `-c` options (a credential helper that
// answers from AGENTQ_GIT_USERNAME/AGENTQ_GIT_PASSWORD, read from the child's
// environment so no secret is on a command line) to put before the command.
std::vector<std::string> cli_credential_options();

// Environment for a git CLI child: no prompts (GIT_TERMINAL_PROMPT=0, ssh in
// BatchMode), ssh connect timeout `connect_timeout_s`, the ssh key file when
// AGENTQ_GIT_SSH_KEY is set, and C-locale messages.
std::vector<std::pair<std::string, std::string>> cli_environment(int connect_timeout_s);

}  // namespace agentq::git
