// libFuzzer: the Simplon CBOR decoder on arbitrary bytes. The session knows the golden start
// message's frame geometry, so fuzzed images reach the bitshuffle-LZ4 payload decoder.
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_target.hpp"

namespace {
peaknet::ingest::Decoder& decoder() {
  using namespace peaknet::ingest;
  static Decoder d = [] {
    Decoder made(fuzz::options_for(ForcedFormat::kSimplonCbor));
    std::ifstream in(std::string(PEAKNET_GOLDEN_DIR) + "/wire/simplon-start.cbormsg", std::ios::binary);
    std::vector<char> start((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    MemorySink sink(false);
    made.decode(std::as_bytes(std::span(start.data(), start.size())), sink);
    return made;
  }();
  return d;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  peaknet::ingest::fuzz::run_one(decoder(), data, size);
  return 0;
}
