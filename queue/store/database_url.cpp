#include "store/database_url.hpp"

#include <stdexcept>

#include <libpq-fe.h>

namespace agentq {

std::string with_database(const std::string& database_url, const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(database_url.c_str(), &error);
  if (!options) {
    std::string message = error ? error : "unparseable connection string";
    PQfreemem(error);
    throw std::invalid_argument(message);
  }
  auto quoted = [](const std::string& value) {
    std::string out = "'";
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val || std::string(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(options);
  return out + "dbname=" + quoted(dbname);
}

}  // namespace agentq
