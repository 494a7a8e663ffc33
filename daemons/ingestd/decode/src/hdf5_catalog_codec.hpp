#pragma once
// Hdf5Catalog <-> bytes, for the libhdf5 parser process (hdf5_parser_process.hpp): the child
// encodes the catalog of its copy of the message with every span as an offset into that copy;
// the parent decodes it against the original message. Decoding trusts nothing: a child that
// libhdf5 corrupted without killing it may send garbage, so every count is bounded and every
// offset must lie inside the message (else kMalformed).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "hdf5_catalog.hpp"
#include "ingest/decode/reject_reason.hpp"

namespace peaknet::ingest {

/// Reply for a catalog that was read.
std::vector<std::byte> encode_catalog(const Hdf5Catalog& catalog, std::span<const std::byte> message);
/// Reply for a message the catalog reader rejected (DecodeError) or failed on.
std::vector<std::byte> encode_catalog_failure(RejectReason reason, const std::string& what);
/// The catalog, with spans into `message`; rethrows an encoded failure as DecodeError.
Hdf5Catalog decode_catalog(std::span<const std::byte> reply, std::span<const std::byte> message);

}  // namespace peaknet::ingest
