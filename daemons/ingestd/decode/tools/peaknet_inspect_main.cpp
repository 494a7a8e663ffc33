// peaknet-inspect FILE...: decode recorded wire messages offline (same as `ingestd inspect`).
#include <iostream>
#include <string>
#include <vector>

#include "ingest/decode/inspect.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> files(argv + 1, argv + argc);
  if (files.empty() || files[0] == "--help" || files[0] == "-h") {
    std::cerr << "usage: peaknet-inspect FILE...\n"
                 "Decodes recorded lclstreamer messages (npz, HDF5, Simplon CBOR, FastBinary) and\n"
                 "prints one JSON object per file: format, events, arrays (name, dtype, shape,\n"
                 "sha256 of little-endian C-order values) or reject reason.\n";
    return files.empty() ? 2 : 0;
  }
  return peaknet::ingest::run_inspect(files, peaknet::ingest::DecoderOptions{}, std::cout);
}
