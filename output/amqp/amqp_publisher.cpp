#include "output/amqp/amqp_publisher.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/time.h>

#include <charconv>
#include <cstring>
#include <mutex>

namespace aurelay::output {

namespace {

constexpr int kFrameMax = 131072;
constexpr int kCloseTimeoutMs = 1000;
constexpr std::uint64_t kFramesPerRelease = 1024;

amqp_connection_state_t state_of(void* connection) {
  return static_cast<amqp_connection_state_t>(connection);
}

std::string_view view(amqp_bytes_t bytes) {
  return {static_cast<const char*>(bytes.bytes), bytes.len};
}

amqp_bytes_t bytes_of(std::string_view text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

timeval timeval_of(int ms) {
  return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
}

// The broker's reason for a failed RPC (login, channel.open, declare …).
std::string describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply (missing RPC reply type)";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        return "connection closed by the broker: " + std::to_string(close->reply_code) + " " +
               std::string(view(close->reply_text));
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* close = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        return "channel closed by the broker: " + std::to_string(close->reply_code) + " " +
               std::string(view(close->reply_text));
      }
      return "unexpected broker method " + std::to_string(reply.reply.id);
  }
  return "unknown reply";
}

void ssl_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { amqp_initialize_ssl_library(); });
}

}  // namespace

bool is_amqp_url(std::string_view text) {
  return text.starts_with("amqp://") || text.starts_with("amqps://");
}

Result<AmqpEndpoint> parse_amqp_url(std::string_view url) {
  std::string buffer(url);
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (!is_amqp_url(url) || amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK) {
    return fail(
        "not an amqp:// or amqps:// URL: " + std::string(url.substr(0, url.find("://") + 3)) +
        "… (expected amqp[s]://user:password@host:port/vhost)");
  }
  AmqpEndpoint endpoint;
  endpoint.tls = info.ssl != 0;
  endpoint.host = info.host;
  endpoint.port = info.port;
  endpoint.user = info.user;
  endpoint.password = info.password;
  endpoint.vhost = info.vhost;
  if (endpoint.vhost.empty()) endpoint.vhost = "/";
  if (endpoint.host.empty()) return fail("amqp URL without a host");
  std::string vhost_text = endpoint.vhost == "/" ? "" : endpoint.vhost;
  endpoint.display = std::string(endpoint.tls ? "amqps://" : "amqp://") + endpoint.host + ":" +
                     std::to_string(endpoint.port) + "/" + vhost_text;
  return endpoint;
}

