// Parity with upstream PeakNet (Python) on the tiny golden config, CPU fp32: logits and every intermediate
// within 1e-4 relative L2 of the float64 reference; the same from safetensors and from torch.save .pt.
// Also: strict loading errors name the offending keys.
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "model/peaknet.hpp"
#include "model/torch_checkpoint.hpp"
#include "model/weights.hpp"
#include "model_test_util.hpp"

namespace peaknet::model {
namespace {

class TinyGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    golden_ = new NamedTensors(read_safetensors(test::golden("tiny.golden.safetensors")));
    net_ = new PeakNet(PeakNetConfig::tiny());
    load_weights(*net_, test::golden("tiny.safetensors"));
    outputs_ = new PeakNetOutputs(net_->forward_with_intermediates(tensor("input")));
  }
  static void TearDownTestSuite() {
    delete outputs_;
    delete net_;
    delete golden_;
  }
  static const torch::Tensor& tensor(const std::string& name) { return find_tensor(*golden_, name, "tiny.golden"); }

  static NamedTensors* golden_;
  static PeakNet* net_;
  static PeakNetOutputs* outputs_;
};
NamedTensors* TinyGolden::golden_ = nullptr;
PeakNet* TinyGolden::net_ = nullptr;
PeakNetOutputs* TinyGolden::outputs_ = nullptr;

TEST_F(TinyGolden, LogitsMatchFloat64Reference) {
  ASSERT_EQ(outputs_->logits.sizes(), tensor("logits_f64").sizes());
  EXPECT_EQ(outputs_->logits.scalar_type(), torch::kFloat);
  const double err = test::relative_error(outputs_->logits, tensor("logits_f64"));
  EXPECT_LE(err, 1e-4);
  std::printf("tiny golden CPU fp32: logits relative L2 error vs f64 = %.3g\n", err);
}

TEST_F(TinyGolden, BackboneAndBifpnOutputsMatch) {
  for (int i = 0; i < 4; ++i) {
    const auto& b = tensor("backbone." + std::to_string(i));
    ASSERT_EQ(outputs_->backbone[i].sizes(), b.sizes()) << i;
    EXPECT_LE(test::relative_error(outputs_->backbone[i], b), 1e-4) << "backbone." << i;
    const auto& f = tensor("bifpn." + std::to_string(i));
    ASSERT_EQ(outputs_->bifpn[i].sizes(), f.sizes()) << i;
    EXPECT_LE(test::relative_error(outputs_->bifpn[i], f), 1e-4) << "bifpn." << i;
  }
}

TEST_F(TinyGolden, MaskAgreesWithReference) {
  EXPECT_GE(test::agreement(test::mask_of(outputs_->logits), tensor("mask")), 0.999);
}

TEST_F(TinyGolden, ForwardEqualsForwardWithIntermediates) {
  EXPECT_TRUE(torch::equal(net_->forward(tensor("input")), outputs_->logits));
}

TEST_F(TinyGolden, TorchSaveCheckpointGivesTheSameWeightsAndLogits) {
  const NamedTensors from_pt = read_weights_file(test::golden("tiny.state_dict.pt"));
  const NamedTensors from_st = read_weights_file(test::golden("tiny.safetensors"));
  ASSERT_EQ(from_pt.size(), from_st.size());
  for (const auto& [name, t] : from_pt) {  // safetensors stores keys sorted, torch.save in module order
    const auto& s = find_tensor(from_st, name, "tiny.safetensors");
    EXPECT_EQ(t.scalar_type(), s.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(t, s)) << name;
  }
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, test::golden("tiny.state_dict.pt"));
  EXPECT_TRUE(torch::equal(net.forward(tensor("input")), outputs_->logits));
}

TEST_F(TinyGolden, WrapperPrefixesAreStripped) {
  EXPECT_EQ(strip_wrapper_prefixes("module._orig_mod.backbone.x"), "backbone.x");
  EXPECT_EQ(strip_wrapper_prefixes("_fsdp_wrapped_module.backbone.encoder._checkpoint_wrapped_module.stages.0"),
            "backbone.encoder.stages.0");
  EXPECT_EQ(strip_wrapper_prefixes("peaknet_model.head_segmask.bias"), "head_segmask.bias");
  EXPECT_EQ(strip_wrapper_prefixes("bifpn.blocks.0.conv.m4.1.weight"), "bifpn.blocks.0.conv.m4.1.weight");

  // A DDP/compile-wrapped checkpoint inside {"model": ...} loads like the clean one.
  test::TempDir dir("wrapped");
  NamedTensors wrapped = read_safetensors(test::golden("tiny.safetensors"));
  for (auto& [k, t] : wrapped) k = "model.module._orig_mod." + k;
  write_safetensors(dir.file("wrapped.safetensors"), wrapped);
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, dir.file("wrapped.safetensors"));
  EXPECT_TRUE(torch::equal(net.forward(tensor("input")), outputs_->logits));
}

