#include "result_writer.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

#include "shm/process_liveness.hpp"

namespace peaknet::inferd {

void copy_event_fields(const shm::EventHeader& e, shm::ResultHeader& r) {
  r.event_id = e.event_id;
  r.source_message_id = e.source_message_id;
  r.t_recv_ns = e.t_recv_ns;
  r.t_q1_ns = e.t_q1_ns;
  r.timestamp = e.timestamp;
  r.timestamp_raw = e.timestamp_raw;
  r.ingest_epoch = e.ingest_epoch;
  r.photon_wavelength_a = e.photon_wavelength_a;
  r.channels = e.channels;
  r.height = e.height;
  r.width = e.width;
  r.orig_height = e.orig_height;
  r.orig_width = e.orig_width;
  // inferd pads bottom/right only and crops before peak finding, so its own offsets are 0 and the
  // totals are the event's.
  r.pad_top = e.pad_top;
  r.pad_left = e.pad_left;
}

ResultWriter::ResultWriter(shm::Ring& q2, uint32_t producer_id, Contents contents, InferdCounters& counters)
    : q2_(q2),
      producer_id_(producer_id),
      producer_identity_(shm::self_process_identity()),
      contents_(contents),
      counters_(counters) {}

bool ResultWriter::place_mask(const CompletedBatch& done, size_t i, shm::WriteSlot& slot, uint64_t end,
                              shm::ResultHeader& r) {
  const FrameShape& shape = done.batch.shape;
  const uint64_t mask_bytes = uint64_t(shape.channels) * shape.height * shape.width;
  if (done.store_device_mask) {
    done.store_device_mask(i, slot.index(), r);  // fills ipc_*, mask_place kDevice, the GPU's PCI id
  } else if (done.host_masks.size() >= (i + 1) * mask_bytes) {
    const uint64_t offset = (end + 63) / 64 * 64;
    if (offset + mask_bytes > slot.size()) return false;
    std::memcpy(slot.data() + offset, done.host_masks.data() + i * mask_bytes, mask_bytes);
    r.mask_place = shm::MaskPlace::kHost;
    r.mask_offset = offset;
    counters_.mask_bytes_copied.fetch_add(mask_bytes, std::memory_order_relaxed);
  } else {
    return false;
  }
  r.mask_channels = shape.channels;
  r.mask_height = shape.height;
  r.mask_width = shape.width;
  r.mask_bytes = mask_bytes;
  counters_.masks.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::optional<shm::WriteSlot> ResultWriter::acquire(const std::atomic<bool>& give_up) {
  for (;;) {
    auto slot = q2_.acquire();
    if (slot) {
      if (stage_) stage_->busy("write results");
      return slot;
    }
    if (q2_.policy() != shm::OverflowPolicy::kBlock) {
      counters_.dropped_q2_full.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    counters_.q2_block_waits.fetch_add(1, std::memory_order_relaxed);
    if (give_up.load()) return std::nullopt;
    // Q2 full under `block`: backpressure from writerd, a legitimate wait while we keep coming back.
    if (stage_) stage_->blocked("q2 acquire");
    spdlog::debug("Q2 {} full, waiting for the consumer", q2_.name());
  }
}

size_t ResultWriter::write(const CompletedBatch& done, const std::atomic<bool>& give_up) {
  const Batch& batch = done.batch;
  const uint64_t frame_bytes = batch.shape.payload_bytes();
  size_t published = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto slot = acquire(give_up);
    if (!slot) continue;
    std::byte* base = slot->data();
    std::memset(base, 0, shm::kPeaksOffset);
    auto& r = *reinterpret_cast<shm::ResultHeader*>(base);
    copy_event_fields(batch.headers[i], r);
    const peaks::EventPeaks& ev = done.peaks[i];
    const bool with_frame =
        contents_.frames && (ev.hit || contents_.frames_of_nonhits) && i < batch.slots.size() && batch.slots[i].valid();
    // Room for peaks: everything after kPeaksOffset, less the frame when one is written.
    uint64_t room = slot->size() - shm::kPeaksOffset;
    bool frame_fits = false;
    if (with_frame) {
      const uint64_t peak_bytes = ev.peaks.size() * sizeof(shm::PeakRecord);
      const uint64_t offset = (shm::kPeaksOffset + peak_bytes + 63) / 64 * 64;
      frame_fits = offset + frame_bytes <= slot->size();
      if (frame_fits) room = offset - shm::kPeaksOffset;
    }
    const size_t n = std::min<size_t>(ev.peaks.size(), room / sizeof(shm::PeakRecord));
    if (n > 0) std::memcpy(base + shm::kPeaksOffset, ev.peaks.data(), n * sizeof(shm::PeakRecord));
    r.n_peaks = static_cast<uint32_t>(n);
    r.n_found = ev.n_found;
    r.producer_id = producer_id_;
    r.flags = ev.hit ? shm::kResultFlagHit : 0;
    r.producer_identity = producer_identity_;
    uint64_t end = shm::kPeaksOffset + n * sizeof(shm::PeakRecord);
    if (with_frame && frame_fits) {
      r.frame_offset = (end + 63) / 64 * 64;
      r.frame_bytes = frame_bytes;
      r.frame_dtype = batch.shape.dtype;
      std::memcpy(base + r.frame_offset, batch.slots[i].data() + shm::kPayloadOffset, frame_bytes);
      counters_.frame_bytes_copied.fetch_add(frame_bytes, std::memory_order_relaxed);
      end = r.frame_offset + frame_bytes;
    } else if (with_frame) {
      counters_.frames_skipped.fetch_add(1, std::memory_order_relaxed);
    }
    // Masks of hits only (never a non-hit's, whatever keep_all_events says); device_masks: every event.
    if ((contents_.masks && ev.hit) || (contents_.device_masks && done.store_device_mask)) {
      if (!place_mask(done, i, *slot, end, r)) counters_.masks_skipped.fetch_add(1, std::memory_order_relaxed);
    }
    counters_.peaks_truncated.fetch_add(ev.n_found - n, std::memory_order_relaxed);
    counters_.peaks.fetch_add(n, std::memory_order_relaxed);
    if (ev.hit) counters_.hits.fetch_add(1, std::memory_order_relaxed);
    r.t_q2_ns = realtime_ns();
    if (r.t_recv_ns != 0 && r.t_q2_ns > r.t_recv_ns) {
      counters_.latency_us.record((r.t_q2_ns - r.t_recv_ns) / 1000);
    }
    q2_.publish(std::move(*slot));
    ++published;
    if (stage_) stage_->progress();
  }
  counters_.events_out.fetch_add(published, std::memory_order_relaxed);
  return published;
}

bool ResultWriter::write_marker(const shm::EventHeader& marker, const std::atomic<bool>& give_up) {
  auto slot = acquire(give_up);
  if (!slot) return false;
  std::memset(slot->data(), 0, shm::kPeaksOffset);
  auto& r = *reinterpret_cast<shm::ResultHeader*>(slot->data());
  copy_event_fields(marker, r);
  r.producer_id = producer_id_;
  r.flags = shm::kResultFlagEndOfStream;
  r.t_q2_ns = realtime_ns();
  q2_.publish(std::move(*slot));
  counters_.eos_markers.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace peaknet::inferd
