#pragma once
// ReplaySource: the messages of a recording (MessageRecorder's DIR, `ingestd --record`) handed to the
// decode queue again, `replay.loops` times (0 = forever), at `replay.speed` times the recorded pace
// (0 = as fast as the decoders take them). Source ids are the recorded ones; message ids restart at 0.
#include <atomic>
#include <thread>

#include "event_source.hpp"

namespace peaknet::ingestd {

class ReplaySource final : public EventSource {
 public:
  explicit ReplaySource(const SourceEnv& env) : env_(env) {}
  ~ReplaySource() override;

  const char* name() const override { return "replay"; }
  void start() override;
  void stop() override;
  bool finished() const override { return finished_.load(); }
  uint64_t last_input_steady_ns() const override { return last_ns_.load(std::memory_order_relaxed); }

 private:
  void run(common::Stage& stage);

  SourceEnv env_;
  std::atomic<bool> stop_{false}, finished_{false};
  std::atomic<uint64_t> last_ns_{0};
  std::thread thread_;
};

}  // namespace peaknet::ingestd
