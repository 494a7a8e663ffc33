#include "writerd/writer_counters.hpp"

namespace peaknet::writerd {

const char* to_string(WriterDrop reason) noexcept {
  switch (reason) {
    case WriterDrop::kMalformed:
      return "malformed";
    case WriterDrop::kBadShape:
      return "bad_shape";
    case WriterDrop::kWriteError:
      return "write_error";
    case WriterDrop::kCount:
      break;
  }
  return "unknown";
}

WriterCounters::WriterCounters(const std::string& block_name, bool group_shareable)
    : block_(shm::CounterBlock::open_or_create(block_name, shm::CounterBlock::kDefaultCapacity, group_shareable)),
      events_in(block_.counter("events_in")),
      events_written(block_.counter("events_written")),
      nonhits_written(block_.counter("nonhits_written")),
      events_filtered(block_.counter("events_filtered")),
      duplicates_skipped(block_.counter("duplicates_skipped")),
      files_closed(block_.counter("files_closed")),
      bytes_written(block_.counter("bytes_written")),
      write_errors(block_.counter("write_errors")),
      peaks_outside_panel(block_.counter("peaks_outside_panel")),
      frames_missing(block_.counter("frames_missing")),
      masks_written(block_.counter("masks_written")),
      masks_missing(block_.counter("masks_missing")),
      held_slots(block_.gauge("held_slots")),
      output_failed(block_.gauge("output_failed")),
      stalls(block_.counter("stalls")),
      stalled(block_.gauge("stalled")),
      latency_us(block_.histogram("latency_recv_to_file_us")) {
  for (int r = 0; r < int(WriterDrop::kCount); ++r) {
    dropped_[r] = &block_.counter(std::string("dropped_") + to_string(WriterDrop(r)));
  }
}

uint64_t WriterCounters::dropped_total() const {
  uint64_t sum = 0;
  for (auto* d : dropped_) sum += d->load();
  return sum;
}

nlohmann::json WriterCounters::to_json() const {
  nlohmann::json j = {{"events_in", events_in.load()},
                      {"events_written", events_written.load()},
                      {"nonhits_written", nonhits_written.load()},
                      {"events_filtered", events_filtered.load()},
                      {"duplicates_skipped", duplicates_skipped.load()},
                      {"files_closed", files_closed.load()},
                      {"bytes_written", bytes_written.load()},
                      {"write_errors", write_errors.load()},
                      {"peaks_outside_panel", peaks_outside_panel.load()},
                      {"frames_missing", frames_missing.load()},
                      {"masks_written", masks_written.load()},
                      {"masks_missing", masks_missing.load()},
                      {"held_slots", held_slots.load()},
                      {"output_failed", output_failed.load()}};
  for (int r = 0; r < int(WriterDrop::kCount); ++r) {
    j[std::string("dropped_") + to_string(WriterDrop(r))] = dropped_[r]->load();
  }
  j["latency_recv_to_file_us"] = {{"count", latency_us.count.load()},
                                  {"p50", latency_us.percentile(50)},
                                  {"p99", latency_us.percentile(99)},
                                  {"max", latency_us.max.load()},
                                  {"mean", latency_us.mean()}};
  return j;
}

}  // namespace peaknet::writerd
