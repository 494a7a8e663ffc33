#pragma once
// The counters inferd keeps in its shm CounterBlock (peakctl stats reads them without asking inferd).
// Looked up once; increments are relaxed atomics.
#include <atomic>
#include <cstdint>

#include "inferd/backend.hpp"
#include "shm/counter_block.hpp"

namespace peaknet::inferd {

struct InferdCounters {
  explicit InferdCounters(shm::CounterBlock& block);

  std::atomic<uint64_t>& batches;
  std::atomic<uint64_t>& events_in;   ///< events claimed from Q1 (markers not counted)
  std::atomic<uint64_t>& events_out;  ///< results published to Q2
  std::atomic<uint64_t>& hits;
  std::atomic<uint64_t>& peaks;                  ///< PeakRecords written
  std::atomic<uint64_t>& peaks_truncated;        ///< found but not written (max_num_peak or Q2 slot size)
  std::atomic<uint64_t>& dropped_invalid_event;  ///< malformed Q1 events (released, not inferred)
  std::atomic<uint64_t>& eos_markers;            ///< end-of-stream markers forwarded
  std::atomic<uint64_t>& q2_block_waits;         ///< acquire timeouts on a full Q2 (block policy; retried)
  std::atomic<uint64_t>& dropped_q2_full;        ///< results refused by a full Q2 under a drop policy
  std::atomic<uint64_t>& frames_skipped;         ///< write_frames but the frame did not fit the Q2 slot
  std::atomic<uint64_t>& frame_bytes_copied;     ///< host bytes of frames copied Q1 -> Q2 (hits only)
  std::atomic<uint64_t>& masks;                  ///< masks put into Q2 records (host copy or device pool entry)
  std::atomic<uint64_t>& masks_skipped;          ///< write_masks but the mask did not fit the Q2 slot (host copy)
  std::atomic<uint64_t>& mask_bytes_copied;      ///< host bytes of masks copied into Q2 (CPU backend)
  std::atomic<uint64_t>& model_swaps;
  std::atomic<uint64_t>& time_queue_wait_ns;
  std::atomic<uint64_t>& time_h2d_ns;
  std::atomic<uint64_t>& time_preprocess_ns;
  std::atomic<uint64_t>& time_forward_ns;
  std::atomic<uint64_t>& time_postprocess_ns;
  std::atomic<uint64_t>& time_d2h_ns;
  std::atomic<uint64_t>& batch_size;         ///< gauge: setting in effect
  std::atomic<uint64_t>& max_wait_ms;        ///< gauge
  std::atomic<uint64_t>& last_batch_events;  ///< gauge
  std::atomic<uint64_t>& in_flight;          ///< gauge: batches on the device
  std::atomic<uint64_t>& state;              ///< gauge: common::DaemonState
  std::atomic<uint64_t>& gpu_busy_pct;       ///< gauge: device time of pre+forward+post per wall time (own events)
  std::atomic<uint64_t>& gpu_util_nvml_pct;  ///< gauge: NVML utilisation of the whole GPU (0 when unavailable)
  std::atomic<uint64_t>& gpu_mem_used_mb;    ///< gauge: NVML
  std::atomic<uint64_t>& stalls;             ///< stall episodes (common::ProgressMonitor)
  std::atomic<uint64_t>& stalled;            ///< gauge: 1 while a stall is going on
  shm::Histogram& queue_wait_us;             ///< first claim of a batch -> submitted
  shm::Histogram& latency_us;                ///< t_recv (ingestd) -> published to Q2, per event

  void add_times(const StageTimes& t) {
    time_h2d_ns.fetch_add(t.h2d_ns, std::memory_order_relaxed);
    time_preprocess_ns.fetch_add(t.preprocess_ns, std::memory_order_relaxed);
    time_forward_ns.fetch_add(t.forward_ns, std::memory_order_relaxed);
    time_postprocess_ns.fetch_add(t.postprocess_ns, std::memory_order_relaxed);
    time_d2h_ns.fetch_add(t.d2h_ns, std::memory_order_relaxed);
  }
};

inline InferdCounters::InferdCounters(shm::CounterBlock& b)
    : batches(b.counter("batches")),
      events_in(b.counter("events_in")),
      events_out(b.counter("events_out")),
      hits(b.counter("hits")),
      peaks(b.counter("peaks")),
      peaks_truncated(b.counter("peaks_truncated")),
      dropped_invalid_event(b.counter("dropped_invalid_event")),
      eos_markers(b.counter("eos_markers")),
      q2_block_waits(b.counter("q2_block_waits")),
      dropped_q2_full(b.counter("dropped_q2_full")),
      frames_skipped(b.counter("frames_skipped")),
      frame_bytes_copied(b.counter("frame_bytes_copied")),
      masks(b.counter("masks")),
      masks_skipped(b.counter("masks_skipped")),
      mask_bytes_copied(b.counter("mask_bytes_copied")),
      model_swaps(b.counter("model_swaps")),
      time_queue_wait_ns(b.counter("time_queue_wait_ns")),
      time_h2d_ns(b.counter("time_h2d_ns")),
      time_preprocess_ns(b.counter("time_preprocess_ns")),
      time_forward_ns(b.counter("time_forward_ns")),
      time_postprocess_ns(b.counter("time_postprocess_ns")),
      time_d2h_ns(b.counter("time_d2h_ns")),
      batch_size(b.gauge("batch_size")),
      max_wait_ms(b.gauge("max_wait_ms")),
      last_batch_events(b.gauge("last_batch_events")),
      in_flight(b.gauge("in_flight")),
      state(b.gauge("state")),
      gpu_busy_pct(b.gauge("gpu_busy_pct")),
      gpu_util_nvml_pct(b.gauge("gpu_util_nvml_pct")),
      gpu_mem_used_mb(b.gauge("gpu_mem_used_mb")),
      stalls(b.counter("stalls")),
      stalled(b.gauge("stalled")),
      queue_wait_us(b.histogram("queue_wait_us")),
      latency_us(b.histogram("latency_us")) {}

}  // namespace peaknet::inferd
