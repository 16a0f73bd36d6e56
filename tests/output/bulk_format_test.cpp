// The bulk_format values against the MozDef stand-in (tests/mozdef_server.py), which answers as
// MozDef's loginput does: first the stand-in's fidelity to loginput's quirks (pinned here, since
// the sink tests rely on it to see a loss), then the body each format posts.
#include "output/http/bulk_format.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "mozdef_test_server.h"
#include "output/http/http_sink.h"
#include "test_support.h"

namespace aurelay::output {
namespace {

using aurelay::testing::logged_requests;
using aurelay::testing::LoggedRequest;
using aurelay::testing::make_batch;
using aurelay::testing::MozdefTestServer;
using aurelay::testing::post_body;
using aurelay::testing::TempDir;
using Strings = std::vector<std::string>;

const std::string kEvent =
    R"({"category":"execve","summary":"Execve: /bin/true","details":{"eventid":"7"}})";

// ---- the stand-in answers as loginput

class LoginputStandIn : public ::testing::Test {
 protected:
  TempDir dir_;
  MozdefTestServer server_{dir_.path() / "published.ndjson"};
};

TEST_F(LoginputStandIn, OneObjectBulkBodyPublishesItsKeyNamesAndAnswers200) {
  ASSERT_GT(server_.port(), 0);
  // Bare, and as a one-line NDJSON body: both parse as one JSON object.
  EXPECT_EQ(post_body(server_.url("/_bulk"), kEvent), 200);
  EXPECT_EQ(post_body(server_.url("/_bulk"), kEvent + "\n", "application/x-ndjson"), 200);
  EXPECT_EQ(server_.published(), (Strings{R"("category")", R"("summary")", R"("details")",
                                          R"("category")", R"("summary")", R"("details")"}));
}

TEST_F(LoginputStandIn, BulkArrayPublishesElementsAndSkipsIndexActionLines) {
  EXPECT_EQ(post_body(server_.url("/_bulk"), R"([{"index":{"_index":"events"}},{"a":1},{"b":2}])"),
            200);
  EXPECT_EQ(post_body(server_.url("/_bulk/"), "[" + kEvent + "]"), 200);
  EXPECT_EQ(server_.published(), (Strings{R"({"a":1})", R"({"b":2})", kEvent}));
}

TEST_F(LoginputStandIn, BulkLinesArePublishedUntilABadLineAnswers500) {
  EXPECT_EQ(post_body(server_.url("/_bulk"), "{\"a\":1}\n{\"index\":{}}\n{\"b\":2}\n", "x"), 200);
  EXPECT_EQ(post_body(server_.url("/_bulk"), "{\"c\":3}\nnot json\n{\"d\":4}\n"), 500);
  EXPECT_EQ(server_.published(), (Strings{R"({"a":1})", R"({"b":2})", R"({"c":3})"}));
}

TEST_F(LoginputStandIn, BulkOddBodies) {
  EXPECT_EQ(post_body(server_.url("/_bulk"), "42"), 500);        // not iterable
  EXPECT_EQ(post_body(server_.url("/_bulk"), "[1]"), 500);       // "index" in 1
  EXPECT_EQ(post_body(server_.url("/_bulk"), "{}\n{}\n"), 200);  // 10 bytes or less: ignored
  EXPECT_EQ(post_body(server_.url("/_bulk"), R"("ab")"), 200);   // a string: its characters
  EXPECT_EQ(server_.published(), (Strings{R"("a")", R"("b")"}));
}

TEST_F(LoginputStandIn, EventsTakesOneObjectAndAddsEndpoint) {
  EXPECT_EQ(post_body(server_.url("/events"), R"({"a":1})"), 200);
  EXPECT_EQ(post_body(server_.url("/events"), "[" + kEvent + "]"), 500);
  EXPECT_EQ(post_body(server_.url("/events"), kEvent + "\n" + kEvent + "\n"), 500);
  EXPECT_EQ(post_body(server_.url("/events/"), kEvent + "\n"), 200);
  EXPECT_EQ(post_body(server_.url("/nowhere"), kEvent), 404);
  EXPECT_EQ(
      server_.published(),
      (Strings{
          R"({"a":1,"endpoint":"events"})",
          R"({"category":"execve","summary":"Execve: /bin/true","details":{"eventid":"7"},"endpoint":"events"})"}));
}

// ---- the formats

TEST(BulkFormatNames, OneListOneDefault) {
  EXPECT_EQ(parse_bulk_format("array"), BulkFormat::array);
  EXPECT_EQ(parse_bulk_format("ndjson"), BulkFormat::ndjson);
  EXPECT_EQ(parse_bulk_format("single"), BulkFormat::single);
  for (const char* old : {"json_array", "lines", "per_document", "events", "", "Array"})
    EXPECT_FALSE(parse_bulk_format(old)) << old;
  for (const auto& entry : kBulkFormatNames) EXPECT_EQ(bulk_format_name(entry.value), entry.name);
  EXPECT_EQ(kDefaultBulkFormat, BulkFormat::array);
  EXPECT_EQ(HttpSinkConfig().bulk_format, BulkFormat::array);
}

TEST(BulkFormatNames, EndpointOfAUrl) {
  EXPECT_TRUE(is_events_url("https://mozdef.example:8443/events"));
  EXPECT_TRUE(is_events_url("http://127.0.0.1/events/"));
  EXPECT_TRUE(is_events_url("http://127.0.0.1/loginput/events?x=1"));
  EXPECT_FALSE(is_events_url("http://127.0.0.1/myevents"));
  EXPECT_FALSE(is_events_url("http://events/_bulk"));
  EXPECT_FALSE(is_events_url("http://127.0.0.1"));
  EXPECT_TRUE(is_bulk_url("http://127.0.0.1:8080/_bulk"));
  EXPECT_TRUE(is_bulk_url("http://127.0.0.1:8080/_bulk/#x"));
  EXPECT_FALSE(is_bulk_url("http://127.0.0.1:8080/events"));
}

// Documents whose every published message is a whole document (an object with the id), and
// how many messages were published in all.
std::set<std::string> whole_document_ids(const Strings& published) {
  std::set<std::string> ids;
  for (const std::string& message : published) {
    rapidjson::Document document;
    document.Parse(message.c_str(), message.size());
    if (!document.HasParseError() && document.IsObject() && document.HasMember("id"))
      ids.insert(document["id"].GetString());
  }
  return ids;
}

struct Shipped {
  Strings published;
  std::vector<LoggedRequest> requests;
};

// Sends a batch of one document, then a batch of three, each flushed on its own, with `format`
// to `path` of the stand-in.
Shipped ship_one_then_three(BulkFormat format, const std::string& path) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "published.ndjson",
                          {"--requests", (dir.path() / "requests.ndjson").string()});
  EXPECT_GT(server.port(), 0);
  HttpSinkConfig config;
  config.url = server.url(path);
  config.bulk_format = format;
  config.delivery.batch_flush_ms = 50;
  HttpSink sink(config);
  Status opened = sink.open();
  EXPECT_TRUE(opened.ok()) << opened.error();
  EXPECT_EQ(sink.write(make_batch("one-", 0, 1)), SinkStatus::ok);
  EXPECT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(sink.write(make_batch("three-", 0, 3)), SinkStatus::ok);
  EXPECT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(value_of(sink.stats().documents_delivered), 4u);
  return {server.published(), logged_requests(dir.path() / "requests.ndjson")};
}

