#include "cpu_backend.hpp"

#include <chrono>
#include <cstring>

#include "peaks/peak_finder.hpp"
#include "tensor_ops.hpp"

namespace peaknet::inferd {
namespace {

using Clock = std::chrono::steady_clock;
uint64_t ns_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

}  // namespace

CpuBackend::CpuBackend(const BackendOptions& options, std::unique_ptr<model::InferenceModel> model, BatchSink& sink)
    : options_(options), model_(std::move(model)), precision_(options.precision), sink_(sink) {
  if (options_.cpu_threads > 0) torch::set_num_threads(options_.cpu_threads);
  model_->to(torch::Device(torch::kCPU), precision_, options_.channels_last);
  staging_ = torch::empty({int64_t(options_.max_batch_size * options_.max_payload_bytes)}, torch::kByte);
}

CompletedBatch CpuBackend::run(const torch::Tensor& bytes, Batch&& batch) {
  c10::InferenceMode guard;
  const auto b = static_cast<int64_t>(batch.size());
  const FrameShape shape = batch.shape;
  CompletedBatch done;
  const Padding pad = padding_for(shape.height, shape.width, options_.pad_multiple);
  done.pad_bottom = pad.bottom;
  done.pad_right = pad.right;

  auto t = Clock::now();
  torch::Tensor frames = frames_to_float(bytes, shape, b);
  torch::Tensor input = make_model_input(frames, pad, options_.instance_norm);
  if (options_.channels_last) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  done.times.preprocess_ns = ns_since(t);

  t = Clock::now();
  torch::Tensor logits = model_->forward(input);
  done.times.forward_ns = ns_since(t);

  t = Clock::now();
  torch::Tensor cropped = crop_logits(logits, shape, b);
  const uint64_t event_logits = uint64_t(shape.channels) * 2 * shape.height * shape.width;
  done.peaks.reserve(batch.size());
  for (int64_t i = 0; i < b; ++i) {
    peaks::ImageView image{bytes.data_ptr<uint8_t>() + i * shape.payload_bytes(), shape.dtype};
    done.peaks.push_back(peaks::find_peaks_from_logits(cropped.data_ptr<float>() + i * event_logits, image,
                                                       shape.channels, shape.height, shape.width,
                                                       options_.peak_params));
  }
  if (options_.write_masks) {
    // The peaks' own rule (peaks/peak_finder: logit1 > logit0) on the same float logits.
    const torch::Tensor masks = torch::gt(cropped.select(2, 1), cropped.select(2, 0)).to(torch::kByte).contiguous();
    const auto* bytes_begin = masks.data_ptr<uint8_t>();
    done.host_masks.assign(bytes_begin, bytes_begin + masks.numel());
  }
  done.times.postprocess_ns = ns_since(t);
  done.batch = std::move(batch);
  return done;
}

void CpuBackend::submit(Batch&& batch) {
  const auto t = Clock::now();
  const uint64_t payload = batch.shape.payload_bytes();
  const auto needed = static_cast<int64_t>(payload * batch.size());
  if (staging_.numel() < needed) staging_ = torch::empty({needed}, torch::kByte);
  auto* dst = staging_.data_ptr<uint8_t>();
  for (size_t i = 0; i < batch.size(); ++i) {
    std::memcpy(dst + i * payload, batch.slots[i].data() + shm::kPayloadOffset, payload);
  }
  torch::Tensor bytes = staging_.narrow(0, 0, needed);
  const uint64_t copy_ns = ns_since(t);
  // The pixels are copied: the slots go back to Q1 now, unless write_frames needs them for Q2.
  std::vector<shm::ReadSlot> kept = std::move(batch.slots);
  batch.slots.clear();
  if (!options_.keep_inputs) {
    sink_.release_inputs(std::move(kept));
    kept.clear();
  }
  CompletedBatch done = run(bytes, std::move(batch));
  done.batch.slots = std::move(kept);
  done.times.h2d_ns = copy_ns;
  sink_.publish(std::move(done));
}

void CpuBackend::warm_up(const FrameShape& shape, uint32_t batch_size, uint32_t iterations) {
  c10::InferenceMode guard;
  const Padding pad = padding_for(shape.height, shape.width, options_.pad_multiple);
  for (uint32_t i = 0; i < iterations; ++i) {
    torch::Tensor frames = torch::rand({int64_t(batch_size), shape.channels, shape.height, shape.width});
    torch::Tensor input = make_model_input(frames, pad, options_.instance_norm);
    (void)model_->forward(input);
  }
}

void CpuBackend::swap_model(std::unique_ptr<model::InferenceModel> next) {
  next->to(torch::Device(torch::kCPU), precision_, options_.channels_last);
  model_ = std::move(next);
}

nlohmann::json CpuBackend::describe() const {
  return {{"device", "cpu"}, {"threads", torch::get_num_threads()}, {"precision", model::to_string(precision_)}};
}

}  // namespace peaknet::inferd
