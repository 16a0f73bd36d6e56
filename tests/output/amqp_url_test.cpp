// amqp_url parsing (one URL or a cluster list) and the credential masking every log line, the
// state file and configuration errors go through.
#include <gtest/gtest.h>

#include "collector/config/config.h"
#include "collector/telemetry/state_file.h"
#include "output/amqp/amqp_publisher.h"
#include "output/url_credentials.h"

namespace aurelay::output {
namespace {

TEST(RedactUrlCredentials, MasksUserAndPasswordOfEveryUrl) {
  EXPECT_EQ(redact_url_credentials("amqp://user:secret@rabbit1:5672/mozdef"),
            "amqp://***@rabbit1:5672/mozdef");
  EXPECT_EQ(redact_url_credentials("amqp://u:p@a:5672/v,amqps://u:p@b/v"),
            "amqp://***@a:5672/v,amqps://***@b/v");
  EXPECT_EQ(redact_url_credentials("https://u:p@mozdef/_bulk"), "https://***@mozdef/_bulk");
  EXPECT_EQ(redact_url_credentials("amqp://u:p%40ss@host"), "amqp://***@host");
  EXPECT_EQ(redact_url_credentials("https://mozdef/path@x"), "https://mozdef/path@x");
  EXPECT_EQ(redact_url_credentials("/var/log/aurelay.json"), "/var/log/aurelay.json");
  EXPECT_EQ(redact_url_credentials("stdout"), "stdout");
}

TEST(AmqpUrl, ParsesHostPortVhostAndCredentials) {
  Result<AmqpEndpoint> endpoint = parse_amqp_url("amqp://aurelay:s%2Fcret@rabbit1:5673/mozdef");
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_FALSE(endpoint->tls);
  EXPECT_EQ(endpoint->host, "rabbit1");
  EXPECT_EQ(endpoint->port, 5673);
  EXPECT_EQ(endpoint->user, "aurelay");
  EXPECT_EQ(endpoint->password, "s/cret");
  EXPECT_EQ(endpoint->vhost, "mozdef");
  EXPECT_EQ(endpoint->display, "amqp://rabbit1:5673/mozdef");

  Result<AmqpEndpoint> tls = parse_amqp_url("amqps://rabbit2/");
  ASSERT_TRUE(tls) << tls.error();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 5671);
  EXPECT_EQ(tls->vhost, "/");
  EXPECT_EQ(tls->user, "guest");
}

TEST(AmqpUrl, ListIsACluster) {
  Result<std::vector<AmqpEndpoint>> endpoints =
      parse_amqp_url_list("amqp://u:p@a:5672/, amqp://u:p@b:5672/");
  ASSERT_TRUE(endpoints) << endpoints.error();
  ASSERT_EQ(endpoints->size(), 2u);
  EXPECT_EQ((*endpoints)[1].host, "b");
  Result<std::vector<AmqpEndpoint>> refused = parse_amqp_url_list("amqp://u:p@a/,http://b/");
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.error().find("p@"), std::string::npos) << refused.error();
  EXPECT_TRUE(is_amqp_url("amqps://x"));
  EXPECT_FALSE(is_amqp_url("https://x"));
}

TEST(AmqpConfig, CredentialsStayOutOfErrorsEffectiveConfigAndState) {
  collector::Config config;
  const collector::OptionSpec* output = collector::find_option("output");
  ASSERT_TRUE(
      collector::set_option(config, *output, "amqp://aurelay:hunter2@rabbit:5672/", "test").ok());
  EXPECT_TRUE(collector::validate_config(config).ok());
  EXPECT_EQ(collector::render_effective_config(config).find("hunter2"), std::string::npos);

  ASSERT_TRUE(
      collector::set_option(config, *output, "amqp://aurelay:hunter2@rabbit:port/", "test").ok());
  Status bad = collector::validate_config(config);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().find("hunter2"), std::string::npos) << bad.error();

  collector::Config amqp_only;
  const collector::OptionSpec* amqp_url = collector::find_option("amqp_url");
  ASSERT_TRUE(
      collector::set_option(amqp_only, *amqp_url, "https://u:hunter2@mozdef/_bulk", "test").ok());
  bad = collector::validate_config(amqp_only);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().find("hunter2"), std::string::npos) << bad.error();

  // amqp_url is the destination when output is not set.
  ASSERT_TRUE(
      collector::set_option(amqp_only, *amqp_url, "amqp://u:hunter2@a/,amqp://u:hunter2@b/", "test")
          .ok());
  EXPECT_EQ(amqp_only.effective_output(), "amqp://u:hunter2@a/,amqp://u:hunter2@b/");

  collector::Metrics metrics;
  metrics.amqp_current_broker.store(1);
  metrics.amqp_confirmed.store(42);
  collector::StateSnapshot snapshot{&metrics, "test", "", "stdin", amqp_only.effective_output(), 0};
  const std::string state = collector::render_state(snapshot);
  EXPECT_EQ(state.find("hunter2"), std::string::npos) << state;
  EXPECT_NE(state.find("amqp current broker = amqp://***@b/"), std::string::npos) << state;
  EXPECT_NE(state.find("amqp current broker index = 1"), std::string::npos) << state;
  EXPECT_NE(state.find("amqp messages confirmed = 42"), std::string::npos) << state;
}

}  // namespace
}  // namespace aurelay::output
