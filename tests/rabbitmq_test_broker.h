// A private RabbitMQ for tests (Debian's rabbitmq-server), never the system service: its own
// node name, ports (chosen free), epmd, data and log directories in a temporary directory, guest
// allowed from 127.0.0.1 only. Started in the foreground as a child and stopped by pid. Ready in
// 5-15 s, so a test binary starts one and shares it (distinct exchanges and queues per test).
//
// With TLS, a self-signed certificate for "localhost" (tls_certificate()) serves a second
// listener (tls_port()).
//
//   RabbitmqTestBroker broker;
//   if (!RabbitmqTestBroker::installed()) GTEST_SKIP();
//   ASSERT_TRUE(broker.start(error)) << error;
//   ... broker.url() = "amqp://guest:guest@127.0.0.1:PORT/" ...
//   broker.kill_hard();            // SIGKILL of the Erlang VM: the crash case
//   broker.start(error);           // same data directory: durable queues survive
//
// AmqpTestConsumer reads a queue with rabbitmq-c (basic.consume, no-ack).
#pragma once

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace aurelay::testing {

inline constexpr const char* kRabbitmqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
inline constexpr const char* kEpmd = "/usr/bin/epmd";
// The CLI itself: /usr/sbin/rabbitmqctl switches to the rabbitmq user and its cookie.
inline constexpr const char* kRabbitmqctl = "/usr/lib/rabbitmq/bin/rabbitmqctl";

// A TCP port nobody listens on right now (bound to port 0 and released).
inline int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// Logs in as guest and closes: true once the broker really serves AMQP.
inline bool amqp_login_works(int port) {
  amqp_connection_state_t state = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(state);
  timeval timeout{2, 0};
  bool ok = false;
  if (amqp_socket_open_noblock(socket, "127.0.0.1", port, &timeout) == AMQP_STATUS_OK) {
    amqp_set_handshake_timeout(state, &timeout);
    amqp_set_rpc_timeout(state, &timeout);
    amqp_rpc_reply_t reply =
        amqp_login(state, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    ok = reply.reply_type == AMQP_RESPONSE_NORMAL;
    if (ok) amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(state);
  return ok;
}

class RabbitmqTestBroker {
 public:
  static bool installed() {
    return std::filesystem::exists(kRabbitmqServer) && std::filesystem::exists(kEpmd);
  }

  RabbitmqTestBroker() = default;
  RabbitmqTestBroker(const RabbitmqTestBroker&) = delete;
  RabbitmqTestBroker& operator=(const RabbitmqTestBroker&) = delete;
  ~RabbitmqTestBroker() { stop(); }

  // Starts the broker (again, on the same data directory and ports, after kill_hard or stop).
  // `tls` adds a TLS listener on the first start.
  bool start(std::string& error, bool tls = false,
             std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (port_ < 0) {
      port_ = free_tcp_port();
      dist_port_ = free_tcp_port();
      epmd_port_ = free_tcp_port();
      if (tls) tls_port_ = free_tcp_port();
      node_ = "aurelay-test-" + std::to_string(::getpid()) + "@localhost";
      if (!write_configuration(error)) return false;
    }
    if (epmd_pid_ <= 0) {
      epmd_pid_ = spawn({kEpmd, "-port", std::to_string(epmd_port_), "-address", "127.0.0.1"}, {},
                        dir_ / "epmd.log", error);
      if (epmd_pid_ <= 0) return false;
    }
    std::filesystem::remove(pid_file());
    server_pid_ = spawn({kRabbitmqServer}, environment(), dir_ / "server.log", error);
    if (server_pid_ <= 0) return false;
    if (!wait_for([&] { return server_running() && amqp_login_works(port_); }, timeout,
                  std::chrono::milliseconds(250))) {
      error = "rabbitmq-server did not accept AMQP logins on 127.0.0.1:" + std::to_string(port_) +
              " within " + std::to_string(timeout.count()) + " s; its output:\n" +
              read_file(dir_ / "server.log").substr(0, 4000);
      return false;
    }
    return true;
  }

  // SIGKILL of the Erlang VM (the pid in RABBITMQ_PID_FILE), as in a crash.
  void kill_hard() {
    const pid_t beam = beam_pid();
    if (beam > 0) ::kill(beam, SIGKILL);
    reap_server(std::chrono::seconds(30));
  }

  // A clean stop of the broker and its epmd.
  void stop() {
    if (server_pid_ > 0) {
      const pid_t beam = beam_pid();
      ::kill(beam > 0 ? beam : server_pid_, SIGTERM);
      if (!reap_server(std::chrono::seconds(30))) {
        if (beam_pid() > 0) ::kill(beam_pid(), SIGKILL);
        ::kill(server_pid_, SIGKILL);
        reap_server(std::chrono::seconds(10));
      }
    }
    if (epmd_pid_ > 0) {
      ::kill(epmd_pid_, SIGTERM);
      wait_for_exit(epmd_pid_);
      epmd_pid_ = -1;
    }
  }

  // rabbitmqctl against this broker, e.g. {"set_vm_memory_high_watermark", "0"} (a memory
  // alarm: the broker blocks publishing connections) and {"set_vm_memory_high_watermark",
  // "0.4"} (cleared). Its output in `output`; true when it exits 0.
  bool ctl(const std::vector<std::string>& args, std::string& output) const {
    std::vector<std::string> argv{"/usr/bin/env", "-i"};
    for (const std::string& entry : environment()) argv.push_back(entry);
    argv.insert(argv.end(), {kRabbitmqctl, "-n", node_});
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult result = run_command(argv);
    output = result.out + result.err;
    return result.exit_code == 0;
  }

  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  std::string url(const std::string& user = "guest", const std::string& password = "guest") const {
    return "amqp://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/";
  }
  std::filesystem::path tls_certificate() const { return dir_ / "cert.pem"; }
  std::string log() const { return read_file(dir_ / "server.log"); }
  // The Erlang VM's pid (for CPU accounting and the crash case), -1 when not running.
  pid_t beam_pid() const {
    const std::string text = read_file(pid_file());
    try {
      return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
    } catch (...) {
      return -1;
    }
  }

 private:
  std::filesystem::path pid_file() const { return dir_ / "rabbit.pid"; }

  bool server_running() {
    if (server_pid_ <= 0) return false;
    int status = 0;
    return waitpid(server_pid_, &status, WNOHANG) == 0;
  }

  bool reap_server(std::chrono::seconds timeout) {
    if (server_pid_ <= 0) return true;
    const bool gone = wait_for(
        [&] {
          int status = 0;
          return waitpid(server_pid_, &status, WNOHANG) == server_pid_;
        },
        timeout, std::chrono::milliseconds(50));
    if (gone) server_pid_ = -1;
    return gone;
  }

  bool write_configuration(std::string& error) {
    // The AMQP listener comes from RABBITMQ_NODE_IP_ADDRESS and RABBITMQ_NODE_PORT.
    std::string conf = "loopback_users.guest = true\n";
    if (tls_port_ > 0) {
      CommandResult made = run_command(
          {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout",
           (dir_ / "key.pem").string(), "-out", (dir_ / "cert.pem").string()});
      if (made.exit_code != 0) {
        error = "openssl: " + made.err;
        return false;
      }
      ::chmod((dir_ / "key.pem").c_str(), 0644);
      conf += "listeners.ssl.1 = 127.0.0.1:" + std::to_string(tls_port_) +
              "\n"
              "ssl_options.certfile = " +
              (dir_ / "cert.pem").string() +
              "\n"
              "ssl_options.keyfile = " +
              (dir_ / "key.pem").string() +
              "\n"
              "ssl_options.verify = verify_none\n"
              "ssl_options.fail_if_no_peer_cert = false\n";
    }
    write_file(dir_ / "rabbitmq.conf", conf);
    write_file(dir_ / "rabbitmq-env.conf", "");
    write_file(dir_ / "enabled_plugins", "[].\n");
    return true;
  }

  std::vector<std::string> environment() const {
    const std::string d = dir_.path().string();
    return {"HOME=" + d,
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "RABBITMQ_NODENAME=" + node_,
            "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
            "RABBITMQ_NODE_PORT=" + std::to_string(port_),
            "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
            "RABBITMQ_MNESIA_BASE=" + d + "/mnesia",
            "RABBITMQ_LOG_BASE=" + d + "/log",
            "RABBITMQ_PID_FILE=" + pid_file().string(),
            "RABBITMQ_CONFIG_FILE=" + d + "/rabbitmq.conf",
            "RABBITMQ_CONF_ENV_FILE=" + d + "/rabbitmq-env.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE=" + d + "/enabled_plugins",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
            "ERL_EPMD_ADDRESS=127.0.0.1"};
  }

  // Starts `argv` with `env` (empty = the test's environment), stdout and stderr to `log`.
  static pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::filesystem::path& log, std::string& error) {
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, null_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
    pid_t pid = -1;
    int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(),
                              env.empty() ? environ : envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(log_fd);
    ::close(null_fd);
    if (spawned != 0) {
      error = "spawning " + argv[0] + ": " + std::strerror(spawned);
      return -1;
    }
    return pid;
  }

  TempDir dir_;
  std::string node_;
  int port_ = -1;
  int dist_port_ = -1;
  int epmd_port_ = -1;
  int tls_port_ = -1;
  pid_t epmd_pid_ = -1;
  pid_t server_pid_ = -1;
};

// One message read from a queue.
struct AmqpTestMessage {
  std::string body;
  std::string content_type;
  int delivery_mode = 0;
  std::string exchange;
  std::string routing_key;
};

// Reads a queue with a real AMQP client (rabbitmq-c): basic.consume with automatic acks.
class AmqpTestConsumer {
 public:
  explicit AmqpTestConsumer(int port) {
    state_ = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(state_);
    timeval timeout{5, 0};
    if (amqp_socket_open_noblock(socket, "127.0.0.1", port, &timeout) != AMQP_STATUS_OK) return;
    amqp_rpc_reply_t reply =
        amqp_login(state_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) return;
    if (amqp_channel_open(state_, 1) == nullptr) return;
    connected_ = true;
  }
  ~AmqpTestConsumer() {
    if (connected_) amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
  }
  AmqpTestConsumer(const AmqpTestConsumer&) = delete;
  AmqpTestConsumer& operator=(const AmqpTestConsumer&) = delete;

  bool connected() const { return connected_; }

  // Durable queue `queue` bound to durable direct `exchange` with `key` (what aurelay declares).
  bool declare(const std::string& exchange, const std::string& queue, const std::string& key) {
    amqp_exchange_declare(state_, 1, amqp_cstring_bytes(exchange.c_str()),
                          amqp_cstring_bytes("direct"), 0, 1, 0, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) return false;
    amqp_queue_declare(state_, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) return false;
    amqp_queue_bind(state_, 1, amqp_cstring_bytes(queue.c_str()),
                    amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes(key.c_str()),
                    amqp_empty_table);
    return amqp_get_rpc_reply(state_).reply_type == AMQP_RESPONSE_NORMAL;
  }

  // Messages in `queue` (passive declare), -1 when it does not exist (the channel is then
  // closed by the broker: use a fresh consumer).
  long message_count(const std::string& queue) {
    amqp_queue_declare_ok_t* ok = amqp_queue_declare(state_, 1, amqp_cstring_bytes(queue.c_str()),
                                                     1, 0, 0, 0, amqp_empty_table);
    return ok == nullptr ? -1 : static_cast<long>(ok->message_count);
  }

  // Every message of `queue` until none has come for `idle`.
  std::vector<AmqpTestMessage> drain(const std::string& queue,
                                     std::chrono::milliseconds idle = std::chrono::seconds(2)) {
    std::vector<AmqpTestMessage> messages;
    amqp_basic_qos(state_, 1, 0, 2000, 0);
    amqp_basic_consume(state_, 1, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes, 0,
                       /*no_ack=*/1, 0, amqp_empty_table);
    if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) return messages;
    for (;;) {
      amqp_envelope_t envelope;
      amqp_maybe_release_buffers(state_);
      timeval timeout{static_cast<time_t>(idle.count() / 1000),
                      static_cast<suseconds_t>((idle.count() % 1000) * 1000)};
      amqp_rpc_reply_t reply = amqp_consume_message(state_, &envelope, &timeout, 0);
      if (reply.reply_type != AMQP_RESPONSE_NORMAL) break;
      AmqpTestMessage message;
      message.body.assign(static_cast<const char*>(envelope.message.body.bytes),
                          envelope.message.body.len);
      const amqp_basic_properties_t& properties = envelope.message.properties;
      if (properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        message.content_type.assign(static_cast<const char*>(properties.content_type.bytes),
                                    properties.content_type.len);
      if (properties._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        message.delivery_mode = properties.delivery_mode;
      message.exchange.assign(static_cast<const char*>(envelope.exchange.bytes),
                              envelope.exchange.len);
      message.routing_key.assign(static_cast<const char*>(envelope.routing_key.bytes),
                                 envelope.routing_key.len);
      messages.push_back(std::move(message));
      amqp_destroy_envelope(&envelope);
    }
    return messages;
  }

 private:
  amqp_connection_state_t state_ = nullptr;
  bool connected_ = false;
};

}  // namespace aurelay::testing