std::string load_error(const NamedTensors& weights) {
  PeakNet net(PeakNetConfig::tiny());
  try {
    load_state_dict(net, weights, "test-weights");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(StrictLoading, NamesMissingUnexpectedAndMismatchedKeys) {
  const NamedTensors good = read_safetensors(test::golden("tiny.safetensors"));
  EXPECT_EQ(load_error(good), "no error");

  NamedTensors missing(good.begin() + 1, good.end());
  EXPECT_NE(load_error(missing).find("missing keys (1): " + good.front().first), std::string::npos);

  NamedTensors extra = good;
  extra.emplace_back("head_segmask.extra", torch::zeros({2}));
  EXPECT_NE(load_error(extra).find("unexpected keys (1): head_segmask.extra"), std::string::npos);

  NamedTensors wrong = good;
  wrong.back().second = torch::zeros({3});
  const std::string msg = load_error(wrong);
  EXPECT_NE(msg.find("shape mismatches (1): " + good.back().first), std::string::npos) << msg;
  EXPECT_NE(msg.find("test-weights"), std::string::npos);

  // A checkpoint of another config fails loudly (673M keys vs tiny model: shapes and keys differ).
  PeakNet big(PeakNetConfig::peaknet_33m(), torch::kMeta);
  EXPECT_NE(load_error(big.state_dict()).find("shape mismatches"), std::string::npos);
}

TEST(StrictLoading, MissingOrCorruptFilesAreErrors) {
  PeakNet net(PeakNetConfig::tiny());
  EXPECT_THROW(load_weights(net, "/nonexistent/peaknet.safetensors"), std::runtime_error);
  test::TempDir dir("corrupt");
  {
    std::ofstream out(dir.file("bad.safetensors"), std::ios::binary);
    const uint64_t huge = 1ull << 40;
    out.write(reinterpret_cast<const char*>(&huge), 8);
    out << "{}";
  }
  try {
    load_weights(net, dir.file("bad.safetensors"));
    FAIL() << "corrupt header accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.safetensors"), std::string::npos) << e.what();
  }
  {
    std::ofstream out(dir.file("bad.pt"), std::ios::binary);
    out << "PK\x03\x04 not really a zip";
  }
  try {
    load_weights(net, dir.file("bad.pt"));
    FAIL() << "corrupt zip accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("convert_checkpoint.py"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RoundTripsEveryDtype) {
  test::TempDir dir("roundtrip");
  NamedTensors in{{"f32", torch::randn({2, 3})},
                  {"bf16", torch::randn({4}).to(torch::kBFloat16)},
                  {"u8", torch::randint(0, 255, {3, 1, 2}).to(torch::kUInt8)},
                  {"bool", torch::rand({5}).gt(0.5)},
                  {"empty", torch::zeros({0, 3})},
                  {"i64", torch::arange(7)}};
  write_safetensors(dir.file("t.safetensors"), in, {{"format", "pt"}});
  const NamedTensors out = read_safetensors(dir.file("t.safetensors"));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first);
    EXPECT_EQ(out[i].second.scalar_type(), in[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(out[i].second, in[i].second)) << in[i].first;
  }
}

TEST(InputContract, RejectsShapesThatAreNotMultiplesOf32) {
  PeakNet net(PeakNetConfig::tiny());
  net.random_init(1);
  EXPECT_THROW(net.forward(torch::zeros({1, 1, 100, 64})), std::invalid_argument);
  EXPECT_THROW(net.forward(torch::zeros({1, 2, 64, 64})), std::invalid_argument);
  EXPECT_THROW(net.forward(torch::zeros({1, 64, 64})), std::invalid_argument);
  EXPECT_THROW(net.forward(torch::zeros({1, 1, 64, 64}, torch::kInt)), std::invalid_argument);
  const auto y = net.forward(torch::randn({3, 1, 64, 96}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 2, 64, 96}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

TEST(Precision, Bf16OnCpuFollowsTheAutocastPolicy) {
  // Convolutions in bf16, norms in fp32: the mask mostly agrees with the fp32 run, logits come out bf16.
  PeakNet net(PeakNetConfig::tiny());
  load_weights(net, test::golden("tiny.safetensors"));
  const NamedTensors golden = read_safetensors(test::golden("tiny.golden.safetensors"));
  const auto& input = find_tensor(golden, "input", "golden");
  net.to(torch::kCPU, Precision::kBf16, /*channels_last=*/true);
  const auto y = net.forward(input);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_GE(test::agreement(test::mask_of(y), find_tensor(golden, "mask", "golden")), 0.95);
}

}  // namespace
}  // namespace peaknet::model