std::vector<std::string_view> split_amqp_url_list(std::string_view urls) {
  std::vector<std::string_view> items;
  while (!urls.empty()) {
    const auto comma = urls.find(',');
    std::string_view item = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view() : urls.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

Result<std::vector<AmqpEndpoint>> parse_amqp_url_list(std::string_view urls) {
  std::vector<AmqpEndpoint> endpoints;
  for (std::string_view item : split_amqp_url_list(urls)) {
    Result<AmqpEndpoint> endpoint = parse_amqp_url(item);
    if (!endpoint) return fail(endpoint.error());
    endpoints.push_back(std::move(endpoint).value());
  }
  if (endpoints.empty()) return fail("no amqp URL given");
  return endpoints;
}

AmqpPublisher::AmqpPublisher(AmqpPublisherConfig config) : config_(std::move(config)) {}

AmqpPublisher::~AmqpPublisher() { drop(); }

void AmqpPublisher::drop() {
  if (connection_ != nullptr) amqp_destroy_connection(state_of(connection_));
  connection_ = nullptr;
  channel_open_ = false;
}

void AmqpPublisher::close() {
  if (connection_ == nullptr) return;
  amqp_connection_state_t state = state_of(connection_);
  timeval timeout = timeval_of(kCloseTimeoutMs);
  amqp_set_rpc_timeout(state, &timeout);
  if (channel_open_) amqp_channel_close(state, channel_, AMQP_REPLY_SUCCESS);
  amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  drop();
}

Status AmqpPublisher::connect(const AmqpEndpoint& endpoint) {
  if (connection_ != nullptr && endpoint_display_ != endpoint.display) drop();
  if (connection_ != nullptr) {
    if (channel_open_) return {};
    // A channel error left the connection open: a fresh channel is enough (open_channel drops
    // the connection when it failed too).
    return open_channel();
  }
  endpoint_display_ = endpoint.display;
  amqp_connection_state_t state = amqp_new_connection();
  if (state == nullptr) return fail("amqp: out of memory");
  connection_ = state;
  amqp_socket_t* socket = nullptr;
  if (endpoint.tls) {
    ssl_library_once();
    socket = amqp_ssl_socket_new(state);
    if (socket == nullptr) {
      drop();
      return fail("amqp: cannot create a TLS socket");
    }
    amqp_ssl_socket_set_verify_peer(socket, config_.tls.verify ? 1 : 0);
    amqp_ssl_socket_set_verify_hostname(socket, config_.tls.verify ? 1 : 0);
    if (!config_.tls.ca_file.empty()) {
      if (amqp_ssl_socket_set_cacert(socket, config_.tls.ca_file.c_str()) != AMQP_STATUS_OK) {
        drop();
        return fail("amqp: cannot read the CA bundle " + config_.tls.ca_file);
      }
    } else {
      SSL_CTX_set_default_verify_paths(static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket)));
    }
    if (!config_.tls.client_cert.empty() &&
        amqp_ssl_socket_set_key(socket, config_.tls.client_cert.c_str(),
                                config_.tls.client_key.c_str()) != AMQP_STATUS_OK) {
      drop();
      return fail("amqp: cannot read the client certificate " + config_.tls.client_cert +
                  " or its key " + config_.tls.client_key);
    }
  } else {
    socket = amqp_tcp_socket_new(state);
    if (socket == nullptr) {
      drop();
      return fail("amqp: cannot create a socket");
    }
  }
  timeval timeout = timeval_of(config_.connect_timeout_ms);
  int status = amqp_socket_open_noblock(socket, endpoint.host.c_str(), endpoint.port, &timeout);
  if (status != AMQP_STATUS_OK) {
    drop();
    return fail("cannot connect to " + endpoint.display + ": " + amqp_error_string2(status));
  }
  amqp_set_handshake_timeout(state, &timeout);
  amqp_set_rpc_timeout(state, &timeout);
  // Capability connection.blocked: the broker says when it stops reading from publishers (a
  // memory or disk alarm), so the stall is named instead of guessed.
  amqp_table_entry_t capability{};
  capability.key = amqp_cstring_bytes("connection.blocked");
  capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  capability.value.value.boolean = 1;
  amqp_table_entry_t property{};
  property.key = amqp_cstring_bytes("capabilities");
  property.value.kind = AMQP_FIELD_KIND_TABLE;
  property.value.value.table.num_entries = 1;
  property.value.value.table.entries = &capability;
  amqp_table_t properties{1, &property};
  amqp_rpc_reply_t reply = amqp_login_with_properties(
      state, endpoint.vhost.c_str(), 0, kFrameMax, config_.heartbeat_seconds, &properties,
      AMQP_SASL_METHOD_PLAIN, endpoint.user.c_str(), endpoint.password.c_str());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    // The reply lives in the connection's memory: described before the connection goes.
    std::string reason = "login to " + endpoint.display + " as user " + endpoint.user +
                         " refused or failed: " + describe_reply(reply);
    drop();
    return fail(std::move(reason));
  }
  channel_ = 0;
  if (Status opened = open_channel(); !opened) {
    drop();
    return opened;
  }
  return {};
}

