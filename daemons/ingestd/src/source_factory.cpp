#include <stdexcept>
#include <string>

#include "event_source.hpp"
#include "replay_source.hpp"
#include "synthetic_source.hpp"
#include "zmq_source.hpp"

namespace peaknet::ingestd {

std::unique_ptr<EventSource> make_source(const SourceEnv& env) {
  switch (env.config.source) {
    case config::IngestSource::kZmq:
      return std::make_unique<ZmqSource>(env);
    case config::IngestSource::kSynthetic:
      return std::make_unique<SyntheticSource>(env);
    case config::IngestSource::kReplay:
      return std::make_unique<ReplaySource>(env);
  }
  throw std::invalid_argument("config.ingestd.source: unknown source " +
                              std::to_string(static_cast<int>(env.config.source)) + " (zmq | synthetic | replay)");
}

}  // namespace peaknet::ingestd
