// agentq disagreements list|show|resolve|stats
#include <iostream>

#include "cli.hpp"

namespace agentq::cli {
namespace {

using json = nlohmann::json;

const char* usage = R"(Usage: agentq disagreements COMMAND [ARGS]

Every rejection (and every human override) is kept with both sides' words.
People read them and judge who was right; entries are never edited.

  list [--status open|resolved|all] [--limit N] [--after CURSOR] [--all] [--json]
                 a table: id, task, round, worker, reviewer, first line of each
                 side; newest first, 100 a page (the next page's cursor is
                 printed); --all follows every page
  show ID [--json]
                 both sides in full
  resolve ID --decision reviewer_right|worker_right|spec_unclear --note TEXT
                 record the judgement (who and when are kept)
  stats [--json]
                 the agreement table: for each worker, reviewer and repository,
                 submissions, approvals (first time), rejections and how they
                 were judged (GET /v1/agreement)
)";

// One table per scope: who disagrees most, and who is usually right.
void show_agreement(const json& table) {
  const std::vector<std::pair<const char*, const char*>> scopes = {
      {"workers", "WORKER"}, {"reviewers", "REVIEWER"}, {"repos", "REPOSITORY"}};
  bool first = true;
  for (const auto& [key, heading] : scopes) {
    if (!first) std::cout << "\n";
    first = false;
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : table[key])
      rows.push_back({cell(r["name"]), cell(r["submissions"]), cell(r["approved"]),
                      cell(r["approved_first_time"]), cell(r["rejected"]),
                      cell(r["reviewer_right"]), cell(r["worker_right"]),
                      cell(r["spec_unclear"]), cell(r["open"])});
    if (rows.empty()) {
      std::cout << "no " << key << " yet\n";
      continue;
    }
    print_table({heading, "SUBMISSIONS", "APPROVED", "FIRST TIME", "REJECTED", "REVIEWER RIGHT",
                 "WORKER RIGHT", "SPEC UNCLEAR", "OPEN"},
                rows, 40);
  }
}

void show_entry(const json& d, const json& diff_stats) {
  std::cout << "disagreement " << cell(d["id"]) << " [" << cell(d["status"]) << "]  task "
            << cell(d["task_id"]) << ": " << cell(d["task_title"]) << "\n"
            << "  round " << cell(d["round"]) << ", commit " << cell(d["commit"]) << ", "
            << cell(d["created_at"]) << "\n\n"
            << "worker " << cell(d["worker"]) << " said:\n"
            << cell(d["worker_summary"]) << "\n\n"
            << "reviewer " << cell(d["reviewer"]) << " said:\n"
            << cell(d["reasons"]) << "\n";
  if (diff_stats.is_object()) {
    std::cout << "\nthe change: " << cell(diff_stats["files_changed"]) << " file(s), +"
              << cell(diff_stats["insertions"]) << " -" << cell(diff_stats["deletions"]) << "\n";
    // gitcore/diff_stats.hpp's shape, the same the reviewer's task file holds.
    for (const auto& f : diff_stats["files"])
      std::cout << "  " << cell(f.value("status", json("?"))) << " " << cell(f["path"]) << "  +"
                << cell(f["insertions"]) << " -" << cell(f["deletions"]) << "\n";
    if (diff_stats.value("files_truncated", false))
      std::cout << "  (more files than listed)\n";
  } else {
    std::cout << "\n(diff stats unavailable: the server could not read the repository)\n";
  }
  if (d.contains("resolution") && d["resolution"].is_object()) {
    const json& r = d["resolution"];
    std::cout << "\nresolved " << cell(r["decision"]) << " by " << cell(r["by"]) << " at "
              << cell(r["at"]) << ":\n"
              << cell(r["note"]) << "\n";
  }
}

}  // namespace

int run_disagreements(const connection_options& conn, const std::vector<std::string>& args) {
  arg_list a(args, {"status", "decision", "note", "limit", "after"}, {"json", "help", "all"});
  if (a.flag("help") || a.positionals().empty()) {
    std::cout << usage;
    return a.flag("help") ? exit_ok : exit_usage;
  }
  const std::string& verb = a.positionals()[0];
  if (verb == "list") {
    a.expect_positionals(1);
    const std::string status = a.value("status").value_or("open");
    std::string query = "/v1/disagreements?status=" + url_encode(status);
    if (auto v = a.value("limit")) query += "&limit=" + url_encode(*v);
    const auto after = a.value("after");
    auto answer = call(conn, "GET", query + (after ? "&after=" + url_encode(*after) : ""));
    // --all: follow the cursor to the last page.
    while (a.flag("all") && !answer["next"].is_null()) {
      auto more = call(conn, "GET", query + "&after=" + cell(answer["next"]));
      for (auto& d : more["disagreements"]) answer["disagreements"].push_back(std::move(d));
      answer["next"] = more["next"];
    }
    if (a.flag("json")) {
      std::cout << answer.dump() << "\n";
      return exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : answer["disagreements"])
      rows.push_back({cell(d["id"]), cell(d["task_id"]) + " " + cell(d["task_title"]),
                      cell(d["round"]), cell(d["worker"]), cell(d["reviewer"]),
                      first_line(cell(d["worker_summary"])), first_line(cell(d["reasons"]))});
    if (rows.empty())
      std::cout << "no " << (status == "all" ? "" : status + " ") << "disagreements\n";
    else
      print_table({"ID", "TASK", "ROUND", "WORKER", "REVIEWER", "WORKER SAID", "REVIEWER SAID"},
                  rows, 40);
    if (!answer["next"].is_null())
      std::cout << "more: agentq disagreements list --status " << status << " --after "
                << cell(answer["next"]) << "\n";
    return exit_ok;
  }
  if (verb == "show") {
    a.expect_positionals(2);
    const int id = parse_int(a.positional(1, "ID"), "ID");
    auto answer = call(conn, "GET", "/v1/disagreements/" + std::to_string(id));
    if (a.flag("json"))
      std::cout << answer.dump(2) << "\n";
    else
      show_entry(answer["disagreement"], answer["diff_stats"]);
    return exit_ok;
  }
  if (verb == "resolve") {
    a.expect_positionals(2);
    const int id = parse_int(a.positional(1, "ID"), "ID");
    auto decision = a.value("decision");
    if (!decision) usage_error("--decision reviewer_right|worker_right|spec_unclear is required");
    auto note = a.value("note");
    if (!note) usage_error("--note TEXT is required: say why");
    auto answer = call(conn, "POST", "/v1/disagreements/" + std::to_string(id) + "/resolve",
                       {{"decision", *decision}, {"note", *note}});
    if (a.flag("json"))
      std::cout << answer.dump() << "\n";
    else
      std::cout << "disagreement " << id << " resolved: " << *decision << "\n";
    return exit_ok;
  }
  if (verb == "stats") {
    a.expect_positionals(1);
    auto answer = call(conn, "GET", "/v1/agreement");
    if (a.flag("json"))
      std::cout << answer.dump() << "\n";
    else
      show_agreement(answer);
    return exit_ok;
  }
  usage_error("unknown command 'disagreements " + verb + "'; see agentq disagreements --help");
}

}  // namespace agentq::cli
