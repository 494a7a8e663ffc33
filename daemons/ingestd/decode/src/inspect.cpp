#include "ingest/decode/inspect.hpp"

#include <ostream>

namespace peaknet::ingest {
std::vector<nlohmann::json> inspect_files(const std::vector<std::string>&, const DecoderOptions&) { return {}; }
int run_inspect(const std::vector<std::string>& paths, const DecoderOptions& options, std::ostream& out) {
  for (const auto& j : inspect_files(paths, options)) out << j.dump() << "\n";
  return 0;
}
}  // namespace peaknet::ingest
