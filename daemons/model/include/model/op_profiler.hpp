#pragma once
// OpProfiler: a per-op-class time budget of the PeakNet forward (issue 9: profile before optimising).
// The forward calls op_lap("class", in, out) after each op (or small op group); the time since the
// previous lap is charged to that class. Laps are back to back, so the classes sum exactly to the
// profiled forward: nothing between two laps goes unaccounted. On CUDA a lap records a CUDA event on the
// current stream (GPU time, no host sync inside the forward); on CPU it reads the steady clock (CPU ops
// are synchronous). Disabled (no profiler active on this thread), a lap is one thread-local load and a
// branch: the forward's kernels and numerics are unchanged either way.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace peaknet::model {

struct OpClassTime {
  std::string op_class;
  int64_t laps = 0;       // over all iterations
  double total_ms = 0.0;  // over all iterations
  double bytes = 0.0;     // inputs + outputs of the laps, over all iterations (a traffic lower bound)
};

class OpProfiler {
 public:
  /// CUDA events when `device` is CUDA (and the build has LibTorch CUDA), else the steady clock.
  explicit OpProfiler(torch::Device device);
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  /// Marks the start of one forward; laps until end_iteration() belong to it.
  void begin_iteration();
  /// Charges the time since the previous mark to `op_class` (a string literal: stored by pointer).
  void lap(const char* op_class, double bytes);
  /// Waits for the iteration's last event and adds its laps to the totals.
  void end_iteration();

  int64_t iterations() const { return iterations_; }
  /// Sum of all laps / iterations (the profiled forward time).
  double ms_per_iteration() const;
  /// Per class, in first-seen order.
  const std::vector<OpClassTime>& classes() const { return classes_; }
  bool uses_cuda_events() const;

 private:
  struct Clock;
  struct PendingLap {
    const char* op_class;
    double bytes;
  };
  OpClassTime& class_named(const char* op_class);

  std::unique_ptr<Clock> clock_;
  std::vector<PendingLap> pending_;
  std::vector<OpClassTime> classes_;
  int64_t iterations_ = 0;
  bool in_iteration_ = false;
};

/// The profiler the forward reports to on this thread (nullptr: profiling off).
OpProfiler* active_op_profiler();

/// Makes `profiler` active on this thread for the scope's lifetime (restores the previous one after).
class ActiveOpProfiler {
 public:
  explicit ActiveOpProfiler(OpProfiler& profiler);
  ~ActiveOpProfiler();
  ActiveOpProfiler(const ActiveOpProfiler&) = delete;
  ActiveOpProfiler& operator=(const ActiveOpProfiler&) = delete;

 private:
  OpProfiler* previous_;
};

inline double tensor_bytes(const torch::Tensor& t) {
  return t.defined() ? static_cast<double>(t.numel()) * static_cast<double>(t.element_size()) : 0.0;
}

/// Lap hook for the forward: free when no profiler is active (bytes are only computed when one is).
inline void op_lap(const char* op_class, const torch::Tensor& in, const torch::Tensor& out) {
  if (OpProfiler* p = active_op_profiler()) p->lap(op_class, tensor_bytes(in) + tensor_bytes(out));
}
inline void op_lap(const char* op_class, const torch::Tensor& in1, const torch::Tensor& in2, const torch::Tensor& out) {
  if (OpProfiler* p = active_op_profiler()) p->lap(op_class, tensor_bytes(in1) + tensor_bytes(in2) + tensor_bytes(out));
}

}  // namespace peaknet::model
