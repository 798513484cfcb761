#pragma once
// Connection strings: the same server and credentials with another database
// name. Tests and the bench clone a migrated template per case or per row and
// connect to the clone this way; a libpq URI or key=value string both work.

#include <string>

namespace agentq {

// Throws std::invalid_argument when libpq cannot parse `database_url`.
std::string with_database(const std::string& database_url, const std::string& dbname);

}  // namespace agentq
