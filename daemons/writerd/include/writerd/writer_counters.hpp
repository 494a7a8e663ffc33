#pragma once
// WriterCounters: writerd's numbers in its shm CounterBlock ("<run.name>-stats-writerd"), so
// `peakctl stats` reads them without asking the daemon, and a restarted writerd keeps counting.
// Ledger at writerd: events_in = events_written + events_filtered + dropped_* + duplicates_skipped
//                                + held_slots (claimed, waiting for their file to complete).
#include <atomic>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "shm/counter_block.hpp"

namespace peaknet::writerd {

/// Why writerd released an event without writing it.
enum class WriterDrop { kMalformed, kBadShape, kWriteError, kCount };
const char* to_string(WriterDrop reason) noexcept;  ///< "malformed", "bad_shape", "write_error"

class WriterCounters {
  shm::CounterBlock block_;  // first: the references below point into it

 public:
  /// Opens or creates the block. Throws shm::ShmError naming it.
  explicit WriterCounters(const std::string& block_name, bool group_shareable = false);

  std::atomic<uint64_t>& events_in;            ///< Q2 slots claimed (a requeued event again)
  std::atomic<uint64_t>& events_written;       ///< rows in completed files
  std::atomic<uint64_t>& nonhits_written;      ///< of those, non-hits (keep_all_events)
  std::atomic<uint64_t>& events_filtered;      ///< not a hit, released without writing
  std::atomic<uint64_t>& duplicates_skipped;   ///< event id already decided
  std::atomic<uint64_t>& files_closed;         ///< completed (renamed) files
  std::atomic<uint64_t>& bytes_written;        ///< sizes of completed files
  std::atomic<uint64_t>& write_errors;         ///< failed create / append / close / rename
  std::atomic<uint64_t>& peaks_outside_panel;  ///< peaks skipped: centroid in the padding
  std::atomic<uint64_t>& frames_missing;       ///< write_frames but the slot had no frame
  std::atomic<uint64_t>& masks_written;        ///< write_masks: hits written with their mask
  std::atomic<uint64_t>& masks_missing;        ///< write_masks: hits written without mask (peakMaskStatus 2)
  std::atomic<uint64_t>& held_slots;           ///< gauge: claimed slots of the open file
  std::atomic<uint64_t>& output_failed;        ///< gauge: 1 while the output is failing
  std::atomic<uint64_t>& stalls;               ///< stall episodes (common::ProgressMonitor)
  std::atomic<uint64_t>& stalled;              ///< gauge: 1 while a stall is going on
  shm::Histogram& latency_us;                  ///< t_recv -> file completed, microseconds

  void count_drop(WriterDrop reason, uint64_t n = 1) { dropped_[int(reason)]->fetch_add(n); }
  uint64_t dropped(WriterDrop reason) const { return dropped_[int(reason)]->load(); }
  uint64_t dropped_total() const;
  nlohmann::json to_json() const;
  const std::string& block_name() const { return block_.name(); }

 private:
  std::atomic<uint64_t>* dropped_[int(WriterDrop::kCount)];
};

}  // namespace peaknet::writerd
