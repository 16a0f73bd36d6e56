// The running data path: reader thread -> SPSC ring -> correlator thread -> SPSC ring ->
// shipper thread. The pipeline owns the threads and rings; the components it drives are plain
// synchronous objects, each owned by exactly one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auditlog/audit_log.h"
#include "base/document_batch.h"
#include "base/parker.h"
#include "base/rate_limited_log.h"
#include "base/spsc_ring.h"
#include "collector/pipeline_config.h"
#include "collector/record_source.h"
#include "collector/telemetry/metrics.h"
#include "correlate/event_assembler.h"
#include "correlate/record_batch.h"
#include "mozdef/encoder.h"
#include "output/sink.h"

namespace aurelay::collector {

class Pipeline {
 public:
  Pipeline(PipelineConfig config, std::unique_ptr<RecordSource> source,
           std::unique_ptr<output::Sink> sink, Metrics& metrics);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The local audit log the correlator thread writes every record batch to, before
  // correlating it (null: none). Before start().
  void set_audit_log(std::unique_ptr<auditlog::AuditLog> log) { audit_log_ = std::move(log); }
  // From the main thread: SIGUSR1 (rotate) and SIGUSR2 (resume) for the local audit log; false
  // when there is none.
  bool request_log_rotate(auditlog::SignalSender sender);
  bool request_log_resume(auditlog::SignalSender sender);
  // Who asked the pipeline to stop, for the audit log's DAEMON_END record. Before request_stop().
  void set_stopped_by(auditlog::SignalSender sender);

  void start();
  // Graceful stop: the reader stops reading; what was read is grouped, encoded and delivered.
  void request_stop();
  // Asks the shipper thread to reopen its output (SIGHUP).
  void request_reopen() { reopen_requested_.store(true, std::memory_order_release); }
  // True once every thread has finished (end of input, or after request_stop()).
  bool finished() const { return shipper_done_.load(std::memory_order_acquire); }
  // An eventfd that becomes readable when the pipeline has finished, for the main thread's poll.
  int finished_fd() const { return finished_fd_; }
  // Joins the threads (after finished(), or blocks until then).
  void join();
  // Increments while the threads make progress; the watchdog checks it moves.
  std::uint64_t heartbeat() const;
  // Non-empty when the source failed (as opposed to ending).
  std::string source_error() const;

  // Audit rules deleted by anyone (CONFIG_CHANGE op=remove_rule in the stream): how many such
  // records the correlator has seen, and who made the last one ("auid=0 pid=42 exe=/sbin/auditctl";
  // pid and exe when the kernel sent the SYSCALL record). The main thread compares and repairs.
  std::uint64_t rule_deletions_seen() const {
    return rule_deletions_seen_.load(std::memory_order_acquire);
  }
  std::string last_rule_deletion() const;

 private:
  void reader_loop();
  void correlator_loop();
  void shipper_loop();
  void process_record_batch(correlate::RecordBatch& batch, correlate::EventAssembler& assembler,
                            std::chrono::steady_clock::time_point now);
  // Queues the current document batch for the shipper. The shipper is woken at once when
  // `wake_now`, otherwise only once enough batches are queued to be worth a thread switch.
  void hand_over_documents(bool wake_now);
  void note_rule_deletion(const correlate::Event& event);
  // True when a filter took `event` (counted; its document diverted to filter_file).
  bool filtered(const correlate::Event& event);
  void write_filtered_documents();
  void wake_shipper();
  DocumentBatch* acquire_document_batch();
  // After a burst, once quiet: lets the buffers of the empty document batches go.
  void release_idle_document_batches();
  void publish_sink_metrics(bool force = false);

  PipelineConfig config_;
  std::unique_ptr<RecordSource> source_;
  std::unique_ptr<output::Sink> sink_;
  Metrics& metrics_;
  std::unique_ptr<mozdef::MozdefEncoder> encoder_;
  std::unique_ptr<auditlog::AuditLog> audit_log_;  // the correlator thread writes it
  // Filters before encoding (null: none) and, for filter_action = file, the documents of what
  // they took, written to filter_file (correlator thread).
  std::unique_ptr<correlate::EventFilter> filter_;
  int filter_file_fd_ = -1;
  DocumentBatch filtered_documents_;
  RateLimitedLog filter_file_warning_;
  mutable std::mutex stopped_by_mutex_;
  auditlog::SignalSender stopped_by_;  // under stopped_by_mutex_

  // Record batches: full ones go reader -> correlator, empty ones come back.
  std::vector<std::unique_ptr<correlate::RecordBatch>> record_batch_pool_;
  SpscRing<correlate::RecordBatch*> full_records_;
  SpscRing<correlate::RecordBatch*> free_records_;
  Parker records_ready_;
  Parker records_free_;

  // Document batches: full ones go correlator -> shipper, empty ones come back.
  std::vector<std::unique_ptr<DocumentBatch>> document_batch_pool_;
  SpscRing<DocumentBatch*> full_documents_;
  SpscRing<DocumentBatch*> free_documents_;
  Parker documents_ready_;
  Parker documents_free_;
  // A thread blocked on an empty free ring is woken once this many batches (3/4 of them) are
  // free again, not per freed batch: pinned to one core every wake-up is a thread switch, and
  // the other quarter keeps the consumer busy meanwhile on two. The same counts of queued
  // batches wake the consumer of a file replay's full ring.
  std::size_t record_wake_batches_ = 1;
  std::size_t document_wake_batches_ = 1;
  // Live input: the shipper waits for new documents (or its sink's own events) with none
  // queued; the correlator sleeps holding encoded documents it would hand over to an idle
  // shipper (the shipper wakes it when it goes idle).
  std::atomic<bool> shipper_idle_{false};
  std::atomic<bool> documents_pending_{false};
  DocumentBatch* current_documents_ = nullptr;  // owned by the correlator thread
  std::vector<DocumentBatch*> held_documents_;  // correlator: empty, out of the ring
  RateLimitedLog parse_warning_;                // correlator thread

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> reopen_requested_{false};
  std::atomic<bool> reader_done_{false};
  std::atomic<bool> correlator_done_{false};
  std::atomic<bool> shipper_done_{false};
  std::atomic<std::uint64_t> reader_beats_{0};
  std::atomic<std::uint64_t> correlator_beats_{0};
  std::atomic<std::uint64_t> shipper_beats_{0};
  std::string source_error_;  // written by the reader before reader_done_
  // Documents put into full_documents_ (correlator thread) and taken out (shipper thread): the
  // difference is what the ring holds.
  std::atomic<std::uint64_t> rule_deletions_seen_{0};  // correlator writes
  mutable std::mutex rule_deletion_mutex_;
  std::string last_rule_deletion_;  // under rule_deletion_mutex_
  Counter documents_handed_over_{0};
  Counter documents_taken_{0};
  std::chrono::steady_clock::time_point last_sink_publish_{};  // shipper thread

  int finished_fd_ = -1;

  std::thread reader_;
  std::thread correlator_;
  std::thread shipper_;
};

}  // namespace aurelay::collector
