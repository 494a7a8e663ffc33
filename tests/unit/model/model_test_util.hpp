#pragma once
// Helpers shared by the model tests: golden paths, relative error, temp directories.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <torch/torch.h>

namespace peaknet::model::test {

inline std::string golden(const std::string& name) { return std::string(PEAKNET_GOLDEN_DIR) + "/model/" + name; }

/// ||a - b|| / ||b|| in float64.
inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const auto a64 = a.detach().to(torch::kCPU, torch::kDouble), b64 = b.detach().to(torch::kCPU, torch::kDouble);
  return (a64 - b64).norm().item<double>() / b64.norm().item<double>();
}

/// Fraction of equal elements.
inline double agreement(const torch::Tensor& a, const torch::Tensor& b) {
  return a.to(torch::kCPU).eq(b.to(torch::kCPU)).to(torch::kDouble).mean().item<double>();
}

/// mask = logit1 > logit0 as uint8 (B, H, W).
inline torch::Tensor mask_of(const torch::Tensor& logits) {
  return logits.select(1, 1).gt(logits.select(1, 0)).to(torch::kUInt8);
}

/// A directory removed (recursively) when the guard goes out of scope, even if the test fails.
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() / ("peaknet-model-" + tag + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace peaknet::model::test
