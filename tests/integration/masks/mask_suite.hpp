#pragma once
// Real inferd + writerd daemons with writerd.write_masks, fed by the test (it plays ingestd: golden
// frames published into Q1), one generated config in a temp dir, pid-unique shm names unlinked and
// every child SIGKILLed even when a test fails. Reads the CXI rows back (mask, status, frame, id) and
// computes the reference mask by running the golden tiny PeakNet directly on a frame.
#include <hdf5.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../ingestd/ingestd_harness.hpp"
#include "inferd_golden.hpp"
#include "inferd_test_events.hpp"
#include "writerd_test_support.hpp"

namespace peaknet::masks::testing {

namespace fs = std::filesystem;
using inferd::testing::Frame;
using ingestd::testing::ChildProcess;
using ingestd::testing::read_counters;
using nlohmann::json;

inline constexpr uint32_t kQ1Slots = 16;
inline constexpr uint64_t kQ1SlotBytes = 262144;

/// One CXI row as the mask tests look at it.
struct Row {
  uint64_t event_id = 0;
  uint8_t status = 0;
  int32_t n_found = 0;        ///< nPeaksFound: writerd's hit rule is n_found >= min_num_peak
  std::vector<uint8_t> mask;  ///< slab pixels
};

class MaskRun {
 public:
  /// `patch` is merged into the generated config (inferd.device, writerd keys, ...).
  MaskRun(const std::string& tag, const json& patch) : shm_(tag), dir_(fs::temp_directory_path() / shm_.name()) {
    fs::create_directories(dir_);
    config_ = {
        {"run", {{"name", shm_.name()}, {"log_level", "info"}, {"run_dir", (dir_ / "run").string()}}},
        {"q1", {{"slots", kQ1Slots}, {"slot_bytes", kQ1SlotBytes}}},
        {"q2", {{"slots", 16}}},  // slot_bytes derived: peaks + frame (+ host mask)
        {"peaks", {{"min_num_peak", 3}, {"max_num_peak", 256}}},
        {"inferd",
         {{"device", "cpu"},
          {"batch_size", 4},
          {"max_wait_ms", 20},
          {"cpu_threads", 1},
          {"warmup_iterations", 0},
          {"model",
           {{"config", inferd::testing::tiny_config()}, {"weights", inferd::testing::kGolden + "tiny.safetensors"}}}}},
        {"writerd",
         {{"output_dir", output_dir().string()},
          {"fsync", "none"},
          {"write_masks", true},
          {"events_per_file", 8},
          {"max_file_age_ms", 200},
          {"claim_timeout_ms", 20}}},
        {"control", {{"metrics_port", 0}}}};
    config_.merge_patch(patch);
    std::ofstream(config_path()) << config_.dump(2);
  }
  ~MaskRun() {
    children_.clear();  // SIGKILL + reap before the segments go
    shm::CounterBlock::unlink(shm_.name() + "-stats-writerd");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  MaskRun(const MaskRun&) = delete;
  MaskRun& operator=(const MaskRun&) = delete;

  const json& config() const { return config_; }
  fs::path config_path() const { return dir_ / "suite.json"; }
  fs::path output_dir() const { return dir_ / "out"; }
  const std::string& name() const { return shm_.name(); }

  /// Q1 as inferd opens it (the test is its producer).
  shm::Ring open_q1() const {
    return shm::Ring::open_or_create(inferd::testing::ring_options(shm_.q1(), kQ1Slots, kQ1SlotBytes));
  }
  shm::Ring attach_q2() const { return shm::Ring::attach(shm_.q2()); }

  /// Starts "inferd" or "writerd" (log in <dir>/<daemon>-<n>.log).
  ChildProcess& start(const std::string& daemon) {
    std::vector<std::string> argv{std::string(PEAKNET_BINARY_DIR) + "/daemons/" + daemon + "/" + daemon, "--config",
                                  config_path().string()};
    const fs::path log = dir_ / (daemon + "-" + std::to_string(children_.size()) + ".log");
    logs_.push_back(log);
    children_.push_back(std::make_unique<ChildProcess>(argv, log));
    return *children_.back();
  }
  std::string logs() const {
    std::string all;
    for (const auto& l : logs_) all += "--- " + l.filename().string() + "\n" + ingestd::testing::read_text(l);
    return all;
  }

  std::map<std::string, uint64_t> writerd_counters() const { return read_counters(shm_.name() + "-stats-writerd"); }
  uint64_t writerd(const std::string& key) const {
    const auto c = writerd_counters();
    return c.count(key) ? c.at(key) : 0;
  }
  /// The CPU inferd's (instance cpu0) or GPU 0 inferd's counters.
  uint64_t inferd(const std::string& key, const std::string& instance = "cpu0") const {
    const auto c = read_counters(shm_.name() + "-stats-inferd-" + instance);
    return c.count(key) ? c.at(key) : 0;
  }

  /// Every row of every completed CXI file.
  std::vector<Row> rows() const {
    std::vector<Row> out;
    for (const auto& f : writerd::testing::files_with_suffix(output_dir(), ".cxi")) {
      std::vector<hsize_t> dims;
      const auto ids = writerd::testing::read_dataset<uint64_t>(f, "/LCLS/event_id", H5T_NATIVE_UINT64);
      const auto status =
          writerd::testing::read_dataset<uint8_t>(f, "/entry_1/result_1/peakMaskStatus", H5T_NATIVE_UINT8);
      const auto found = writerd::testing::read_dataset<int32_t>(f, "/entry_1/result_1/nPeaksFound", H5T_NATIVE_INT32);
      const auto masks =
          writerd::testing::read_dataset<uint8_t>(f, "/entry_1/result_1/peakMask", H5T_NATIVE_UINT8, &dims);
      if (dims.size() != 3 || ids.size() != dims[0] || status.size() != ids.size() || found.size() != ids.size()) {
        ADD_FAILURE() << f << ": peakMask / peakMaskStatus not aligned with /LCLS/event_id";
        continue;
      }
      const size_t pixels = size_t(dims[1] * dims[2]);
      for (size_t r = 0; r < ids.size(); ++r) {
        out.push_back({ids[r], status[r], found[r],
                       std::vector<uint8_t>(masks.begin() + r * pixels, masks.begin() + (r + 1) * pixels)});
      }
    }
    return out;
  }

 private:
  inferd::testing::ShmRun shm_;
  fs::path dir_;
  json config_;
  std::vector<fs::path> logs_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

/// Golden frames of one shape (160 x 224, writerd's stacked geometry is fixed by the first event) plus
/// an all-zero frame (no peaks: a non-hit), ids from `first_id`.
inline std::vector<Frame> mask_frames(uint64_t first_id, size_t count) {
  std::vector<Frame> base = inferd::testing::make_frames();
  base.resize(5);  // the 160 x 224 ones
  std::vector<Frame> out;
  for (size_t i = 0; i < count; ++i) {
    Frame f = base[i % base.size()];
    f.pixels = i % 6 == 5 ? torch::zeros_like(f.pixels) : f.pixels.clone();
    f.header = inferd::testing::make_event(first_id + i, 1, uint32_t(f.pixels.size(1)), uint32_t(f.pixels.size(2)));
    out.push_back(std::move(f));
  }
  return out;
}

inline void publish(shm::Ring& q1, const std::vector<Frame>& frames) {
  for (const auto& f : frames) inferd::testing::publish_event(q1, f.header, f.pixels.data_ptr<float>());
}

/// The reference: the golden model run directly on one frame (batch 1, padding by hand), mask =
/// logit1 > logit0 over the frame; and whether it is a hit (peaks library, min_num_peak 3).
struct Reference {
  std::vector<uint8_t> mask;
  bool hit = false;
  uint32_t n_found = 0;
};
inline Reference reference_of(model::InferenceModel& m, const Frame& f) {
  c10::InferenceMode guard;
  const torch::Tensor logits = inferd::testing::reference_logits(m, f)[0];
  const torch::Tensor mask = torch::gt(logits[1], logits[0]).to(torch::kByte).contiguous();
  Reference r;
  r.mask.assign(mask.data_ptr<uint8_t>(), mask.data_ptr<uint8_t>() + mask.numel());
  const auto peaks = inferd::testing::reference_peaks(m, f, peaks::PeakParams{256, 3});
  r.hit = peaks.hit;
  r.n_found = peaks.n_found;
  return r;
}

inline std::unique_ptr<model::InferenceModel> reference_model() {
  model::ModelSpec spec{inferd::testing::tiny_config(), inferd::testing::kGolden + "tiny.safetensors"};
  auto m = model::load_model(spec);
  m->to(torch::kCPU, model::Precision::kFp32, false);
  return m;
}

/// Pixels where two masks differ.
inline size_t differing_pixels(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return std::max(a.size(), b.size());
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += (a[i] != 0) != (b[i] != 0);
  return n;
}

}  // namespace peaknet::masks::testing
