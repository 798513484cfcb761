// agentq task add|list|show|cancel|requeue|approve
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"

namespace agentq::cli {
namespace {

using json = nlohmann::json;

const char* usage = R"(Usage: agentq task COMMAND [ARGS]

  add TITLE --repo NAME [--body TEXT | --body-file FILE] [--queue Q]
      [--priority N] [--run-after RFC3339] [--depends-on ID]... [--label L]...
      [--max-attempts N] [--max-review-rounds N] [--idempotency-key K] [--json]
                      add a task (higher priority is claimed first)
  list [--state S] [--queue Q] [--limit N] [--after CURSOR] [--all] [--body] [--json]
                      list task summaries, newest first, a page at a time (the
                      next page's cursor is printed); --all follows every page;
                      --body includes the bodies (at most 20 tasks a page)
  show ID [--json]    a task with its claims, submissions, reviews and events
  cancel ID [--reason TEXT] [--json]
                      cancel a task that is not final
  requeue ID [--note TEXT] [--json]
                      send a needs_human, failed or cancelled task back to the queue
  approve ID [--note TEXT] [--json]
                      overrule the reviewer of a needs_human task: the server
                      merges its last submission (kept in the disagreement log)
)";

// "&after=N" (or "?after=N" as the first parameter), or "" without a cursor.
std::string after_param(const std::string& query, const std::optional<std::string>& after) {
  if (!after) return "";
  return (query.empty() ? "?" : "&") + std::string("after=") + url_encode(*after);
}

void print_task_line(const json& task) {
  std::cout << "task " << task.value("id", 0) << " [" << task.value("state", "") << "] "
            << task.value("title", "") << "\n";
}

int add(const connection_options& conn, const arg_list& a) {
  a.expect_positionals(2);
  json body = {{"title", a.positional(1, "TITLE")}};
  auto repo = a.value("repo");
  if (!repo) usage_error("--repo NAME is required (agentq repo list shows the names)");
  body["repo"] = *repo;
  if (auto file = a.value("body-file")) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) usage_error("cannot read --body-file " + *file);
    std::stringstream text;
    text << in.rdbuf();
    body["body"] = text.str();
  } else {
    body["body"] = a.value("body").value_or("");
  }
  if (auto v = a.value("queue")) body["queue"] = *v;
  if (auto v = a.value("priority")) body["priority"] = parse_int(*v, "--priority");
  if (auto v = a.value("run-after")) body["run_after"] = *v;
  if (auto v = a.value("max-attempts")) body["max_attempts"] = parse_int(*v, "--max-attempts");
  if (auto v = a.value("max-review-rounds"))
    body["max_review_rounds"] = parse_int(*v, "--max-review-rounds");
  if (auto v = a.value("idempotency-key")) body["idempotency_key"] = *v;
  auto deps = a.values("depends-on");
  if (!deps.empty()) {
    body["depends_on"] = json::array();
    for (const auto& d : deps) body["depends_on"].push_back(parse_int(d, "--depends-on"));
  }
  auto labels = a.values("label");
  if (!labels.empty()) body["labels"] = labels;
  int status = 0;
  auto answer = call(conn, "POST", "/v1/tasks", body, &status);
  if (a.flag("json")) {
    std::cout << answer.dump() << "\n";
  } else {
    std::cout << (status == 201 ? "added " : "exists already (same idempotency key): ");
    print_task_line(answer["task"]);
  }
  return exit_ok;
}

