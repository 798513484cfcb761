// The people's page (web/, embedded at build time by cmake/embed_web.cmake):
// GET / is index.html, GET /web/{file} its stylesheet and script. No token:
// the page asks for one and sends it with every API call it makes.
//
// Every answer carries a strict Content-Security-Policy: scripts, styles and
// connections only from this server, no inline script or style, no plugins,
// no framing. Agents write the texts the page shows (titles, summaries,
// reasons); the page sets them as text, and the policy is the second wall.
#include <agentq/web_files.hpp>

#include "http/routes/route_support.hpp"
#include "http/routes/routes.hpp"

namespace agentq::routes {
namespace {

inline constexpr const char* content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

http_reply page_file(std::string_view name) {
  for (const auto& file : web::files) {
    if (file.name != name) continue;
    http_reply reply;
    reply.body = std::string(file.text);
    reply.content_type = std::string(file.content_type);
    reply.headers = {{"Content-Security-Policy", content_security_policy},
                     {"X-Content-Type-Options", "nosniff"},
                     {"Referrer-Policy", "no-referrer"},
                     {"X-Frame-Options", "DENY"},
                     // the files change with the binary: always ask again
                     {"Cache-Control", "no-cache"}};
    return reply;
  }
  fail(error_code::not_found, "no page file '" + std::string(name) + "'");
}

}  // namespace

http_reply web_page(route_context&) { return page_file("index.html"); }

http_reply web_file(route_context& ctx) {
  const std::string& name = ctx.params[0];
  if (name == "index.html") fail(error_code::not_found, "the page is at /");
  return page_file(name);
}

}  // namespace agentq::routes
