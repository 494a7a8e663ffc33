#pragma once
// CudaModelRunner: runs the model on the current CUDA stream, eagerly or by replaying a CUDA graph
// captured for that exact input shape (cuda_graphs). Graphs share one memory pool; they are replayed
// one at a time on one stream and each output is copied out before the next replay, which is the
// condition under which sharing a pool is safe.
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>

#include "model/inference_model.hpp"

namespace peaknet::inferd {

class CudaModelRunner {
 public:
  CudaModelRunner(std::unique_ptr<model::InferenceModel> model, torch::Device device, model::Precision precision,
                  bool channels_last, bool use_graphs, bool cudnn_benchmark = false);

  /// Model output for `input` (n, 1, Hp, Wp) float on the current stream. With a graph captured for
  /// (graph_rows, 1, Hp, Wp), n <= graph_rows rows are copied into its static input and the first n
  /// rows of its static output are returned (rows past n hold stale inputs: every layer of PeakNet is
  /// per sample, so they cannot leak into the real rows). Consume (copy) it before the next run().
  torch::Tensor run(const torch::Tensor& input, int64_t graph_rows);
  /// Eager warm-up plus (graphs) capture for this input shape. Call with nothing else in flight.
  void prepare(const std::vector<int64_t>& input_shape, int iterations);
  bool has_graph(const std::vector<int64_t>& input_shape) const;
  bool uses_graphs() const { return use_graphs_; }
  size_t graphs() const { return graphs_.size(); }
  void replace_model(std::unique_ptr<model::InferenceModel> model);
  model::Precision precision() const { return precision_; }

 private:
  struct Graph {
    at::cuda::CUDAGraph graph;
    torch::Tensor input;   ///< static input the preprocessing copies into
    torch::Tensor output;  ///< static output
  };
  torch::Tensor forward(const torch::Tensor& input);

  std::unique_ptr<model::InferenceModel> model_;
  torch::Device device_;
  model::Precision precision_;
  bool channels_last_;
  bool use_graphs_;
  std::map<std::vector<int64_t>, std::unique_ptr<Graph>> graphs_;
  at::cuda::MempoolId_t pool_;
};

}  // namespace peaknet::inferd
