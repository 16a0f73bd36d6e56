// The ceiling for bench/amqp_bench.sh: the least a rabbitmq-c program does to publish documents
// with publisher confirms. Reads an NDJSON file into memory, then publishes each line as a
// persistent application/json message (mandatory) to EXCHANGE with routing key KEY, keeping up to
// WINDOW unconfirmed, and counts basic.ack (also multiple). Prints one line:
//   confirmed=N seconds=S docs_per_s=R cpu_seconds=C
// Also `--delete-queue QUEUE` (between benchmark runs).
//
// Usage: amqp_min_publisher PORT NDJSON EXCHANGE QUEUE KEY WINDOW
//        amqp_min_publisher PORT --delete-queue QUEUE
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool check(amqp_connection_state_t state, const char* what) {
  amqp_rpc_reply_t reply = amqp_get_rpc_reply(state);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return true;
  std::fprintf(stderr, "amqp_min_publisher: %s failed (reply type %d)\n", what,
               static_cast<int>(reply.reply_type));
  return false;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s PORT NDJSON EXCHANGE QUEUE KEY WINDOW | PORT --delete-queue QUEUE\n",
                 argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  amqp_connection_state_t state = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(state);
  if (amqp_socket_open(socket, "127.0.0.1", port) != AMQP_STATUS_OK) {
    std::fprintf(stderr, "amqp_min_publisher: cannot connect to 127.0.0.1:%d\n", port);
    return 1;
  }
  if (amqp_login(state, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type !=
      AMQP_RESPONSE_NORMAL) {
    std::fprintf(stderr, "amqp_min_publisher: login as guest refused\n");
    return 1;
  }
  amqp_channel_open(state, 1);
  if (!check(state, "channel.open")) return 1;

  if (std::strcmp(argv[2], "--delete-queue") == 0) {
    amqp_queue_delete(state, 1, amqp_cstring_bytes(argv[3]), 0, 0);
    return check(state, "queue.delete") ? 0 : 1;
  }
  if (argc < 7) return 2;
  const char* exchange = argv[3];
  const char* queue = argv[4];
  const char* key = argv[5];
  const std::uint64_t window = std::strtoull(argv[6], nullptr, 10);

  std::vector<std::string> documents;
  {
    std::ifstream in(argv[2], std::ios::binary);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) documents.push_back(std::move(line));
  }

  amqp_confirm_select(state, 1);
  if (!check(state, "confirm.select")) return 1;
  amqp_exchange_declare(state, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("direct"), 0, 1,
                        0, 0, amqp_empty_table);
  if (!check(state, "exchange.declare")) return 1;
  amqp_queue_declare(state, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, amqp_empty_table);
  if (!check(state, "queue.declare")) return 1;
  amqp_queue_bind(state, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                  amqp_cstring_bytes(key), amqp_empty_table);
  if (!check(state, "queue.bind")) return 1;

  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.content_type = amqp_cstring_bytes("application/json");
  properties.delivery_mode = AMQP_DELIVERY_PERSISTENT;

  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t published = 0;
  std::uint64_t confirmed = 0;
  std::uint64_t frames = 0;
  const std::uint64_t total = documents.size();
  std::vector<bool> acked(total, false);
  std::uint64_t low = 0;  // tags 1..low are all acked
  while (confirmed < total) {
    while (published < total && published - confirmed < window) {
      const std::string& document = documents[published];
      int status = amqp_basic_publish(
          state, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), 1, 0, &properties,
          amqp_bytes_t{document.size(), const_cast<char*>(document.data())});
      if (status != AMQP_STATUS_OK) {
        std::fprintf(stderr, "amqp_min_publisher: publish: %s\n", amqp_error_string2(status));
        return 1;
      }
      ++published;
    }
    // Wait for confirms: block for the first frame, then take what is buffered.
    timeval timeout{10, 0};
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(state, &frame, &timeout);
    while (status == AMQP_STATUS_OK) {
      if (frame.frame_type == AMQP_FRAME_METHOD) {
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
          auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
          // Tags are 1..published; a multiple ack confirms every tag up to its own.
          const std::uint64_t first = ack->multiple ? 1 : ack->delivery_tag;
          for (std::uint64_t tag = std::max(first, low + 1); tag <= ack->delivery_tag; ++tag) {
            if (!acked[tag - 1]) {
              acked[tag - 1] = true;
              ++confirmed;
            }
          }
          while (low < total && acked[low]) ++low;
        } else if (frame.payload.method.id != AMQP_BASIC_RETURN_METHOD) {
          std::fprintf(stderr, "amqp_min_publisher: unexpected method 0x%08x\n",
                       frame.payload.method.id);
          return 1;
        }
      }
      if (++frames % 1024 == 0 && !amqp_frames_enqueued(state)) amqp_maybe_release_buffers(state);
      timeval zero{0, 0};
      status = amqp_simple_wait_frame_noblock(state, &frame, &zero);
    }
    if (status != AMQP_STATUS_TIMEOUT) {
      std::fprintf(stderr, "amqp_min_publisher: reading confirms: %s\n",
                   amqp_error_string2(status));
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("confirmed=%llu seconds=%.3f docs_per_s=%.0f cpu_seconds=%.3f\n",
              static_cast<unsigned long long>(confirmed), seconds,
              static_cast<double>(confirmed) / seconds, cpu_seconds() - cpu_start);
  amqp_channel_close(state, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(state, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state);
  return 0;
}
