// Credentials in output URLs (http://user:password@host/_bulk, amqp://user:password@host/vhost):
// what may be shown of them (nothing) and where else they may come from (a file only its owner
// can read). Every log line, error, state file, metrics file and --check-config output shows a
// URL through redact_url_credentials().
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace aurelay::output {

// `text` with the user information (user, password, token: everything before '@' in the
// authority) of every URL in it replaced by "***": "https://***@mozdef.example/_bulk",
// "amqp://***@a:5672/v,amqps://***@b/v". Text without such URLs comes back unchanged.
std::string redact_url_credentials(std::string_view text);

// Masks the value of an HTTP Authorization header line in curl's verbose output (the Basic form
// is base64 of user:password): "Authorization: Basic ***".
std::string redact_authorization_header(std::string_view line);

// Reads "user:password" (one line; a trailing newline is dropped) from `path`. Refused, with a
// message, when the file cannot be read, is empty, or can be read by its group or others
// (mode & 077), as ssh and auditd refuse such files.
Result<std::string> read_credentials_file(const std::string& path);

}  // namespace aurelay::output
