#include "gitcore/credentials.hpp"

#include <cstdlib>

namespace agentq::git {
namespace {

constexpr const char* default_https_user = "x-access-token";
constexpr const char* default_ssh_user = "git";

const char* env_or_null(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

// Single quotes for sh: 'it'\''s'.
std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

int refuse(const char* what) {
  git_error_set_str(GIT_ERROR_NET, what);
  return GIT_EAUTH;
}

}  // namespace

int provide_credentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                        unsigned int allowed, void* payload) {
  auto* state = static_cast<credential_state*>(payload);
  const char* env_user = env_or_null("AGENTQ_GIT_USERNAME");
  auto take = [state](unsigned int kind) {
    if (state->tried & kind) return false;
    state->tried |= kind;
    return true;
  };
  if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
    const char* password = env_or_null("AGENTQ_GIT_PASSWORD");
    if (password) {
      if (!take(GIT_CREDENTIAL_USERPASS_PLAINTEXT))
        return refuse("the repository refused AGENTQ_GIT_USERNAME / AGENTQ_GIT_PASSWORD");
      const char* user = env_user ? env_user : username_from_url;
      return git_credential_userpass_plaintext_new(out, user ? user : default_https_user,
                                                   password);
    }
  }
  const char* ssh_user = env_user ? env_user : username_from_url;
  if (!ssh_user) ssh_user = default_ssh_user;
  if (allowed & GIT_CREDENTIAL_SSH_KEY) {
    if (!take(GIT_CREDENTIAL_SSH_KEY))
      return refuse("the repository refused the ssh key (AGENTQ_GIT_SSH_KEY or the ssh-agent's)");
    if (const char* key = env_or_null("AGENTQ_GIT_SSH_KEY"))
      return git_credential_ssh_key_new(out, ssh_user, env_or_null("AGENTQ_GIT_SSH_PUBKEY"), key,
                                        env_or_null("AGENTQ_GIT_SSH_PASSPHRASE"));
    return git_credential_ssh_key_from_agent(out, ssh_user);
  }
  if (allowed & GIT_CREDENTIAL_USERNAME) {
    if (!take(GIT_CREDENTIAL_USERNAME)) return refuse("the repository refused the ssh user name");
    return git_credential_username_new(out, ssh_user);
  }
  return GIT_PASSTHROUGH;  // libgit2 then says that authentication is required
}

std::vector<std::string> cli_credential_options() {
  // The first empty value drops helpers from the user's git config; the
  // second answers only `get`, only when a password is set.
  const std::string helper =
      std::string("!f() { test \"$1\" = get || exit 0; test -n \"$AGENTQ_GIT_PASSWORD\" || exit 0; "
                  "echo \"username=${AGENTQ_GIT_USERNAME:-") +
      default_https_user + "}\"; echo \"password=$AGENTQ_GIT_PASSWORD\"; }; f";
  return {"-c", "credential.helper=", "-c", "credential.helper=" + helper};
}

std::vector<std::pair<std::string, std::string>> cli_environment(int connect_timeout_s) {
  std::string ssh = "ssh -o BatchMode=yes -o ConnectTimeout=" +
                    std::to_string(connect_timeout_s < 1 ? 1 : connect_timeout_s) +
                    " -o ServerAliveInterval=5 -o ServerAliveCountMax=3";
  if (const char* key = env_or_null("AGENTQ_GIT_SSH_KEY"))
    ssh += " -o IdentitiesOnly=yes -i " + shell_quote(key);
  if (const char* user = env_or_null("AGENTQ_GIT_USERNAME")) ssh += " -l " + shell_quote(user);
  return {{"GIT_TERMINAL_PROMPT", "0"},
          // Empty: no askpass program either (not even core.askPass), so a
          // missing credential fails at once with "terminal prompts disabled".
          {"GIT_ASKPASS", ""},
          {"SSH_ASKPASS", ""},
          {"GIT_SSH_COMMAND", ssh},
          {"GIT_PROTOCOL_FROM_USER", "0"},
          {"LC_ALL", "C"}};
}

}  // namespace agentq::git
