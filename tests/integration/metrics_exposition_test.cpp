// The Prometheus exposition as Prometheus gets it: aurelay replays a capture with metrics_file in
// a directory that a real node_exporter (Debian's prometheus-node-exporter, textfile collector
// only, on a free 127.0.0.1 port) reads, and the scrape holds every metric of the list with its
// type and value, and no textfile error.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "aurelay_process.h"
#include "collector/telemetry/metrics.h"
#include "collector/telemetry/prometheus.h"
#include "test_support.h"

namespace aurelay::testing {
namespace {

using namespace std::chrono_literals;
using collector::kMetricDescriptors;
using collector::MetricDescriptor;
using collector::MetricType;

constexpr const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";

// A port nobody listens on right now (the kernel's choice for an ephemeral bind).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// GET `url`; the body, or "" when there is no 200 answer.
std::string http_get(const std::string& url) {
  CURL* easy = curl_easy_init();
  std::string body;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(easy) != CURLE_OK ||
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
    body.clear();
  curl_easy_cleanup(easy);
  return body;
}

struct Scraped {
  std::map<std::string, std::string> types;  // family -> counter | gauge | ...
  std::map<std::string, std::string> helps;  // family -> help text
  std::map<std::string, double> samples;     // name{labels} -> value
};

Scraped parse_scrape(const std::string& text) {
  Scraped scraped;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0 || line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto space = rest.find(' ');
      auto& into = line[2] == 'T' ? scraped.types : scraped.helps;
      into[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line[0] == '#') continue;
    const auto space = line.rfind(' ');
    scraped.samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return scraped;
}

// The value aurelay wrote for `name` in its own file.
double written_value(const std::string& file_text, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const auto at = file_text.find(prefix);
  if (at == std::string::npos) return -12345;
  return std::strtod(file_text.c_str() + at + prefix.size(), nullptr);
}

TEST(MetricsExposition, NodeExporterServesEveryMetricOfTheList) {
  if (::access(kNodeExporter, X_OK) != 0)
    GTEST_SKIP() << kNodeExporter << " not installed (apt-get install prometheus-node-exporter)";
  TempDir dir;
  const std::filesystem::path textfiles = dir / "textfile";
  std::filesystem::create_directory(textfiles);
  const std::filesystem::path input = fixture_path("kernel-capture-mozdef.log");
  CommandResult run = run_command({AURELAY_BINARY, "--config", private_config(dir), "--input",
                                   input.string(), "--output", (dir / "out.json").string(),
                                   "--metrics_file", (textfiles / "aurelay.prom").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::size_t documents = documents_in(dir / "out.json").size();
  ASSERT_GT(documents, 0u);
  const std::string written = read_file(textfiles / "aurelay.prom");
  ASSERT_FALSE(written.empty());
  std::size_t lines = 0;
  for (char c : read_file(input)) lines += c == '\n';

  // node_exporter with the textfile collector only; a port taken meanwhile is tried again.
  std::string body;
  int port = -1;
  for (int attempt = 0; attempt < 3 && body.empty(); ++attempt) {
    port = free_port();
    ASSERT_GT(port, 0);
    AurelayProcess exporter(
        {kNodeExporter, "--web.listen-address=127.0.0.1:" + std::to_string(port),
         "--collector.disable-defaults", "--collector.textfile",
         "--collector.textfile.directory=" + textfiles.string()},
        dir / "node_exporter.err");
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
    wait_for(
        [&] {
          body = http_get(url);
          return !body.empty() || !exporter.running();
        },
        15s, 100ms);
    EXPECT_NE(exporter.stop(SIGTERM, 10s), -2) << "node_exporter did not stop";
  }
  ASSERT_FALSE(body.empty()) << "no scrape from node_exporter on port " << port << ": "
                             << read_file(dir / "node_exporter.err");

  const Scraped scraped = parse_scrape(body);
  ASSERT_TRUE(scraped.samples.contains("node_textfile_scrape_error")) << body.substr(0, 2000);
  EXPECT_EQ(scraped.samples.at("node_textfile_scrape_error"), 0.0)
      << read_file(dir / "node_exporter.err");
  for (const MetricDescriptor& metric : kMetricDescriptors) {
    const std::string name = collector::prometheus_name(metric);  // its family
    const std::string sample = collector::prometheus_sample(metric);
    ASSERT_TRUE(scraped.samples.contains(sample)) << sample << " not scraped";
    EXPECT_EQ(scraped.types.count(name) ? scraped.types.at(name) : "none",
              metric.type == MetricType::counter ? "counter" : "gauge")
        << name;
    EXPECT_EQ(scraped.helps.count(name) ? scraped.helps.at(name) : "none",
              collector::prometheus_help(metric))
        << name;
    EXPECT_EQ(scraped.samples.at(sample), written_value(written, sample)) << sample;
  }
  EXPECT_EQ(scraped.samples.at("aurelay_documents_encoded_total"), documents);
  EXPECT_EQ(scraped.samples.at("aurelay_documents_delivered_total"), documents);
  EXPECT_EQ(scraped.samples.at("aurelay_records_received_total"), lines);
  EXPECT_EQ(scraped.samples.at("aurelay_parse_errors_total"), 0.0);
  EXPECT_EQ(scraped.samples.at("aurelay_kernel_audit_pid"), -1.0);  // a replay asks no kernel
  EXPECT_EQ(scraped.samples.at("aurelay_info{version=\"" AURELAY_VERSION "\"}"), 1.0);
}

}  // namespace
}  // namespace aurelay::testing
