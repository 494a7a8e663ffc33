#pragma once
// SuiteConfig: the one JSON file that configures the whole suite, one section per daemon.
// load_suite_config() validates every section strictly, so `peakctl start` fails before anything runs.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/control_config.hpp"
#include "common/config/inferd_config.hpp"
#include "common/config/ingestd_config.hpp"
#include "common/config/peaks_config.hpp"
#include "common/config/ring_config.hpp"
#include "common/config/run_config.hpp"
#include "common/config/writerd_config.hpp"

namespace peaknet::config {

struct SuiteConfig {
  RunConfig run;
  RingConfig q1;
  RingConfig q2;
  PeaksConfig peaks;
  IngestdConfig ingestd;
  InferdConfig inferd;
  WriterdConfig writerd;
  ControlConfig control;
  nlohmann::json raw;  ///< the merged JSON (file + overrides), for `config get` and the digest
  std::string source;  ///< file it came from ("<embedded default>" when none)

  /// Stable short digest of `raw` (shown by `peakctl status` to spot daemons on different configs).
  std::string digest() const;
};

/// Validates a JSON document as a suite config.
SuiteConfig parse_suite_config(const nlohmann::json& root, std::string source = "<json>");
/// Reads `path` (JSON), applies `--set` overrides, validates. Throws ConfigError.
SuiteConfig load_suite_config(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace peaknet::config