const std::set<std::string> kAllIds = {"one-0", "three-0", "three-1", "three-2"};

TEST(BulkFormatBodies, ArrayPostsJsonArrays) {
  Shipped shipped = ship_one_then_three(BulkFormat::array, "/_bulk");
  ASSERT_EQ(shipped.requests.size(), 2u);
  for (const LoggedRequest& request : shipped.requests) {
    EXPECT_EQ(request.path, "/_bulk");
    EXPECT_EQ(request.content_type, "application/json");
    EXPECT_EQ(request.body.front(), '[');
    EXPECT_EQ(request.body.back(), ']');
    EXPECT_EQ(request.status, 200);
  }
  EXPECT_EQ(shipped.requests[0].published, 1);
  EXPECT_EQ(shipped.requests[1].published, 3);
  EXPECT_EQ(shipped.published.size(), 4u);
  EXPECT_EQ(whole_document_ids(shipped.published), kAllIds);
}

TEST(BulkFormatBodies, NdjsonPostsLinesButABatchOfOneAsAnArray) {
  Shipped shipped = ship_one_then_three(BulkFormat::ndjson, "/_bulk");
  ASSERT_EQ(shipped.requests.size(), 2u);
  // The batch of one: never a one-line body, which loginput would turn into key names.
  const LoggedRequest& one = shipped.requests[0];
  EXPECT_EQ(one.content_type, "application/json");
  EXPECT_EQ(one.body.front(), '[');
  EXPECT_EQ(one.body.back(), ']');
  EXPECT_EQ(one.body.find('\n'), std::string::npos);
  EXPECT_EQ(one.published, 1);
  // The batch of three: three lines.
  const LoggedRequest& three = shipped.requests[1];
  EXPECT_EQ(three.content_type, "application/x-ndjson");
  EXPECT_EQ(three.body.front(), '{');
  EXPECT_EQ(std::count(three.body.begin(), three.body.end(), '\n'), 3);
  EXPECT_EQ(three.published, 3);
  EXPECT_EQ(shipped.published.size(), 4u);
  EXPECT_EQ(whole_document_ids(shipped.published), kAllIds);
}

