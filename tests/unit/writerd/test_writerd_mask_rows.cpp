// writerd.write_masks through WriterService on a real Q2: host masks of hits land in
// /entry_1/result_1/peakMask row for row (status 1), non-hits kept by keep_all_events have status 0 and a
// zero row, a hit whose mask is missing (none in the record, or a device mask whose inferd is gone) is
// still written, with status 2, and counted masks_missing; writerd goes on with the next events.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>

#include "shm/process_liveness.hpp"
#include "writerd/writer_service.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::writerd {
namespace {

using testing::TestSandbox;

constexpr uint32_t kSide = 16;

/// A hit's mask: a few pixels that depend on the event id (so rows cannot be swapped unnoticed).
std::vector<uint8_t> mask_of(uint64_t id) {
  std::vector<uint8_t> m(kSide * kSide, 0);
  for (uint32_t i = 0; i < 5; ++i) m[(id * 7 + i * 37) % m.size()] = 1;
  return m;
}

enum class Place { kNone, kHost, kDeviceOfDeadInferd };

/// A 16x16 result with n_found peaks and (per `place`) its mask after the peaks.
void publish_with_mask(shm::Ring& q2, uint64_t id, uint32_t n_found, Place place) {
  auto slot = q2.acquire(std::chrono::milliseconds(5000));
  ASSERT_TRUE(slot.has_value()) << "Q2 full";
  std::memset(slot->data(), 0, shm::kPeaksOffset);
  shm::ResultHeader h{};
  h.event_id = id;
  h.channels = 1;
  h.height = h.orig_height = kSide;
  h.width = h.orig_width = kSide;
  h.n_found = h.n_peaks = n_found;
  h.photon_wavelength_a = 1.0;
  h.t_recv_ns = 1;
  for (uint32_t i = 0; i < n_found; ++i) {
    shm::PeakRecord p{};
    p.y = p.x = double(i % kSide);
    p.npix = 1;
    std::memcpy(slot->data() + shm::kPeaksOffset + i * sizeof p, &p, sizeof p);
  }
  if (place != Place::kNone) {
    h.mask_channels = 1;
    h.mask_height = h.mask_width = kSide;
    h.mask_bytes = kSide * kSide;
  }
  if (place == Place::kHost) {
    h.mask_place = shm::MaskPlace::kHost;
    h.mask_offset = (shm::kPeaksOffset + n_found * sizeof(shm::PeakRecord) + 63) / 64 * 64;
    const auto m = mask_of(id);
    std::memcpy(slot->data() + h.mask_offset, m.data(), m.size());
  } else if (place == Place::kDeviceOfDeadInferd) {
    h.mask_place = shm::MaskPlace::kDevice;
    h.flags |= shm::kResultFlagDeviceMask;
    h.ipc_bytes = h.mask_bytes;
    h.producer_identity = (uint64_t(std::numeric_limits<int32_t>::max()) << 32) | 1;  // no such process
  }
  std::memcpy(slot->data(), &h, sizeof h);
  q2.publish(std::move(*slot));
}

TEST(WriterdMasks, HitsGetTheirMaskRowNonHitsNoneMissingOnesAreCountedAndWritten) {
  TestSandbox box;
  auto j = box.config_json();
  j["q1"] = {{"slot_bytes", 8192}};  // events of up to 4096 pixels: host masks fit q2.slot_bytes
  j["writerd"]["write_masks"] = true;
  j["writerd"]["keep_all_events"] = true;
  j["writerd"]["events_per_file"] = 32;
  const auto cfg = config::parse_suite_config(j);
  ASSERT_FALSE(shm::process_identity_alive((uint64_t(std::numeric_limits<int32_t>::max()) << 32) | 1));
  shm::Ring q2 = testing::producer_ring(cfg);
  std::map<uint64_t, Place> placed;
  for (uint64_t id = 1; id <= 12; ++id) {
    const bool hit = id % 3 != 0;  // min_num_peak 10
    const Place place = !hit      ? Place::kNone
                        : id == 4 ? Place::kNone
                        : id == 8 ? Place::kDeviceOfDeadInferd
                                  : Place::kHost;
    publish_with_mask(q2, id, hit ? 12 : 2, place);
    placed[id] = place;
  }
  q2.finish_producing();
  WriterService sut(cfg);
  EXPECT_EQ(sut.run(), 0);

  const auto files = testing::files_with_suffix(box.dir() / "out", ".cxi");
  ASSERT_EQ(files.size(), 1u);
  std::vector<hsize_t> dims;
  const auto masks = testing::read_dataset<uint8_t>(files[0], "/entry_1/result_1/peakMask", H5T_NATIVE_UINT8, &dims);
  const auto status = testing::read_dataset<uint8_t>(files[0], "/entry_1/result_1/peakMaskStatus", H5T_NATIVE_UINT8);
  const auto ids = testing::read_dataset<uint64_t>(files[0], "/LCLS/event_id", H5T_NATIVE_UINT64);
  ASSERT_EQ(ids.size(), 12u);
  ASSERT_EQ(dims, (std::vector<hsize_t>{12, kSide, kSide}));
  ASSERT_EQ(status.size(), 12u);
  for (size_t r = 0; r < ids.size(); ++r) {
    SCOPED_TRACE("event " + std::to_string(ids[r]));
    const bool hit = ids[r] % 3 != 0;
    const std::vector<uint8_t> row(masks.begin() + r * kSide * kSide, masks.begin() + (r + 1) * kSide * kSide);
    if (!hit) {
      EXPECT_EQ(status[r], uint8_t(MaskStatus::kNone));
      EXPECT_EQ(row, std::vector<uint8_t>(kSide * kSide, 0));
    } else if (placed[ids[r]] == Place::kHost) {
      EXPECT_EQ(status[r], uint8_t(MaskStatus::kWritten));
      EXPECT_EQ(row, mask_of(ids[r]));
    } else {
      EXPECT_EQ(status[r], uint8_t(MaskStatus::kMissing));
      EXPECT_EQ(row, std::vector<uint8_t>(kSide * kSide, 0));
    }
  }
  const auto stats = sut.stats();
  EXPECT_EQ(stats["events_written"], 12);
  EXPECT_EQ(stats["nonhits_written"], 4);
  EXPECT_EQ(stats["masks_written"], 6);
  EXPECT_EQ(stats["masks_missing"], 2) << "the hit without a mask and the one of a dead inferd";
}

TEST(WriterdMasks, LoweringTheHitThresholdLiveIsRefusedWithMasks) {
  TestSandbox box;
  auto j = box.config_json();
  j["q1"] = {{"slot_bytes", 8192}};  // events of up to 4096 pixels: host masks fit q2.slot_bytes
  j["writerd"]["write_masks"] = true;
  WriterService sut(config::parse_suite_config(j));
  std::string error;
  EXPECT_FALSE(common::apply_live_key(sut.live_keys(), "peaks.min_num_peak", 5, error));
  EXPECT_NE(error.find("writerd.write_masks"), std::string::npos) << error;
}

}  // namespace
}  // namespace peaknet::writerd
