#pragma once
// InferenceBackend: one interface, two implementations (CPU, CUDA pipeline), chosen by make_backend()
// from the config (Jungfraujoch AcquisitionDevice style). The backend owns the model and the device
// work; the caller (InferdService) owns the rings. Torch appears here only as an opaque model pointer.
//
// Contract (Holoscan style):
//  - submit(batch) returns as soon as the batch is enqueued; results come back later, in submission
//    order, through BatchSink::publish() on the caller's thread (inside submit/poll/flush).
//  - The batch's Q1 slots are handed to BatchSink::release_inputs() once the backend no longer reads
//    their pixels (CUDA: after the H2D copy, from a completion thread). With keep_inputs (release_q1
//    after_publish, write_frames) they come back inside CompletedBatch instead and are released after
//    the Q2 records are published, so a crash requeues them.
//  - Neither submit nor poll waits for the device except when a pipeline slot must be reused.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/inferd_config.hpp"
#include "inferd/batch.hpp"
#include "model/inference_model.hpp"
#include "peaks/peak_types.hpp"

namespace peaknet::model {
class InferenceModel;
}

namespace peaknet::inferd {

/// Time spent per stage for one batch, nanoseconds (CUDA events on the GPU, steady_clock on the CPU).
struct StageTimes {
  uint64_t h2d_ns = 0;
  uint64_t preprocess_ns = 0;
  uint64_t forward_ns = 0;
  uint64_t postprocess_ns = 0;
  uint64_t d2h_ns = 0;
};

/// Results of one batch, in the order of batch.headers.
struct CompletedBatch {
  Batch batch;                             ///< headers always; slots only with keep_inputs
  std::vector<peaks::EventPeaks> peaks;    ///< one per event
  uint32_t pad_bottom = 0, pad_right = 0;  ///< zero rows/columns inferd added (model input only)
  StageTimes times;
  /// CUDA with write_masks or device_masks: copies event i's mask into the exported pool entry of Q2 slot
  /// `q2_slot` and fills the record's IPC fields (set by the CUDA backend; empty otherwise).
  std::function<void(size_t event, uint32_t q2_slot, shm::ResultHeader& result)> store_device_mask;
  /// CPU with write_masks: uint8 masks (1 = logit1 > logit0) of every event, C x H x W each, in order
  /// (ResultWriter copies those of hits into Q2). Empty otherwise.
  std::vector<uint8_t> host_masks;
};

/// Where the backend sends what it has finished with. Called on the thread noted per method.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  /// Q1 slots whose pixels are no longer needed (any thread; must be thread-safe).
  virtual void release_inputs(std::vector<shm::ReadSlot>&& slots) = 0;
  /// A finished batch (caller's thread, submission order).
  virtual void publish(CompletedBatch&& done) = 0;
};

struct BackendOptions {
  config::Device device = config::Device::kCpu;  ///< cpu | cuda (resolved; never auto here)
  int gpu = 0;
  model::Precision precision = model::Precision::kFp32;  ///< resolved from inferd.precision (auto: device's)
  bool channels_last = false;
  bool cuda_graphs = false;
  bool cudnn_benchmark = false;  ///< cudnn.benchmark for this process (CUDA)
  bool instance_norm = false;
  uint32_t pad_multiple = 32;
  uint32_t pipeline_slots = 3;
  uint32_t max_batch_size = 8;              ///< device buffers are sized for this many events
  uint64_t max_payload_bytes = 0;           ///< largest frame (Q1 slot_bytes - kPayloadOffset)
  const std::byte* q1_data_area = nullptr;  ///< registered once for DMA (CUDA)
  uint64_t q1_data_area_bytes = 0;
  uint64_t q1_slot_bytes = 0;
  bool keep_inputs = false;   ///< Q1 slots come back with the results (release after publish)
  bool write_masks = false;   ///< masks of hits to writerd (CPU: host_masks; CUDA: the device pool)
  bool device_masks = false;  ///< keep masks on the GPU for a CUDA IPC consumer
  uint32_t q2_slots = 0;      ///< device_masks: one pool entry per Q2 slot
  int cpu_threads = 0;
  peaks::PeakParams peak_params;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string device_name() const = 0;
  /// Runs `iterations` synthetic batches of `shape` x batch_size (never stream data); also captures
  /// CUDA graphs when enabled. Completes before returning.
  virtual void warm_up(const FrameShape& shape, uint32_t batch_size, uint32_t iterations) = 0;
  virtual void submit(Batch&& batch) = 0;
  /// Publishes batches whose results are ready, without waiting.
  virtual void poll() = 0;
  /// Completes and publishes every batch in flight.
  virtual void flush() = 0;
  /// Replaces the model between batches (flushes first). The new model is already on the device.
  virtual void swap_model(std::unique_ptr<model::InferenceModel> next) = 0;
  virtual size_t in_flight() const = 0;
  /// Backend-specific numbers for stats() (device, memory, graph captures, ...).
  virtual nlohmann::json describe() const = 0;
};

/// "cpu" or "cuda" (the latter only in a build with CUDA torch; otherwise std::runtime_error).
std::unique_ptr<InferenceBackend> make_backend(const BackendOptions& options,
                                               std::unique_ptr<model::InferenceModel> model, BatchSink& sink);
/// True when this build has the CUDA backend and a CUDA device is visible.
bool cuda_available();

}  // namespace peaknet::inferd
