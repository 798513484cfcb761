#include "core/requests.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <regex>
#include <set>
#include <stdexcept>

namespace agentq {
namespace {

using json = nlohmann::json;

// Thrown inside this file only, caught by parse() and turned into a refusal.
struct bad_field : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads the fields of one JSON object, refusing wrong types and, at the end,
// any field nobody asked for.
class field_reader {
 public:
  explicit field_reader(const json& body) : m_body(body) {
    if (!body.is_object()) throw bad_field("the request body must be a JSON object");
  }

  bool has(const std::string& key) {
    m_known.insert(key);
    return m_body.contains(key) && !m_body.at(key).is_null();
  }

  std::string string(const std::string& key, std::size_t max_len, bool allow_empty = false) {
    if (!has(key)) throw bad_field("'" + key + "' is required");
    return optional_string(key, max_len, allow_empty).value();
  }

  std::optional<std::string> optional_string(const std::string& key, std::size_t max_len,
                                             bool allow_empty = true) {
    if (!has(key)) return std::nullopt;
    const json& value = m_body.at(key);
    if (!value.is_string()) throw bad_field("'" + key + "' must be a string");
    std::string text = value.get<std::string>();
    if (text.size() > max_len)
      throw bad_field("'" + key + "' is longer than " + std::to_string(max_len) + " bytes");
    if (text.find('\0') != std::string::npos)
      throw bad_field("'" + key + "' must not contain a NUL character");
    if (!allow_empty && text.empty()) throw bad_field("'" + key + "' must not be empty");
    return text;
  }

  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) {
    if (!has(key)) throw bad_field("'" + key + "' is required");
    return optional_integer(key, min, max).value();
  }

  std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t min,
                                               std::int64_t max) {
    if (!has(key)) return std::nullopt;
    return as_integer(m_body.at(key), "'" + key + "'", min, max);
  }

  bool boolean(const std::string& key, std::optional<bool> fallback) {
    if (!has(key)) {
      if (fallback) return *fallback;
      throw bad_field("'" + key + "' is required");
    }
    if (!m_body.at(key).is_boolean()) throw bad_field("'" + key + "' must be true or false");
    return m_body.at(key).get<bool>();
  }

  const json* array(const std::string& key, std::size_t max_items) {
    if (!has(key)) return nullptr;
    const json& value = m_body.at(key);
    if (!value.is_array()) throw bad_field("'" + key + "' must be an array");
    if (value.size() > max_items)
      throw bad_field("'" + key + "' has more than " + std::to_string(max_items) + " items");
    return &value;
  }

  // Call last: a field the server would silently drop is an error.
  void refuse_unknown() const {
    for (const auto& item : m_body.items())
      if (!m_known.count(item.key()))
        throw bad_field("unknown field '" + item.key() + "'");
  }

  static std::int64_t as_integer(const json& value, const std::string& what, std::int64_t min,
                                 std::int64_t max) {
    if (!value.is_number_integer()) throw bad_field(what + " must be an integer");
    std::int64_t number;
    if (value.is_number_unsigned()) {
      auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max))
        throw bad_field(what + " must be at most " + std::to_string(max));
      number = static_cast<std::int64_t>(u);
    } else {
      number = value.get<std::int64_t>();
    }
    if (number < min || number > max)
      throw bad_field(what + " must be between " + std::to_string(min) + " and " +
                      std::to_string(max));
    return number;
  }

 private:
  const json& m_body;
  std::set<std::string> m_known;
};

template <typename T, typename Fn>
outcome<T> parse(const json& body, Fn&& fill) {
  try {
    field_reader fields(body);
    T request = fill(fields);
    fields.refuse_unknown();
    return request;
  } catch (const bad_field& e) {
    return refuse(error_code::invalid_request, e.what());
  }
}

constexpr std::int64_t token_max = INT64_MAX;

std::int64_t token_field(field_reader& f) { return f.integer("token", 1, token_max); }

