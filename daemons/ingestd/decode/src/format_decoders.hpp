#pragma once
// The per-format decoders behind Decoder::decode, and their "every array" variants for inspect.
#include <span>
#include <string>
#include <vector>

#include "batch_events.hpp"
#include "decode_error.hpp"
#include "decode_scratch.hpp"
#include "ingest/decode/decoder.hpp"

namespace peaknet::ingest {

using Bytes = std::span<const std::byte>;

struct DecodeCall {
  const DecoderOptions& options;
  DecodeScratch& scratch;
  EventSink& sink;
  DecodeResult& result;
};

void decode_npz(Bytes message, DecodeCall& call);
void decode_hdf5(Bytes message, DecodeCall& call);
void decode_simplon(Bytes message, DecodeCall& call, SimplonSession& session);
void decode_fastbinary(Bytes message, DecodeCall& call);
/// True when a Simplon message is a start map (inspect applies those first).
bool simplon_is_start(Bytes message) noexcept;

/// Every array of a message, decoded to memory (inspect). Throws DecodeError.
std::vector<AuxArray> npz_all_arrays(Bytes message, const DecoderOptions& options, DecodeScratch& s);
std::vector<AuxArray> hdf5_all_arrays(Bytes message, const DecoderOptions& options, DecodeScratch& s);
std::vector<AuxArray> simplon_all_arrays(Bytes message, const DecoderOptions& options, SimplonSession& session);
std::vector<AuxArray> fastbinary_all_arrays(Bytes message, const DecoderOptions& options);

}  // namespace peaknet::ingest
