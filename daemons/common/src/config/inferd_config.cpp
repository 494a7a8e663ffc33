#include "common/config/inferd_config.hpp"

namespace peaknet::config {

std::string_view to_string(Device device) {
  switch (device) {
    case Device::kAuto:
      return "auto";
    case Device::kCpu:
      return "cpu";
    case Device::kCuda:
      return "cuda";
  }
  return "unknown";
}

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::kAuto:
      return "auto";
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
  }
  return "unknown";
}

std::string_view to_string(ReleaseQ1 release) {
  switch (release) {
    case ReleaseQ1::kAfterPublish:
      return "after_publish";
    case ReleaseQ1::kAfterCopy:
      return "after_copy";
  }
  return "unknown";
}

std::string_view to_string(ModelBackend backend) {
  switch (backend) {
    case ModelBackend::kNative:
      return "native";
    case ModelBackend::kTorchscript:
      return "torchscript";
  }
  return "unknown";
}

namespace {

InferdModelConfig parse_model(ConfigNode node) {
  InferdModelConfig m;
  // "config" is either the PeakNet config object itself or the path of a JSON file holding it.
  nlohmann::json config = node.get_raw("config", nlohmann::json::object());
  if (config.is_string()) {
    m.config_path = config.get<std::string>();
    if (m.config_path.empty()) throw ConfigError(node.key_path("config"), "path must not be empty");
  } else if (config.is_object()) {
    m.config = std::move(config);
  } else {
    throw ConfigError(node.key_path("config"), "must be a PeakNet config object or a file path, got " + config.dump());
  }
  m.weights = node.get_string("weights", m.weights);
  m.backend = node.get_enum("backend", m.backend, kModelBackendValues);
  m.random_init = node.get_bool("random_init", m.random_init);
  m.seed = node.get_int("seed", m.seed, 0);
  m.fused_kernels = node.get_bool("fused_kernels", m.fused_kernels);
  // A missing weights file (without random_init) is reported by inferd when it loads the model, so
  // that a config without an inferd section still validates for the other daemons.
  if (m.backend == ModelBackend::kTorchscript && m.weights.empty()) {
    throw ConfigError(node.key_path("weights"), "backend torchscript needs the TorchScript file");
  }
  node.finish();
  return m;
}

}  // namespace

InferdConfig parse_inferd_config(ConfigNode node) {
  InferdConfig c;
  c.log_level = get_section_log_level(node);
  c.device = node.get_enum("device", c.device, kDeviceValues);
  c.gpu = node.get_int("gpu", c.gpu, 0, 255);
  c.batch_size = node.get_int("batch_size", c.batch_size, 1, 4096);
  c.max_wait_ms = node.get_int("max_wait_ms", c.max_wait_ms, 0, 60'000);
  c.pipeline_slots = node.get_int("pipeline_slots", c.pipeline_slots, 1, 16);
  c.precision = node.get_enum("precision", c.precision, kPrecisionValues);
  c.channels_last = node.get_bool("channels_last", c.channels_last);
  c.cuda_graphs = node.get_bool("cuda_graphs", c.cuda_graphs);
  c.cudnn_benchmark = node.get_bool("cudnn_benchmark", c.cudnn_benchmark);
  c.instance_norm = node.get_bool("instance_norm", c.instance_norm);
  c.pad_multiple = node.get_int("pad_multiple", c.pad_multiple, 1, 1024);
  c.warmup_iterations = node.get_int("warmup_iterations", c.warmup_iterations, 0, 10'000);
  c.warmup_shape = node.get_int_list("warmup_shape", c.warmup_shape, 1, 1 << 16);
  if (c.warmup_shape.size() != 3) {
    throw ConfigError(node.key_path("warmup_shape"),
                      "must be [C, H, W], got " + std::to_string(c.warmup_shape.size()) + " values");
  }
  c.release_q1 = node.get_enum("release_q1", c.release_q1, kReleaseQ1Values);
  c.write_frames = node.get_bool("write_frames", c.write_frames);
  c.write_masks = node.get_bool("write_masks", c.write_masks);
  c.device_masks = node.get_bool("device_masks", c.device_masks);
  c.device_mask_linger_s = node.get_int("device_mask_linger_s", c.device_mask_linger_s, 0, 3600);
  c.cpu_threads = node.get_int("cpu_threads", c.cpu_threads, 0, 1024);
  c.cpu_index = node.get_int("cpu_index", c.cpu_index, 0, 1023);
  c.stats_interval_ms = node.get_int("stats_interval_ms", c.stats_interval_ms, 10, 3'600'000);
  c.nvml = node.get_bool("nvml", c.nvml);
  c.model = parse_model(node.child("model"));
  if (c.device == Device::kCpu && (c.cuda_graphs || c.device_masks || c.cudnn_benchmark)) {
    const char* key = c.cuda_graphs ? "cuda_graphs" : c.device_masks ? "device_masks" : "cudnn_benchmark";
    throw ConfigError(node.key_path(key), "needs device cuda (or auto on a GPU machine), device is cpu");
  }
  node.finish();
  return c;
}

}  // namespace peaknet::config
