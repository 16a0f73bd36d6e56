#include "output/url_credentials.h"

namespace aurelay::output {

std::string without_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto scheme = text.find("://");
    if (scheme == std::string_view::npos) break;
    const auto host_start = scheme + 3;
    out.append(text.substr(0, host_start));
    text.remove_prefix(host_start);
    // The authority ends at the path, query, fragment, a list separator or white space.
    const auto end = text.find_first_of("/?#, \t\n");
    const std::string_view authority = text.substr(0, end);
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) text.remove_prefix(at + 1);
  }
  out.append(text);
  return out;
}

}  // namespace aurelay::output
