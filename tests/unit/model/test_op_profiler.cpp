// OpProfiler on the tiny PeakNet (CPU, steady clock): the op laps cover the whole forward, each ConvNeXt
// op class is lapped once per layer, and profiling changes neither the logits nor anything when off.
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "model/op_profiler.hpp"
#include "model/peaknet.hpp"

namespace peaknet::model {
namespace {

const OpClassTime* find_class(const OpProfiler& p, const std::string& name) {
  for (const auto& c : p.classes())
    if (c.op_class == name) return &c;
  return nullptr;
}

class OpProfilerTest : public ::testing::Test {
 protected:
  OpProfilerTest() : net(PeakNetConfig::tiny()) { net.random_init(7); }
  PeakNet net;
  torch::Tensor x = torch::randn({1, 1, 64, 64}, torch::TensorOptions().dtype(torch::kFloat));
};

TEST_F(OpProfilerTest, LapsCoverTheForwardAndCountLayers) {
  OpProfiler profiler(torch::kCPU);
  ActiveOpProfiler active(profiler);
  double wall_ms = 0.0;
  constexpr int kIterations = 2;
  for (int i = 0; i < kIterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    profiler.begin_iteration();
    net.forward(x);
    profiler.end_iteration();
    wall_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  ASSERT_EQ(profiler.iterations(), kIterations);
  const auto& depths = PeakNetConfig::tiny().backbone_depths;
  const int64_t layers = std::accumulate(depths.begin(), depths.end(), int64_t{0});
  for (const char* name : {"convnext.dwconv7x7", "convnext.layernorm", "convnext.pwconv1", "convnext.gelu",
                           "convnext.grn", "convnext.pwconv2", "convnext.residual_add"}) {
    const OpClassTime* c = find_class(profiler, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->laps, layers * kIterations) << name;
    EXPECT_GT(c->bytes, 0.0) << name;
  }
  ASSERT_NE(find_class(profiler, "head.final_upsample4x"), nullptr);
  EXPECT_EQ(find_class(profiler, "head.final_upsample4x")->laps, kIterations);
  // The laps run from begin_iteration to the last op: their sum is the forward, bounded by the wall time.
  const double profiled_ms = profiler.ms_per_iteration() * kIterations;
  EXPECT_LE(profiled_ms, wall_ms);
  EXPECT_GE(profiled_ms, 0.8 * wall_ms);
}

TEST_F(OpProfilerTest, ProfilingLeavesLogitsUnchanged) {
  const torch::Tensor plain = net.forward(x);
  OpProfiler profiler(torch::kCPU);
  ActiveOpProfiler active(profiler);
  profiler.begin_iteration();
  const torch::Tensor profiled = net.forward(x);
  profiler.end_iteration();
  EXPECT_TRUE(torch::equal(plain, profiled));
}

TEST_F(OpProfilerTest, InactiveOrOutsideAnIterationRecordsNothing) {
  OpProfiler profiler(torch::kCPU);
  EXPECT_EQ(active_op_profiler(), nullptr);
  net.forward(x);  // not active on this thread
  {
    ActiveOpProfiler active(profiler);
    EXPECT_EQ(active_op_profiler(), &profiler);
    net.forward(x);  // active, but no begin_iteration: laps are ignored
  }
  EXPECT_EQ(active_op_profiler(), nullptr);
  EXPECT_TRUE(profiler.classes().empty());
  EXPECT_EQ(profiler.iterations(), 0);
  EXPECT_THROW(profiler.end_iteration(), std::logic_error);
}

}  // namespace
}  // namespace peaknet::model
