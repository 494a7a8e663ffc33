#pragma once
// SyntheticSource: `ingestd.synthetic.events` generated frames (SyntheticFrames), paced at the live
// `ingestd.synthetic.rate_hz` (0 = as fast as Q1 takes them), written straight into Q1 slots by one
// thread: a synthetic message is its one event, with no decode step.
#include <atomic>
#include <thread>

#include "event_source.hpp"
#include "ingestd/synthetic_frames.hpp"

namespace peaknet::ingestd {

class SyntheticSource final : public EventSource {
 public:
  explicit SyntheticSource(const SourceEnv& env);
  ~SyntheticSource() override;

  const char* name() const override { return "synthetic"; }
  void start() override;
  void stop() override;
  bool finished() const override { return finished_.load(); }
  uint64_t last_input_steady_ns() const override { return last_ns_.load(std::memory_order_relaxed); }

 private:
  void run(common::Stage& stage);

  SourceEnv env_;
  SyntheticFrames frames_;
  std::atomic<bool> stop_{false}, finished_{false};
  std::atomic<uint64_t> last_ns_{0};
  std::thread thread_;
};

}  // namespace peaknet::ingestd
