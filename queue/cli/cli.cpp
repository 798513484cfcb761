#include "cli.hpp"

#include <cctype>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "http_client.hpp"

namespace agentq::cli {

arg_list::arg_list(const std::vector<std::string>& args, const std::set<std::string>& options,
                   const std::set<std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      auto eq = arg.find('=');
      std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (options.count(name)) {
        if (eq != std::string::npos) {
          m_values.emplace(name, arg.substr(eq + 1));
        } else {
          if (i + 1 >= args.size()) usage_error("--" + name + " needs a value");
          m_values.emplace(name, args[++i]);
        }
      } else if (flags.count(name) && eq == std::string::npos) {
        m_flags.insert(name);
      } else {
        usage_error("unknown option --" + name);
      }
    } else if (arg == "--") {
      for (++i; i < args.size(); ++i) m_positionals.push_back(args[i]);
    } else {
      m_positionals.push_back(arg);
    }
  }
}

std::optional<std::string> arg_list::value(const std::string& name) const {
  auto range = m_values.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one wins
}

std::vector<std::string> arg_list::values(const std::string& name) const {
  std::vector<std::string> out;
  auto range = m_values.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

const std::string& arg_list::positional(std::size_t index, const std::string& what) const {
  if (index >= m_positionals.size()) usage_error("missing " + what);
  return m_positionals[index];
}

void arg_list::expect_positionals(std::size_t count) const {
  if (m_positionals.size() > count) usage_error("unexpected argument '" + m_positionals[count] + "'");
}

int parse_int(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= INT32_MIN && value <= INT32_MAX)
      return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  usage_error(what + " must be an integer (got '" + text + "')");
}

namespace {

std::string advice(const std::string& code) {
  if (code == "unauthenticated")
    return "check --token / AGENTQ_TOKEN (an admin token: AGENTQ_ADMIN_TOKEN of the server, or "
           "an agent added with --role admin)";
  if (code == "forbidden") return "this needs another role; use an admin token";
  if (code == "not_found") return "check the id or name (agentq task list, agentq agent list)";
  if (code == "invalid_request") return "fix the arguments (see --help)";
  if (code == "invalid_state") return "look at the task's state with agentq task show ID";
  if (code == "duplicate") return "pick another name";
  if (code == "unavailable") return "the server cannot reach its database; retry shortly";
  return "";
}

}  // namespace

nlohmann::json call(const connection_options& conn, const std::string& method,
                    const std::string& target, const nlohmann::json& body, int* status) {
  http_response response;
  try {
    http_client client(conn.server, conn.token);
    response = client.request(method, target, body);
  } catch (const http_unreachable& e) {
    throw cli_exit(exit_unreachable,
                   std::string(e.what()) +
                       "\nIs `agentq serve` running there? Set --server or AGENTQ_SERVER.");
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  if (status) *status = response.status;
  if (response.status >= 200 && response.status < 300) return response.body;
  const std::string code = response.error_code();
  std::string message = "server refused (" + std::to_string(response.status) + " " + code +
                        "): " + response.error_message();
  if (auto hint = advice(code); !hint.empty()) message += "\n" + hint;
  throw cli_exit(exit_refused, message);
}

std::string url_encode(const std::string& text) {
  std::ostringstream out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out << c;
    else
      out << '%' << std::uppercase << std::hex << std::setw(2) << std::setfill('0')
          << static_cast<int>(c) << std::nouppercase << std::dec;
  }
  return out.str();
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, std::size_t max_width) {
  auto clip = [&](const std::string& text) {
    if (text.size() <= max_width) return text;
    return text.substr(0, max_width - 3) + "...";
  };
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], clip(row[i]).size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string text = i < row.size() ? clip(row[i]) : "";
      line += text;
      if (i + 1 < widths.size()) line += std::string(widths[i] - text.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

std::string first_line(const std::string& text) {
  auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  auto end = text.find('\n', start);
  std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace agentq::cli
