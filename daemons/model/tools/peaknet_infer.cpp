// peaknet-infer: run PeakNet on a (B,C,H,W) tensor from a safetensors file and write `logits` (f32) and
// `mask` (uint8, logit1 > logit0). Exit 0 on success, 1 on any error (message on stderr), CLI11's
// code for bad usage.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "model/inference_model.hpp"
#include "model/safetensors.hpp"

namespace {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("model config '" + path + "' cannot be opened");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error("model config '" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run PeakNet on a tensor stored in a safetensors file"};
  std::string config_path, weights, input_path, tensor_name = "input", output_path;
  std::string device_name = "cpu", precision_name = "fp32", backend = "native";
  bool channels_last = false;
  app.add_option("--model-config", config_path, "PeakNet config JSON (upstream keys)");
  app.add_option("--weights", weights, "weights: .safetensors, torch.save state_dict, or TorchScript file")->required();
  app.add_option("--input", input_path, "input safetensors file")->required();
  app.add_option("--tensor", tensor_name, "name of the (B,C,H,W) tensor in the input file")->capture_default_str();
  app.add_option("--output", output_path, "output safetensors file (logits, mask)")->required();
  app.add_option("--device", device_name, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--precision", precision_name, "fp32 | bf16 | fp16")->capture_default_str();
  app.add_option("--backend", backend, "native | torchscript")->capture_default_str();
  app.add_flag("--channels-last", channels_last, "NHWC memory format");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto precision = peaknet::model::parse_precision(precision_name);
    torch::Device device(torch::kCPU);
    try {
      device = torch::Device(device_name);
    } catch (const std::exception&) {
      throw std::runtime_error("--device: expected cpu or cuda[:N], got '" + device_name + "'");
    }
    if (device.is_cuda() && !torch::cuda::is_available())
      throw std::runtime_error("--device " + device_name + ": no CUDA device available in this build/machine");

    peaknet::model::ModelSpec spec;
    if (!config_path.empty()) spec.config = read_json_file(config_path);
    else if (backend == "native") throw std::runtime_error("--model-config is required for the native backend");
    spec.weights = weights;
    spec.backend = backend;
    auto model = peaknet::model::load_model(spec);
    model->to(device, precision, channels_last);

    const auto inputs = peaknet::model::read_safetensors(input_path);
    const torch::Tensor& x = peaknet::model::find_tensor(inputs, tensor_name, "input '" + input_path + "'");
    if (!x.is_floating_point())
      throw std::runtime_error("input tensor '" + tensor_name + "' must be floating point, got " +
                               std::string(c10::toString(x.scalar_type())));
    const torch::Tensor logits = model->forward(x.to(device, torch::kFloat)).to(torch::kCPU, torch::kFloat);
    const torch::Tensor mask = logits.select(1, 1).gt(logits.select(1, 0)).to(torch::kUInt8);

    // Write to a temporary name and rename, so a failed run leaves no partial output.
    const std::string tmp = output_path + ".tmp";
    try {
      peaknet::model::write_safetensors(tmp, {{"logits", logits}, {"mask", mask}},
                                        {{"precision", precision_name}, {"device", device_name}});
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw;
    }
    std::filesystem::rename(tmp, output_path);
    std::printf("peaknet-infer: %s -> %s: logits %s, %lld peak pixels\n", input_path.c_str(), output_path.c_str(),
                c10::str(logits.sizes()).c_str(), static_cast<long long>(mask.sum().item<int64_t>()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peaknet-infer: error: %s\n", e.what());
    return 1;
  }
}
