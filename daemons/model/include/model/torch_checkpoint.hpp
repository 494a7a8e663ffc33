#pragma once
// Reads a torch.save() checkpoint (zip archive: data.pkl + data/<key> storages) holding a state_dict.
// LibTorch's own torch::pickle_load turns the state_dict's collections.OrderedDict into None (1.13), so
// this is a small restricted unpickler: it accepts only the opcodes and globals that torch.save emits for
// a (possibly nested) dict of tensors, and rejects everything else (no arbitrary code, no classes).
#include <string>

#include "model/safetensors.hpp"

namespace peaknet::model {

/// Flat name -> tensor list (CPU). Nested dicts are flattened with '.' (so {"model": sd} gives
/// "model.<key>"; wrapper handling is done by the weight loader). Non-tensor leaves are skipped.
/// Throws std::runtime_error naming the file and the unsupported construct.
NamedTensors read_torch_checkpoint(const std::string& path);

/// True if the file starts like a zip archive (torch.save's default format since 1.6).
bool is_zip_file(const std::string& path);

}  // namespace peaknet::model
