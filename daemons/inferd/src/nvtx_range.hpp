#pragma once
// NvtxRange: RAII NVTX range (Nsight Systems timeline) for each pipeline stage. NVTX3 is header-only in
// the CUDA toolkit; without it (CPU build) the range compiles to nothing.
#if defined(PEAKNET_INFERD_HAVE_NVTX)
#include <nvtx3/nvToolsExt.h>
#endif

namespace peaknet::inferd {

class NvtxRange {
 public:
#if defined(PEAKNET_INFERD_HAVE_NVTX)
  explicit NvtxRange(const char* name) noexcept { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
#else
  explicit NvtxRange(const char*) noexcept {}
#endif
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace peaknet::inferd
