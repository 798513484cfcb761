#pragma once
// Every route function, by the file (noun) that holds it. route_table.cpp
// says which method and path each answers and who may call it.

#include "http/routes/route.hpp"

namespace agentq::routes {

// health.cpp: no token
http_reply healthz(route_context& ctx);
http_reply readyz(route_context& ctx);
http_reply metrics(route_context& ctx);

// tasks.cpp
http_reply add_task(route_context& ctx);
http_reply list_tasks(route_context& ctx);
http_reply get_task(route_context& ctx);
http_reply cancel_task(route_context& ctx);
http_reply requeue_task(route_context& ctx);
http_reply approve_as_human(route_context& ctx);

// claims.cpp: claiming, and the calls of a claim's holder
http_reply claim(route_context& ctx);
http_reply heartbeat(route_context& ctx);
http_reply submit(route_context& ctx);
http_reply release(route_context& ctx);
http_reply review(route_context& ctx);

// repos.cpp
http_reply add_repo(route_context& ctx);
http_reply list_repos(route_context& ctx);

// agents.cpp
http_reply whoami(route_context& ctx);
http_reply set_runner_status(route_context& ctx);  // runner_status.cpp
http_reply add_agent(route_context& ctx);
http_reply list_agents(route_context& ctx);
http_reply revoke_agent(route_context& ctx);

// disagreements.cpp
http_reply list_disagreements(route_context& ctx);
http_reply get_disagreement(route_context& ctx);
http_reply resolve_disagreement(route_context& ctx);

// people.cpp: what people's views add (the agreement table, the event feed,
// amending a task's description)
http_reply agreement(route_context& ctx);
http_reply list_events(route_context& ctx);
http_reply amend_task(route_context& ctx);

// web.cpp: the people's page, no token
http_reply web_page(route_context& ctx);
http_reply web_file(route_context& ctx);

}  // namespace agentq::routes
