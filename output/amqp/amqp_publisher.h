// One AMQP 0-9-1 connection to a RabbitMQ broker that publishes with publisher confirms
// (rabbitmq-c). It knows the protocol, not the documents: publish() returns the delivery tag of
// a message, and read() reports the broker's basic.ack, basic.nack and basic.return for those
// tags to a handler. The caller (AmqpSink) maps tags to documents.
//
// Setup (connect()): TCP or TLS socket, login, channel.open, confirm.select, then the topology
// MozDef's loginput declares: a durable direct exchange and a durable queue bound to it with the
// routing key (declare mode), or only a check that exchange and queue exist (passive mode).
//
// Every message is persistent (delivery mode 2), content type application/json, published with
// `mandatory` so an unroutable message comes back as basic.return (then acked: that ack is not a
// delivery). Its message_id property is its delivery tag, so a return names the message exactly
// (a return frame carries no tag).
//
// Errors: a channel.close from the broker (404 exchange missing, 406 ...) is answered with
// close-ok and leaves the connection open, channel closed; a connection.close, a socket error or
// a missed heartbeat ends the connection. Either way read()/publish() return false with the
// broker's reason, and every message not acked yet is the caller's to retry. connect() then
// opens a fresh channel (or connection). Tags start at 1 on every channel.
//
// Single-threaded (the shipper). Calls may block: connect() up to connect_timeout_ms for the TCP
// or TLS handshake and again for each setup step; publish() while the socket's send buffer is
// full (the broker applies flow control).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/choice.h"
#include "base/result.h"
#include "output/tls_config.h"

namespace aurelay::output {

// One broker from amqp_url. `url` keeps the credentials; `display` is safe to log.
struct AmqpEndpoint {
  std::string display;  // amqp[s]://host:port/vhost, without user and password
  bool tls = false;
  std::string host;
  int port = 5672;
  std::string user;
  std::string password;
  std::string vhost;
};

// Parses amqp://user:password@host:port/vhost or amqps://… (percent-escapes decoded; defaults
// guest/guest, port 5672 or 5671, vhost "/"). The error never holds the password.
Result<AmqpEndpoint> parse_amqp_url(std::string_view url);
// The URLs of a comma-separated list (a cluster), blanks around each trimmed, empty items skipped:
// the one reading of amqp_url's list (parse_amqp_url_list, the state file's broker index).
std::vector<std::string_view> split_amqp_url_list(std::string_view urls);
// A comma-separated list (a cluster): every URL must parse.
Result<std::vector<AmqpEndpoint>> parse_amqp_url_list(std::string_view urls);
// True for "amqp://…" and "amqps://…", also for a comma-separated list of them.
bool is_amqp_url(std::string_view text);

// MozDef's own names: loginput publishes to the direct exchange "eventtask" with routing key
// "eventtask", and the queue "eventtask" bound with that key feeds esworker (options
// amqp_exchange, amqp_routing_key, amqp_queue).
inline constexpr std::string_view kDefaultAmqpExchange = "eventtask";
inline constexpr std::string_view kDefaultAmqpRoutingKey = "eventtask";
inline constexpr std::string_view kDefaultAmqpQueue = "eventtask";

// amqp_declare: create exchange, queue and binding, or only check that they exist.
enum class AmqpDeclare : std::uint8_t { declare, passive };
inline constexpr std::array kAmqpDeclareNames = {
    ChoiceName<AmqpDeclare>{"declare", AmqpDeclare::declare},
    ChoiceName<AmqpDeclare>{"passive", AmqpDeclare::passive},
};
inline constexpr std::string_view kAmqpDeclareChoices = "declare|passive";
inline constexpr AmqpDeclare kDefaultAmqpDeclare = AmqpDeclare::declare;
static_assert(choices_list_names(kAmqpDeclareChoices, kAmqpDeclareNames));

struct AmqpPublisherConfig {
  std::string exchange{kDefaultAmqpExchange};
  std::string routing_key{kDefaultAmqpRoutingKey};
  std::string queue{kDefaultAmqpQueue};  // empty = declare or check no queue
  AmqpDeclare declare = kDefaultAmqpDeclare;
  TlsConfig tls;                   // amqps: the same keys as the HTTPS output
  int connect_timeout_ms = 10000;  // TCP/TLS handshake, login and each setup step
  int heartbeat_seconds = 30;      // 0 = none
};

class AmqpPublisher {
 public:
  // What read() reports. Tags are those publish() returned on the current channel.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_ack(std::uint64_t tag, bool multiple) = 0;
    virtual void on_nack(std::uint64_t tag, bool multiple) = 0;
    // `tag` is 0 when the returned message carried no tag of ours (not expected).
    virtual void on_return(std::uint64_t tag, int reply_code, std::string_view reply_text) = 0;
    // connection.blocked (the broker stopped reading from this connection, e.g. a memory
    // alarm: "low on memory") and connection.unblocked.
    virtual void on_blocked(std::string_view reason) = 0;
    virtual void on_unblocked() = 0;
  };

  explicit AmqpPublisher(AmqpPublisherConfig config);
  ~AmqpPublisher();
  AmqpPublisher(const AmqpPublisher&) = delete;
  AmqpPublisher& operator=(const AmqpPublisher&) = delete;

  // Makes the publisher ready to publish to `endpoint`: reuses an open connection to it (a new
  // channel after a channel error), else connects. Fails with a reason (without credentials).
  Status connect(const AmqpEndpoint& endpoint);
  bool ready() const { return connection_ != nullptr && channel_open_; }
  bool connection_open() const { return connection_ != nullptr; }

  // Publishes one message; returns its delivery tag (>= 1). On failure the publisher is not
  // ready() any more.
  Result<std::uint64_t> publish(std::string_view body);

  // Handles the frames that arrived. With `wait_ms` > 0 and nothing buffered, waits up to that
  // long for the socket, or until `wake_fd` (>= 0) is readable. Fails when the channel or the
  // connection failed: messages not acked are lost to the broker.
  Status read(int wait_ms, int wake_fd, Handler& handler);

  // Closes channel and connection politely (short timeout), or drops them at once.
  void close();
  void drop();

  std::uint64_t next_tag() const { return next_tag_; }

 private:
  Status open_channel();
  Status handle_method(const void* frame, Handler& handler);
  // The tag (message_id) of a returned message, 0 when it carried none of ours.
  Result<std::uint64_t> read_return_content(std::uint16_t channel);

  AmqpPublisherConfig config_;
  void* connection_ = nullptr;  // amqp_connection_state_t
  std::string endpoint_display_;
  std::uint16_t channel_ = 0;
  bool channel_open_ = false;
  std::uint64_t next_tag_ = 1;
  std::uint64_t frames_since_release_ = 0;
};

}  // namespace aurelay::output