int list(const connection_options& conn, const arg_list& a) {
  a.expect_positionals(1);
  std::string query;
  auto param = [&](const char* option, const char* name) {
    if (auto v = a.value(option)) query += (query.empty() ? "?" : "&") + std::string(name) + "=" +
                                           url_encode(*v);
  };
  param("state", "state");
  param("queue", "queue");
  param("limit", "limit");
  if (a.flag("body")) query += (query.empty() ? "?" : "&") + std::string("fields=body");
  auto answer = call(conn, "GET", "/v1/tasks" + query + after_param(query, a.value("after")));
  // --all: follow the cursor to the last page (each page is one bounded request).
  while (a.flag("all") && !answer["next"].is_null()) {
    auto more = call(conn, "GET", "/v1/tasks" + query + after_param(query, cell(answer["next"])));
    for (auto& t : more["tasks"]) answer["tasks"].push_back(std::move(t));
    answer["next"] = more["next"];
  }
  if (a.flag("json")) {
    std::cout << answer.dump() << "\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : answer["tasks"])
    rows.push_back({cell(t["id"]), cell(t["state"]), cell(t["queue"]), cell(t["priority"]),
                    cell(t["attempt"]) + "/" + cell(t["max_attempts"]),
                    cell(t["review_round"]) + "/" + cell(t["max_review_rounds"]), cell(t["repo"]),
                    cell(t["title"])});
  if (rows.empty()) {
    std::cout << "no tasks\n";
  } else {
    print_table({"ID", "STATE", "QUEUE", "PRIO", "ATTEMPT", "ROUND", "REPO", "TITLE"}, rows, 60);
  }
  if (!answer["next"].is_null())
    std::cout << "more: agentq task list --after " << cell(answer["next"]) << "\n";
  return exit_ok;
}

int show(const connection_options& conn, const arg_list& a) {
  a.expect_positionals(2);
  const int id = parse_int(a.positional(1, "task ID"), "task ID");
  auto answer = call(conn, "GET", "/v1/tasks/" + std::to_string(id));
  if (a.flag("json")) {
    std::cout << answer.dump(2) << "\n";
    return exit_ok;
  }
  const json& t = answer["task"];
  std::cout << "task " << cell(t["id"]) << ": " << cell(t["title"]) << "\n"
            << "  state:    " << cell(t["state"]) << "\n"
            << "  repo:     " << cell(t["repo"]) << "   queue: " << cell(t["queue"])
            << "   priority: " << cell(t["priority"]) << "\n"
            << "  attempt:  " << cell(t["attempt"]) << "/" << cell(t["max_attempts"])
            << "   review round: " << cell(t["review_round"]) << "/"
            << cell(t["max_review_rounds"]) << "\n"
            << "  created:  " << cell(t["created_at"]) << "   updated: " << cell(t["updated_at"])
            << "\n";
  if (!t["depends_on"].empty()) std::cout << "  depends on: " << t["depends_on"].dump() << "\n";
  if (!t["labels"].empty()) std::cout << "  labels:   " << t["labels"].dump() << "\n";
  std::cout << "\n" << cell(t["body"]) << "\n";
  if (answer.contains("submissions") && !answer["submissions"].empty()) {
    std::cout << "\nsubmissions:\n";
    for (const auto& s : answer["submissions"])
      std::cout << "  " << cell(s["created_at"]) << "  " << cell(s["worker"]) << "  "
                << cell(s["branch"]) << " " << cell(s["commit"]).substr(0, 12) << "  "
                << first_line(cell(s["summary"])) << "\n";
  }
  if (answer.contains("reviews") && !answer["reviews"].empty()) {
    std::cout << "\nreviews:\n";
    for (const auto& r : answer["reviews"])
      std::cout << "  " << cell(r["created_at"]) << "  " << cell(r["reviewer"]) << "  "
                << cell(r["verdict"]) << "  " << first_line(cell(r["reasons"])) << "\n";
  }
  if (answer.contains("events") && !answer["events"].empty()) {
    std::cout << "\nevents:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : answer["events"])
      rows.push_back({cell(e["at"]), cell(e["kind"]), cell(e["actor"]), cell(e["token"]),
                      cell(e["from_state"]) + " -> " + cell(e["to_state"])});
    print_table({"AT", "KIND", "ACTOR", "TOKEN", "TRANSITION"}, rows);
  }
  return exit_ok;
}

int change(const connection_options& conn, const arg_list& a, const std::string& verb) {
  a.expect_positionals(2);
  const int id = parse_int(a.positional(1, "task ID"), "task ID");
  json body = json::object();
  const char* field = verb == "cancel" ? "reason" : "note";  // requeue, approve: note
  if (auto v = a.value(field)) body[field] = *v;
  auto answer = call(conn, "POST", "/v1/tasks/" + std::to_string(id) + "/" + verb, body);
  if (a.flag("json")) {
    std::cout << answer.dump() << "\n";
  } else {
    std::cout << "task " << id << " is " << cell(answer["state"]) << " now";
    if (answer.contains("merge_commit")) std::cout << " (merged as " << cell(answer["merge_commit"]) << ")";
    if (answer.contains("reason")) std::cout << " (" << cell(answer["reason"]) << ")";
    std::cout << "\n";
  }
  return exit_ok;
}

}  // namespace

int run_task(const connection_options& conn, const std::vector<std::string>& args) {
  // --body is a value for `task add` (the description) and a flag for
  // `task list` (include the bodies): which one is told by the verb, which
  // comes first.
  const bool listing = !args.empty() && args.front() == "list";
  std::set<std::string> values{"repo", "body-file", "queue", "priority", "run-after",
                                  "depends-on", "label", "max-attempts", "max-review-rounds",
                                  "idempotency-key", "state", "limit", "after", "reason", "note"};
  std::set<std::string> flags{"json", "help", "all"};
  (listing ? flags : values).insert("body");
  arg_list a(args, values, flags);
  if (a.flag("help") || a.positionals().empty()) {
    std::cout << usage;
    return a.flag("help") ? exit_ok : exit_usage;
  }
  const std::string& verb = a.positionals()[0];
  if (verb == "add") return add(conn, a);
  if (verb == "list") return list(conn, a);
  if (verb == "show") return show(conn, a);
  if (verb == "cancel" || verb == "requeue" || verb == "approve") return change(conn, a, verb);
  usage_error("unknown command 'task " + verb + "'; see agentq task --help");
}

}  // namespace agentq::cli
