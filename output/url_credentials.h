// Keeps credentials out of logs, the state file and --check-config: every `scheme://user:pass@`
// in a text loses its `user:pass@`.
#pragma once

#include <string>
#include <string_view>

namespace aurelay::output {

// `text` with the userinfo of every URL in it removed: "amqp://u:p@a:5672/v,amqps://u:p@b/v"
// becomes "amqp://a:5672/v,amqps://b/v". Text without URLs is returned unchanged.
std::string without_credentials(std::string_view text);

}  // namespace aurelay::output
