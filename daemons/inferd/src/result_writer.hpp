#pragma once
// ResultWriter: turns a CompletedBatch into Q2 records, one slot per event:
// ResultHeader at 0, PeakRecord[n_peaks] at kPeaksOffset, then (write_frames) the raw stored frame at
// frame_offset (64-byte aligned) of hits only (or of every event with `frames_of_nonhits`, for
// writerd.keep_all_events): a non-hit's frame is never copied. With write_masks the PeakNet mask of
// each hit (never a non-hit) follows: a host copy at mask_offset (CPU backend) or the device pool entry
// of this Q2 slot (CUDA backend; the Q2 claim is the entry's lease: inferd overwrites it only after
// acquiring the slot again, i.e. after the consumer released it or the ring requeued a dead
// consumer's claim and a later consumer released it). Peaks, frames and masks beyond what the slot
// holds are counted, never overflow it.
#include <atomic>
#include <cstdint>

#include "common/progress_monitor.hpp"
#include "inferd/backend.hpp"
#include "inferd_counters.hpp"
#include "shm/event_clock.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {

class ResultWriter {
 public:
  /// What a record carries beside the peaks.
  struct Contents {
    bool frames = false;             ///< raw frames of hits (inferd.write_frames)
    bool frames_of_nonhits = false;  ///< ... and of non-hits (writerd.keep_all_events)
    bool masks = false;              ///< masks of hits (inferd.write_masks)
    bool device_masks = false;       ///< device masks of every event (inferd.device_masks, IPC consumers)
  };
  ResultWriter(shm::Ring& q2, uint32_t producer_id, Contents contents, InferdCounters& counters);

  /// Publishes every event of `done` (waits on a full Q2 under the block policy, retrying while
  /// `keep_waiting` says so). Returns the number of records published.
  size_t write(const CompletedBatch& done, const std::atomic<bool>& give_up);
  /// Forwards an end-of-stream marker as a record with kResultFlagEndOfStream and no peaks.
  bool write_marker(const shm::EventHeader& marker, const std::atomic<bool>& give_up);
  /// The serving thread's stage: blocked while Q2 is full (a beat per acquire timeout), progress per record.
  void set_stage(common::Stage* stage) { stage_ = stage; }

 private:
  std::optional<shm::WriteSlot> acquire(const std::atomic<bool>& give_up);

  shm::Ring& q2_;
  /// Places event i's mask (host copy after `end`, or the device pool entry); false when it did not fit.
  bool place_mask(const CompletedBatch& done, size_t i, shm::WriteSlot& slot, uint64_t end, shm::ResultHeader& r);

  uint32_t producer_id_;
  uint64_t producer_identity_;
  Contents contents_;
  InferdCounters& counters_;
  common::Stage* stage_ = nullptr;
};

/// Fills the ResultHeader fields that come from the Q1 event.
void copy_event_fields(const shm::EventHeader& event, shm::ResultHeader& result);
using shm::realtime_ns;  ///< the rings' time base (shm/event_clock.hpp)

}  // namespace peaknet::inferd
