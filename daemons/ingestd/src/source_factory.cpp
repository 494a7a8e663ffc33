#include <stdexcept>

#include "event_source.hpp"
#include "replay_source.hpp"
#include "synthetic_source.hpp"
#include "zmq_source.hpp"

namespace peaknet::ingestd {

std::unique_ptr<EventSource> make_source(const SourceEnv& env) {
  const std::string& source = env.config.source;
  if (source == "zmq") return std::make_unique<ZmqSource>(env);
  if (source == "synthetic") return std::make_unique<SyntheticSource>(env);
  if (source == "replay") return std::make_unique<ReplaySource>(env);
  throw std::invalid_argument("config.ingestd.source: unknown source \"" + source + "\" (zmq | synthetic | replay)");
}

}  // namespace peaknet::ingestd
