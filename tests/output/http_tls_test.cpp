// HttpSink over TLS against the test server: a self-signed CA verifies, another CA fails clearly
// and the documents are spooled.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "mozdef_test_server.h"
#include "output/http/http_sink.h"
#include "test_support.h"

namespace aurelay::output {
namespace {

using aurelay::testing::make_batch;
using aurelay::testing::MozdefTestServer;
using aurelay::testing::pump_until;
using aurelay::testing::TempDir;

// Makes ca.pem, server.pem/server.key (signed by ca, for localhost and 127.0.0.1) and
// other_ca.pem in `dir` with openssl.
bool make_certificates(const std::filesystem::path& dir) {
  std::string d = dir.string();
  std::string script =
      "set -e; cd '" + d +
      "'; exec >openssl.log 2>&1\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=aurelay-test-ca "
      "-keyout ca.key -out ca.pem\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
      "-keyout other_ca.key -out other_ca.pem\n"
      "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr\n"
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' >ext.cnf\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile ext.cnf -out server.pem\n";
  std::string command = "sh -c \"$(cat <<'AURELAY_EOF'\n" + script + "AURELAY_EOF\n)\"";
  return std::system(command.c_str()) == 0 && std::filesystem::exists(dir / "server.pem");
}

class HttpSinkTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_certificates(dir_.path()))
        << aurelay::testing::read_file(dir_.path() / "openssl.log");
    server_ = std::make_unique<MozdefTestServer>(
        dir_.path() / "received.ndjson",
        std::vector<std::string>{"--cert", (dir_.path() / "server.pem").string(), "--key",
                                 (dir_.path() / "server.key").string()});
    ASSERT_GT(server_->port(), 0);
  }
  HttpSinkConfig config(const std::string& ca) {
    HttpSinkConfig config;
    config.url = server_->url("/_bulk", /*tls=*/true);
    config.tls.ca_file = (dir_.path() / ca).string();
    config.delivery.batch_flush_ms = 20;
    config.delivery.retry_base_ms = 20;
    config.delivery.retry_max_ms = 200;
    return config;
  }

  TempDir dir_;
  std::unique_ptr<MozdefTestServer> server_;
};

TEST_F(HttpSinkTls, VerifiesAServerSignedByTheConfiguredCa) {
  HttpSink sink(config("ca.pem"));
  Status opened = sink.open();
  ASSERT_TRUE(opened.ok()) << opened.error();
  ASSERT_EQ(sink.write(make_batch("tls-", 0, 500)), SinkStatus::ok);
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 500u);
  EXPECT_EQ(value_of(sink.stats().output_transport_errors), 0u);
  auto ids = server_->received_ids();
  for (int i = 0; i < 500; ++i) EXPECT_EQ(ids["tls-" + std::to_string(i)], 1) << i;
}

TEST_F(HttpSinkTls, AnotherCaFailsWithAClearErrorAndSpools) {
  HttpSinkConfig wrong = config("other_ca.pem");
  wrong.delivery.spool_dir = (dir_.path() / "spool").string();
  {
    ManualClock clock;  // the backoff and the flush deadline in virtual time
    HttpSink sink(wrong, clock);
    ASSERT_TRUE(sink.open().ok());
    ASSERT_EQ(sink.write(make_batch("tls-", 0, 300)), SinkStatus::ok);
    EXPECT_TRUE(pump_until(
        sink, [&] { return value_of(sink.stats().documents_spooled) == 300u; }, 5000));
    EXPECT_EQ(value_of(sink.stats().documents_delivered), 0u);
    EXPECT_GT(value_of(sink.stats().output_transport_errors), 0u);
    EXPECT_EQ(value_of(sink.stats().documents_spooled), 300u);
    EXPECT_NE(sink.last_error().find("certificate"), std::string::npos) << sink.last_error();
    EXPECT_FALSE(sink.flush(200));
  }
  EXPECT_TRUE(server_->received_ids().empty());
  // With the right CA, the spooled documents go out.
  HttpSinkConfig right = config("ca.pem");
  right.delivery.spool_dir = wrong.delivery.spool_dir;
  HttpSink sink(right);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 300u);
  EXPECT_EQ(server_->received_ids().size(), 300u);
}

TEST_F(HttpSinkTls, VerificationOffAcceptsAnyCertificate) {
  HttpSinkConfig config = this->config("other_ca.pem");
  config.tls.verify = false;
  HttpSink sink(config);
  ASSERT_TRUE(sink.open().ok());
  ASSERT_EQ(sink.write(make_batch("nv-", 0, 10)), SinkStatus::ok);
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 10u);
}

}  // namespace
}  // namespace aurelay::output
