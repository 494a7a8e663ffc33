#pragma once
// Weight files -> PeakNet parameters, strictly: every model key must be present with the same shape,
// and no extra key may remain. Formats: safetensors, and torch.save() state_dict zip checkpoints.
#include <string>

#include "model/peaknet.hpp"
#include "model/safetensors.hpp"

namespace peaknet::model {

/// Reads a weights file by content (zip -> torch.save checkpoint, otherwise safetensors).
/// Unwraps {"model"|"state_dict"|"model_state_dict": ...} and strips wrapper prefixes.
NamedTensors read_weights_file(const std::string& path);

/// Removes training-wrapper prefixes anywhere in a key: "module.", "_orig_mod.", "_fsdp_wrapped_module.",
/// "_checkpoint_wrapped_module.", and a leading "peaknet_model.".
std::string strip_wrapper_prefixes(const std::string& key);

/// Copies `weights` into `net` (casting to the parameter dtype). Throws std::runtime_error naming the
/// missing, unexpected and shape-mismatched keys (all of them, capped) and `source`.
void load_state_dict(PeakNet& net, const NamedTensors& weights, const std::string& source);

/// read_weights_file + load_state_dict. A missing file is an error.
void load_weights(PeakNet& net, const std::string& path);

}  // namespace peaknet::model