Status AmqpPublisher::open_channel() {
  amqp_connection_state_t state = state_of(connection_);
  // A new number for every channel: frames still arriving for a closed one are ignored.
  channel_ = static_cast<std::uint16_t>(channel_ % 2000 + 1);
  channel_open_ = false;
  next_tag_ = 1;
  auto failed = [&](const char* step) -> Status {
    amqp_rpc_reply_t reply = amqp_get_rpc_reply(state);
    std::string error =
        std::string("amqp ") + step + " on " + endpoint_display_ + ": " + describe_reply(reply);
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      amqp_channel_close_ok_t ok{};
      amqp_send_method(state, channel_, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    } else {
      drop();  // connection-level trouble: start again from the socket
    }
    return fail(std::move(error));
  };
  if (amqp_channel_open(state, channel_) == nullptr) return failed("channel.open");
  if (amqp_confirm_select(state, channel_) == nullptr) return failed("confirm.select");
  const amqp_boolean_t passive = (config_.declare == AmqpDeclare::passive) ? 1 : 0;
  if (amqp_exchange_declare(state, channel_, bytes_of(config_.exchange),
                            amqp_cstring_bytes("direct"), passive, /*durable=*/1, /*auto_delete=*/0,
                            /*internal=*/0, amqp_empty_table) == nullptr) {
    return failed((config_.declare == AmqpDeclare::passive) ? "check of exchange (passive declare)"
                                                            : "exchange.declare");
  }
  if (!config_.queue.empty()) {
    if (amqp_queue_declare(state, channel_, bytes_of(config_.queue), passive, /*durable=*/1,
                           /*exclusive=*/0, /*auto_delete=*/0, amqp_empty_table) == nullptr) {
      return failed((config_.declare == AmqpDeclare::passive) ? "check of queue (passive declare)"
                                                              : "queue.declare");
    }
    if (!(config_.declare == AmqpDeclare::passive) &&
        amqp_queue_bind(state, channel_, bytes_of(config_.queue), bytes_of(config_.exchange),
                        bytes_of(config_.routing_key), amqp_empty_table) == nullptr) {
      return failed("queue.bind");
    }
  }
  amqp_maybe_release_buffers(state);
  channel_open_ = true;
  return {};
}

Result<std::uint64_t> AmqpPublisher::publish(std::string_view body) {
  if (!ready()) return fail("amqp: not connected");
  amqp_connection_state_t state = state_of(connection_);
  const std::uint64_t tag = next_tag_;
  char id[24];
  auto [end, ec] = std::to_chars(id, id + sizeof(id), tag);
  amqp_basic_properties_t properties{};
  properties._flags =
      AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  properties.content_type = amqp_cstring_bytes("application/json");
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  properties.message_id = amqp_bytes_t{static_cast<std::size_t>(end - id), id};
  int status = amqp_basic_publish(state, channel_, bytes_of(config_.exchange),
                                  bytes_of(config_.routing_key), /*mandatory=*/1,
                                  /*immediate=*/0, &properties, bytes_of(body));
  if (status != AMQP_STATUS_OK) {
    drop();
    return fail("publishing to " + endpoint_display_ + ": " + amqp_error_string2(status));
  }
  ++next_tag_;
  return tag;
}

// Reads the header and body frames that follow a basic.return; the tag is the message_id.
Result<std::uint64_t> AmqpPublisher::read_return_content(std::uint16_t channel) {
  amqp_connection_state_t state = state_of(connection_);
  std::uint64_t tag = 0;
  timeval timeout = timeval_of(config_.connect_timeout_ms);
  amqp_frame_t frame;
  int status = amqp_simple_wait_frame_noblock(state, &frame, &timeout);
  if (status != AMQP_STATUS_OK || frame.frame_type != AMQP_FRAME_HEADER ||
      frame.channel != channel) {
    return fail("amqp: basic.return without its content header");
  }
  const auto* properties = static_cast<amqp_basic_properties_t*>(frame.payload.properties.decoded);
  if (properties != nullptr && (properties->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) {
    std::string_view id = view(properties->message_id);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec == std::errc() && end == id.data() + id.size()) tag = value;
  }
  std::uint64_t remaining = frame.payload.properties.body_size;
  while (remaining > 0) {
    status = amqp_simple_wait_frame_noblock(state, &frame, &timeout);
    if (status != AMQP_STATUS_OK || frame.frame_type != AMQP_FRAME_BODY)
      return fail("amqp: basic.return with a truncated body");
    remaining -= std::min<std::uint64_t>(remaining, frame.payload.body_fragment.len);
  }
  return tag;
}

