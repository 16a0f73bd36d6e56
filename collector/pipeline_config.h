// What the pipeline is built with: its rings and the configs of the components its threads drive
// (assembler, encoder). The daemon's Config holds one, which the option table writes into.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "collector/config/choices.h"
#include "correlate/event_assembler.h"
#include "correlate/event_filter.h"
#include "correlate/process_context.h"
#include "mozdef/encoder.h"

namespace aurelay::collector {

// ring_capacity's default: record batches in flight between reader and correlator (8 x 128 KiB
// bound what a backlog holds in memory; more waits in the socket buffer and kernel backlog).
inline constexpr std::size_t kDefaultRingCapacity = 8;

struct PipelineConfig {
  std::size_t record_batches = kDefaultRingCapacity;  // batches between reader and correlator
  std::size_t max_records_per_batch = 1024;
  QueueFullAction queue_full_action = kDefaultQueueFullAction;
  // Live sources warn when the ring fills (the kernel backlog grows meanwhile); a file replay
  // is expected to outrun the correlator, so it only counts.
  bool warn_when_ring_full = true;
  // Records arrive as they happen and somebody waits for them (netlink, stdin). A file replay
  // (false) wakes the next thread only once a few batches are queued, and never hands over
  // documents early: throughput is all that counts there.
  bool live = true;
  // Live netlink input: the reader looks up each SYSCALL record's process in /proc (container,
  // systemd unit, start time; process_context).
  bool process_context = true;
  correlate::ProcessContextConfig contexts;
  correlate::AssemblerConfig assembler;
  mozdef::EncoderConfig encoder;
  // Filters before encoding (filter_keys, filter_syscalls, filter_exe, filter_uids), and what
  // becomes of what they take (filter_action, filter_file).
  correlate::FilterConfig filter;
  FilterAction filter_action = kDefaultFilterAction;
  std::string filter_file;
  std::size_t document_batches = 8;  // batches in flight between correlator and shipper
  std::size_t max_documents_per_batch = 2048;
  // Small enough that the few batches in flight stay a small part of the memory; large enough
  // that a storm moves in a few hundred hand-overs a second.
  std::size_t max_document_batch_bytes = std::size_t{128} * 1024;
  // How often an idle correlator checks timeouts.
  std::chrono::milliseconds idle_tick{100};
  // How long encoded documents may wait for more before they go to the shipper. Live input
  // hands them over at once when the shipper is idle and the last hand-over is at least half
  // of this ago (a quiet host).
  std::chrono::milliseconds document_linger{20};
  // How long the shipper may take to deliver what is left at shutdown.
  std::chrono::milliseconds shutdown_flush{10000};
};

}  // namespace aurelay::collector
