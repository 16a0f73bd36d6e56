// Runs tests/mozdef_server.py (MozDef loginput's behaviour, quirks included) on 127.0.0.1 for
// the HTTP sink tests and scripts its faults. The record file holds what loginput would publish.
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/document_batch.h"
#include "output/http/http_sink.h"
#include "test_support.h"

namespace aurelay::testing {

class MozdefTestServer {
 public:
  // `flags`: extra command-line flags (e.g. {"--cert", path, "--key", path}).
  explicit MozdefTestServer(const std::filesystem::path& record,
                            std::vector<std::string> flags = {})
      : record_(record) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      std::vector<std::string> args = {"python3",
                                       std::string(AURELAY_TESTS_DIR) + "/mozdef_server.py",
                                       "--record", record.string()};
      args.insert(args.end(), flags.begin(), flags.end());
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    std::string line = read_line(10000);
    if (line.rfind("port ", 0) == 0) port_ = std::atoi(line.c_str() + 5);
  }

  ~MozdefTestServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) +
           path;
  }

  // Sends one command ("mode 500", "refuse", ...) and returns the answer line.
  std::string command(const std::string& text) {
    std::string line = text + "\n";
    if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return "";
    return read_line(10000);
  }

  // What loginput would have published so far, one JSON text per message, in order (a string
  // such as "\"category\"" is a lost document's key name).
  std::vector<std::string> published() const {
    std::vector<std::string> messages;
    std::ifstream in(record_);
    for (std::string line; std::getline(in, line);) messages.push_back(line);
    return messages;
  }

  // Documents received so far, by their "id" field: id -> times received.
  std::map<std::string, int> received_ids() const {
    std::map<std::string, int> ids;
    std::ifstream in(record_);
    std::string line;
    while (std::getline(in, line)) {
      auto at = line.find("\"id\":\"");
      if (at == std::string::npos) continue;
      auto end = line.find('"', at + 6);
      ids[line.substr(at + 6, end - at - 6)] += 1;
    }
    return ids;
  }

 private:
  std::string read_line(int timeout_ms) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char c;
      if (::read(out_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  std::filesystem::path record_;
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int port_ = 0;
};

// One request as logged by the server's --requests file.
struct LoggedRequest {
  std::string method;
  std::string path;
  std::string content_type;
  std::string body;
  int status = 0;
  int published = 0;
};

inline std::vector<LoggedRequest> logged_requests(const std::filesystem::path& file) {
  std::vector<LoggedRequest> requests;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    rapidjson::Document entry;
    entry.Parse(line.c_str(), line.size());
    if (entry.HasParseError() || !entry.IsObject()) continue;
    requests.push_back({entry["method"].GetString(), entry["path"].GetString(),
                        entry["content_type"].GetString(), entry["body"].GetString(),
                        entry["status"].GetInt(), entry["published"].GetInt()});
  }
  return requests;
}

// POSTs `body` as is (one request, no retry); returns the HTTP status, 0 without an answer.
inline long post_body(const std::string& url, const std::string& body,
                      const std::string& content_type = "application/json") {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) return 0;
  std::string header = "Content-Type: " + content_type;
  curl_slist* headers = curl_slist_append(nullptr, header.c_str());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  long status = 0;
  if (curl_easy_perform(easy) == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return status;
}

// Documents {"id":"<prefix><n>",...} numbered from `first`, one DocumentBatch of `count`.
inline DocumentBatch make_batch(const std::string& prefix, int first, int count,
                                const std::string& extra = "") {
  DocumentBatch batch;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  for (int i = first; i < first + count; ++i) {
    batch.buffer() += "{\"id\":\"" + prefix + std::to_string(i) +
                      "\",\"category\":\"execve\",\"summary\":\"Execve: /bin/true " + extra +
                      "\",\"details\":{\"n\":\"" + std::to_string(i) + "\"}}";
    batch.end_document(static_cast<std::uint64_t>(now_ms));
  }
  return batch;
}

// Polls the sink until `done()` or `timeout_ms`.
template <typename Done>
bool pump_until(output::HttpSink& sink, Done done, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    sink.poll(20);
  }
  return true;
}

}  // namespace aurelay::testing
