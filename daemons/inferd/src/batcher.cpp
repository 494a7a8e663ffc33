#include "inferd/batcher.hpp"

#include <fmt/format.h>

namespace peaknet::inferd {
namespace {

using Clock = std::chrono::steady_clock;

bool valid_dtype(shm::DType t) {
  return static_cast<uint8_t>(t) >= static_cast<uint8_t>(shm::DType::kU8) &&
         static_cast<uint8_t>(t) <= static_cast<uint8_t>(shm::DType::kF64);
}

/// Empty string when the event can be batched, else why not (Q1 is written by another process: never
/// trust it).
std::string check_event(const shm::EventHeader& h, size_t slot_bytes) {
  if (!valid_dtype(h.dtype)) return fmt::format("unknown dtype code {}", static_cast<int>(h.dtype));
  if (h.channels == 0 || h.height == 0 || h.width == 0) {
    return fmt::format("empty frame shape {}x{}x{}", h.channels, h.height, h.width);
  }
  const uint64_t expected = shape_of(h).payload_bytes();
  if (h.payload_bytes != expected) {
    return fmt::format("payload_bytes {} != C*H*W*dtype_size {}", h.payload_bytes, expected);
  }
  if (shm::kPayloadOffset + expected > slot_bytes) {
    return fmt::format("payload of {} bytes does not fit a {}-byte slot", expected, slot_bytes);
  }
  if (uint64_t(h.orig_height) + h.pad_top > h.height || uint64_t(h.orig_width) + h.pad_left > h.width) {
    return fmt::format("original shape {}x{} + pad ({},{}) exceeds stored {}x{}", h.orig_height, h.orig_width,
                       h.pad_top, h.pad_left, h.height, h.width);
  }
  return {};
}

}  // namespace

FrameShape shape_of(const shm::EventHeader& header) {
  return FrameShape{header.channels, header.height, header.width, header.dtype};
}

Batcher::Batcher(shm::Ring& q1) : q1_(q1) {}

void Batcher::take(std::vector<shm::ReadSlot>& claimed, std::vector<shm::ReadSlot>& markers,
                   std::vector<RejectedEvent>& rejected) {
  const auto now = Clock::now();
  for (auto& slot : claimed) {
    const auto& header = *reinterpret_cast<const shm::EventHeader*>(slot.data());
    if (header.flags & shm::kEventFlagEndOfStream) {
      markers.push_back(std::move(slot));
      continue;
    }
    std::string problem = check_event(header, slot.size());
    if (!problem.empty()) {
      rejected.push_back(RejectedEvent{std::move(slot), std::move(problem)});
      continue;
    }
    pending_.push_back(Pending{std::move(slot), now});
  }
  claimed.clear();
}

std::optional<Batch> Batcher::take_pending() {
  if (pending_.empty()) return std::nullopt;
  Batch batch;
  batch.id = next_batch_id_++;
  batch.shape = shape_of(*reinterpret_cast<const shm::EventHeader*>(pending_.front().slot.data()));
  batch.first_claim = pending_.front().claimed_at;
  const uint32_t limit = batch_size();
  while (!pending_.empty() && batch.size() < limit) {
    const auto& header = *reinterpret_cast<const shm::EventHeader*>(pending_.front().slot.data());
    if (!(shape_of(header) == batch.shape)) break;  // the next shape starts the next batch
    batch.headers.push_back(header);
    batch.slots.push_back(std::move(pending_.front().slot));
    pending_.pop_front();
  }
  batch.queue_wait_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - batch.first_claim).count());
  return batch;
}

std::optional<Batch> Batcher::next(std::chrono::milliseconds idle_timeout, std::vector<shm::ReadSlot>& markers,
                                   std::vector<RejectedEvent>& rejected) {
  const uint32_t limit = batch_size();
  if (pending_.empty()) {
    q1_.claim(scratch_, limit, idle_timeout);
    take(scratch_, markers, rejected);
    if (pending_.empty()) return std::nullopt;
  }
  const auto deadline = pending_.front().claimed_at + std::chrono::milliseconds(max_wait_ms());
  for (;;) {
    // Count the leading run of events with the front's shape; another shape closes the batch.
    const FrameShape front = shape_of(*reinterpret_cast<const shm::EventHeader*>(pending_.front().slot.data()));
    size_t same = 0;
    bool other_shape = false;
    for (const auto& p : pending_) {
      if (shape_of(*reinterpret_cast<const shm::EventHeader*>(p.slot.data())) == front) {
        ++same;
      } else {
        other_shape = true;
        break;
      }
    }
    const auto now = Clock::now();
    if (same >= limit || other_shape || now >= deadline) return take_pending();
    const auto wait = std::min<std::chrono::milliseconds>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now),
                                                          std::chrono::seconds(1));
    if (beat_) beat_();
    q1_.claim(scratch_, limit - same, wait);
    take(scratch_, markers, rejected);
    if (!markers.empty() || !rejected.empty()) return take_pending();  // let the caller handle them
  }
}

}  // namespace peaknet::inferd
