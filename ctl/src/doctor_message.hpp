#pragma once
// `peakctl doctor --message FILE`: decodes one sample message (a file as the streamer sends it, or as
// `ingestd --record` saved it) with the config's decoder options and checks that its events fit the
// rings: a Q1 slot per event (q1.slot_bytes, q1.event_shape/event_dtype), a Q2 slot with the frame
// when inferd.write_frames, the warm-up shape. What would otherwise surface as 100 % slot_too_small
// drops once data flows is a FAIL line here, with the key to change and the size it needs.
#include <string>
#include <vector>

#include "common/config/suite_config.hpp"

namespace peaknet::ctl {

struct DoctorFinding {
  enum class Level { kOk, kInfo, kWarn, kFail } level = Level::kOk;
  std::string what;
  std::string fix;  ///< empty for kOk / kInfo
};

/// Every finding about `path` against `cfg` (a decoder-less build says it cannot check).
std::vector<DoctorFinding> check_sample_message(const config::SuiteConfig& cfg, const std::string& path);

}  // namespace peaknet::ctl
