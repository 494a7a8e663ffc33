#pragma once
// make_npz: what numpy.savez (stored) / numpy.savez_compressed (deflate) put on the wire for
// lclstreamer's NumpyBinarySerializer: a zip of "<key>.npy" members (format 1.0 headers, 64-byte
// aligned). Classic zip framing without zip64 (members < 4 GiB), as CPython 3.11.2 writes it.
#include <cstdint>
#include <vector>

#include "pusher/npy_array.hpp"

namespace peaknet::pusher {

/// The .npy bytes of one array (header + data).
std::vector<uint8_t> make_npy(const NpyArray& array);
/// A whole .npz message. deflate_level 0 = stored (savez), 1..9 = deflate (savez_compressed uses 6).
/// Throws std::runtime_error when a member would need zip64.
std::vector<uint8_t> make_npz(const std::vector<NpyArray>& arrays, int deflate_level);

}  // namespace peaknet::pusher
