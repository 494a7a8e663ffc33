#include "model/op_profiler.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#ifdef PEAKNET_MODEL_HAVE_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace peaknet::model {
namespace {
thread_local OpProfiler* g_active = nullptr;

#ifdef PEAKNET_MODEL_HAVE_CUDA
void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("OpProfiler: ") + what + ": " + cudaGetErrorString(status));
}

// A timing CUDA event (raw runtime API: the torch event wrappers differ between 1.13 and 2.x).
class TimingEvent {
 public:
  TimingEvent() { check_cuda(cudaEventCreate(&event_), "cudaEventCreate"); }
  ~TimingEvent() { cudaEventDestroy(event_); }
  TimingEvent(const TimingEvent&) = delete;
  TimingEvent& operator=(const TimingEvent&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};
#endif
}  // namespace

// Marks: mark 0 = begin_iteration, mark i = lap i. elapsed_ms(i) = time from mark i-1 to mark i.
struct OpProfiler::Clock {
  bool cuda = false;
  std::vector<std::chrono::steady_clock::time_point> host_marks;
#ifdef PEAKNET_MODEL_HAVE_CUDA
  c10::DeviceIndex device_index = 0;
  std::vector<std::unique_ptr<TimingEvent>> events;  // reused across iterations
  size_t used = 0;
#endif

  void reset() {
    host_marks.clear();
#ifdef PEAKNET_MODEL_HAVE_CUDA
    used = 0;
#endif
  }
  void mark() {
#ifdef PEAKNET_MODEL_HAVE_CUDA
    if (cuda) {
      if (used == events.size()) events.push_back(std::make_unique<TimingEvent>());
      const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device_index).stream();
      check_cuda(cudaEventRecord(events[used++]->get(), stream), "cudaEventRecord");
      return;
    }
#endif
    host_marks.push_back(std::chrono::steady_clock::now());
  }
  void wait_last() {
#ifdef PEAKNET_MODEL_HAVE_CUDA
    if (cuda && used > 0) check_cuda(cudaEventSynchronize(events[used - 1]->get()), "cudaEventSynchronize");
#endif
  }
  double elapsed_ms(size_t i) const {
#ifdef PEAKNET_MODEL_HAVE_CUDA
    if (cuda) {
      float ms = 0.0F;
      check_cuda(cudaEventElapsedTime(&ms, events[i - 1]->get(), events[i]->get()), "cudaEventElapsedTime");
      return static_cast<double>(ms);
    }
#endif
    return std::chrono::duration<double, std::milli>(host_marks[i] - host_marks[i - 1]).count();
  }
};

OpProfiler::OpProfiler(torch::Device device) : clock_(std::make_unique<Clock>()) {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  if (device.is_cuda()) {
    clock_->cuda = true;
    clock_->device_index = device.has_index() ? device.index() : c10::cuda::current_device();
  }
#else
  if (device.is_cuda()) throw std::runtime_error("OpProfiler: this build has no LibTorch CUDA");
#endif
}

OpProfiler::~OpProfiler() {
  if (g_active == this) g_active = nullptr;
}

bool OpProfiler::uses_cuda_events() const { return clock_->cuda; }

void OpProfiler::begin_iteration() {
  if (in_iteration_) throw std::logic_error("OpProfiler: begin_iteration() twice without end_iteration()");
  in_iteration_ = true;
  pending_.clear();
  clock_->reset();
  clock_->mark();
}

void OpProfiler::lap(const char* op_class, double bytes) {
  if (!in_iteration_) return;  // a forward outside a profiled iteration (e.g. warm-up)
  clock_->mark();
  pending_.push_back({op_class, bytes});
}

void OpProfiler::end_iteration() {
  if (!in_iteration_) throw std::logic_error("OpProfiler: end_iteration() without begin_iteration()");
  in_iteration_ = false;
  clock_->wait_last();
  for (size_t i = 0; i < pending_.size(); ++i) {
    OpClassTime& c = class_named(pending_[i].op_class);
    c.laps += 1;
    c.total_ms += clock_->elapsed_ms(i + 1);
    c.bytes += pending_[i].bytes;
  }
  ++iterations_;
}

double OpProfiler::ms_per_iteration() const {
  if (iterations_ == 0) return 0.0;
  double total = 0.0;
  for (const auto& c : classes_) total += c.total_ms;
  return total / static_cast<double>(iterations_);
}

OpClassTime& OpProfiler::class_named(const char* op_class) {
  for (auto& c : classes_)
    if (c.op_class == op_class) return c;
  classes_.push_back(OpClassTime{op_class, 0, 0.0, 0.0});
  return classes_.back();
}

OpProfiler* active_op_profiler() { return g_active; }

ActiveOpProfiler::ActiveOpProfiler(OpProfiler& profiler) : previous_(g_active) { g_active = &profiler; }
ActiveOpProfiler::~ActiveOpProfiler() { g_active = previous_; }

}  // namespace peaknet::model
