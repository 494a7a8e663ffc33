#pragma once
// Shared body of the decoder fuzz targets: decode with the format forced (so every input reaches
// the decoder under test), a modest size cap, and a sink that touches every byte it hands out.
#include <cstddef>
#include <cstdint>
#include <span>

#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"

namespace peaknet::ingest::fuzz {

inline DecoderOptions options_for(ForcedFormat format) {
  DecoderOptions o;
  o.format = format;
  o.max_decoded_bytes = 64u << 20;
  o.simplon_hold_max_messages = 4;
  o.simplon_hold_max_bytes = 1u << 20;
  // libhdf5 stalls on some images: the parser process is killed well before libFuzzer's -timeout.
  o.hdf5_parse_timeout_ms = 2000;
  return o;
}

inline void run_one(Decoder& decoder, const uint8_t* data, size_t size) {
  MemorySink sink(false);
  const DecodeResult r = decoder.decode(std::as_bytes(std::span(data, size)), sink);
  // Invariants that hold for any input.
  if (r.events != sink.events().size()) __builtin_trap();
  if (sink.begun() != sink.events().size() + sink.aborted() + r.events_dropped) __builtin_trap();
  if (r.reject && r.detail.empty()) __builtin_trap();
}

}  // namespace peaknet::ingest::fuzz
