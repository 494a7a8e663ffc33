// libFuzzer: the npz decoder on arbitrary bytes (never crashes, never throws, invariants hold).
#include "fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace peaknet::ingest;
  static Decoder decoder(fuzz::options_for(ForcedFormat::kNpz));
  fuzz::run_one(decoder, data, size);
  return 0;
}
