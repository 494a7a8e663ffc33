// load_model() for both backends, and the peaknet-infer tool run as a process (outputs and exit codes).
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "model/inference_model.hpp"
#include "model/peaknet.hpp"
#include "model/weights.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

ModelSpec tiny_spec() {
  ModelSpec spec;
  spec.config = PeakNetConfig::tiny().to_json();
  spec.weights = test::golden("tiny.safetensors");
  return spec;
}

TEST(LoadModel, NativeBackendMatchesDirectPeakNet) {
  auto model = load_model(tiny_spec());
  model->to(torch::kCPU, Precision::kFp32, false);
  const auto x = torch::randn({1, 1, 64, 64});
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, test::golden("tiny.safetensors"));
  EXPECT_TRUE(torch::equal(model->forward(x), net.forward(x)));
  EXPECT_EQ(model->config().bifpn_num_features, 64);
}

TEST(LoadModel, MissingWeightsAreAnErrorUnlessRandomInitIsAsked) {
  ModelSpec spec = tiny_spec();
  spec.weights = "/nonexistent/w.safetensors";
  EXPECT_THROW(load_model(spec), std::runtime_error);
  spec.weights.clear();
  EXPECT_THROW(load_model(spec), std::runtime_error);
  spec.random_init = true;
  spec.seed = 7;
  auto a = load_model(spec), b = load_model(spec);
  const auto x = torch::randn({1, 1, 32, 32});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));  // seeded init is reproducible
  spec.backend = "onnx";
  EXPECT_THROW(load_model(spec), std::runtime_error);
}

TEST(LoadModel, TorchScriptBackendRunsAScriptedModule) {
  // A scripted module made here (no Python needed): a 1x1 conv head to 2 classes.
  test::TempDir dir("ts");
  torch::jit::Module m("PeakHead");
  const auto w = torch::randn({2, 1, 1, 1}), bias = torch::randn({2});
  m.register_parameter("weight", w, false);
  m.register_parameter("bias", bias, false);
  m.define(R"(
def forward(self, x):
    return torch.conv2d(x, self.weight, self.bias)
)");
  m.save(dir.file("head.pt"));

  ModelSpec spec;
  spec.backend = "torchscript";
  spec.weights = dir.file("head.pt");
  auto model = load_model(spec);
  model->to(torch::kCPU, Precision::kFp32, true);
  const auto x = torch::randn({2, 1, 32, 64});
  const auto y = model->forward(x);
  EXPECT_TRUE(torch::allclose(y, at::conv2d(x, w, bias)));
  EXPECT_THROW(model->forward(torch::randn({2, 1, 30, 64})), std::invalid_argument);

  spec.weights = dir.file("missing.pt");
  EXPECT_THROW(load_model(spec), std::runtime_error);
  std::ofstream(dir.file("garbage.pt")) << "not a module";
  spec.weights = dir.file("garbage.pt");
  EXPECT_THROW(load_model(spec), std::runtime_error);
}

struct ProcessResult {
  int exit_code;
  std::string output;
};

ProcessResult run_infer(const std::string& args) {
  const std::string cmd = std::string(PEAKNET_BINARY_DIR) + "/daemons/model/peaknet-infer " + args + " 2>&1";
  ProcessResult r{-1, ""};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class PeaknetInfer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("tiny.json")) << PeakNetConfig::tiny().to_json().dump();
    input_ = torch::randn({2, 1, 64, 96});
    write_safetensors(dir_.file("in.safetensors"), {{"frames", input_}, {"bad", torch::randn({1, 1, 60, 64})}});
    base_ = "--model-config " + dir_.file("tiny.json") + " --weights " + test::golden("tiny.safetensors") +
            " --input " + dir_.file("in.safetensors");
  }
  test::TempDir dir_{"infer"};
  torch::Tensor input_;
  std::string base_;
};

TEST_F(PeaknetInfer, WritesLogitsAndMask) {
  const ProcessResult r = run_infer(base_ + " --tensor frames --output " + dir_.file("out.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const NamedTensors out = read_safetensors(dir_.file("out.safetensors"));
  const auto& logits = find_tensor(out, "logits", "out");
  const auto& mask = find_tensor(out, "mask", "out");
  EXPECT_EQ(logits.scalar_type(), torch::kFloat);
  EXPECT_EQ(mask.scalar_type(), torch::kUInt8);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 2, 64, 96}));
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, test::golden("tiny.safetensors"));
  EXPECT_TRUE(torch::allclose(logits, net.forward(input_), 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(mask, test::mask_of(logits)));
}

TEST_F(PeaknetInfer, FailsClearlyOnBadInput) {
  ProcessResult r = run_infer(base_ + " --tensor bad --output " + dir_.file("o.safetensors"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("multiples of 32"), std::string::npos) << r.output;

  r = run_infer(base_ + " --tensor nosuch --output " + dir_.file("o.safetensors"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("nosuch"), std::string::npos) << r.output;

  r = run_infer(base_ + " --tensor frames --precision int4 --output " + dir_.file("o.safetensors"));
  EXPECT_NE(r.exit_code, 0);

  r = run_infer("--model-config " + dir_.file("tiny.json") + " --weights /nonexistent.safetensors --input " +
                dir_.file("in.safetensors") + " --tensor frames --output " + dir_.file("o.safetensors"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("/nonexistent.safetensors"), std::string::npos) << r.output;

  r = run_infer(base_ + " --tensor frames --output /nonexistent-dir/o.safetensors");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(std::ifstream(dir_.file("o.safetensors")).good());
}

}  // namespace
}  // namespace peaknet::model