TEST(BulkFormatBodies, SinglePostsOneBareDocumentPerRequest) {
  Shipped shipped = ship_one_then_three(BulkFormat::single, "/events");
  ASSERT_EQ(shipped.requests.size(), 4u);
  for (const LoggedRequest& request : shipped.requests) {
    EXPECT_EQ(request.path, "/events");
    EXPECT_EQ(request.content_type, "application/json");
    EXPECT_EQ(request.body.front(), '{');
    EXPECT_EQ(request.body.find('\n'), std::string::npos);
    EXPECT_EQ(request.published, 1);
  }
  EXPECT_EQ(whole_document_ids(shipped.published), kAllIds);
  for (const std::string& message : shipped.published)
    EXPECT_NE(message.find(R"("endpoint":"events")"), std::string::npos) << message;
}

// A spool written by a run that posted arrays, sent by a run with `single` to /events: each
// spooled batch is split so that every document goes alone (/events answers 500 to an array).
TEST(BulkFormatBodies, SingleSplitsBatchesSpooledByAnotherFormat) {
  TempDir dir;
  MozdefTestServer server(dir.path() / "published.ndjson",
                          {"--requests", (dir.path() / "requests.ndjson").string()});
  ASSERT_GT(server.port(), 0);
  HttpSinkConfig config;
  config.delivery.spool_dir = (dir.path() / "spool").string();
  config.delivery.retry_base_ms = 20;
  config.delivery.retry_max_ms = 100;
  config.connect_timeout_ms = 500;
  {
    config.url = server.url("/_bulk");
    config.bulk_format = BulkFormat::array;
    ASSERT_EQ(server.command("refuse"), "ok");
    HttpSink sink(config);
    Status opened = sink.open();
    ASSERT_TRUE(opened.ok()) << opened.error();
    ASSERT_EQ(sink.write(make_batch("spooled-", 0, 5)), SinkStatus::ok);
    EXPECT_FALSE(sink.flush(300));
    EXPECT_GT(value_of(sink.stats().documents_spooled), 0u);
  }
  ASSERT_EQ(server.command("accept"), "ok");
  config.url = server.url("/events");
  config.bulk_format = BulkFormat::single;
  HttpSink sink(config);
  Status opened = sink.open();
  ASSERT_TRUE(opened.ok()) << opened.error();
  ASSERT_TRUE(sink.flush(10000)) << sink.last_error();
  EXPECT_EQ(
      whole_document_ids(server.published()),
      (std::set<std::string>{"spooled-0", "spooled-1", "spooled-2", "spooled-3", "spooled-4"}));
  for (const LoggedRequest& request : logged_requests(dir.path() / "requests.ndjson"))
    EXPECT_EQ(request.status, 200) << request.body;
  EXPECT_EQ(value_of(sink.stats().batches_retried), 0u);
}

}  // namespace
}  // namespace aurelay::output
