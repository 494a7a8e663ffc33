#include "fused_kernels.hpp"

namespace peaknet::model {

bool fused_kernels_built() {
#ifdef PEAKNET_MODEL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace peaknet::model
