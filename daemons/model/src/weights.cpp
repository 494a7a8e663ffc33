#include "model/weights.hpp"

#include <filesystem>
#include <map>
#include <stdexcept>

#include "model/torch_checkpoint.hpp"

namespace peaknet::model {
namespace {

// Joins up to `cap` names for an error message, with the count of the rest.
std::string join_capped(const std::vector<std::string>& names, size_t cap = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < cap; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > cap) out += ", ... (" + std::to_string(names.size() - cap) + " more)";
  return out;
}

// Keeps the sub-dict under a checkpoint wrapper key ("model.", "state_dict.", "model_state_dict.") when
// every key carries it.
NamedTensors unwrap(NamedTensors tensors) {
  for (const std::string wrapper : {"model_state_dict.", "state_dict.", "model."}) {
    bool all = !tensors.empty();
    for (const auto& [k, t] : tensors) all = all && k.rfind(wrapper, 0) == 0;
    if (!all) continue;
    // "model." is also no prefix of real keys: PeakNet keys start with backbone/bifpn/seg/head.
    for (auto& [k, t] : tensors) k = k.substr(wrapper.size());
    return tensors;
  }
  return tensors;
}

}  // namespace

std::string strip_wrapper_prefixes(const std::string& key) {
  static const std::vector<std::string> wrappers{"_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.",
                                                 "module."};
  std::string out;
  size_t i = 0;
  while (i < key.size()) {  // drop wrapper path components wherever they occur
    bool dropped = false;
    if (i == 0 || key[i - 1] == '.') {
      for (const auto& w : wrappers)
        if (key.compare(i, w.size(), w) == 0) {
          i += w.size();
          dropped = true;
          break;
        }
    }
    if (!dropped) out += key[i++];
  }
  if (out.rfind("peaknet_model.", 0) == 0) out = out.substr(14);
  return out;
}

NamedTensors read_weights_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error("weights file '" + path + "' does not exist or is not a regular file");
  NamedTensors tensors = is_zip_file(path) ? read_torch_checkpoint(path) : read_safetensors(path);
  for (auto& [k, t] : tensors) k = strip_wrapper_prefixes(k);
  return unwrap(std::move(tensors));
}

void load_state_dict(PeakNet& net, const NamedTensors& weights, const std::string& source) {
  std::map<std::string, const torch::Tensor*> given;
  std::vector<std::string> duplicate;
  for (const auto& [k, t] : weights)
    if (!given.emplace(k, &t).second) duplicate.push_back(k);
  const NamedTensors model = net.state_dict();
  std::vector<std::string> missing, mismatched;
  for (const auto& [k, t] : model) {
    auto it = given.find(k);
    if (it == given.end()) missing.push_back(k);
    else if (it->second->sizes() != t.sizes())
      mismatched.push_back(k + " (file " + c10::str(it->second->sizes()) + ", model " + c10::str(t.sizes()) + ")");
  }
  std::vector<std::string> unexpected;
  for (const auto& [k, t] : given) {
    bool known = false;
    for (const auto& [mk, mt] : model) known = known || mk == k;
    if (!known) unexpected.push_back(k);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty() || !duplicate.empty()) {
    std::string msg = "weights '" + source + "' do not match the model config:";
    if (!missing.empty()) msg += "\n  missing keys (" + std::to_string(missing.size()) + "): " + join_capped(missing);
    if (!unexpected.empty())
      msg += "\n  unexpected keys (" + std::to_string(unexpected.size()) + "): " + join_capped(unexpected);
    if (!mismatched.empty())
      msg += "\n  shape mismatches (" + std::to_string(mismatched.size()) + "): " + join_capped(mismatched);
    if (!duplicate.empty()) msg += "\n  duplicate keys: " + join_capped(duplicate);
    throw std::runtime_error(msg);
  }
  torch::NoGradGuard no_grad;
  for (const auto& [k, t] : model) {
    torch::Tensor dst = t;
    dst.copy_(*given.at(k));
  }
}

void load_weights(PeakNet& net, const std::string& path) { load_state_dict(net, read_weights_file(path), path); }

}  // namespace peaknet::model
