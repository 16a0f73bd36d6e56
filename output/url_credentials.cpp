#include "output/url_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aurelay::output {

std::string redact_url_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t scheme = text.find("://");
    if (scheme == std::string_view::npos) break;
    const std::size_t authority = scheme + 3;
    out.append(text.substr(0, authority));
    text.remove_prefix(authority);
    // The authority ends at the path, query, fragment, a list separator or white space.
    const std::string_view host_part = text.substr(0, text.find_first_of("/?#, \t\n"));
    const std::size_t at = host_part.rfind('@');
    if (at != std::string_view::npos) {
      out.append("***");
      text.remove_prefix(at);  // keeps the '@'
    }
  }
  out.append(text);
  return out;
}

std::string redact_authorization_header(std::string_view line) {
  constexpr std::string_view kHeader = "authorization:";
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '>' || line[i] == '\t')) ++i;
  if (line.size() - i < kHeader.size()) return std::string(line);
  for (std::size_t k = 0; k < kHeader.size(); ++k) {
    char c = line[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != kHeader[k]) return std::string(line);
  }
  std::size_t value = i + kHeader.size();
  while (value < line.size() && line[value] == ' ') ++value;
  // Keep the scheme word (Basic, Bearer) and mask the rest of the line.
  std::size_t scheme_end = line.find(' ', value);
  std::string out(line.substr(0, scheme_end == std::string_view::npos ? value : scheme_end + 1));
  out += "***";
  const std::size_t eol = line.find_first_of("\r\n", value);
  if (eol != std::string_view::npos) out += line.substr(eol);
  return out;
}

Result<std::string> read_credentials_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return fail("credentials file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("credentials file " + path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return fail("credentials file " + path + " can be read by its group or others (chmod 600 it)");
  }
  std::string text;
  char buffer[1024];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0 && text.size() < std::size_t{64} * 1024)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty() || text.find('\n') != std::string::npos) {
    return fail("credentials file " + path + ": expected one line user:password");
  }
  return text;
}

}  // namespace aurelay::output
