#pragma once
// inspect: decode recorded messages offline with the production decoders and describe them, one
// JSON object per file (`ingestd inspect FILE...`, `peaknet-inspect FILE...`):
//   {"file": ..., "format": "npz", "events": 3, "arrays": [{"name", "dtype": "<f4", "shape": [...],
//    "sha256": <of the decoded values as little-endian C-order bytes>}, ...]}
// or {"file": ..., "format": ..., "reject": "<reason>", "detail": "..."}. Simplon start messages
// among the files are applied first, so images may precede their start on the command line.
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ingest/decode/decoder_options.hpp"

namespace peaknet::ingest {

/// Describes every file; returns one JSON object per file in input order.
std::vector<nlohmann::json> inspect_files(const std::vector<std::string>& paths, const DecoderOptions& options);

/// Prints inspect_files() as JSON lines. Returns 0 when every file was read and handled
/// (a rejected message counts as handled), 1 when a file could not be read.
int run_inspect(const std::vector<std::string>& paths, const DecoderOptions& options, std::ostream& out);

}  // namespace peaknet::ingest
