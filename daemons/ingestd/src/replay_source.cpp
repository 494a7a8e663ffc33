#include "replay_source.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include "message_recorder.hpp"
#include "shm/event_clock.hpp"
#include "source_pacing.hpp"

namespace peaknet::ingestd {

ReplaySource::~ReplaySource() { stop(); }

void ReplaySource::start() {
  common::Stage& stage = env_.progress.add_stage("replay source");
  thread_ = std::thread([this, &stage] { run(stage); });
}

void ReplaySource::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ReplaySource::run(common::Stage& stage) {
  const auto& rc = env_.config.replay;
  std::vector<RecordedMessage> entries;
  try {
    entries = read_recording_index(rc.dir);
  } catch (const std::exception& e) {
    spdlog::error("replay: {}", e.what());
  }
  if (entries.empty()) spdlog::warn("replay: no messages in {}", rc.dir);
  std::map<uint32_t, uint64_t> next_id;
  for (int64_t loop = 0; !entries.empty() && (rc.loops == 0 || loop < rc.loops); ++loop) {
    const uint64_t t0_recorded = entries.front().t_recv_ns;
    const uint64_t start = shm::steady_ns();
    for (const auto& entry : entries) {
      if (rc.speed > 0) {
        const double offset_ns =
            static_cast<double>(entry.t_recv_ns - std::min(entry.t_recv_ns, t0_recorded)) / rc.speed;
        if (!sleep_until_ns(start + static_cast<uint64_t>(offset_ns), stop_, stage)) break;
      }
      if (stop_.load()) break;
      std::ifstream in(entry.file, std::ios::binary);
      RawMessage message;
      message.bytes = zmq::message_t(entry.bytes);
      if (!in.read(static_cast<char*>(message.bytes.data()), static_cast<std::streamsize>(entry.bytes))) {
        spdlog::warn("replay: cannot read {} ({} bytes)", entry.file.string(), entry.bytes);
        continue;
      }
      message.source_id = entry.source_id;
      message.message_id = next_id[entry.source_id]++;
      message.t_recv_ns = shm::realtime_ns();
      last_ns_.store(shm::steady_ns(), std::memory_order_relaxed);
      stage.busy("replay a message");
      if (!env_.deliver(std::move(message), stage)) break;
      stage.progress();
    }
  }
  stage.done();
  finished_.store(true);
}

}  // namespace peaknet::ingestd
