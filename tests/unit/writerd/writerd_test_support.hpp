#pragma once
// Test support for writerd suites: temp dirs, unique shm names, a Q2 producer, a suite config, HDF5 reads.
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/config/suite_config.hpp"
#include "shm/counter_block.hpp"
#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::writerd::testing {

namespace fs = std::filesystem;

/// A temporary directory and the shm segments of one test, removed even when the test fails.
class TestSandbox {
 public:
  TestSandbox() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tag_ = "wrt" + std::to_string(::getpid()) + "x" + std::to_string(counter++);
    dir_ = fs::temp_directory_path() / ("peaknet-" + tag_ + "-" + (info ? info->name() : "t"));
    fs::create_directories(dir_);
  }
  ~TestSandbox() {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
    shm::Ring::unlink(run_name() + "-q2");
    shm::CounterBlock::unlink(run_name() + "-stats-writerd");
  }
  TestSandbox(const TestSandbox&) = delete;
  TestSandbox& operator=(const TestSandbox&) = delete;

  std::string run_name() const { return tag_; }
  fs::path dir() const { return dir_; }
  std::string q2_name() const { return run_name() + "-q2"; }

  /// Suite config with this sandbox's run name and output dir (q2 small and fast to create).
  nlohmann::json config_json() const {
    return {{"run", {{"name", run_name()}, {"log_level", "warn"}}},
            {"q2", {{"slots", 64}, {"slot_bytes", 131072}}},
            {"writerd",
             {{"output_dir", (dir_ / "out").string()},
              {"fsync", "none"},
              {"claim_timeout_ms", 20},
              {"retry_interval_ms", 50},
              {"events_per_file", 8},
              {"write_frames", false}}}};
  }

 private:
  std::string tag_;
  fs::path dir_;
};

struct TestEvent {
  uint64_t event_id;
  uint32_t n_found;  ///< peaks written = min(n_found, 16)
  double wavelength_a = 1.0;
  uint64_t epoch = 0;  ///< ingest_epoch
};

/// Publishes one synthetic result: 1 panel of 16x16, peaks on the diagonal (y = x = i mod 16).
inline void publish_event(shm::Ring& q2, const TestEvent& e) {
  auto slot = q2.acquire(std::chrono::milliseconds(5000));
  ASSERT_TRUE(slot.has_value()) << "Q2 full";
  std::memset(slot->data(), 0, shm::kPeaksOffset);
  shm::ResultHeader h{};
  h.event_id = e.event_id;
  h.ingest_epoch = e.epoch;
  h.channels = 1;
  h.height = h.orig_height = 16;
  h.width = h.orig_width = 16;
  h.n_found = e.n_found;
  h.n_peaks = std::min<uint32_t>(e.n_found, 16);
  h.photon_wavelength_a = e.wavelength_a;
  h.timestamp = double(e.event_id) * 0.5;
  h.t_recv_ns = 1;
  std::memcpy(slot->data(), &h, sizeof h);
  for (uint32_t i = 0; i < h.n_peaks; ++i) {
    shm::PeakRecord p{};
    p.y = p.x = double(i);
    p.intensity_sum = double(e.event_id) + i;
    std::memcpy(slot->data() + shm::kPeaksOffset + i * sizeof p, &p, sizeof p);
  }
  q2.publish(std::move(*slot));
}

inline shm::Ring producer_ring(const config::SuiteConfig& c) {
  shm::RingOptions o;
  o.name = c.run.name + "-" + c.q2.name;
  o.slot_count = uint32_t(c.q2.slots);
  o.slot_bytes = uint64_t(c.q2.slot_bytes);
  return shm::Ring::open_or_create(o);
}

/// A whole dataset, converted to T by HDF5.
template <typename T>
std::vector<T> read_dataset(const std::string& file, const std::string& name, hid_t mem_type,
                            std::vector<hsize_t>* dims_out = nullptr) {
  std::vector<T> out;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    ADD_FAILURE() << "cannot open " << file;
    return out;
  }
  const hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  if (d >= 0) {
    const hid_t s = H5Dget_space(d);
    std::vector<hsize_t> dims(size_t(H5Sget_simple_extent_ndims(s)));
    H5Sget_simple_extent_dims(s, dims.data(), nullptr);
    size_t n = 1;
    for (hsize_t v : dims) n *= v;
    out.resize(n);
    if (n > 0 && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
      ADD_FAILURE() << "cannot read " << name << " of " << file;
    }
    if (dims_out) *dims_out = dims;
    H5Sclose(s);
    H5Dclose(d);
  } else {
    ADD_FAILURE() << file << " has no dataset " << name;
  }
  H5Fclose(f);
  return out;
}

/// Every *.cxi / *.inprogress in dir.
inline std::vector<std::string> files_with_suffix(const fs::path& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Event ids of every completed file in dir, in file then row order.
inline std::vector<uint64_t> all_written_ids(const fs::path& dir) {
  std::vector<uint64_t> ids;
  for (const auto& f : files_with_suffix(dir, ".cxi")) {
    for (uint64_t id : read_dataset<uint64_t>(f, "/LCLS/event_id", H5T_NATIVE_UINT64)) ids.push_back(id);
  }
  return ids;
}

}  // namespace peaknet::writerd::testing
