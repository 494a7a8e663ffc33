#pragma once
// safetensors reader/writer (the format of huggingface/safetensors): u64 little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {str: str}}, then the
// raw little-endian tensor bytes. Parsed here with nlohmann_json; no third-party safetensors code.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace peaknet::model {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Reads every tensor (CPU, contiguous) in file order. Throws std::runtime_error naming the file and the
/// problem (truncated file, bad header JSON, unknown dtype, offsets out of range or overlapping sizes).
NamedTensors read_safetensors(const std::string& path);

/// Writes tensors (any device; copied to CPU contiguous) with optional string metadata.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Looks a tensor up by name; throws std::runtime_error listing the available names if absent.
const torch::Tensor& find_tensor(const NamedTensors& tensors, const std::string& name, const std::string& source);

}  // namespace peaknet::model
