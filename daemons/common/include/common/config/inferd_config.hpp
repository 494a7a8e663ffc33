#pragma once
// Section "inferd" of the suite config. Owned by the inferd work; keep keys, defaults and ranges here.
// docs/inferd.md lists every key with its meaning; the defaults run on a CPU-only machine (demo, CI).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/config_node.hpp"
#include "common/config/log_level.hpp"

namespace peaknet::config {

enum class Device { kAuto, kCpu, kCuda };
enum class Precision { kAuto, kFp32, kBf16, kFp16 };
enum class ReleaseQ1 { kAfterPublish, kAfterCopy };
enum class ModelBackend { kNative, kTorchscript };
std::string_view to_string(Device device);
std::string_view to_string(Precision precision);
std::string_view to_string(ReleaseQ1 release);
std::string_view to_string(ModelBackend backend);
inline constexpr std::array kDeviceValues{Device::kAuto, Device::kCpu, Device::kCuda};
inline constexpr std::array kPrecisionValues{Precision::kAuto, Precision::kFp32, Precision::kBf16, Precision::kFp16};
inline constexpr std::array kReleaseQ1Values{ReleaseQ1::kAfterPublish, ReleaseQ1::kAfterCopy};
inline constexpr std::array kModelBackendValues{ModelBackend::kNative, ModelBackend::kTorchscript};

/// inferd.model: which network to run (validated again by the model library when it loads).
struct InferdModelConfig {
  nlohmann::json config = nlohmann::json::object();  ///< PeakNet config (inline object) ...
  std::string config_path;                           ///< ... or a JSON file holding it (exactly one of the two)
  std::string weights;  ///< safetensors / torch.save state_dict / TorchScript file; "" only with random_init
  ModelBackend backend = ModelBackend::kNative;  ///< native | torchscript
  bool random_init = false;                      ///< benchmarks and demos only: no weights file needed
  int64_t seed = 0;                              ///< seed of random_init
  /// native backend on cuda: fused CUDA kernels for the memory-bound chains (docs/fused_kernels.md);
  /// ignored on cpu. Masks agree >= 99.5 % with the unfused ops (tests/unit/model/test_fused_model.cpp).
  bool fused_kernels = false;
};

struct InferdConfig {
  std::optional<LogLevel> log_level;       ///< unset ("" in the file) = run.log_level
  Device device = Device::kAuto;           ///< auto (cuda when built with it and a GPU is visible) | cpu | cuda
  int64_t gpu = 0;                         ///< CUDA device index (after CUDA_VISIBLE_DEVICES); --gpu overrides
  int64_t batch_size = 8;                  ///< events per model call (live: inferd.batch_size)
  int64_t max_wait_ms = 5;                 ///< longest wait to fill a batch (live: inferd.max_wait_ms)
  int64_t pipeline_slots = 3;              ///< batches in flight on the GPU (H2D / compute / D2H overlap)
  Precision precision = Precision::kAuto;  ///< auto (bf16 on cuda, fp32 on cpu) | fp32 | bf16 | fp16
  bool channels_last = false;              ///< NHWC memory format for the model
  bool cuda_graphs = false;                ///< capture the forward pass per (batch, shape) on cuda
  bool cudnn_benchmark = false;   ///< cuDNN times its algorithms per shape (faster; run-to-run bits may differ)
  bool instance_norm = false;     ///< per-image (x-mean)/sqrt(var+1e-6) after padding
  int64_t pad_multiple = 32;      ///< pad H and W up to a multiple of this (bottom/right)
  int64_t warmup_iterations = 2;  ///< synthetic batches before reporting ready (never stream data)
  std::vector<int64_t> warmup_shape = {1, 512, 512};  ///< C, H, W of the warm-up frames (float32)
  /// When Q1 slots go back: after_publish (default: a crash requeues every unfinished event, at-least-
  /// once) or after_copy (as soon as the pixels are on the device: fewer Q1 slots held, but events in
  /// flight are lost if inferd dies). write_frames implies after_publish.
  ReleaseQ1 release_q1 = ReleaseQ1::kAfterPublish;
  /// Derived from writerd.write_frames (common/config/frame_path.hpp); an explicit conflicting value
  /// is refused. Copies the raw frame of each hit into Q2 after the peaks (writerd data_1/data).
  bool write_frames = false;
  bool frames_of_nonhits = false;  ///< derived: writerd.keep_all_events also writes non-hits' frames
  /// Derived from writerd.write_masks (common/config/mask_path.hpp); an explicit conflicting value is
  /// refused. Puts the PeakNet mask of each hit into its Q2 record: a host copy in the slot (cpu) or an
  /// entry of the device pool passed as CUDA IPC handle (cuda).
  bool write_masks = false;
  bool device_masks = false;  ///< every event's mask to a CUDA IPC consumer (inferd-ipc-consumer)
  /// With masks in the device pool (CUDA): at the end of a drain, how long inferd keeps running (and its
  /// pool alive) until the results in Q2 are read; those still queued then lose their masks.
  int64_t device_mask_linger_s = 60;
  int64_t cpu_threads = 0;           ///< intra-op threads of the CPU backend (0 = torch default)
  int64_t cpu_index = 0;             ///< stats block suffix on the CPU backend (several CPU inferds)
  int64_t stats_interval_ms = 1000;  ///< how often counters are refreshed and logged at debug
  bool nvml = true;                  ///< GPU utilisation from libnvidia-ml.so.1 when present
  InferdModelConfig model;
};

InferdConfig parse_inferd_config(ConfigNode node);

}  // namespace peaknet::config
