#include "cuda_backend.hpp"

#include <c10/cuda/CUDAGuard.h>
#include <spdlog/spdlog.h>

#include "nvtx_range.hpp"

namespace peaknet::inferd {
namespace {

peaks::LogitsType logits_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat:
      return peaks::LogitsType::kF32;
    case torch::kBFloat16:
      return peaks::LogitsType::kBF16;
    case torch::kHalf:
      return peaks::LogitsType::kF16;
    default:
      throw std::runtime_error(std::string("model output dtype ") + c10::toString(t) +
                               " is not supported by the peak finder");
  }
}

uint64_t ns(float ms) { return static_cast<uint64_t>(double(ms) * 1e6); }

}  // namespace

// ---------------------------------------------------------------- InputReleaser

CudaBackend::InputReleaser::InputReleaser(int device, BatchSink& sink)
    : sink_(sink), thread_([this, device] { loop(device); }) {}

CudaBackend::InputReleaser::~InputReleaser() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CudaBackend::InputReleaser::add(cudaEvent_t h2d_done, std::vector<shm::ReadSlot>&& slots) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(h2d_done, std::move(slots));
  }
  cv_.notify_all();
}

void CudaBackend::InputReleaser::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void CudaBackend::InputReleaser::loop(int device) {
  cudaSetDevice(device);
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left
    auto [event, slots] = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    const cudaError_t status = cudaEventSynchronize(event);
    if (status != cudaSuccess) spdlog::error("H2D event: {}", cudaGetErrorString(status));
    sink_.release_inputs(std::move(slots));  // an H2D that failed is not retried: the process fails
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

// ---------------------------------------------------------------- CudaBackend

CudaBackend::CudaBackend(const BackendOptions& options, std::unique_ptr<model::InferenceModel> model, BatchSink& sink)
    : options_(options),
      sink_(sink),
      device_(torch::kCUDA, static_cast<c10::DeviceIndex>(options.gpu)),
      h2d_(c10::cuda::getStreamFromPool(false, device_.index())),
      compute_(c10::cuda::getStreamFromPool(true, device_.index())),
      d2h_(c10::cuda::getStreamFromPool(false, device_.index())),
      runner_(std::move(model), device_, options.precision, options.channels_last, options.cuda_graphs,
              options.cudnn_benchmark) {
  c10::cuda::CUDAGuard guard(device_);
  if (options_.q1_data_area != nullptr) {
    q1_registration_ = HostRegistration(options_.q1_data_area, options_.q1_data_area_bytes);
    if (!q1_registration_.registered()) {
      spdlog::warn("cudaHostRegister of Q1 ({} bytes) failed: {}; H2D copies will be pageable (slower)",
                   options_.q1_data_area_bytes, q1_registration_.error());
    }
  }
  slots_.resize(options_.pipeline_slots);
  for (auto& s : slots_) {
    s.d_raw = torch::empty({int64_t(options_.max_batch_size * options_.max_payload_bytes)},
                           torch::TensorOptions().dtype(torch::kByte).device(device_));
  }
  if (options_.device_masks || options_.write_masks) {
    // One entry per Q2 slot, sized for the largest event (one byte per pixel <= its payload bytes).
    mask_pool_ = std::make_unique<DeviceMaskPool>(options_.q2_slots, options_.max_payload_bytes);
  }
  releaser_ = std::make_unique<InputReleaser>(device_.index(), sink_);
}

CudaBackend::~CudaBackend() {
  try {
    flush();
  } catch (const std::exception& e) {
    spdlog::error("CUDA backend shutdown: {}", e.what());
  }
}

std::string CudaBackend::device_name() const { return "cuda:" + std::to_string(device_.index()); }

peaks::CudaPeakFinder& CudaBackend::finder_for(const FrameShape& shape, size_t slot) {
  auto& per_slot = finders_[{shape.channels, shape.height, shape.width}];
  if (per_slot.empty()) {
    // First batch of this shape: one finder per pipeline slot (results live until the slot is reused).
    for (size_t i = 0; i < slots_.size(); ++i) {
      per_slot.push_back(std::make_unique<peaks::CudaPeakFinder>(options_.max_batch_size, shape.channels, shape.height,
                                                                 shape.width, options_.peak_params.max_num_peak,
                                                                 options_.peak_params.min_num_peak));
    }
  }
  return *per_slot[slot];
}

void CudaBackend::ensure_graph(const FrameShape& shape) {
  if (!runner_.uses_graphs()) return;
  const Padding pad = padding_for(shape.height, shape.width, options_.pad_multiple);
  const std::vector<int64_t> key{int64_t(options_.max_batch_size) * shape.channels, 1,
                                 int64_t(shape.height + pad.bottom), int64_t(shape.width + pad.right)};
  if (runner_.has_graph(key) || runner_.graphs() >= 8) return;
  flush();  // a capture wants the device to itself
  runner_.prepare(key, 1);
}

void CudaBackend::enqueue_h2d(Slot& s, const Batch& batch) {
  NvtxRange range("inferd.h2d");
  const uint64_t payload = batch.shape.payload_bytes();
  const auto* area = options_.q1_data_area;
  auto* dst = s.d_raw.data_ptr<uint8_t>();
  s.h2d_start.record(h2d_.stream());
  // One pitched copy per run of consecutive Q1 slot indices (pitch = slot_bytes), not one per event.
  size_t i = 0;
  while (i < batch.size()) {
    size_t run = 1;
    while (i + run < batch.size() && batch.slots[i + run].index() == batch.slots[i].index() + run) ++run;
    const std::byte* src = area + uint64_t(batch.slots[i].index()) * options_.q1_slot_bytes + shm::kPayloadOffset;
    cuda_check(cudaMemcpy2DAsync(dst + i * payload, payload, src, options_.q1_slot_bytes, payload, run,
                                 cudaMemcpyHostToDevice, h2d_.stream()),
               "cudaMemcpy2DAsync(Q1 -> device)");
    i += run;
  }
  s.h2d_end.record(h2d_.stream());
}

void CudaBackend::enqueue_compute(Slot& s, const FrameShape& shape, int64_t events) {
  c10::cuda::CUDAStreamGuard guard(compute_);
  c10::InferenceMode inference;
  cuda_check(cudaStreamWaitEvent(compute_.stream(), s.h2d_end.get(), 0), "cudaStreamWaitEvent(h2d)");
  s.compute_start.record(compute_.stream());
  torch::Tensor input;
  {
    NvtxRange range("inferd.preprocess");
    torch::Tensor bytes = s.d_raw.narrow(0, 0, int64_t(shape.payload_bytes()) * events);
    torch::Tensor frames = frames_to_float(bytes, shape, events);
    input = make_model_input(frames, s.pad, options_.instance_norm);
    s.frames = frames.view({events * shape.channels, int64_t(shape.height), int64_t(shape.width)});
  }
  s.pre_end.record(compute_.stream());
  {
    NvtxRange range("inferd.forward");
    torch::Tensor out = runner_.run(input, int64_t(options_.max_batch_size) * shape.channels);
    // Crop the padding away; always a copy, so a graph's static output can be overwritten next.
    torch::Tensor cropped = out.slice(2, 0, shape.height).slice(3, 0, shape.width);
    s.logits = cropped.is_contiguous() ? cropped.clone() : cropped.contiguous();
  }
  s.fwd_end.record(compute_.stream());
}

void CudaBackend::enqueue_postprocess(Slot& s, const FrameShape& shape, int64_t events) {
  c10::cuda::CUDAStreamGuard guard(d2h_);
  c10::InferenceMode inference;
  NvtxRange range("inferd.postprocess");
  cuda_check(cudaStreamWaitEvent(d2h_.stream(), s.fwd_end.get(), 0), "cudaStreamWaitEvent(forward)");
  s.post_start.record(d2h_.stream());
  s.finder->enqueue_from_logits(s.logits.data_ptr(), logits_type(s.logits.scalar_type()), s.frames.data_ptr<float>(),
                                uint32_t(events), shape.channels, d2h_.stream());
  if (mask_pool_) s.masks = torch::gt(s.logits.select(1, 1), s.logits.select(1, 0)).to(torch::kByte);
  s.post_end.record(d2h_.stream());
}

void CudaBackend::submit(Batch&& batch) {
  c10::cuda::CUDAGuard device_guard(device_);
  ensure_graph(batch.shape);
  const size_t index = next_slot_;
  // Round-robin with in-order completion: when every slot is busy, the oldest is the one we need.
  if (order_.size() == slots_.size()) complete_oldest();
  next_slot_ = (next_slot_ + 1) % slots_.size();
  Slot& s = slots_[index];
  const FrameShape shape = batch.shape;
  const auto events = static_cast<int64_t>(batch.size());
  s.pad = padding_for(shape.height, shape.width, options_.pad_multiple);
  s.finder = &finder_for(shape, index);

  enqueue_h2d(s, batch);
  if (!options_.keep_inputs) {
    releaser_->add(s.h2d_end.get(), std::move(batch.slots));
    batch.slots.clear();
  }
  enqueue_compute(s, shape, events);
  enqueue_postprocess(s, shape, events);
  s.batch = std::move(batch);
  order_.push_back(index);
}

void CudaBackend::complete_oldest() {
  const size_t index = order_.front();
  Slot& s = slots_[index];
  {
    NvtxRange range("inferd.d2h_wait");
    s.post_end.synchronize();
  }
  CompletedBatch done;
  const auto events = static_cast<uint32_t>(s.batch.size());
  done.peaks.reserve(events);
  for (uint32_t i = 0; i < events; ++i) done.peaks.push_back(s.finder->result(i));
  done.pad_bottom = s.pad.bottom;
  done.pad_right = s.pad.right;
  done.times.h2d_ns = ns(s.h2d_end.since(s.h2d_start));
  done.times.preprocess_ns = ns(s.pre_end.since(s.compute_start));
  done.times.forward_ns = ns(s.fwd_end.since(s.pre_end));
  done.times.postprocess_ns = ns(s.post_end.since(s.post_start));  // includes the results' D2H
  if (mask_pool_) {
    const uint64_t mask_bytes = uint64_t(s.batch.shape.channels) * s.batch.shape.height * s.batch.shape.width;
    done.store_device_mask = [this, &s, mask_bytes](size_t i, uint32_t q2_slot, shm::ResultHeader& r) {
      mask_pool_->store(q2_slot, s.masks.data_ptr<uint8_t>() + i * mask_bytes, mask_bytes, d2h_.stream(), r);
    };
  }
  done.batch = std::move(s.batch);
  s.batch = Batch{};
  order_.pop_front();
  {
    NvtxRange range("inferd.publish");
    sink_.publish(std::move(done));
  }
  s.frames = torch::Tensor();
  s.logits = torch::Tensor();
}

void CudaBackend::poll() {
  while (!order_.empty() && slots_[order_.front()].post_end.query()) complete_oldest();
}

void CudaBackend::flush() {
  while (!order_.empty()) complete_oldest();
  if (releaser_) releaser_->wait_idle();
}

void CudaBackend::warm_up(const FrameShape& shape, uint32_t batch_size, uint32_t iterations) {
  c10::cuda::CUDAGuard device_guard(device_);
  flush();
  const Padding pad = padding_for(shape.height, shape.width, options_.pad_multiple);
  const int64_t rows = int64_t(runner_.uses_graphs() ? options_.max_batch_size : batch_size) * shape.channels;
  runner_.prepare({rows, 1, int64_t(shape.height + pad.bottom), int64_t(shape.width + pad.right)}, int(iterations));
  for (size_t i = 0; i < slots_.size(); ++i) (void)finder_for(shape, i);
  // Per pipeline slot: raw H2D buffer, float frames, cropped logits, peak-finder labels (+ masks). The
  // model's activations are not per slot: one graph (or the eager cache) serves every slot in turn.
  const uint64_t slot_rows = uint64_t(options_.max_batch_size) * shape.channels;
  const uint64_t plane = uint64_t(shape.height) * shape.width;
  const uint64_t logit_bytes = runner_.precision() == model::Precision::kFp32 ? 4 : 2;
  const uint64_t per_slot = uint64_t(options_.max_batch_size) * options_.max_payload_bytes +
                            slot_rows * plane * (4 + 2 * logit_bytes + 4 + (mask_pool_ ? 1 : 0));
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  spdlog::info("CUDA pipeline: {} slots x {:.2f} GiB (batch {} x {}x{}x{}); device {:.2f} of {:.2f} GiB used",
               slots_.size(), double(per_slot) / double(1ull << 30), options_.max_batch_size, shape.channels,
               shape.height, shape.width, double(total_bytes - free_bytes) / double(1ull << 30),
               double(total_bytes) / double(1ull << 30));
}

void CudaBackend::swap_model(std::unique_ptr<model::InferenceModel> next) {
  c10::cuda::CUDAGuard device_guard(device_);
  flush();
  runner_.replace_model(std::move(next));
}

nlohmann::json CudaBackend::describe() const {
  char pci[32] = {};
  cudaDeviceGetPCIBusId(pci, sizeof(pci), device_.index());
  return {{"device", device_name()},
          {"pci_bus_id", std::string(pci)},
          {"precision", model::to_string(runner_.precision())},
          {"pipeline_slots", slots_.size()},
          {"cuda_graphs", runner_.uses_graphs()},
          {"graphs_captured", runner_.graphs()},
          {"q1_registered", q1_registration_.registered()},
          {"device_masks", mask_pool_ != nullptr}};
}

}  // namespace peaknet::inferd