Status AmqpPublisher::handle_method(const void* frame_pointer, Handler& handler) {
  const auto& frame = *static_cast<const amqp_frame_t*>(frame_pointer);
  amqp_connection_state_t state = state_of(connection_);
  const bool ours = frame.channel == channel_ && channel_open_;
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      if (ours) handler.on_ack(ack->delivery_tag, ack->multiple != 0);
      return {};
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      if (ours) handler.on_nack(nack->delivery_tag, nack->multiple != 0);
      return {};
    }
    case AMQP_BASIC_RETURN_METHOD: {
      const auto* returned = static_cast<amqp_basic_return_t*>(frame.payload.method.decoded);
      const int code = returned->reply_code;
      const std::string text(view(returned->reply_text));
      Result<std::uint64_t> tag = read_return_content(frame.channel);
      if (!tag) {
        drop();
        return fail(tag.error());
      }
      if (ours) handler.on_return(*tag, code, text);
      return {};
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* close = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
      std::string reason = "channel closed by the broker " + endpoint_display_ + ": " +
                           std::to_string(close->reply_code) + " " +
                           std::string(view(close->reply_text));
      amqp_channel_close_ok_t ok{};
      amqp_send_method(state, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (frame.channel != channel_) return {};  // an old channel: already given up
      channel_open_ = false;
      return fail(std::move(reason));
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* close = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      std::string reason = "connection closed by the broker " + endpoint_display_ + ": " +
                           std::to_string(close->reply_code) + " " +
                           std::string(view(close->reply_text));
      amqp_connection_close_ok_t ok{};
      amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      drop();
      return fail(std::move(reason));
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* blocked = static_cast<amqp_connection_blocked_t*>(frame.payload.method.decoded);
      handler.on_blocked(view(blocked->reason));
      return {};
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      handler.on_unblocked();
      return {};
    default:
      // channel.flow and the like: nothing to do here.
      return {};
  }
}

Status AmqpPublisher::read(int wait_ms, int wake_fd, Handler& handler) {
  if (connection_ == nullptr) return fail("amqp: not connected");
  amqp_connection_state_t state = state_of(connection_);
  bool waited = wait_ms <= 0;
  while (connection_ != nullptr) {
    if (!waited && !amqp_frames_enqueued(state) && !amqp_data_in_buffer(state)) {
      waited = true;
      pollfd fds[2] = {{amqp_get_sockfd(state), POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int ready = ::poll(fds, wake_fd >= 0 ? 2 : 1, wait_ms);
      if (ready <= 0) return {};
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) return {};  // woken up
    }
    waited = true;
    timeval zero{0, 0};
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(state, &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT) break;
    if (status != AMQP_STATUS_OK) {
      drop();
      return fail("connection to " + endpoint_display_ + " lost: " + amqp_error_string2(status));
    }
    ++frames_since_release_;
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;  // stray content: ignore
    if (Status handled = handle_method(&frame, handler); !handled) return handled;
  }
  if (connection_ != nullptr && frames_since_release_ >= kFramesPerRelease &&
      !amqp_frames_enqueued(state)) {
    amqp_maybe_release_buffers(state);
    frames_since_release_ = 0;
  }
  if (connection_ == nullptr) return fail("connection to " + endpoint_display_ + " lost");
  return {};
}

}  // namespace aurelay::output
