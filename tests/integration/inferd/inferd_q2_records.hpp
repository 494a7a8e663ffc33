#pragma once
// Reads every record of a Q2 ring into memory (tests only).
#include <chrono>
#include <map>
#include <vector>

#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd::testing {

struct Q2Record {
  shm::ResultHeader header;
  std::vector<shm::PeakRecord> peaks;
  std::vector<std::byte> frame;
};

/// Claims until nothing arrives for `quiet`; releases everything it read.
inline std::vector<Q2Record> drain_q2(shm::Ring& q2, std::chrono::milliseconds quiet) {
  std::vector<Q2Record> out;
  std::vector<shm::ReadSlot> slots;
  while (q2.claim(slots, 64, quiet) > 0) {
    for (auto& s : slots) {
      Q2Record r;
      std::memcpy(&r.header, s.data(), sizeof(r.header));
      const auto* p = reinterpret_cast<const shm::PeakRecord*>(s.data() + shm::kPeaksOffset);
      r.peaks.assign(p, p + r.header.n_peaks);
      if (r.header.frame_bytes > 0) {
        r.frame.assign(s.data() + r.header.frame_offset, s.data() + r.header.frame_offset + r.header.frame_bytes);
      }
      out.push_back(std::move(r));
      q2.release(std::move(s));
    }
    slots.clear();
  }
  return out;
}

}  // namespace peaknet::inferd::testing
