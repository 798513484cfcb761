#pragma once
// What a repository URL says: whether reaching it needs the network, where a
// local one lives, and how to print it without its credentials.

#include <filesystem>
#include <optional>
#include <string>

namespace agentq::git {

// "https://user:secret@host/x" -> "https://***@host/x" anywhere in `text`:
// URLs in logs and errors never carry credentials.
std::string redact_url(const std::string& text);

// The directory of a local repository: a plain path or a file:// URL
// (answered as a path). nullopt for anything that needs the network:
// http(s)://, ssh://, git://, and scp-like user@host:path.
std::optional<std::filesystem::path> local_path(const std::string& url);

// True when reaching `url` needs the network (!local_path(url)).
inline bool is_network_url(const std::string& url) { return !local_path(url); }

// What to group operations on one remote by: "scheme://host[:port]" of a
// network URL (credentials dropped; scp-like "host" for user@host:path), or
// "local:<path>" for a local repository.
std::string remote_key(const std::string& url);

}  // namespace agentq::git