std::string checked_name(field_reader& f, const std::string& key, bool agent = false) {
  std::string name = f.string(key, 100);
  if (agent ? !is_valid_agent_name(name) : !is_valid_name(name))
    throw bad_field("'" + key +
                    "' must start with a letter or digit and hold only letters, digits, "
                    "'.', '_', '-'" +
                    (agent ? ", '@'" : "") + " (at most 100)");
  return name;
}

}  // namespace

bool is_valid_name(std::string_view name, std::size_t max_len) {
  if (name.empty() || name.size() > max_len) return false;
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool is_valid_agent_name(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '@';
  });
}

bool is_valid_commit(std::string_view commit) {
  return commit.size() == 40 && std::all_of(commit.begin(), commit.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_valid_branch_name(std::string_view branch) {
  // A subset of git-check-ref-format: components of [A-Za-z0-9._-] separated
  // by single slashes, none starting with '.' or '-', no "..", no ".lock".
  if (branch.empty() || branch.size() > 200) return false;
  static const std::regex shape("^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$");
  if (!std::regex_match(branch.begin(), branch.end(), shape)) return false;
  if (branch.find("..") != std::string_view::npos) return false;
  if (branch.ends_with(".lock") || branch.ends_with(".") ||
      branch.find(".lock/") != std::string_view::npos)
    return false;
  return true;
}

std::string claim_branch(std::int64_t task_id, std::int64_t token) {
  return "agentq/" + std::to_string(task_id) + "/" + std::to_string(token);
}

bool is_valid_repo_url(std::string_view url) {
  if (url.empty() || url.size() > 1000 || url.front() == '-') return false;
  for (char c : url)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  if (url.front() == '/') return true;
  for (std::string_view scheme : {"file://", "https://", "http://", "ssh://", "git://"})
    if (url.starts_with(scheme) && url.size() > scheme.size()) return true;
  static const std::regex scp_like("^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:].*$");
  return std::regex_match(url.begin(), url.end(), scp_like);
}

bool is_rfc3339(std::string_view text) {
  static const std::regex shape(
      "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]"
      "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?"
      "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$");
  return std::regex_match(text.begin(), text.end(), shape);
}

namespace {

int digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int year, int month, int day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int yoe = static_cast<int>(year - era * 400);
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<std::string> impossible_time(std::string_view text) {
  // The shape is checked first (is_rfc3339); here the numbers: a real day of
  // a real month in years 0001-9999, an offset no zone on Earth exceeds, and
  // an instant that is still inside those years once moved to UTC. The
  // database would refuse any of these, and a refusal there is not the
  // client's error any more.
  const int year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  if (year < 1) return "year 0000 does not exist (years are 0001 to 9999)";
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int last_day = month_days[month - 1] + (month == 2 && is_leap_year(year) ? 1 : 0);
  if (day > last_day)
    return std::string(text.substr(0, 10)) + " does not exist (that month has " +
           std::to_string(last_day) + " days)";
  int offset_minutes = 0;
  const char zone = text[text.size() - 6];
  if (zone == '+' || zone == '-') {
    const int hours = digits(text, text.size() - 5, 2), minutes = digits(text, text.size() - 2, 2);
    offset_minutes = (hours * 60 + minutes) * (zone == '-' ? -1 : 1);
    if (hours * 60 + minutes > 14 * 60)
      return "the UTC offset must be between -14:00 and +14:00";
  }
  const std::int64_t utc_minutes = days_from_civil(year, month, day) * 1440 +
                                   digits(text, 11, 2) * 60 + digits(text, 14, 2) -
                                   offset_minutes;
  if (utc_minutes < days_from_civil(1, 1, 1) * 1440 ||
      utc_minutes >= days_from_civil(10000, 1, 1) * 1440)
    return "the time in UTC falls outside the years 0001 to 9999";
  return std::nullopt;
}

outcome<new_task> parse_new_task(const json& body) {
  return parse<new_task>(body, [](field_reader& f) {
    new_task t;
    t.title = f.string("title", limits::title_max);
    if (t.title.find_first_not_of(" \t\r\n") == std::string::npos)
      throw bad_field("'title' must not be blank");
    t.body = f.string("body", limits::body_max, true);
    t.repo = checked_name(f, "repo");
    if (f.has("queue")) {
      t.queue = f.string("queue", 64);
      if (!is_valid_name(t.queue, 64))
        throw bad_field("'queue' must start with a letter or digit and hold only letters, "
                        "digits, '.', '_', '-' (at most 64)");
    }
    t.priority = static_cast<int>(f.optional_integer("priority", -1000000, 1000000).value_or(0));
    t.run_after = f.optional_string("run_after", 64);
    if (t.run_after && !is_rfc3339(*t.run_after))
      throw bad_field("'run_after' must be an RFC 3339 time such as 2026-01-02T03:04:05Z");
    if (t.run_after)
      if (auto why = impossible_time(*t.run_after))
        throw bad_field("'run_after' is not a real time: " + *why);
    if (const json* deps = f.array("depends_on", limits::depends_on_max)) {
      for (const json& dep : *deps) {
        auto id = field_reader::as_integer(dep, "each of 'depends_on'", 1, token_max);
        if (std::find(t.depends_on.begin(), t.depends_on.end(), id) == t.depends_on.end())
          t.depends_on.push_back(id);
      }
    }
    t.max_attempts = static_cast<int>(f.optional_integer("max_attempts", 1, 100).value_or(3));
    t.max_review_rounds =
        static_cast<int>(f.optional_integer("max_review_rounds", 1, 100).value_or(3));
    t.idempotency_key = f.optional_string("idempotency_key", 200, false);
    if (const json* labels = f.array("labels", limits::labels_max)) {
      for (const json& label : *labels) {
        if (!label.is_string() || label.get<std::string>().empty() ||
            label.get<std::string>().size() > 100 ||
            label.get<std::string>().find('\0') != std::string::npos)
          throw bad_field("each of 'labels' must be a non-empty string of at most 100 bytes");
      }
      t.labels = *labels;
    }
    return t;
  });
}

outcome<claim_request> parse_claim_request(const json& body) {
  return parse<claim_request>(body, [](field_reader& f) {
    claim_request c;
    if (const json* queues = f.array("queues", 50)) {
      for (const json& q : *queues) {
        if (!q.is_string() || !is_valid_name(q.get<std::string>(), 64))
          throw bad_field("each of 'queues' must be a queue name");
        c.queues.push_back(q.get<std::string>());
      }
    }
    c.wait_s = static_cast<int>(f.optional_integer("wait_s", 0, limits::wait_max_s).value_or(0));
    if (auto lease = f.optional_integer("lease_s", limits::lease_min_s, limits::lease_max_s))
      c.lease_s = static_cast<int>(*lease);
    return c;
  });
}

outcome<heartbeat_request> parse_heartbeat_request(const json& body) {
  return parse<heartbeat_request>(body, [](field_reader& f) {
    heartbeat_request h;
    h.token = token_field(f);
    h.progress = f.optional_string("progress", 4096);
    return h;
  });
}

outcome<submit_request> parse_submit_request(const json& body) {
  return parse<submit_request>(body, [](field_reader& f) {
    submit_request s;
    s.token = token_field(f);
    s.branch = f.string("branch", 200);
    if (!is_valid_branch_name(s.branch)) throw bad_field("'branch' is not a valid branch name");
    s.commit = f.string("commit", 40);
    if (!is_valid_commit(s.commit))
      throw bad_field("'commit' must be a full 40-character lower-case hex commit id");
    s.summary = f.string("summary", limits::text_max, true);
    return s;
  });
}

outcome<release_request> parse_release_request(const json& body) {
  return parse<release_request>(body, [](field_reader& f) {
    release_request r;
    r.token = token_field(f);
    r.reason = f.optional_string("reason", limits::text_max).value_or("");
    r.retry = f.boolean("retry", true);
    r.charge_attempt = f.boolean("charge_attempt", true);
    if (!r.charge_attempt && !r.retry)
      throw bad_field("'charge_attempt': false gives the attempt back for another try: it needs "
                      "'retry' true");
    return r;
  });
}

outcome<runner_status_request> parse_runner_status_request(const json& body) {
  return parse<runner_status_request>(body, [](field_reader& f) {
    runner_status_request r;
    r.status = f.string("status", 16);
    if (r.status != "healthy" && r.status != "unhealthy")
      throw bad_field("'status' must be \"healthy\" or \"unhealthy\"");
    r.reason = f.optional_string("reason", 4096);
    return r;
  });
}

outcome<review_request> parse_review_request(const json& body) {
  return parse<review_request>(body, [](field_reader& f) {
    review_request r;
    r.token = token_field(f);
    std::string v = f.string("verdict", 16);
    if (v == "approve") r.verdict = verdict::approve;
    else if (v == "reject") r.verdict = verdict::reject;
    else throw bad_field("'verdict' must be \"approve\" or \"reject\"");
    r.reasons = f.optional_string("reasons", limits::text_max).value_or("");
    if (r.verdict == verdict::reject && r.reasons.find_first_not_of(" \t\r\n") == std::string::npos)
      throw bad_field("a rejection needs 'reasons': the worker and the disagreement log read them");
    return r;
  });
}

bool is_reserved_agent_name(std::string_view name) {
  // The actors the server itself writes into the event history: the bootstrap
  // admin token, the reaper, the merger, and a lease that expired under a
  // claim. An agent by one of these names (in any case) would be
  // indistinguishable from them there.
  static constexpr std::string_view reserved[] = {"admin", "reaper", "merger", "system"};
  return std::any_of(std::begin(reserved), std::end(reserved), [&](std::string_view r) {
    return name.size() == r.size() &&
           std::equal(name.begin(), name.end(), r.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  });
}

outcome<new_agent> parse_new_agent(const json& body) {
  return parse<new_agent>(body, [](field_reader& f) {
    new_agent a;
    a.name = checked_name(f, "name", true);
    if (is_reserved_agent_name(a.name))
      throw bad_field("'name' " + a.name +
                      " is reserved: the server writes admin, reaper, merger and system into "
                      "the event history as its own actors");
    auto role = parse_agent_role(f.string("role", 16));
    if (!role) throw bad_field("'role' must be \"worker\", \"reviewer\" or \"admin\"");
    a.role = *role;
    return a;
  });
}

outcome<new_repo> parse_new_repo(const json& body) {
  return parse<new_repo>(body, [](field_reader& f) {
    new_repo r;
    r.name = checked_name(f, "name");
    r.url = f.string("url", 1000);
    if (!is_valid_repo_url(r.url))
      throw bad_field("'url' must be an absolute path, or a file://, https://, ssh:// or "
                      "user@host:path address");
    if (f.has("base_branch")) {
      r.base_branch = f.string("base_branch", 200);
      if (!is_valid_branch_name(r.base_branch))
        throw bad_field("'base_branch' is not a valid branch name");
    }
    return r;
  });
}

outcome<resolve_request> parse_resolve_request(const json& body) {
  return parse<resolve_request>(body, [](field_reader& f) {
    resolve_request r;
    r.decision = f.string("decision", 32);
    if (r.decision != "reviewer_right" && r.decision != "worker_right" &&
        r.decision != "spec_unclear")
      throw bad_field(
          "'decision' must be \"reviewer_right\", \"worker_right\" or \"spec_unclear\"");
    r.note = f.optional_string("note", limits::text_max).value_or("");
    return r;
  });
}

outcome<note_request> parse_note_request(const json& body, const std::string& note_field) {
  if (body.is_null()) return note_request{};  // an empty body is fine here
  return parse<note_request>(body, [&](field_reader& f) {
    note_request n;
    n.note = f.optional_string(note_field, limits::text_max);
    return n;
  });
}

outcome<amend_request> parse_amend_request(const json& body) {
  return parse<amend_request>(body, [](field_reader& f) {
    amend_request a;
    a.body = f.string("body", limits::body_max, true);
    a.note = f.optional_string("note", limits::text_max);
    a.requeue = f.boolean("requeue", false);
    return a;
  });
}

}  // namespace agentq
